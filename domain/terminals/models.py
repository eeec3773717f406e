"""Self-service terminals (自助终端) in trading halls and their QR sign-in challenges."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class Terminal(Model):
    """A kiosk registered by an operator: it signs in with its device credential (only the argon2 hash
    of the secret is kept) and gets short-lived tokens without refresh."""

    id = fields.BigIntField(primary_key=True)
    device_id = fields.CharField(max_length=64, unique=True)
    secret_hash = fields.CharField(max_length=255)
    name = fields.CharField(max_length=100)
    location = fields.CharField(max_length=200)
    region_code = fields.CharField(max_length=6, null=True)
    is_active = fields.BooleanField(default=True)
    created_by = fields.BigIntField()
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "terminal"


class QrChallenge(Model):
    """A sign-in challenge a terminal shows as a QR code: approved once by a signed-in app user within
    2 minutes, then redeemed once by the same terminal for a short session limited to that user.
    Only the SHA-256 of the challenge is kept."""

    id = fields.BigIntField(primary_key=True)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    terminal: fields.ForeignKeyRelation[Terminal] = fields.ForeignKeyField(
        "palmtrade.Terminal", related_name="challenges", on_delete=fields.CASCADE
    )
    terminal_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    approved_by = fields.BigIntField(null=True)
    approved_at = fields.DatetimeField(null=True)
    redeemed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "qr_challenge"
