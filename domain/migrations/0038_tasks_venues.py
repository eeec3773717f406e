"""Guided tasks and venue booking: rooms, calendars, bookings (issue 24)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0037_single_sign_on")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
