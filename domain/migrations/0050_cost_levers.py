"""Cost-per-operation levers (issue 21), and an index of refresh tokens by (revoked_reason, revoked_at): the
sessions a password change ended lately, read by every process every few seconds (domain/accounts/ended_sessions.py,
issue 24)."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0049_provincial_quality_reports")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.AddIndex(model_name="RefreshToken", index=Index(fields=["revoked_reason", "revoked_at"])),
    ]
