"""Devices, the in-app inbox, push deliveries and notification preferences."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class Device(Model):
    """A phone or kiosk app install that receives pushes through one provider (FCM, or a vendor).

    It belongs to a user, or to an evaluation expert signed in by SMS code (experts are not users of an
    organisation): exactly one of the two is set.
    """

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "palmtrade.User", related_name="devices", on_delete=fields.CASCADE, null=True
    )
    user_id: int | None
    expert: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Expert", related_name="devices", on_delete=fields.CASCADE, null=True
    )
    expert_id: int | None
    provider = fields.CharField(max_length=16)
    token = fields.CharField(max_length=512)
    installation_id = fields.CharField(max_length=64, null=True)
    platform = fields.CharField(max_length=16)
    app_version = fields.CharField(max_length=32)
    locale = fields.CharField(max_length=8)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    class Meta:
        table = "device"
        unique_together = (("provider", "token"),)
        indexes = (("user_id", "installation_id"), ("expert_id", "installation_id"))


class Notification(Model):
    """One notification in one inbox (a user's, or a drawn expert's), rendered in Chinese and English when it
    was made.

    message_id is derived from the source event and the recipient, so a redelivered event finds the
    row it already made. Deleting only hides the row, which keeps that guarantee.
    """

    id = fields.BigIntField(primary_key=True)
    message_id = fields.UUIDField(unique=True)
    user: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "palmtrade.User", related_name="notifications", on_delete=fields.CASCADE, null=True
    )
    user_id: int | None
    expert: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Expert", related_name="notifications", on_delete=fields.CASCADE, null=True
    )
    expert_id: int | None
    kind = fields.CharField(max_length=40)
    title_zh = fields.CharField(max_length=200)
    body_zh = fields.TextField()
    title_en = fields.CharField(max_length=200)
    body_en = fields.TextField()
    object_type = fields.CharField(max_length=40)
    object_id = fields.CharField(max_length=64)
    event_id = fields.UUIDField()
    time_critical = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("user_id", "id"), ("expert_id", "id"))


class PushDelivery(Model):
    """One notification pushed to one device: pending until the provider accepts or refuses it.

    A sender leases due rows (lease_until) before it sends, so two senders never push one
    message at once; a sender that dies leaves a lease that expires and the row is sent again,
    with the same message id, which the phone uses to replace rather than repeat it.
    """

    id = fields.BigIntField(primary_key=True)
    notification: fields.ForeignKeyRelation[Notification] = fields.ForeignKeyField(
        "palmtrade.Notification", related_name="deliveries", on_delete=fields.CASCADE
    )
    notification_id: int
    device: fields.ForeignKeyNullableRelation[Device] = fields.ForeignKeyField(
        "palmtrade.Device", related_name="deliveries", on_delete=fields.SET_NULL, null=True
    )
    device_id: int | None
    status = fields.CharField(max_length=16)
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=80, null=True)
    last_error = fields.CharField(max_length=200, null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "push_delivery"
        unique_together = (("notification_id", "device_id"),)
        indexes = (("status", "due_at"), ("device_id",))


class NotificationPreference(Model):
    """What a user wants pushed: muted (kind, channel) pairs and quiet hours in Beijing time."""

    id = fields.BigIntField(primary_key=True)
    user: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.User", related_name="notification_preference", on_delete=fields.CASCADE
    )
    user_id: int
    muted: list[list[str]] = fields.JSONField(default=list)
    quiet_from = fields.SmallIntField(null=True)
    quiet_to = fields.SmallIntField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notification_preference"
