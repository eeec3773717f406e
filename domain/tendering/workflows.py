"""How tendering reacts to events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from domain.common import clock
from domain.publication.events import LotStatusChanged
from domain.tendering import clarifications, opening
from domain.tendering.opening import OpeningFailed


async def schedule_opening_when_open(event: LotStatusChanged) -> None:
    """A published sealed tender gets its opening scheduled at its bid deadline."""
    if event.after == "open":
        await opening.schedule(int(event.object_id))


async def announce_failed_opening(event: OpeningFailed) -> None:
    """A lot that failed at its deadline (流标) is announced."""
    await opening.announce_failure(event.lot_id)


async def return_bids_when_terminated(event: LotStatusChanged) -> None:
    """A lot terminated before its opening returns its sealed bids unopened, flagged ones included."""
    if event.after == "terminated":
        await clarifications.return_unopened(int(event.object_id), clock.now())
