"""Auction state, re-sync after a reconnect, and the caller's bidder number."""

import strawberry
from strawberry.types import Info

from domain.auctions import services as auctions
from domain.common.errors import DomainError
from schema.auctions.types import Auction, AuctionBid
from schema.permissions import IsUser
from schema.relay import int_id


@strawberry.type
class AuctionQueries:
    @strawberry.field(description="A lot's auction; public (kiosks), bidder numbers only.")
    async def auction(self, info: Info, lot_id: strawberry.ID) -> Auction | None:
        try:
            m = await auctions.auction_of(int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await Auction.from_model(m, lot_id)

    @strawberry.field(description="Accepted bids after a sequence number, in order (re-sync after a reconnect).")
    async def auction_bids(self, info: Info, lot_id: strawberry.ID, after_seq: int = 0) -> list[AuctionBid]:
        try:
            rows = await auctions.bids_after(int_id(lot_id, "Lot", "lotId"), after_seq)
        except DomainError:
            return []
        return [AuctionBid.from_model(b) for b in rows]

    @strawberry.field(description="The caller's bidder number (竞买号), once qualified.", permission_classes=[IsUser])
    async def my_bidder_number(self, info: Info, lot_id: strawberry.ID) -> str | None:
        try:
            entry = await auctions.entry_of(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return entry.bidder_no if entry else None
