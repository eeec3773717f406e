"""OpenID Connect provider: client systems, consents, authorization codes, refresh tokens (issue 24)."""

import functools
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

def _json(**options: Any) -> Any:
    return fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads, **options)


def _client_fk(related_name: str) -> Any:
    return fields.ForeignKeyField(
        "palmtrade.SsoClient",
        source_field="client_id",
        db_constraint=True,
        to_field="id",
        related_name=related_name,
        on_delete=OnDelete.CASCADE,
    )


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0036_evaluation_signatures_witness")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="SsoClient",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("client_id", fields.CharField(max_length=64, unique=True)),
                ("secret_hash", fields.CharField(max_length=255, default="", db_default="")),
                ("name", fields.CharField(max_length=200)),
                ("kind", fields.CharField(max_length=24)),
                ("redirect_uris", _json()),
                ("post_logout_redirect_uris", _json(default=list)),
                ("scopes", _json()),
                ("is_active", fields.BooleanField(default=True, db_default=True)),
                ("created_by", fields.BigIntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "sso_client",
                "table_description": "A business system (engineering, procurement, property rights ...) that signs users in through PalmTrade.",
                "app": "palmtrade",
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SsoConsent",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("user_id", fields.BigIntField()),
                ("client", _client_fk("consents")),
                ("scopes", _json()),
                ("granted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "sso_consent",
                "table_description": "What a user allowed a client system to know, remembered until the user revokes it.",
                "app": "palmtrade",
                "unique_together": (("user_id", "client_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SsoAuthorizationCode",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("code_hash", fields.CharField(max_length=64, unique=True)),
                ("client", _client_fk("codes")),
                ("user_id", fields.BigIntField()),
                ("redirect_uri", fields.CharField(max_length=500)),
                ("scope", fields.CharField(max_length=200)),
                ("nonce", fields.CharField(max_length=255, null=True)),
                ("code_challenge", fields.CharField(max_length=128)),
                ("code_challenge_method", fields.CharField(max_length=8)),
                ("amr", fields.CharField(max_length=64)),
                ("auth_time", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("session_id", fields.CharField(max_length=36)),
                ("grant_id", fields.UUIDField(unique=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "sso_authorization_code",
                "table_description": "An authorization code: single use, 60 seconds, bound to its client, redirect URI, PKCE challenge and nonce.",
                "app": "palmtrade",
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SsoRefreshToken",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(max_length=64, unique=True)),
                ("grant_id", fields.UUIDField(db_index=True)),
                ("client", _client_fk("refresh_tokens")),
                ("user_id", fields.BigIntField(db_index=True)),
                ("scope", fields.CharField(max_length=200)),
                ("amr", fields.CharField(max_length=64)),
                ("auth_time", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("session_id", fields.CharField(max_length=36, db_index=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_reason", fields.CharField(max_length=32, null=True)),
            ],
            options={
                "table": "sso_refresh_token",
                "table_description": "A refresh token of a client system (only its SHA-256 is kept), rotated on every use.",
                "app": "palmtrade",
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
