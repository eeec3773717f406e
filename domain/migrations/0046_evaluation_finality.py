"""Signed-report finality, commitment text versions, witness record files (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0045_procedure_followups_2")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
