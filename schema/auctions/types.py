"""An auction as phones and kiosks see it: bidder numbers only, the reserve only after the end."""

from datetime import datetime
from typing import Any, TypeAlias

import strawberry
from strawberry.types import Info

from domain.auctions import models
from domain.auctions import services as auctions
from domain.common import clock
from schema.describe import describe_values
from schema.relay import Node, node_resolver, to_global_id
from schema.scalars import Fen, optional_fen

AuctionPhase: TypeAlias = auctions.Phase
strawberry.enum(
    AuctionPhase,
    name="AuctionPhase",
    description="scheduled, free bidding (自由竞价), timed bidding (限时竞价), sold, failed.",
)
describe_values(
    AuctionPhase,
    {
        "SCHEDULED": "Not started: entries are being taken or bidding opens at startsAt.",
        "FREE": "Free bidding (自由竞价): bids are taken until freeEndsAt.",
        "TIMED": "Timed bidding (限时竞价): the auction ends when a countdown runs out without a bid.",
        "SOLD": "Over: the highest bid met the reserve price, and its bidder won.",
        "FAILED": "Over without a sale (流拍): no bid, or none reached the reserve price.",
    },
)


@strawberry.type(
    description="The live state of an auction: an online auction (the price goes up) or a reverse auction (反向竞价, "
    "descending: the price goes down, the lowest bid wins)."
)
class Auction(Node):
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot auctioned.")
    phase: AuctionPhase = strawberry.field(description="Scheduled, free bidding, timed bidding, sold or failed.")
    descending: bool = strawberry.field(
        description="反向竞价 (procurement): the price goes down by whole increments, the lowest bid wins, and the "
        "reserve is a sealed ceiling (最高限价): a bid above it is refused with BID_ABOVE_CEILING."
    )
    from_listing: bool = strawberry.field(
        description="挂牌转竞价: made at a listing's end; its bidders are the listing's offerers and the highest offer "
        "leads from the start."
    )
    starting_price_fen: Fen = strawberry.field(description="起拍价: the price the first bid may be, in fen.")
    increment_fen: Fen = strawberry.field(
        description="加价幅度: a bid is the current price plus whole increments (descending: less whole increments)."
    )
    starts_at: datetime = strawberry.field(description="When bidding opens; entered bidders get their numbers then.")
    free_ends_at: datetime = strawberry.field(description="When timed bidding starts.")
    countdown_seconds: int = strawberry.field(
        description="Length of each countdown of timed bidding, in seconds; every bid restarts it."
    )
    entry_deadline: datetime = strawberry.field(
        description="When entries closed: only organisations registered by then may bid."
    )
    ends_at: datetime | None = strawberry.field(description="Set in timed bidding; each bid may move it later.")
    seq: int = strawberry.field(description="Accepted bids so far; each bid carries its number.")
    current_price_fen: Fen | None = strawberry.field(
        description="The leading accepted bid (the highest; descending: the lowest), in fen; null before the first "
        "bid (an auction made from a listing starts with its highest offer)."
    )
    leading_bidder_no: str | None = strawberry.field(description="竞买号 of the leading bid.")
    min_next_bid_fen: Fen = strawberry.field(
        description="The lowest bid accepted next: the starting price, then the current price plus one increment; "
        "descending: the lowest positive price on the increments."
    )
    max_next_bid_fen: Fen | None = strawberry.field(
        description="Descending only: the highest bid accepted next (the starting price, then the current price "
        "less one increment), unless the sealed ceiling is lower; null in an ascending auction."
    )
    reserve_price_fen: Fen | None = strawberry.field(
        description="保留价 (descending: the sealed ceiling 最高限价): null until the auction is over."
    )
    winner_name: str | None = strawberry.field(description="Public once sold.")
    server_time: datetime = strawberry.field(description="Align countdowns to this.")

    @classmethod
    async def from_model(cls, m: models.Auction, lot_global_id: str) -> "Auction":
        winner = await auctions.winner_of(m)
        limit = auctions.next_limit(m)
        return cls(
            _pk=m.id,
            lot_id=strawberry.ID(lot_global_id),
            phase=AuctionPhase(m.phase),
            descending=m.descending,
            from_listing=m.from_listing,
            starting_price_fen=m.starting_price_fen,
            increment_fen=m.increment_fen,
            starts_at=m.starts_at,
            free_ends_at=m.free_ends_at,
            countdown_seconds=m.countdown_seconds,
            entry_deadline=m.entry_deadline,
            ends_at=m.ends_at,
            seq=m.seq,
            current_price_fen=m.current_price_fen,
            leading_bidder_no=m.leading_bidder_no,
            min_next_bid_fen=Fen((limit - 1) % int(m.increment_fen) + 1 if m.descending else limit),
            max_next_bid_fen=Fen(limit) if m.descending else None,
            reserve_price_fen=optional_fen(auctions.reserve_shown(m)),
            winner_name=winner.name if winner else None,
            server_time=clock.now(),
        )


