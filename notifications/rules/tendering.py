"""Sealed bids: the deadline approaching, the remote opening's decryption window."""

from __future__ import annotations

from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Lot
from domain.tendering.models import SealedBid
from notifications.rules.common import notify, payload_time, registrants


async def _sealed_bidders(lot_id: int) -> list[int]:
    """Organisations whose bid on the lot is still sealed (submitted, not yet decrypted)."""
    return [
        int(o)
        for o in await column(
            SealedBid.filter(lot_id=lot_id, status="submitted").values_list("organisation_id", flat=True), int
        )
    ]


async def decryption_window(event: OutboxEvent) -> list[NewNotification]:
    """The opening began, or its window is closing: time-critical, to every bidder whose bid is still sealed
    (a bidder who misses the window loses its bid), on every channel it has, quiet hours or not."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    kind = Kind.DECRYPTION_WINDOW if event.type == "opening.started" else Kind.DECRYPTION_REMINDER
    return notify(
        event,
        await active_users_of(await _sealed_bidders(lot.id)),
        kind,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        ends=payload_time(event, "window_ends_at"),
    )


async def deadline_approaching(event: OutboxEvent) -> list[NewNotification]:
    """To registrants that have not sealed a bid yet."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    sealed = set(await _sealed_bidders(lot.id))
    orgs = [o for o in await registrants(lot.id) if o not in sealed]
    return notify(
        event,
        await active_users_of(orgs),
        Kind.BID_DEADLINE_APPROACHING,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        deadline=payload_time(event, "deadline"),
    )
