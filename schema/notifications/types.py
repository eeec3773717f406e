"""Notifications, devices and preferences as the app sees them."""

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.notifications import models
from domain.notifications import services as notifications
from schema.relay import Node, node_resolver

NotificationKind = strawberry.enum(
    Enum("NotificationKind", {k.name: k.value for k in notifications.Kind}),  # type: ignore[misc]
    description="What a notification is about; pushes can be muted per kind.",
)
NotificationChannel = strawberry.enum(
    Enum("NotificationChannel", {c.name: c.value for c in notifications.Channel}),  # type: ignore[misc]
    description="Where a notification goes besides the inbox, which always keeps it.",
)
PushProvider = strawberry.enum(
    Enum("PushProvider", {p.name: p.value for p in notifications.Provider}),  # type: ignore[misc]
    description="The push service a device is registered with.",
)
DevicePlatform = strawberry.enum(
    Enum("DevicePlatform", {p.name: p.value for p in notifications.Platform}),  # type: ignore[misc]
    description="The device's operating system.",
)


@strawberry.type(description="A notification in the caller's inbox, in the caller's language.")
class Notification(Node):
    message_id: str = strawberry.field(description="Stable across redeliveries; the push carries it as data.messageId.")
    kind: NotificationKind
    title: str
    body: str
    object_type: str = strawberry.field(description="What it is about, e.g. Announcement, Organisation.")
    object_id: str = strawberry.field(description="The database id of that object.")
    time_critical: bool = strawberry.field(description="Pushed even during quiet hours.")
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_model(cls, m: models.Notification, locale: str) -> "Notification":
        title, body = notifications.text(m, locale)
        return cls(
            _pk=m.id,
            message_id=str(m.message_id),
            kind=NotificationKind(m.kind),
            title=title,
            body=body,
            object_type=m.object_type,
            object_id=m.object_id,
            time_critical=m.time_critical,
            created_at=m.created_at,
            read_at=m.read_at,
        )


@strawberry.type(description="A device of the caller that receives pushes.")
class Device(Node):
    provider: PushProvider
    platform: DevicePlatform
    token_suffix: str = strawberry.field(description="The last 6 characters of the push token.")
    installation_id: str | None
    app_version: str
    locale: str
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def from_model(cls, m: models.Device) -> "Device":
        return cls(
            _pk=m.id,
            provider=PushProvider(m.provider),
            platform=DevicePlatform(m.platform),
            token_suffix=m.token[-6:],
            installation_id=m.installation_id,
            app_version=m.app_version,
            locale=m.locale,
            created_at=m.created_at,
            last_seen_at=m.last_seen_at,
        )


@strawberry.type(description="A kind of notification muted on a channel.")
class MutedKind:
    kind: NotificationKind
    channel: NotificationChannel


@strawberry.type(description="Quiet hours in Beijing time; only time-critical pushes go out during them.")
class QuietHours:
    starts: str = strawberry.field(description="HH:MM")
    ends: str = strawberry.field(description="HH:MM; may be earlier than starts (over midnight).")


@strawberry.type(description="What the caller wants pushed and when.")
class NotificationPreferences:
    muted: list[MutedKind]
    quiet_hours: QuietHours | None

    @classmethod
    def from_domain(cls, p: notifications.Preferences) -> "NotificationPreferences":
        quiet = None
        if p.quiet_from is not None and p.quiet_to is not None:
            quiet = QuietHours(starts=notifications.hhmm(p.quiet_from) or "", ends=notifications.hhmm(p.quiet_to) or "")
        return cls(
            muted=[MutedKind(kind=NotificationKind(k), channel=NotificationChannel(c)) for k, c in sorted(p.muted)],
            quiet_hours=quiet,
        )


@node_resolver("Notification")
async def _notification_node(info: Info, pk: str) -> Notification | None:
    if not pk.isdigit():
        return None
    try:
        found = await notifications.inbox(info.context.actor).get_or_none(id=int(pk))
    except DomainError:
        return None
    return Notification.from_model(found, info.context.locale) if found else None


@node_resolver("Device")
async def _device_node(info: Info, pk: str) -> Device | None:
    if not pk.isdigit():
        return None
    try:
        found = await notifications.devices_of(info.context.actor).get_or_none(id=int(pk))
    except DomainError:
        return None
    return Device.from_model(found) if found else None
