"""The caller's inbox, devices and preferences."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.notifications import services as notifications
from schema import fields
from schema.notifications.types import Device, Notification, NotificationPreferences
from schema.permissions import IsUser, IsUserOrExpert
from schema.relay import Before, Connection, Last, paginate


@strawberry.type
class NotificationQueries:
    @fields.field(description="The caller's inbox, newest first.", permission_classes=[IsUserOrExpert])
    async def my_notifications(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many notifications to return, newest first (capped by the server)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last notification already read: the page continues after it."
            ),
        ] = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only notifications not yet marked read.")
        ] = False,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Notification]:
        locale = info.context.locale
        return await paginate(
            info,
            notifications.inbox(info.context.actor, unread_only),
            first,
            after,
            lambda m: Notification.from_model(m, locale),
            last,
            before,
        )

    @fields.field(description="How many notifications the caller has not read.", permission_classes=[IsUserOrExpert])
    async def my_unread_notification_count(self, info: Info) -> int:
        return await notifications.unread_count(info.context.actor)

    @fields.field(description="The caller's registered devices.", permission_classes=[IsUserOrExpert])
    async def my_devices(self, info: Info) -> list[Device]:
        rows = await notifications.devices_of(info.context.actor).order_by("-last_seen_at", "-id")
        return [Device.from_model(m) for m in rows]

    @fields.field(description="The caller's notification preferences.", permission_classes=[IsUser])
    async def my_notification_preferences(self, info: Info) -> NotificationPreferences:
        user_id = info.context.actor.user_id
        assert user_id is not None
        return NotificationPreferences.from_domain(await notifications.preferences(user_id))
