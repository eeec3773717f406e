"""The caller's new notifications, live, each once."""

from collections import OrderedDict
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.common import topics
from domain.notifications.services import LIVE_TYPE
from schema import fields
from schema.notifications.types import Notification, NotificationKind
from schema.permissions import IsUser

REMEMBERED = 10_000


@strawberry.type
class NotificationSubscriptions:
    @fields.subscription(description="The caller's notifications as they arrive.", permission_classes=[IsUser])
    async def notifications(self, info: Info) -> AsyncGenerator[Notification, None]:
        user_id = info.context.actor.user_id
        english = info.context.locale.startswith("en")
        seen: OrderedDict[str, None] = OrderedDict()
        mine = lambda m: m.get("type") == LIVE_TYPE and m.get("payload", {}).get("userId") == user_id  # noqa: E731
        async for message in info.context.bus.subscribe(mine, topics=(topics.user(user_id),)):
            if message.get("type") != LIVE_TYPE:
                continue
            payload = message["payload"]
            if payload.get("userId") != user_id or payload["messageId"] in seen:
                continue
            seen[payload["messageId"]] = None
            if len(seen) > REMEMBERED:
                seen.popitem(last=False)
            yield Notification(
                _pk=int(payload["id"]),
                message_id=payload["messageId"],
                kind=NotificationKind(payload["kind"]),
                title=payload["titleEn" if english else "titleZh"],
                body=payload["bodyEn" if english else "bodyZh"],
                object_type=payload["objectType"],
                object_id=payload["objectId"],
                time_critical=bool(payload["timeCritical"]),
                created_at=datetime.fromisoformat(payload["createdAt"]),
                read_at=None,
            )
