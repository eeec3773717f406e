"""Devices, reading and deleting notifications, preferences: decode, call one service, map the outcome."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.notifications import services as notifications
from schema.errors import mutation, result_union
from schema.notifications.types import (
    Device,
    DevicePlatform,
    NotificationChannel,
    NotificationKind,
    NotificationPreferences,
    PushProvider,
)
from schema.permissions import IsUser, IsUserOrExpert
from schema.relay import int_id


@strawberry.input(description="Register this device for pushes, or refresh it (call on every app start).")
class DeviceRegisterInput:
    provider: PushProvider = strawberry.field(description="The push service that issued the token.")
    token: str = strawberry.field(description="The push token (FCM registration token, or the vendor's).")
    platform: DevicePlatform = strawberry.field(description="The device's operating system.")
    app_version: str = strawberry.field(description="e.g. 3.2.0")
    locale: str | None = strawberry.field(default=None, description="zh-CN (default) or en: the language of pushes.")
    installation_id: str | None = strawberry.field(
        default=None, description="Stable per app install; a new token replaces the install's old one."
    )


@strawberry.type(description="Registered.")
class DeviceRegistered:
    device: Device = strawberry.field(description="The device as registered now.")


DeviceRegisterResult = result_union("DeviceRegisterResult", DeviceRegistered, [notifications.register_device])


@strawberry.input(description="Stop pushes to this device (on sign-out).")
class DeviceUnregisterInput:
    token: str = strawberry.field(description="The push token of the device to remove, as registered.")


@strawberry.type(description="Unregistered (also when it was not registered).")
class DeviceUnregistered:
    removed: bool = strawberry.field(
        description="True when a device with that token was removed, false when none was registered."
    )


DeviceUnregisterResult = result_union("DeviceUnregisterResult", DeviceUnregistered, [notifications.unregister_device])


@strawberry.input(description="Notifications of the caller, by global id.")
class NotificationIdsInput:
    ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the caller's notifications; others' ids are ignored."
    )


@strawberry.input(description="Mark every unread notification read, or only up to one the app has shown.")
class NotificationsMarkAllReadInput:
    up_to: strawberry.ID | None = strawberry.field(
        default=None,
        description="The newest notification to mark read (the one the app last showed); null marks all.",
    )


@strawberry.type(description="Done.")
class NotificationsChanged:
    changed: int = strawberry.field(description="How many notifications changed.")
    unread_count: int = strawberry.field(description="How many unread notifications the caller has now.")


NotificationsChangeResult = result_union(
    "NotificationsChangeResult",
    NotificationsChanged,
    [notifications.TooManyIds, notifications.mark_read, notifications.mark_all_read, notifications.delete],
)


@strawberry.input(description="A kind of notification to mute on a channel.")
class MutedKindInput:
    kind: NotificationKind = strawberry.field(description="The kind of notification to mute.")
    channel: NotificationChannel = strawberry.field(description="The channel to mute it on.")


@strawberry.input(description="Replaces the caller's preferences.")
class NotificationPreferencesInput:
    muted: list[MutedKindInput] = strawberry.field(
        default_factory=list,
        description="The kinds to mute, each on one channel; an empty list mutes nothing.",
    )
    quiet_hours_starts: str | None = strawberry.field(default=None, description="HH:MM Beijing time, or null.")
    quiet_hours_ends: str | None = strawberry.field(default=None, description="HH:MM Beijing time, or null.")


@strawberry.type(description="Saved.")
class NotificationPreferencesUpdated:
    preferences: NotificationPreferences = strawberry.field(description="The preferences in force now.")


NotificationPreferencesUpdateResult = result_union(
    "NotificationPreferencesUpdateResult", NotificationPreferencesUpdated, [notifications.update_preferences]
)


def _ids(values: list[strawberry.ID]) -> list[int]:
    if len(values) > notifications.MAX_IDS:
        raise notifications.TooManyIds()
    return [int_id(v, "Notification", "ids") for v in values]


@strawberry.type
class NotificationMutations:
    @mutation(
        DeviceRegisterResult,
        description="Register or refresh a device for pushes.",
        permission_classes=[IsUserOrExpert],
    )
    async def device_register(
        self,
        info: Info,
        input: Annotated[
            DeviceRegisterInput, strawberry.argument(description="The device's push token, provider and platform.")
        ],
    ) -> DeviceRegistered:
        device = await notifications.register_device(
            info.context.actor,
            input.provider.value,
            input.token,
            input.platform.value,
            input.app_version,
            input.locale,
            input.installation_id,
        )
        return DeviceRegistered(device=Device.from_model(device))

    @mutation(
        DeviceUnregisterResult,
        description="Stop pushes to one of the caller's devices.",
        permission_classes=[IsUserOrExpert],
    )
    async def device_unregister(
        self,
        info: Info,
        input: Annotated[DeviceUnregisterInput, strawberry.argument(description="The push token to forget.")],
    ) -> DeviceUnregistered:
        removed = await notifications.unregister_device(info.context.actor, input.token)
        return DeviceUnregistered(removed=removed)

    @mutation(NotificationsChangeResult, description="Mark notifications read.", permission_classes=[IsUserOrExpert])
    async def notifications_mark_read(
        self,
        info: Info,
        input: Annotated[NotificationIdsInput, strawberry.argument(description="The notifications to mark read.")],
    ) -> NotificationsChanged:
        actor = info.context.actor
        changed = await notifications.mark_read(actor, _ids(input.ids))
        return NotificationsChanged(changed=changed, unread_count=await notifications.unread_count(actor))

    @mutation(
        NotificationsChangeResult,
        description="Mark all (or all up to one) notifications read.",
        permission_classes=[IsUserOrExpert],
    )
    async def notifications_mark_all_read(
        self,
        info: Info,
        input: Annotated[
            NotificationsMarkAllReadInput,
            strawberry.argument(description="Up to which notification to mark everything read."),
        ],
    ) -> NotificationsChanged:
        actor = info.context.actor
        up_to = None if input.up_to is None else int_id(input.up_to, "Notification", "upTo")
        changed = await notifications.mark_all_read(actor, up_to)
        return NotificationsChanged(changed=changed, unread_count=await notifications.unread_count(actor))

    @mutation(
        NotificationsChangeResult,
        description="Delete notifications from the inbox.",
        permission_classes=[IsUserOrExpert],
    )
    async def notifications_delete(
        self,
        info: Info,
        input: Annotated[
            NotificationIdsInput, strawberry.argument(description="The notifications to delete from the inbox.")
        ],
    ) -> NotificationsChanged:
        actor = info.context.actor
        changed = await notifications.delete(actor, _ids(input.ids))
        return NotificationsChanged(changed=changed, unread_count=await notifications.unread_count(actor))

    @mutation(
        NotificationPreferencesUpdateResult,
        description="Replace notification preferences.",
        permission_classes=[IsUser],
    )
    async def notification_preferences_update(
        self,
        info: Info,
        input: Annotated[
            NotificationPreferencesInput,
            strawberry.argument(description="The new preferences; they replace the old ones whole."),
        ],
    ) -> NotificationPreferencesUpdated:
        prefs = await notifications.update_preferences(
            info.context.actor,
            [(m.kind.value, m.channel.value) for m in input.muted],
            input.quiet_hours_starts,
            input.quiet_hours_ends,
        )
        return NotificationPreferencesUpdated(preferences=NotificationPreferences.from_domain(prefs))
