"""Multi-lot bids to their own awards; candidates' deposits kept to the contract (issue 22). A guarantee a moved deadline
left short: the extension (保函展期) its applicant asks of its guarantor, and a bid opened without security."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0043_credit_expert_followups")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.AddField(
            model_name="Guarantee",
            name="extension_until",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Guarantee",
            name="extension_requested_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(model_name="Guarantee", name="extension_requested_by", field=fields.BigIntField(null=True)),
        ops.AddField(model_name="Guarantee", name="extension_decline_reason", field=fields.TextField(null=True)),
        ops.AddField(
            model_name="Guarantee",
            name="extended_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(model_name="SealedBid", name="security_shortfall", field=fields.JSONField(null=True)),
    ]
