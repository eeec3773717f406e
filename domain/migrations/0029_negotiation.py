"""Tables for inquiry, competitive negotiation and consultation (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0028_listing_reverse_auction")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
