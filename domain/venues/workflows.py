"""How venue bookings react to their lot (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from domain.publication.events import LotDeadlineMoved, LotStatusChanged
from domain.venues import services


async def follow_moved_deadline(event: LotDeadlineMoved) -> None:
    """A moved bid deadline (lot.deadline_moved, the one record of a move) moves the lot's opening and evaluation
    bookings with it; a repeat finds them in place and moves nothing."""
    await services.follow_deadline(int(event.object_id))


async def release_when_ended(event: LotStatusChanged) -> None:
    """A lot that failed (流标) or was terminated gives its rooms back."""
    if event.after in services.ENDED:
        await services.release_lot(int(event.object_id))
