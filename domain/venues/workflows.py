"""How venue bookings react to their lot (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from domain.publication.events import LotStatusChanged
from domain.tendering.clarifications import ClarificationPublished
from domain.venues import services


async def follow_moved_deadline(event: ClarificationPublished) -> None:
    """A clarification that moved the bid deadline moves the lot's opening and evaluation bookings with it."""
    if event.moved:
        await services.follow_deadline(event.lot_id)


async def release_when_ended(event: LotStatusChanged) -> None:
    """A lot that failed (流标) or was terminated gives its rooms back."""
    if event.after in services.ENDED:
        await services.release_lot(int(event.object_id))
