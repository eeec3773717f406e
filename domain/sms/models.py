"""Text messages queued for the SMS dispatcher, and each try at a provider."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class SmsMessage(Model):
    """One templated text to one number, queued in the transaction that asked for it and sent by the SMS
    dispatcher through the configured providers (failover in order), each try an SmsAttempt.

    Its parameters (a sign-in code) are kept sealed (AES-GCM under a key derived from SECRET_KEY) only until
    the message is final, then wiped; the provider's delivery receipt marks it delivered or undelivered.
    """

    id = fields.BigIntField(primary_key=True)
    phone = fields.CharField(max_length=11, db_index=True)
    template = fields.CharField(max_length=32)
    params_sealed = fields.TextField(null=True)
    status = fields.CharField(max_length=16)
    attempts = fields.IntField(default=0)
    time_critical = fields.BooleanField(default=False)
    due_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=80, null=True)
    provider = fields.CharField(max_length=16, null=True)
    provider_id = fields.CharField(max_length=64, null=True)
    last_code = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    reported_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sms_message"
        indexes = (("status", "due_at"), ("provider", "provider_id"))


class SmsAttempt(Model):
    """One try of one SMS at one provider, with the provider's answer: the delivery record."""

    id = fields.BigIntField(primary_key=True)
    message: fields.ForeignKeyRelation[SmsMessage] = fields.ForeignKeyField(
        "palmtrade.SmsMessage", related_name="tries", on_delete=fields.CASCADE
    )
    message_id: int
    provider = fields.CharField(max_length=16)
    outcome = fields.CharField(max_length=16)
    code = fields.CharField(max_length=80, null=True)
    provider_id = fields.CharField(max_length=64, null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "sms_attempt"
