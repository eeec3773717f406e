"""Recognised certificate authorities, their revocation lists, certificates bound to users, sign-in
challenges and the signatures carried by trading acts."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class CertificateAuthority(Model):
    """A CA certificate the platform recognises (CA互认): a root is a trust anchor, an intermediate may
    complete a path to one. A withdrawn CA validates nothing from then on."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=200)
    subject = fields.TextField()
    fingerprint = fields.CharField(max_length=64, unique=True)
    der = fields.TextField()
    is_root = fields.BooleanField()
    not_before = fields.DatetimeField()
    not_after = fields.DatetimeField()
    crl_url = fields.CharField(max_length=500, null=True)
    is_active = fields.BooleanField(default=True, db_default=True)
    created_by = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "certificate_authority"


class RevocationList(Model):
    """A CRL uploaded for one recognised CA, the newest by this_update is the one in force."""

    id = fields.BigIntField(primary_key=True)
    authority: fields.ForeignKeyRelation[CertificateAuthority] = fields.ForeignKeyField(
        "palmtrade.CertificateAuthority", related_name="crls", on_delete=fields.CASCADE
    )
    authority_id: int
    der = fields.TextField()
    sha256 = fields.CharField(max_length=64)
    this_update = fields.DatetimeField()
    next_update = fields.DatetimeField(null=True)
    revoked_count = fields.IntField()
    uploaded_by = fields.BigIntField(null=True)
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "certificate_crl"
        indexes = (("authority_id", "this_update"),)


class BoundCertificate(Model):
    """A certificate a user bound to their account after proving they hold its key. An organisation
    certificate carries the credit code of the user's organisation."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.User", related_name="certificates", on_delete=fields.CASCADE
    )
    user_id: int
    organisation_id = fields.BigIntField()
    fingerprint = fields.CharField(max_length=64, unique=True)
    der = fields.TextField()
    subject = fields.TextField()
    issuer = fields.TextField()
    serial = fields.CharField(max_length=64)
    credit_code = fields.CharField(max_length=18, null=True)
    key_type = fields.CharField(max_length=16)
    not_before = fields.DatetimeField()
    not_after = fields.DatetimeField()
    bound_at = fields.DatetimeField()

    class Meta:
        table = "bound_certificate"


class CertificateChallenge(Model):
    """A one-time challenge for certificate sign-in or binding: 2 minutes, used once, only its SHA-256
    is kept, so every server process agrees on it."""

    id = fields.BigIntField(primary_key=True)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    purpose = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "certificate_challenge"


class ActSignature(Model):
    """The electronic signature a trading act carried: the canonical content signed, the signature, the
    certificate and the result of its verification at the time of the act."""

    id = fields.BigIntField(primary_key=True)
    act = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=64)
    object_id = fields.CharField(max_length=64)
    lot_id = fields.BigIntField(null=True, db_index=True)
    user_id = fields.BigIntField()
    organisation_id = fields.BigIntField(null=True)
    certificate_id = fields.BigIntField(null=True)
    fingerprint = fields.CharField(max_length=64)
    certificate_der = fields.TextField()
    subject = fields.TextField()
    algorithm = fields.CharField(max_length=32)
    content = fields.TextField()
    content_sha256 = fields.CharField(max_length=64)
    signature = fields.TextField()
    verified = fields.BooleanField()
    verification: dict[str, Any] = fields.JSONField()
    signed_at = fields.DatetimeField()
    event_id = fields.UUIDField(unique=True)

    class Meta:
        table = "act_signature"
        indexes = (("object_type", "object_id"),)
