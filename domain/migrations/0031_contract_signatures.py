"""Contract changes and terminations signed by both parties; contract objects for old records (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0030_post_qualification")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
