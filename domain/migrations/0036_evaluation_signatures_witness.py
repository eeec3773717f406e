"""Signed score sheets and reports, evaluation alerts and witness records (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0035_expert_lifecycle")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
