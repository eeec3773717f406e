"""Auction state, re-sync after a reconnect, and the caller's bidder number."""

from typing import Annotated

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
    async def auction(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of an online-auction lot.")],
    ) -> Auction | None:
        try:
            m = await auctions.auction_of(int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await Auction.from_model(m, lot_id)

    @strawberry.field(description="Accepted bids after a sequence number, in order (re-sync after a reconnect).")
    async def auction_bids(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of an online-auction lot.")],
        after_seq: Annotated[
            int,
            strawberry.argument(
                description="The sequence number of the last bid the client has; 0 for all (at most 500 are returned)."
            ),
        ] = 0,
    ) -> list[AuctionBid]:
        try:
            rows = await auctions.bids_after(int_id(lot_id, "Lot", "lotId"), after_seq)
        except DomainError:
            return []
        return [AuctionBid.from_model(b) for b in rows]

    @strawberry.field(description="The caller's bidder number (竞买号), once qualified.", permission_classes=[IsUser])
    async def my_bidder_number(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Global id of an online-auction lot the caller's organisation entered."),
        ],
    ) -> str | None:
        try:
            entry = await auctions.entry_of(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return entry.bidder_no if entry else None
