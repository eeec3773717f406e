"""Issue 24: the specification's publicity and contract data sets (reserved)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0054_invoice_provider_token")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
