"""The notification consumer: events become inbox entries, scheduled pushes and live messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.accounts.models import User
from domain.common.clock import shanghai_text
from domain.common.events import EventBus
from domain.common.models import OutboxEvent
from domain.notifications import services
from domain.notifications.models import Notification
from domain.notifications.services import Channel, Preferences, live_notification
from domain.publication.models import Lot
from domain.sms import services as sms
from notifications.dispatch import AfterCommit
from notifications.rules import notifications_for

# time-critical kinds that also go by text, to the phone of the user's account: a bidder who misses the decryption
# window loses its bid, whatever its push settings (the texts' templates: domain/sms/services.py)
TEXTED = {"decryption_window": "decryption_window", "decryption_reminder": "decryption_reminder"}
TEXT_TTL = timedelta(hours=1)


async def texts(created: Sequence[Notification], events: Sequence[OutboxEvent]) -> int:
    """Queues the text of each new time-critical notice that has one, in the dispatcher's transaction (a
    redelivered event makes no new notice, so no second text)."""
    wanted = [
        n for n in created if n.time_critical and n.kind in TEXTED and n.object_type == "Lot" and n.user_id is not None
    ]
    if not wanted:
        return 0
    by_event = {e.event_id: e for e in events}
    phones = {u.id: u.phone for u in await User.filter(id__in=list({n.user_id for n in wanted}))}
    lots = {lot.id: lot for lot in await Lot.filter(id__in=list({int(n.object_id) for n in wanted}))}
    queued = 0
    for n in wanted:
        event, lot, phone = by_event.get(n.event_id), lots.get(int(n.object_id)), phones.get(n.user_id)
        if event is None or lot is None or not phone:
            continue
        ends = event.payload.get("window_ends_at")
        params = {"lot": lot.name, "ends": shanghai_text(datetime.fromisoformat(ends)) if ends else ""}
        await sms.queue(phone, TEXTED[n.kind], params, ttl=TEXT_TTL)
        queued += 1
    return queued


class NotificationConsumer:
    """In the dispatcher's transaction: the inbox gets each notification once; pushes are scheduled."""

    name = "notifications"

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    async def consume(self, events: Sequence[OutboxEvent]) -> AfterCommit | None:
        made = await notifications_for(events)
        if not made:
            return None
        prefs = await services.preferences_of(n.user_id for n in made if n.user_id is not None)
        created = await services.store(made, prefs)
        if not created:
            return None
        await texts(created, events)
        live = [
            live_notification(n)
            for n in created
            # a drawn expert's notice (no user) goes by push and to the expert app's inbox, not live
            if n.user_id is not None and prefs.get(n.user_id, Preferences()).allows(n.kind, Channel.LIVE)
        ]
        if not live:
            return None

        async def publish() -> None:  # once the inbox entries are committed: never a notice that rolled back
            for message in live:
                await self.bus.publish(message)

        return AfterCommit(publish)
