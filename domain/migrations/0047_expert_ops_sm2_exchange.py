"""Expert app operations, SM2 credit exchange (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0046_evaluation_finality")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
