"""Credit rating rules, incentives and the credit exchange with other platforms (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0033_credit_publicity")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
