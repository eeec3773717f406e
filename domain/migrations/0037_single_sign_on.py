"""OpenID Connect provider: client systems, consents, authorization codes, refresh tokens (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0036_evaluation_signatures_witness")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
