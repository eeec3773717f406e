"""How auctions react to events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from domain.auctions import services
from domain.auctions.services import AuctionPhaseChanged

ENDED = ("sold", "failed")


async def publish_result_when_ended(event: AuctionPhaseChanged) -> None:
    """An auction that ended is announced: the result awarding the lot, or its failure (流拍)."""
    if event.phase in ENDED:
        await services.publish_result(event.lot_id)
