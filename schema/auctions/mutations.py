"""Configuring an auction and placing bids: decode, call one service, map the outcome."""

import logging
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.auctions import services as auctions
from domain.common import idempotency
from domain.common.events import live_message
from schema.auctions.listing import ListingMutations
from schema.auctions.types import Auction, AuctionBid
from schema.certificates.types import SignatureInput, signed
from schema.errors import mutation, result_union
from schema.permissions import IsUser
from schema.relay import int_id
from schema.scalars import Fen

BIDS_PER_SECOND = 5  # per bidder: enough for a person, not for a script hammering the lot

log = logging.getLogger("palmtrade.schema.auctions")


@strawberry.input(
    description="The rules of an online auction or a reverse auction (反向竞价); the reserve price (the ceiling) is "
    "never shown before the end."
)
class AuctionConfigureInput:
    lot_id: strawberry.ID = strawberry.field(
        description="Global id of a draft online-auction or reverse-auction lot the caller manages."
    )
    starting_price_fen: Fen = strawberry.field(description="起拍价 in fen: the first bid may be this much.")
    increment_fen: Fen = strawberry.field(
        description="加价幅度 in fen: every later bid is the current price plus whole increments (reverse auction: "
        "降价幅度, less whole increments)."
    )
    reserve_price_fen: Fen = strawberry.field(
        description="保留价 in fen, at least the starting price: below it the auction fails; hidden until the end. "
        "Reverse auction: the ceiling (最高限价), positive and at most the starting price: a bid above it is refused "
        "(BID_ABOVE_CEILING, naming no figure); hidden until the end."
    )
    starts_at: datetime = strawberry.field(description="When bidding opens; not before the lot's entry deadline.")
    free_bidding_minutes: int = strawberry.field(description="Minutes of free bidding before timed bidding starts.")
    countdown_seconds: int | None = strawberry.field(
        default=None,
        description="Length of each countdown of timed bidding (60 to 1800); null: the lot's setting.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Configured.")
class AuctionConfigured:
    auction: Auction = strawberry.field(description="The auction as configured (the reserve price stays hidden).")


AuctionConfigureResult = result_union("AuctionConfigureResult", AuctionConfigured, [auctions.configure_auction])


@strawberry.input(
    description="A bid in fen: the current price plus whole increments (reverse auction: less whole increments)."
)
class BidPlaceInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a live online-auction lot the caller entered.")
    amount_fen: Fen = strawberry.field(
        description="The bid in fen: the current price (or the starting price) plus whole increments; in a reverse "
        "auction less whole increments, at most the sealed ceiling."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome: one bid (≤ 255 chars).",
    )
    signature: SignatureInput | None = strawberry.field(
        default=None,
        description="The bidder's certificate signature over the bid (mobile_contract/SIGNATURES.md); required "
        "by a lot with requireSignedBids.",
    )


@strawberry.type(description="Accepted: the bid with its sequence number and the auction's new end.")
class BidPlaced:
    bid: AuctionBid = strawberry.field(
        description="The accepted bid with its sequence number and the auction's new end."
    )


# BidRateLimited: the resolver's own limit (it holds the limiter)
BidPlaceResult = result_union("BidPlaceResult", BidPlaced, [auctions.place_bid, auctions.BidRateLimited])


@strawberry.type
class AuctionMutations(ListingMutations):
    @mutation(
        AuctionConfigureResult,
        description="Set the auction rules of a draft lot (tenderer).",
        permission_classes=[IsUser],
    )
    async def auction_configure(
        self,
        info: Info,
        input: Annotated[AuctionConfigureInput, strawberry.argument(description="The lot and its auction rules.")],
    ) -> AuctionConfigured:
        m = await auctions.configure_auction(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            starting_price_fen=input.starting_price_fen,
            increment_fen=input.increment_fen,
            reserve_price_fen=input.reserve_price_fen,
            starts_at=input.starts_at,
            free_bidding_minutes=input.free_bidding_minutes,
            countdown_seconds=input.countdown_seconds,
            idempotency_key=input.idempotency_key,
        )
        return AuctionConfigured(auction=await Auction.from_model(m, input.lot_id))

    @mutation(BidPlaceResult, description="Place a bid (出价).", permission_classes=[IsUser])
    async def bid_place(
        self,
        info: Info,
        input: Annotated[BidPlaceInput, strawberry.argument(description="The lot and the amount bid.")],
    ) -> BidPlaced:
        actor = info.context.actor
        services = info.context.services
        if services is not None:
            allowed, _ = await services.limiter.hit(f"bid:{actor.org_id}", BIDS_PER_SECOND, window_seconds=1)
            # a retry of an answered bid only replays its result: not another bid to limit (looked up only
            # when the limit bites, so the hot path reads the key once, in place_bid)
            if not allowed and not await idempotency.answered(actor, input.idempotency_key):
                raise auctions.BidRateLimited()
        placed = await auctions.place_bid(
            actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.amount_fen,
            input.idempotency_key,
            signed(input.signature),
        )
        if info.context.bus is not None:
            # straight to watchers after the commit, the bid's one publication: the dispatcher publishes it only
            # if this did not (notifications/live.py), so a broker that is down (Redis restarting) delays the
            # update but never fails the placed bid
            try:
                await info.context.bus.publish(live_message(placed.event))
            except Exception:
                log.warning(
                    "live update of bid %s not sent now; the dispatcher sends it", placed.bid.seq, exc_info=True
                )
        return BidPlaced(bid=AuctionBid.from_model(placed.bid))
