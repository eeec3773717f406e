"""An online auction's phases (网络竞价) as data: every phase change is time-driven.

Facts the chronograph's loop (services.advance) passes: `now`, `starts_at`, `reminded` (the bidders
were reminded already), `free_ends_at`, `ends_at` (the timed countdown's end, None before it starts),
`price_fen` (the leading price, None without a bid), `reserve_fen`, and `bidders` (the qualified
bidders at the start: asked only once the start is due, since qualifying them writes their entries).
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


@guard("a qualified bidder (a standing registration with its security, or an entry)")
def has_bidders(facts: Facts) -> DomainError | None:
    return None if facts["bidders"] else _not_yet()


@guard("nobody qualified")
def no_bidders(facts: Facts) -> DomainError | None:
    return _not_yet() if facts["bidders"] else None


@guard("free_ends_at has come")
def free_over(facts: Facts) -> DomainError | None:
    return None if facts["now"] >= facts["free_ends_at"] else _not_yet()


@guard("the countdown ended (ends_at has come)")
def countdown_over(facts: Facts) -> DomainError | None:
    ends_at = facts["ends_at"]
    return None if ends_at is not None and facts["now"] >= ends_at else _not_yet()


def _sold(facts: Facts) -> bool:
    price = facts["price_fen"]
    return price is not None and price >= facts["reserve_fen"]


@guard("the leading price reaches the reserve price")
def reserve_met(facts: Facts) -> DomainError | None:
    return None if _sold(facts) else _not_yet()


@guard("no bid, or the leading price is under the reserve price")
def reserve_missed(facts: Facts) -> DomainError | None:
    return _not_yet() if _sold(facts) else None


P = Phase
TABLE: Lifecycle[Phase] = Lifecycle(
    name="Auction",
    states=Phase,
    field_name="phase",
    doc="An online auction: scheduled with its times, free bidding from starts_at to free_ends_at, then a "
    "timed countdown that every bid restarts; sold at the end when the leading price reaches the reserve. "
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
            note="a qualified bidder raises the price by whole increments (services.place_bid)",
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
