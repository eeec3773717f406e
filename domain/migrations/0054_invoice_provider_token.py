"""Issue 24: the invoice provider's access token shared by every process (reserved)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0053_provincial_codes")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="InvoiceProviderToken",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_url", fields.CharField(max_length=300)),
                ("app_key", fields.CharField(max_length=64)),
                ("sealed_token", fields.TextField(unique=False)),
                ("renew_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "invoice_provider_token",
                "app": "palmtrade",
                "unique_together": (("token_url", "app_key"),),
                "table_description": (
                    "The invoice provider's access token shared by every process of a deployment, per token URL and"
                    " app key: sealed under the key-encryption keys (never plain), and when it is to be renewed."
                ),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
