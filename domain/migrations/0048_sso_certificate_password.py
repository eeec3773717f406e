"""SSO certificate sign-in, password change revocation (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0047_expert_ops_sm2_exchange")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
