"""Issue 21: the outbox worker's cost per event (reserved)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0051_bid_round_trips")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
