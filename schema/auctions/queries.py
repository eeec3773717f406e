"""Auction state, re-sync after a reconnect, and the caller's bidder number."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.auctions import services as auctions
from domain.common.errors import DomainError, InvalidInput, NotFound
from schema import fields
from schema.auctions.listing import ListingQueries
from schema.auctions.types import Auction, AuctionBid
from schema.permissions import IsUser
from schema.relay import int_id

MAX_BIDS = 500  # bids_after's cap


@strawberry.type(description="Accepted bids after a sequence number, and whether more follow.")
class AuctionBidBatch:
    bids: list[AuctionBid] = strawberry.field(description="The bids after `afterSeq`, in sequence order.")
    has_more: bool = strawberry.field(
        description="Whether bids follow the last one here: ask again with `afterSeq: lastSeq` until this is false."
    )
    last_seq: int = strawberry.field(
        description="The sequence number of the last bid here (`afterSeq` when there is none): pass it as "
        "`afterSeq` to continue."
    )


@strawberry.type
class AuctionQueries(ListingQueries):
    @fields.field(description="A lot's auction; public (kiosks), bidder numbers only.")
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

    @fields.field(
        description="Accepted bids after a sequence number, in order (re-sync after a reconnect).",
        deprecation_reason="Use auctionBidBatch: the same bids, with hasMore saying when to ask again (this list "
        "stops at 500 bids without saying so).",
    )
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

    @fields.field(
        description="Accepted bids after a sequence number, in order, and whether more follow (re-sync after a "
        "reconnect); public like the auction. Null for a lot without an auction; a negative afterSeq is INVALID_INPUT."
    )
    async def auction_bid_batch(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of an online-auction lot.")],
        after_seq: Annotated[
            int, strawberry.argument(description="The sequence number of the last bid the client has; 0 for all.")
        ] = 0,
        first: Annotated[
            int | None, strawberry.argument(description="How many bids to return at most (capped at 500).")
        ] = None,
    ) -> AuctionBidBatch | None:
        size = MAX_BIDS if first is None else first
        if size < 1:
            raise InvalidInput(field="first")
        try:
            lot = int_id(lot_id, "Lot", "lotId")
            rows = await auctions.bids_after(lot, after_seq, min(size, MAX_BIDS))
            auction = await auctions.auction_of(lot)  # read after the bids: a bid placed between is "more"
        except NotFound:
            return None
        last = rows[-1].seq if rows else after_seq
        return AuctionBidBatch(
            bids=[AuctionBid.from_model(b) for b in rows], has_more=auction.seq > last, last_seq=last
        )

    @fields.field(description="The caller's bidder number (竞买号), once qualified.", permission_classes=[IsUser])
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
