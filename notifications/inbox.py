"""The notification consumer: events become inbox entries, scheduled pushes and live messages."""

from __future__ import annotations

from collections.abc import Sequence

from domain.common.events import EventBus
from domain.common.models import OutboxEvent
from domain.notifications import services
from domain.notifications.services import Channel, Preferences, live_notification
from notifications.rules import notifications_for


class NotificationConsumer:
    """In the dispatcher's transaction: the inbox gets each notification once; pushes are scheduled."""

    name = "notifications"

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        created = await services.store(await notifications_for(events))
        if not created:
            return
        prefs = await services.preferences_of(n.user_id for n in created)
        for n in created:
            if prefs.get(n.user_id, Preferences()).allows(n.kind, Channel.LIVE):
                await self.bus.publish(live_notification(n))
