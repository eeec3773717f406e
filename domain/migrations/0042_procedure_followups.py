"""Procedure follow-ups: round deadlines, bid confirmation, withdrawals (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0041_integrators_ratings")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
