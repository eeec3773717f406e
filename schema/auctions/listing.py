"""Listing (挂牌): its state, configuring it, offers, the caller's bidder number, and its live topic. Decode, call one
service, map."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeAlias

import strawberry
from strawberry.types import Info

from domain.auctions import listing as listings
from domain.auctions import models
from domain.auctions.states import ListingStatus as _ListingStatus
from domain.common import clock, topics
from domain.common.errors import DomainError
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsUser
from schema.relay import Node, int_id, node_resolver, to_global_id
from schema.scalars import Fen, optional_fen

ListingStatus: TypeAlias = _ListingStatus
strawberry.enum(
    ListingStatus,
    name="ListingStatus",
    description="A listing (挂牌): scheduled, open for offers, sold, turned into an auction, or failed.",
)
describe_values(
    ListingStatus,
    {
        "SCHEDULED": "The listing period has not started: no offer yet.",
        "OPEN": "挂牌期: qualified registrants offer the listed price plus whole increments until endsAt.",
        "SOLD": "挂牌成交: one bidder offered, at or above the reserve; it buys at its offer.",
        "AUCTION": "挂牌转竞价: two or more bidders offered; the lot's auction decides, with the same bidders.",
        "FAILED": "挂牌不成交: no offer, or a lone offer under the reserve.",
    },
)


@strawberry.type(description="A listing (挂牌) of a lot, as everyone sees it: bidder numbers only, the reserve after.")
class Listing(Node):
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot listed.")
    status: ListingStatus = strawberry.field(description="Scheduled, open, sold, auction or failed.")
    listing_price_fen: Fen = strawberry.field(description="挂牌起始价: the least the first offer may be, in fen.")
    increment_fen: Fen = strawberry.field(description="增价幅度: an offer is the listed price plus whole increments.")
    starts_at: datetime = strawberry.field(description="When the listing period starts.")
    ends_at: datetime = strawberry.field(description="When the listing period ends (the lot's bid deadline).")
    seq: int = strawberry.field(description="Accepted offers so far; each offer carries its number.")
    current_price_fen: Fen | None = strawberry.field(
        description="The listed price: the highest accepted offer, in fen; null before the first offer."
    )
    leading_bidder_no: str | None = strawberry.field(description="The bidder number of the highest offer.")
    min_next_offer_fen: Fen = strawberry.field(
        description="The lowest offer accepted next: the listing price, then the listed price plus one increment."
    )
    reserve_price_fen: Fen | None = strawberry.field(description="底价: null until the listing ended.")
    auction_starts_at: datetime | None = strawberry.field(
        description="When two or more bidders offered: when the auction with the same bidders starts (see the lot's "
        "auction); null otherwise."
    )
    winner_name: str | None = strawberry.field(description="The buyer, public once sold.")
    server_time: datetime = strawberry.field(description="Align countdowns to this.")

    @classmethod
    async def from_model(cls, m: models.Listing, lot_global_id: str) -> "Listing":
        winner = await listings.winner_of(m)
        auction = await models.Auction.get_or_none(id=m.auction_id) if m.auction_id else None
        return cls(
            _pk=m.id,
            lot_id=strawberry.ID(lot_global_id),
            status=ListingStatus(m.status),
            listing_price_fen=m.listing_price_fen,
            increment_fen=m.increment_fen,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            seq=m.seq,
            current_price_fen=m.current_price_fen,
            leading_bidder_no=m.leading_bidder_no,
            min_next_offer_fen=Fen(listings.next_offer_fen(m)),
            reserve_price_fen=optional_fen(listings.reserve_shown(m)),
            auction_starts_at=auction.starts_at if auction else None,
            winner_name=winner.name if winner else None,
            server_time=clock.now(),
        )


@strawberry.type(description="An accepted listing offer (报价): bidder number, price, sequence.")
class ListingOffer(Node):
    seq: int = strawberry.field(description="The offer's number in the listing: 1, 2, 3, with no gaps.")
    amount_fen: Fen = strawberry.field(description="The offer, in fen: the listed price it set.")
    bidder_no: str = strawberry.field(description="The offerer's bidder number, the same for all its offers.")
    placed_at: datetime = strawberry.field(description="Server time the offer was accepted.")

    @classmethod
    def from_model(cls, m: models.ListingOffer) -> "ListingOffer":
        return cls(_pk=m.id, seq=m.seq, amount_fen=m.amount_fen, bidder_no=m.bidder_no, placed_at=m.placed_at)


@node_resolver("Listing")
async def _listing_node(info: Info, pk: str) -> Listing | None:
    found = await models.Listing.get_or_none(id=int(pk)) if pk.isdigit() else None
    return await Listing.from_model(found, to_global_id("Lot", found.lot_id)) if found else None


@node_resolver("ListingOffer")
async def _listing_offer_node(info: Info, pk: str) -> ListingOffer | None:
    found = await models.ListingOffer.get_or_none(id=int(pk)) if pk.isdigit() else None
    return ListingOffer.from_model(found) if found else None


# ---------------------------------------------------------------- mutations


@strawberry.input(description="The rules of a listing (挂牌); the reserve (底价) is never shown before the end.")
class ListingConfigureInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a draft listing lot the caller manages.")
    listing_price_fen: Fen = strawberry.field(description="挂牌起始价 in fen: the least the first offer may be.")
    increment_fen: Fen = strawberry.field(
        description="增价幅度 in fen: every offer is the listed price plus whole increments (in the auction too)."
    )
    reserve_price_fen: Fen = strawberry.field(
        description="底价 in fen, at least the listing price: a lone offer under it does not buy; hidden until the end."
    )
    starts_at: datetime = strawberry.field(
        description="When the listing period starts; it ends at the lot's bid deadline, at least the lot's "
        "minSubmissionDays (10) days later (39号令 第十八条)."
    )
    auction_free_minutes: int = strawberry.field(
        default=listings.DEFAULT_FREE_MINUTES,
        description="If two or more bidders offer: minutes of free bidding in the auction that follows.",
    )
    auction_countdown_seconds: int | None = strawberry.field(
        default=None, description="The auction's countdown (60 to 1800); null: the lot's setting."
    )
    auction_gap_minutes: int = strawberry.field(
        default=listings.DEFAULT_GAP_MINUTES,
        description="Minutes between the listing's end and the auction's start (0 to 10080).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Configured.")
class ListingConfigured:
    listing: Listing = strawberry.field(description="The listing as configured (the reserve stays hidden).")


ListingConfigureResult = result_union("ListingConfigureResult", ListingConfigured, [listings.configure_listing])


@strawberry.input(description="A listing offer (报价) in fen: the listed price plus whole increments.")
class ListingOfferPlaceInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a listing lot the caller registered for.")
    amount_fen: Fen = strawberry.field(
        description="The offer in fen: the listing price (first offer) or the listed price plus whole increments."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome: one offer (≤ 255 chars).",
    )


@strawberry.type(description="Accepted: the offer with its sequence number; it is the listed price now.")
class ListingOfferPlaced:
    offer: ListingOffer = strawberry.field(description="The accepted offer.")


ListingOfferPlaceResult = result_union("ListingOfferPlaceResult", ListingOfferPlaced, [listings.place_offer])


@strawberry.type
class ListingMutations:
    @mutation(
        ListingConfigureResult,
        description="Set the listing rules of a draft listing lot (tenderer).",
        permission_classes=[IsUser],
    )
    async def listing_configure(
        self,
        info: Info,
        input: Annotated[ListingConfigureInput, strawberry.argument(description="The lot and its listing rules.")],
    ) -> ListingConfigured:
        m = await listings.configure_listing(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            listing_price_fen=input.listing_price_fen,
            increment_fen=input.increment_fen,
            reserve_price_fen=input.reserve_price_fen,
            starts_at=input.starts_at,
            auction_free_minutes=input.auction_free_minutes,
            auction_countdown_seconds=input.auction_countdown_seconds,
            auction_gap_minutes=input.auction_gap_minutes,
            idempotency_key=input.idempotency_key,
        )
        return ListingConfigured(listing=await Listing.from_model(m, input.lot_id))

    @mutation(ListingOfferPlaceResult, description="Make a listing offer (挂牌报价).", permission_classes=[IsUser])
    async def listing_offer_place(
        self,
        info: Info,
        input: Annotated[ListingOfferPlaceInput, strawberry.argument(description="The lot and the amount offered.")],
    ) -> ListingOfferPlaced:
        placed = await listings.place_offer(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.amount_fen, input.idempotency_key
        )
        return ListingOfferPlaced(offer=ListingOffer.from_model(placed))


# ---------------------------------------------------------------- queries


@strawberry.type
class ListingQueries:
    @fields.field(description="A lot's listing (挂牌); public, bidder numbers only. Null for a lot without one.")
    async def listing(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of a listing lot.")],
    ) -> Listing | None:
        try:
            m = await listings.listing_of(int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await Listing.from_model(m, lot_id)

    @fields.field(description="Accepted listing offers after a sequence number, in order (at most 500); public.")
    async def listing_offers(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of a listing lot.")],
        after_seq: Annotated[
            int, strawberry.argument(description="The sequence number of the last offer the client has; 0 for all.")
        ] = 0,
    ) -> list[ListingOffer]:
        try:
            rows = await listings.offers_after(int_id(lot_id, "Lot", "lotId"), after_seq)
        except DomainError:
            return []
        return [ListingOffer.from_model(o) for o in rows]

    @fields.field(
        description="The caller's bidder number in a listing, once it offered (the same in the auction that may "
        "follow).",
        permission_classes=[IsUser],
    )
    async def my_listing_bidder_number(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of a listing lot.")],
    ) -> str | None:
        try:
            return await listings.my_bidder_no(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None


# ---------------------------------------------------------------- the live topic


class ListingUpdateKind(StrEnum):
    SNAPSHOT = "snapshot"
    OFFER = "offer"
    ENDED = "ended"


strawberry.enum(ListingUpdateKind, name="ListingUpdateKind", description="What a listing update reports.")
describe_values(
    ListingUpdateKind,
    {
        "SNAPSHOT": "The listing as it stands when the subscription starts.",
        "OFFER": "An offer was accepted: the count (seq) and the listed price moved; who offered is never sent.",
        "ENDED": "The listing period closed: sold, failed, or turned into an auction (auctionId: watch "
        "auctionUpdates of the same lot from now on). The last update of the subscription.",
    },
)


@strawberry.type(
    description="A listing (挂牌) as it moves, for anyone watching it: offers counted and the listed price, never "
    "who offered; the reserve only once the listing ended."
)
class ListingUpdate:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the listing lot.")
    kind: ListingUpdateKind = strawberry.field(description="Snapshot, offer or ended.")
    status: ListingStatus = strawberry.field(description="The listing's status after this update.")
    seq: int = strawberry.field(description="Offers accepted so far (each offer counts one, with no gaps).")
    current_price_fen: Fen | None = strawberry.field(
        description="The listed price after this update (the highest accepted offer), in fen; null before the first "
        "offer."
    )
    min_next_offer_fen: Fen = strawberry.field(description="The lowest offer accepted next, in fen.")
    ends_at: datetime = strawberry.field(description="When the listing period ends.")
    reserve_price_fen: Fen | None = strawberry.field(description="底价: null until the listing ended.")
    auction_id: strawberry.ID | None = strawberry.field(
        description="挂牌转竞价: global id of the auction the listing turned into (its bidders are the offerers); "
        "the client switches to auctionUpdates of the same lot. Null otherwise."
    )
    auction_starts_at: datetime | None = strawberry.field(
        description="When the auction the listing turned into starts; null otherwise."
    )
    server_time: datetime = strawberry.field(description="Server time of the update: align countdowns to it.")

    @classmethod
    async def of(cls, kind: ListingUpdateKind, lot_global_id: str, m: models.Listing) -> "ListingUpdate":
        auction = await models.Auction.get_or_none(id=m.auction_id) if m.auction_id else None
        return cls(
            lot_id=strawberry.ID(lot_global_id),
            kind=kind,
            status=ListingStatus(m.status),
            seq=m.seq,
            current_price_fen=optional_fen(m.current_price_fen),
            min_next_offer_fen=Fen(listings.next_offer_fen(m)),
            ends_at=m.ends_at,
            reserve_price_fen=optional_fen(listings.reserve_shown(m)),
            auction_id=strawberry.ID(to_global_id("Auction", auction.id)) if auction else None,
            auction_starts_at=auction.starts_at if auction else None,
            server_time=clock.now(),
        )

    @classmethod
    def offer(cls, last: "ListingUpdate", m: models.Listing, payload: dict[str, Any]) -> "ListingUpdate":
        price = int(payload["price_fen"])
        return cls(
            lot_id=last.lot_id,
            kind=ListingUpdateKind.OFFER,
            status=ListingStatus.OPEN,
            seq=int(payload["seq"]),
            current_price_fen=Fen(price),
            min_next_offer_fen=Fen(price + m.increment_fen),
            ends_at=last.ends_at,
            reserve_price_fen=None,
            auction_id=None,
            auction_starts_at=None,
            server_time=clock.now(),
        )


LIVE_TYPES = frozenset({topics.LISTING_OFFER, topics.LISTING_ENDED})


@strawberry.type
class ListingSubscriptions:
    @fields.subscription(
        description="A listing (挂牌) live, public as the listing query: a snapshot, then each offer counted (the "
        "count and the listed price, never who offered), then the end of the period, with the auction's id when it "
        "turned into one (挂牌转竞价). Nothing for a lot without a listing."
    )
    async def listing_updates(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the listing lot to watch.")],
    ) -> AsyncGenerator[ListingUpdate, None]:
        pk = int_id(lot_id, "Lot", "lotId")
        # listening before the snapshot is read: an offer committed after it cannot pass the watcher by
        stream = await info.context.bus.open(
            lambda m: m.get("type") in LIVE_TYPES and m.get("payload", {}).get("lot_id") == pk,
            topics=(topics.listing(pk),),
        )
        try:
            m = await models.Listing.get_or_none(lot_id=pk)
            if m is None:
                return
            last = await ListingUpdate.of(ListingUpdateKind.SNAPSHOT, lot_id, m)
            yield last
            if ListingStatus(m.status) in listings.ENDED:
                return
            async for message in stream:
                payload = message.get("payload", {})
                if message.get("type") == topics.LISTING_OFFER:
                    if int(payload.get("seq", 0)) <= last.seq:
                        continue  # already counted (the snapshot, or a repeat of at-least-once delivery)
                    last = ListingUpdate.offer(last, m, payload)
                    yield last
                    continue
                ended = await models.Listing.get(lot_id=pk)
                yield await ListingUpdate.of(ListingUpdateKind.ENDED, lot_id, ended)
                return
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await stream.aclose()
