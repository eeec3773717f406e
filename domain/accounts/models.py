"""Market entities, their users, sign-in secrets, signing keys, integrator clients and experts."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class Organisation(Model):
    """A market entity (市场主体), registered once through one form and reviewed by an operator."""

    id = fields.BigIntField(primary_key=True)
    credit_code = fields.CharField(max_length=18, unique=True)
    name = fields.CharField(max_length=200)
    region_code = fields.CharField(max_length=6)
    kinds: list[str] = fields.JSONField()
    supervised_categories: list[str] = fields.JSONField(default=list)
    contact_name = fields.CharField(max_length=50)
    contact_phone = fields.CharField(max_length=11)
    status = fields.CharField(max_length=16, db_index=True)
    review_reason: str | None = fields.TextField(null=True)
    reviewed_by = fields.BigIntField(null=True)
    reviewed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "organisation"


class User(Model):
    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="users", on_delete=fields.RESTRICT
    )
    organisation_id: int
    phone = fields.CharField(max_length=11, unique=True)
    name = fields.CharField(max_length=50)
    password_hash = fields.CharField(max_length=255)
    failed_logins = fields.IntField(default=0, db_default=0)
    locked_until = fields.DatetimeField(null=True)
    # chronograph: when the lock must be lifted
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    is_active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField()
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "app_user"


class SmsCode(Model):
    """A one-time sign-in code, stored as an HMAC, 5 minutes, 5 attempts."""

    id = fields.BigIntField(primary_key=True)
    phone = fields.CharField(max_length=11, db_index=True)
    purpose = fields.CharField(max_length=16)
    code_hash = fields.CharField(max_length=64)
    attempts = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sms_code"


class RefreshToken(Model):
    """One refresh token of a sign-in session (family), only its SHA-256 is kept."""

    id = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    family = fields.UUIDField(db_index=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "palmtrade.User", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=32, null=True)
    # how the session was signed in (space-separated amr values: pwd, sms, cert), kept by every refresh
    amr = fields.CharField(max_length=64, default="", db_default="")

    class Meta:
        table = "refresh_token"
        # the sessions a password change ended lately (ended_sessions.py reads them every few seconds)
        indexes = (("revoked_reason", "revoked_at"),)


class SigningKey(Model):
    """An ES256 key: published from created_at, signs from activates_at, gone after retires_at.

    The private JWK is stored only sealed under the deployment's key-encryption key (key_encryption.py).
    """

    kid = fields.CharField(max_length=64, primary_key=True)
    sealed_jwk = fields.TextField(db_default="")  # a key_encryption envelope bound to the kid
    kek_id = fields.CharField(max_length=40, db_default="")  # the KEK that wrapped it (re-wrap finds the rest)
    created_at = fields.DatetimeField()
    activates_at = fields.DatetimeField()
    retires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "signing_key"


class PartnerKey(Model):
    """A public key an organisation registered to sign what it sends: guarantee letters or bank callbacks."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="partner_keys", on_delete=fields.RESTRICT
    )
    organisation_id: int
    purpose = fields.CharField(max_length=24)
    kid = fields.CharField(max_length=128, unique=True)
    public_jwk: dict[str, Any] = fields.JSONField()
    created_by = fields.BigIntField()
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "partner_key"


class IntegratorClient(Model):
    """A third-party or provincial platform with client credentials and scopes."""

    id = fields.BigIntField(primary_key=True)
    client_id = fields.CharField(max_length=64, unique=True)
    secret_hash = fields.CharField(max_length=255)
    name = fields.CharField(max_length=200)
    scopes: list[str] = fields.JSONField()
    rate_limit_per_minute = fields.IntField(default=600, db_default=600)
    is_active = fields.BooleanField(default=True, db_default=True)
    created_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "integrator_client"


class Expert(Model):
    """A person in the expert pool (评标专家), with specialties and an employer."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=50)
    id_number_hash = fields.CharField(max_length=64, unique=True)
    phone = fields.CharField(max_length=11)
    specialties: list[str] = fields.JSONField()
    employer: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="experts", null=True, on_delete=fields.SET_NULL
    )
    employer_id: int | None
    is_active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "expert"
