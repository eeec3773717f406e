"""Multi-lot bids to their own awards; candidates' deposits kept to the contract (issue 22). A bid opened without
security (its guarantee a moved deadline left short)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0043_credit_expert_followups")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.AddField(model_name="SealedBid", name="security_shortfall", field=fields.JSONField(null=True)),
    ]
