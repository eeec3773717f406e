"""How a negotiation reacts to events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.common import events
from domain.common.actors import SYSTEM
from domain.common.events import Audience
from domain.common.storage import lock
from domain.complaints.events import LotSuspensionLifted
from domain.complaints.models import LotSuspension
from domain.negotiation import events as ev
from domain.negotiation.models import Negotiation
from domain.negotiation.services import KEEPERS, active_suppliers
from domain.negotiation.states import NegotiationStatus


def _held(
    window_start: datetime | None, window_end: datetime, suspended_at: datetime, lifted_at: datetime
) -> timedelta:
    """How long a suspension held a window that was running (or not yet over) when it began; zero otherwise."""
    if window_end <= suspended_at:
        return timedelta(0)
    held = lifted_at - max(suspended_at, window_start or suspended_at)
    return held if held > timedelta(0) else timedelta(0)


async def extend_windows_when_lifted(event: LotSuspensionLifted) -> None:
    """A lifted suspension gives the negotiation's running window back the time it was held, as the opening's
    decryption window and the tender deadline are (domain/tendering/opening.resume): the final-offer window, or the
    key window after it; the next step is planned again (the chronograph held it while suspended)."""
    negotiation = await lock(Negotiation.filter(lot_id=event.lot_id)).first()
    if negotiation is None:
        return
    query = LotSuspension.filter(lot_id=event.lot_id, lifted_at__isnull=False)
    if event.complaint_id is not None:
        query = query.filter(complaint_id=event.complaint_id)
    suspension = await query.order_by("-id").first()
    if suspension is None or suspension.lifted_at is None:
        return
    suspended_at, lifted_at = suspension.suspended_at, suspension.lifted_at
    status = negotiation.status
    if status == NegotiationStatus.FINAL_OFFERS.value and negotiation.offers_close_at is not None:
        held = _held(negotiation.offers_open_at, negotiation.offers_close_at, suspended_at, lifted_at)
        negotiation.offers_close_at += held
        negotiation.next_check_at = negotiation.offers_close_at
    elif status == NegotiationStatus.DECRYPTING.value and negotiation.decryption_ends_at is not None:
        held = _held(negotiation.offers_close_at, negotiation.decryption_ends_at, suspended_at, lifted_at)
        negotiation.decryption_ends_at += held
        negotiation.next_check_at = negotiation.decryption_ends_at
    elif status == NegotiationStatus.NEGOTIATING.value and negotiation.round_closes_at is not None:
        held = _held(None, negotiation.round_closes_at, suspended_at, lifted_at)
        negotiation.round_closes_at += held  # a round with its own deadline: no chronograph step, read on each post
    else:
        return  # a round without a deadline has no window; a reported or failed negotiation has nothing to hold
    negotiation.updated_at = lifted_at
    await negotiation.save()
    if held > timedelta(0):
        await events.record(
            ev.NegotiationWindowExtended(
                object_id=str(negotiation.id),
                lot_id=negotiation.lot_id,
                status=status,
                held_seconds=int(held.total_seconds()),
                closes_at=(
                    negotiation.round_closes_at
                    if status == NegotiationStatus.NEGOTIATING.value
                    else negotiation.next_check_at
                ),
                audience=Audience(orgs=tuple(await active_suppliers(negotiation)), roles=KEEPERS),
            ),
            SYSTEM,
        )
