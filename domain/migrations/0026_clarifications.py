"""Tables for clarifications, questions, deadline moves, invitations (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0025_retention_indexes")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
