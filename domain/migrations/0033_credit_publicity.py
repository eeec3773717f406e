"""Public credit records, credit commitments and credit repair (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0032_negotiation_invitations")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
