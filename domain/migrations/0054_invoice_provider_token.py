"""Issue 24: the invoice provider's access token shared by every process (reserved)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0053_provincial_codes")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
