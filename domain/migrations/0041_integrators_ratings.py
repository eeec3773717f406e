"""Accredited third-party systems, scheduled statistics reports, platform ratings (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0040_provincial_exchange_quality")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
