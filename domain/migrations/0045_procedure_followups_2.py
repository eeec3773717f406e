"""Listing live topic, post-qualification beyond tenders (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0044_multilot_deposits")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
