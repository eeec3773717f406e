"""Invitation lists, panel composition and per-supplier round documents of negotiations (issue 22)."""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0031_contract_signatures")]  # noqa: RUF012

    initial = False

    operations = []  # noqa: RUF012
