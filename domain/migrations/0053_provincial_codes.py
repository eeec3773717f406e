"""Issue 24: provincial code tables (reserved)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0052_worker_cost")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
