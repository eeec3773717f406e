"""Client systems of single sign-on, users' consents, authorization codes and refresh tokens (only hashes kept)."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class SsoClient(Model):
    """A business system (engineering, procurement, property rights ...) that signs users in through PalmTrade."""

    id = fields.BigIntField(primary_key=True)
    client_id = fields.CharField(max_length=64, unique=True)
    # argon2 of the client secret; empty for a public client (PKCE alone, no secret)
    secret_hash = fields.CharField(max_length=255, default="", db_default="")
    name = fields.CharField(max_length=200)
    kind = fields.CharField(max_length=24)
    redirect_uris: list[str] = fields.JSONField()
    post_logout_redirect_uris: list[str] = fields.JSONField(default=list)
    scopes: list[str] = fields.JSONField()
    is_active = fields.BooleanField(default=True, db_default=True)
    created_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "sso_client"


class SsoConsent(Model):
    """What a user allowed a client system to know, remembered until the user revokes it."""

    id = fields.BigIntField(primary_key=True)
    user_id = fields.BigIntField()
    client: fields.ForeignKeyRelation[SsoClient] = fields.ForeignKeyField(
        "palmtrade.SsoClient", related_name="consents", on_delete=fields.CASCADE
    )
    client_id: int
    scopes: list[str] = fields.JSONField()
    granted_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sso_consent"
        unique_together = (("user_id", "client_id"),)


class SsoAuthorizationCode(Model):
    """An authorization code: single use, 60 seconds, bound to its client, redirect URI, PKCE challenge and nonce."""

    id = fields.BigIntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    client: fields.ForeignKeyRelation[SsoClient] = fields.ForeignKeyField(
        "palmtrade.SsoClient", related_name="codes", on_delete=fields.CASCADE
    )
    client_id: int
    user_id = fields.BigIntField()
    redirect_uri = fields.CharField(max_length=500)
    scope = fields.CharField(max_length=200)
    nonce = fields.CharField(max_length=255, null=True)
    code_challenge = fields.CharField(max_length=128)
    code_challenge_method = fields.CharField(max_length=8)
    amr = fields.CharField(max_length=64)
    auth_time = fields.DatetimeField()
    # the PalmTrade session (refresh family) the user signed in with at the provider
    session_id = fields.CharField(max_length=36)
    # the grant: every refresh token issued from this code carries it
    grant_id = fields.UUIDField(unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sso_authorization_code"


class SsoRefreshToken(Model):
    """A refresh token of a client system (only its SHA-256 is kept), rotated on every use."""

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    grant_id = fields.UUIDField(db_index=True)
    client: fields.ForeignKeyRelation[SsoClient] = fields.ForeignKeyField(
        "palmtrade.SsoClient", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    client_id: int
    user_id = fields.BigIntField(db_index=True)
    scope = fields.CharField(max_length=200)
    amr = fields.CharField(max_length=64)
    auth_time = fields.DatetimeField()
    session_id = fields.CharField(max_length=36, db_index=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "sso_refresh_token"


class SsoCertificateSignIn(Model):
    """A certificate sign-in at the provider's page: the certificate challenge (only its hash) shown to one browser
    for one authorization request, signed on the page or approved from the app (扫码登录), for 2 minutes and once."""

    id = fields.BigIntField(primary_key=True)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    # SHA-256 of the client and the authorization request's query: the sign-in continues that request only
    request_hash = fields.CharField(max_length=64)
    client: fields.ForeignKeyRelation[SsoClient] = fields.ForeignKeyField(
        "palmtrade.SsoClient", related_name="certificate_sign_ins", on_delete=fields.CASCADE
    )
    client_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    user_id = fields.BigIntField(null=True)
    # the PalmTrade session (refresh family) the certificate sign-in opened, kept by the provider
    session_id = fields.CharField(max_length=36, null=True)
    approved_at = fields.DatetimeField(null=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sso_certificate_sign_in"