@strawberry.type(description="An accepted bid: bidder number, price, sequence.")
class AuctionBid(Node):
    seq: int = strawberry.field(description="The bid's number in the auction: 1, 2, 3, with no gaps.")
    amount_fen: Fen = strawberry.field(description="The bid, in fen.")
    bidder_no: str = strawberry.field(
        description="The bidder's number (竞买号): bidders are known to each other only by it."
    )
    placed_at: datetime = strawberry.field(description="Server time the bid was accepted.")
    ends_at: datetime | None = strawberry.field(
        description="In timed bidding: when the auction ends unless another bid comes; null in free bidding."
    )

    @classmethod
    def from_model(cls, m: models.AuctionBid) -> "AuctionBid":
        return cls(
            _pk=m.id,
            seq=m.seq,
            amount_fen=m.amount_fen,
            bidder_no=m.bidder_no,
            placed_at=m.placed_at,
            ends_at=m.ends_at,
        )


@strawberry.type(description="One change of a live auction: a bid or a phase change.")
class AuctionUpdate:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    kind: str = strawberry.field(description="snapshot, bid or phase.")
    seq: int = strawberry.field(
        description="The auction's sequence number after this change: bids are numbered without gaps."
    )
    phase: AuctionPhase = strawberry.field(description="The auction's phase after this change.")
    price_fen: Fen | None = strawberry.field(
        description="The current price after this change, in fen; null before the first bid."
    )
    leading_bidder_no: str | None = strawberry.field(
        description="The bidder number of the highest bid; null before the first bid."
    )
    ends_at: datetime | None = strawberry.field(
        description="In timed bidding: when the auction ends unless another bid comes."
    )
    reserve_price_fen: Fen | None = strawberry.field(description="Only once the auction is over.")
    server_time: datetime = strawberry.field(
        description="Server time when the update was made: align countdowns to it."
    )

    @classmethod
    def from_message(cls, lot_global_id: str, message: dict[str, Any]) -> "AuctionUpdate":
        p = message["payload"]
        bid = message["type"] == auctions.BidPlaced.type
        ends = p.get("ends_at")
        return cls(
            lot_id=strawberry.ID(lot_global_id),
            kind="bid" if bid else "phase",
            seq=int(p["seq"]),
            phase=AuctionPhase(p["phase"]),
            price_fen=p.get("price_fen"),
            leading_bidder_no=p.get("bidder_no") if bid else p.get("leading_bidder_no"),
            ends_at=datetime.fromisoformat(ends) if ends else None,
            reserve_price_fen=p.get("reserve_price_fen"),
            server_time=clock.now(),
        )

    @classmethod
    def snapshot(cls, lot_global_id: str, m: models.Auction) -> "AuctionUpdate":
        return cls(
            lot_id=strawberry.ID(lot_global_id),
            kind="snapshot",
            seq=m.seq,
            phase=AuctionPhase(m.phase),
            price_fen=m.current_price_fen,
            leading_bidder_no=m.leading_bidder_no,
            ends_at=m.ends_at,
            reserve_price_fen=optional_fen(auctions.reserve_shown(m)),
            server_time=clock.now(),
        )


@node_resolver("Auction")
async def _auction_node(info: Info, pk: str) -> Auction | None:
    found = await models.Auction.get_or_none(id=int(pk)) if pk.isdigit() else None
    return await Auction.from_model(found, to_global_id("Lot", found.lot_id)) if found else None


@node_resolver("AuctionBid")
async def _auction_bid_node(info: Info, pk: str) -> AuctionBid | None:
    found = await models.AuctionBid.get_or_none(id=int(pk)) if pk.isdigit() else None
    return AuctionBid.from_model(found) if found else None
