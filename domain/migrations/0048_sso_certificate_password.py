"""SSO certificate sign-in, password change revocation (issue 24)."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0047_expert_ops_sm2_exchange")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="SsoCertificateSignIn",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("challenge_hash", fields.CharField(max_length=64, unique=True)),
                ("request_hash", fields.CharField(max_length=64)),
                (
                    "client",
                    fields.ForeignKeyField(
                        "palmtrade.SsoClient",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="certificate_sign_ins",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("user_id", fields.BigIntField(null=True)),
                ("session_id", fields.CharField(max_length=36, null=True)),
                ("approved_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "sso_certificate_sign_in",
                "table_description": (
                    "A certificate sign-in at the provider's page: the certificate challenge (only its hash) shown to"
                    " one browser for one authorization request, signed on the page or approved from the app"
                    " (扫码登录), for 2 minutes and once."
                ),
                "app": "palmtrade",
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
