"""Credit and expert-pool follow-ups (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0042_procedure_followups")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
