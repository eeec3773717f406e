"""An online auction's phases (网络竞价) as data: every phase change is time-driven.

Facts the chronograph's loop (services.advance) passes: `now`, `starts_at`, `reminded` (the bidders
were reminded already), `free_ends_at`, `ends_at` (the timed countdown's end, None before it starts),
`price_fen` (the leading price, None without a bid), `reserve_fen` (the reserve, or in a reverse auction
the sealed ceiling), `descending` (a reverse auction: the price goes down and the lowest wins), `bidders`
(the qualified bidders at the start: asked only once the start is due, since qualifying them writes their
entries) and `min_bidders` (the lot's min_bids, read at the start; 1 when absent).
A bid is a move too: it keeps the phase (in the countdown it restarts it), and any other phase refuses it
with AuctionNotLive.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import ClassVar

from domain.common.errors import DomainError
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, guard, move

REMIND_BEFORE = timedelta(minutes=10)


class Phase(StrEnum):
    SCHEDULED = "scheduled"
    FREE = "free"  # 自由竞价
    TIMED = "timed"  # 限时竞价: every bid restarts the countdown
    SOLD = "sold"
    FAILED = "failed"


class AuctionNotLive(DomainError):
    code = "AUCTION_NOT_LIVE"
    message_zh = "竞价未在进行中（当前阶段：{phase}）"
    message_en = "The auction is not live (phase: {phase})"
    exposed: ClassVar[dict[str, str]] = {"phase": "str"}


def _not_live(phase: str) -> DomainError:
    return AuctionNotLive(phase=phase)


def _not_yet() -> DomainError:
    return DomainError()


@guard("not reminded yet, and ten minutes or less before starts_at")
def remind_due(facts: Facts) -> DomainError | None:
    return None if not facts["reminded"] and facts["now"] >= facts["starts_at"] - REMIND_BEFORE else _not_yet()


@guard("starts_at has come")
def start_due(facts: Facts) -> DomainError | None:
    return None if facts["now"] >= facts["starts_at"] else _not_yet()


def _enough(facts: Facts) -> bool:
    return bool(facts["bidders"] >= max(1, int(facts.get("min_bidders", 1))))


@guard("at least the lot's min_bids qualified bidders (1 for an online auction, 2 for a reverse auction)")
def has_bidders(facts: Facts) -> DomainError | None:
    return None if _enough(facts) else _not_yet()


@guard("fewer qualified bidders than the lot's min_bids")
def no_bidders(facts: Facts) -> DomainError | None:
    return _not_yet() if _enough(facts) else None


@guard("free_ends_at has come")
def free_over(facts: Facts) -> DomainError | None:
    return None if facts["now"] >= facts["free_ends_at"] else _not_yet()


@guard("the countdown ended (ends_at has come)")
def countdown_over(facts: Facts) -> DomainError | None:
    ends_at = facts["ends_at"]
    return None if ends_at is not None and facts["now"] >= ends_at else _not_yet()


def _sold(facts: Facts) -> bool:
    price = facts["price_fen"]
    if price is None:
        return False
    return bool(price <= facts["reserve_fen"] if facts.get("descending") else price >= facts["reserve_fen"])


@guard("the leading price reaches the reserve price (reverse auction: is at most the sealed ceiling)")
def reserve_met(facts: Facts) -> DomainError | None:
    return None if _sold(facts) else _not_yet()


@guard("no bid, or the leading price misses the reserve price (reverse auction: the ceiling)")
def reserve_missed(facts: Facts) -> DomainError | None:
    return _not_yet() if _sold(facts) else None


P = Phase
TABLE: Lifecycle[Phase] = Lifecycle(
    name="Auction",
    states=Phase,
    field_name="phase",
    doc="An online auction: scheduled with its times, free bidding from starts_at to free_ends_at, then a "
    "timed countdown that every bid restarts; sold at the end when the leading price reaches the reserve. "
    "A reverse auction (反向竞价) runs the same phases with the price going down: the lowest bid at or under the "
    "sealed ceiling (最高限价) wins. "
    "The chronograph fires every timed move in this order when due (services.advance); bids keep the phase.",
    transitions=(
        move("schedule", None, P.SCHEDULED, note="the lot's managers or an operator set the auction's times"),
        move(
            "remind",
            P.SCHEDULED,
            P.SCHEDULED,
            by={SYSTEM},
            timed=True,
            guards=[remind_due],
            note="registered bidders are told it starts soon (not when it has started already)",
        ),
        move(
            "start",
            P.SCHEDULED,
            P.FREE,
            by={SYSTEM},
            timed=True,
            guards=[start_due, has_bidders],
            note="the lot's bidder rules are copied and its bidders qualified",
        ),
        move("fail_unattended", P.SCHEDULED, P.FAILED, by={SYSTEM}, timed=True, guards=[start_due, no_bidders]),
        move(
            "start_countdown",
            P.FREE,
            P.TIMED,
            by={SYSTEM},
            timed=True,
            guards=[free_over],
            note="ends_at = free_ends_at + countdown_seconds",
        ),
        move(
            "sell",
            P.TIMED,
            P.SOLD,
            by={SYSTEM},
            timed=True,
            guards=[countdown_over, reserve_met],
            note="the leading bidder wins; the result confirmation number is set",
        ),
        move("close_unsold", P.TIMED, P.FAILED, by={SYSTEM}, timed=True, guards=[countdown_over, reserve_missed]),
        move(
            "bid",
            P.FREE,
            P.FREE,
            refusal=_not_live,
            note="a qualified bidder raises the price by whole increments (reverse auction: lowers it, never above the "
            "ceiling) (services.place_bid)",
        ),
        move(
            "bid_in_countdown",
            P.TIMED,
            P.TIMED,
            refusal=_not_live,
            note="as bid; ends_at moves to at least now + countdown_seconds",
        ),
    ),
    initial=frozenset({P.SCHEDULED}),
    final=frozenset({P.SOLD, P.FAILED}),
)


# ---------------------------------------------------------------- listing (挂牌)


class ListingStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"  # 挂牌期: offers at the listing price or above
    SOLD = "sold"  # 挂牌成交: one offerer
    AUCTION = "auction"  # 挂牌转竞价: two or more offerers, the online auction decides
    FAILED = "failed"  # 挂牌不成交


class ListingNotOpen(DomainError):
    """An offer outside the listing period (before it opens, or once it has ended)."""

    code = "LISTING_NOT_OPEN"
    message_zh = "不在挂牌期内，不接受报价（挂牌状态：{status}）"
    message_en = "The listing takes no offer now (status: {status})"
    exposed: ClassVar[dict[str, str]] = {"status": "str"}


def _listing_closed(status: str) -> DomainError:
    return ListingNotOpen(status=status)


@guard("the listing period is running: starts_at <= now < ends_at (ListingNotOpen)")
def in_listing_period(facts: Facts) -> DomainError | None:
    now = facts["now"]
    return None if facts["starts_at"] <= now < facts["ends_at"] else ListingNotOpen(status=str(facts["status"]))


@guard("ends_at has come")
def listing_over(facts: Facts) -> DomainError | None:
    return None if facts["now"] >= facts["ends_at"] else _not_yet()


@guard("exactly one bidder offered, at or above the reserve (底价)")
def lone_offer_met(facts: Facts) -> DomainError | None:
    price = facts["price_fen"]
    ok = facts["offerers"] == 1 and price is not None and price >= facts["reserve_fen"]
    return None if ok else _not_yet()


@guard("two or more bidders offered")
def several_offerers(facts: Facts) -> DomainError | None:
    return None if facts["offerers"] >= 2 else _not_yet()


@guard("no offer, or a lone offer under the reserve (底价)")
def nothing_to_sell(facts: Facts) -> DomainError | None:
    price = facts["price_fen"]
    if facts["offerers"] == 0 or (facts["offerers"] == 1 and (price is None or price < facts["reserve_fen"])):
        return None
    return _not_yet()


L = ListingStatus
LISTING: Lifecycle[ListingStatus] = Lifecycle(
    name="Listing",
    states=ListingStatus,
    field_name="status",
    doc="A listing (挂牌, 招标拍卖挂牌出让国有建设用地使用权规定 第十七条至第十九条): offers at the listing price "
    "or above during a listing period of at least 10 days; at its end one offerer buys at its offer (at or above "
    "the reserve), two or more go on to an online auction with the same bidders and the highest offer "
    "leading, none fails it.",
    transitions=(
        move("schedule", None, L.SCHEDULED, note="the lot's managers set the listing's prices and period"),
        move("open", L.SCHEDULED, L.OPEN, by={SYSTEM}, timed=True, guards=[start_due], note="starts_at has come"),
        move(
            "offer",
            L.OPEN,
            L.OPEN,
            refusal=_listing_closed,
            guards=[in_listing_period],
            note="a qualified registrant offers the listing price plus whole increments (listing.place_offer)",
        ),
        move(
            "sell",
            L.OPEN,
            L.SOLD,
            by={SYSTEM},
            timed=True,
            guards=[listing_over, lone_offer_met],
            note="第十九条（一）: the lone offerer buys at its offer; the result is announced",
        ),
        move(
            "turn_to_auction",
            L.OPEN,
            L.AUCTION,
            by={SYSTEM},
            timed=True,
            guards=[listing_over, several_offerers],
            note="挂牌转竞价: an online auction with the offerers as its bidders, the highest offer leading",
        ),
        move(
            "fail",
            L.OPEN,
            L.FAILED,
            by={SYSTEM},
            timed=True,
            guards=[listing_over, nothing_to_sell],
            note="第十九条（三）: 挂牌不成交; a termination is announced",
        ),
    ),
    initial=frozenset({L.SCHEDULED}),
    final=frozenset({L.SOLD, L.AUCTION, L.FAILED}),
)
