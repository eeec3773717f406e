"""Issue 21: the bid's round trips (reserved)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0050_cost_levers")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
