"""Procedure follow-ups: round deadlines, bid confirmation, withdrawals (issue 22)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0041_integrators_ratings")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.AddField(
            model_name="Negotiation",
            name="round_closes_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
