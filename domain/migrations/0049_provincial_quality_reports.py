"""Provincial spec fields, audited quality checks, statistics report files (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0048_sso_certificate_password")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
