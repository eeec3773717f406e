"""Treasury payment requests and electronic invoices (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0038_tasks_venues")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
