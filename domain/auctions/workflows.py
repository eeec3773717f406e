"""How auctions react to events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from domain.auctions import listing, services
from domain.auctions.listing import ListingEnded
from domain.auctions.services import AuctionPhaseChanged

ENDED = ("sold", "failed")


async def publish_result_when_ended(event: AuctionPhaseChanged) -> None:
    """An auction that ended is announced: the result awarding the lot, or its failure (流拍)."""
    if event.phase in ENDED:
        await services.publish_result(event.lot_id)


async def publish_listing_result_when_ended(event: ListingEnded) -> None:
    """A listing sold or failed is announced (a listing turned into an auction is announced at the auction's end)."""
    if event.status in ENDED:
        await listing.publish_result(event.lot_id)
