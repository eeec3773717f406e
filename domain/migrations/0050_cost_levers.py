"""Cost-per-operation levers (issue 21)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0049_provincial_quality_reports")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
