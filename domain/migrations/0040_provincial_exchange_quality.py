"""Provincial exchange deliveries and receipts; data-quality findings (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0039_treasury_invoices")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
