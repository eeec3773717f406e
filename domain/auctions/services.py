"""Online auctions (网络竞价): free bidding, then timed bidding in which every bid restarts the countdown.

An auction belongs to a lot whose procedure is online_auction; the tenderer configures it while
the lot is a draft: starting price, increment (加价幅度), a reserve price (保留价) that no role can
read before the end, when bidding starts, how long free bidding lasts, the countdown (default the
lot's auction_countdown_seconds, 300 s). Registrations whose deposit or guarantee is in place at
the entry deadline (the lot's registration close, else its bid deadline) are qualified when the
auction starts and receive a random bidder number (竞买号); everyone else sees bidder numbers only.

Bids are serialised per auction by a row lock (PostgreSQL; SQLite has one writer) and judged on
server time taken under that lock: a bid must be the current price plus a whole multiple of the
increment (the first: the starting price plus a multiple); each accepted bid gets the next
sequence number and, during timed bidding, moves ends_at to max(ends_at, now + countdown) in the
same transaction. The auction ends at ends_at whether or not a request arrives: the chronograph
closes it, and a bid at or after ends_at is refused even before that. The highest bid at or above
the reserve wins; otherwise the auction fails.

A reverse auction (反向竞价, procedure reverse_auction, for procurement) is the same auction with the price going
down: the first bid is the starting price less whole decrements, every later one the current price less whole
decrements, the countdown rules are the same, and the lowest bid wins. Its reserve is the sealed ceiling (最高限价,
reserve_price_fen, at most the starting price): a bid above it is refused with BidAboveCeiling, which names no figure.
The refusal tells the bidder only that the ceiling is below that bid, a bid under the ceiling is binding at once, and
every later bid must be under the current price, which is under the ceiling: probing the ceiling costs a binding
offer and learns it to one decrement at most, as the public current price does anyway. Every refusal is on the audit
trail. The ceiling is shown once the auction is over.

A listing (挂牌, domain/auctions/listing.py) that ends with two or more offerers becomes an auction here
(from_listing): its offerers are its entries, with their bidder numbers, and its highest offer leads from the start.

On PostgreSQL the common bid (unsigned, no phase change due, no key seen before) is judged and recorded by one
statement, migration 0024's auction_bid_place, so the row lock is held for one round trip; it answers with the
outcome, or that the bid needs this module's Python path, which every bid takes on SQLite. Both write the same rows
and events (tests/domain/auctions/test_bid_paths.py). A refused bid's failure event is written by the transaction
(or the statement) that refused it.

A lot may require bids signed with a bound certificate (require_signed_bids: the signature is checked
before the row lock and stored with the bid) and bidders signed in with two factors
(require_two_factor_for_bids: the access token's amr). Both are copied onto the auction when bidding
starts, so a bid reads them from the row it locks and not from the lot.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from tortoise import connections
from tortoise.expressions import Q

from domain.access import network
from domain.accounts.models import Organisation
from domain.auctions.models import Auction, AuctionBid, AuctionEntry
from domain.auctions.states import REMIND_BEFORE as REMIND_BEFORE
from domain.auctions.states import TABLE
from domain.auctions.states import AuctionNotLive as AuctionNotLive
from domain.auctions.states import Phase as Phase
from domain.certificates import acts, signatures
from domain.certificates.errors import SIGNATURE_ERRORS, SignatureRequired, TwoFactorRequired
from domain.certificates.signatures import Signed, Verified
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import KEY_LIFETIME, MAX_KEY_LENGTH, run_once
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.queries import column
from domain.common.storage import lock, using_postgres
from domain.publication.models import Lot
from domain.publication.procedures import Procedure, bounds
from domain.publication.projects import managed_project
from domain.publication.states import LotStatus
from domain.registration import services as registration
from domain.registration.models import Registration

MAX_PRICE_FEN = 10**15
MAX_FREE_MINUTES = 7 * 24 * 60


OVER = frozenset({Phase.SOLD, Phase.FAILED})
# the procedures whose lots are configured as an auction here (a listing's auction is made by listing.py)
AUCTIONED = frozenset({Procedure.ONLINE_AUCTION.value, Procedure.REVERSE_AUCTION.value})


class NotQualified(DomainError):
    code = "NOT_QUALIFIED"
    message_zh = "未取得竞买资格：须在报名截止前报名并缴纳保证金或提交保函"
    message_en = "Not qualified: register and put up the deposit or a guarantee before the entry deadline"


class BidTooLow(DomainError):
    code = "BID_TOO_LOW"
    message_zh = "出价过低：当前价 {current_text} 元，最低应价 {min_next_text} 元"
    message_en = "Bid too low: the current price is CNY {current_text}, the lowest next bid CNY {min_next_text}"
    exposed: ClassVar[dict[str, str]] = {"current_price_fen": "fen", "min_next_fen": "fen", "seq": "int"}


class BidNotOnIncrement(BidTooLow):
    code = "BID_NOT_ON_INCREMENT"
    message_zh = "出价须为当前价加整数倍加价幅度：当前价 {current_text} 元，最低应价 {min_next_text} 元"
    message_en = (
        "A bid must be the current price plus whole increments: current CNY {current_text}, next CNY {min_next_text}"
    )


class BidTooHigh(DomainError):
    """Reverse auction: a bid must be under the current price by whole decrements."""

    code = "BID_TOO_HIGH"
    message_zh = "报价过高：当前价 {current_text} 元，最高应价 {max_next_text} 元"
    message_en = "Bid too high: the current price is CNY {current_text}, the highest next bid CNY {max_next_text}"
    exposed: ClassVar[dict[str, str]] = {"current_price_fen": "fen", "max_next_fen": "fen", "seq": "int"}


class BidNotOnDecrement(BidTooHigh):
    code = "BID_NOT_ON_DECREMENT"
    message_zh = "报价须为当前价减整数倍降价幅度：当前价 {current_text} 元，最高应价 {max_next_text} 元"
    message_en = (
        "A bid must be the current price less whole decrements: current CNY {current_text}, next CNY {max_next_text}"
    )


class BidAboveCeiling(DomainError):
    """Reverse auction: over the sealed ceiling (最高限价). Names no figure: the ceiling stays sealed."""

    code = "BID_ABOVE_CEILING"
    message_zh = "报价高于采购人设定的最高限价，未被接受；最高限价在竞价结束后公布"
    message_en = (
        "The bid is above the buyer's sealed ceiling price and was not accepted; the ceiling is shown at the end"
    )


class AlreadyLeading(DomainError):
    code = "ALREADY_LEADING"
    message_zh = "您已是最高出价者"
    message_en = "You already hold the highest bid"


class BidRateLimited(DomainError):
    code = "BID_RATE_LIMITED"
    message_zh = "出价过于频繁，请稍后再试"
    message_en = "Too many bids; try again in a moment"


class AuctionNotConfigurable(DomainError):
    code = "AUCTION_NOT_CONFIGURABLE"
    message_zh = "只有草稿状态的网络竞价或反向竞价标的可以设置竞价规则"
    message_en = "Only a draft lot sold by online auction or bought by reverse auction can be given auction rules"


@dataclass(frozen=True, kw_only=True)
class AuctionConfigured(DomainEvent):
    type = "auction.configured"
    object_type = "Auction"
    lot_id: int
    starts_at: datetime


@dataclass(frozen=True, kw_only=True)
class AuctionPhaseChanged(DomainEvent):
    """Public: the phase, the price and the leading bidder number; the reserve only once it is over."""

    type = "auction.phase_changed"
    object_type = "Auction"
    lot_id: int
    phase: str
    seq: int
    price_fen: int | None
    leading_bidder_no: str | None
    ends_at: datetime | None
    reserve_price_fen: int | None = None
    qualified: int = 0


@dataclass(frozen=True, kw_only=True)
class BidPlaced(DomainEvent):
    """Public: price, bidder number, sequence and the new end; never who bid."""

    type = "auction.bid_placed"
    object_type = "Auction"
    lot_id: int
    seq: int
    price_fen: int
    bidder_no: str
    phase: str
    ends_at: datetime | None
    placed_at: datetime


@dataclass(frozen=True, kw_only=True)
class Outbid(DomainEvent):
    """To the bidder who led until now."""

    type = "auction.outbid"
    object_type = "Auction"
    lot_id: int
    seq: int
    price_fen: int


@dataclass(frozen=True, kw_only=True)
class AuctionStartingSoon(DomainEvent):
    """To every registered bidder, REMIND_BEFORE the start."""

    type = "auction.starting_soon"
    object_type = "Auction"
    lot_id: int
    starts_at: datetime


@dataclass(frozen=True, kw_only=True)
class AuctionWon(DomainEvent):
    type = "auction.won"
    object_type = "Auction"
    lot_id: int
    price_fen: int
    bidder_no: str


# ---------------------------------------------------------------- configuration


@raises(AuctionNotConfigurable)
@use_case("auction.configure", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def configure_auction(
    actor: Actor,
    lot_id: int,
    *,
    starting_price_fen: int,
    increment_fen: int,
    reserve_price_fen: int,
    starts_at: datetime,
    free_bidding_minutes: int,
    countdown_seconds: int | None = None,
    idempotency_key: str | None = None,
) -> Auction:
    """Sets (or changes) the auction rules of a draft online-auction or reverse-auction lot the actor manages. In a
    reverse auction the reserve is the sealed ceiling (最高限价): positive and at most the starting price."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    await managed_project(actor, lot.project_id)
    if lot.procedure not in AUCTIONED or lot.status != LotStatus.DRAFT.value:
        raise AuctionNotConfigurable()
    descending = lot.procedure == Procedure.REVERSE_AUCTION.value
    for name, value in (("startingPriceFen", starting_price_fen), ("incrementFen", increment_fen)):
        if not 0 < value <= MAX_PRICE_FEN:
            raise InvalidInput(field=name)
    if descending and not 0 < reserve_price_fen <= starting_price_fen:
        raise InvalidInput(field="reservePriceFen")
    if not descending and not starting_price_fen <= reserve_price_fen <= MAX_PRICE_FEN:
        raise InvalidInput(field="reservePriceFen")
    if not 1 <= free_bidding_minutes <= MAX_FREE_MINUTES:
        raise InvalidInput(field="freeBiddingMinutes")
    countdown = countdown_seconds if countdown_seconds is not None else int(lot.config["auction_countdown_seconds"])
    limit = bounds(Procedure(lot.procedure))["auction_countdown_seconds"]
    if not limit.low <= countdown <= limit.high:
        raise InvalidInput(field="countdownSeconds")
    if starts_at.tzinfo is None:
        raise InvalidInput(field="startsAt")
    entry_deadline = entry_deadline_of(lot)
    if entry_deadline is None or starts_at < entry_deadline:
        raise InvalidInput(field="startsAt")
    values: dict[str, Any] = {
        "starting_price_fen": starting_price_fen,
        "increment_fen": increment_fen,
        "reserve_price_fen": reserve_price_fen,
        "starts_at": starts_at,
        "free_ends_at": starts_at + timedelta(minutes=free_bidding_minutes),
        "countdown_seconds": countdown,
        "entry_deadline": entry_deadline,
        "phase": Phase.SCHEDULED.value,
        "reminded_at": None,
        "next_check_at": starts_at - REMIND_BEFORE,
        "descending": descending,
    }
    request = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()} | {"lot": lot_id}

    async def save() -> dict[str, Any]:
        now = clock.now()
        auction = await lock(Auction.filter(lot_id=lot_id)).first()
        if auction is None:
            auction = await Auction.create(lot_id=lot_id, created_at=now, updated_at=now, **values)
        else:
            auction.update_from_dict({**values, "updated_at": now})
            await auction.save()
        await events.record(
            AuctionConfigured(object_id=str(auction.id), lot_id=lot_id, starts_at=starts_at, audience=Audience()),
            actor,
        )
        return {"id": auction.id}

    result, _ = await run_once(actor, idempotency_key, "auction.configure", request, save)
    return await Auction.get(id=result["id"])


def entry_deadline_of(lot: Lot) -> datetime | None:
    value = lot.config.get("registration_closes_at") or lot.config.get("bid_deadline")
    return datetime.fromisoformat(value) if value else None


# ---------------------------------------------------------------- the clock of an auction


async def _qualify(auction: Auction, now: datetime) -> int:
    """Gives a bidder number to every registration with its security in place at the entry deadline; an auction
    made from a listing has its bidders already (the listing's offerers) and takes no other."""
    if auction.from_listing:
        return 0
    regs = await Registration.filter(lot_id=auction.lot_id, status="registered").order_by("id")
    taken = set(await column(AuctionEntry.filter(auction_id=auction.id).values_list("bidder_no", flat=True), str))
    made = 0
    for reg in regs:
        if await AuctionEntry.exists(auction_id=auction.id, organisation_id=reg.organisation_id):
            continue
        if not await registration.security_in_place(auction.lot_id, reg.organisation_id, auction.entry_deadline):
            continue
        number = _bidder_number(taken)
        taken.add(number)
        await AuctionEntry.create(
            auction_id=auction.id,
            organisation_id=reg.organisation_id,
            registration_id=reg.id,
            bidder_no=number,
            qualified_at=now,
        )
        made += 1
    return made


async def _copy_bidder_rules(auction: Auction) -> int:
    """The lot's bidder rules onto the auction (saved with the start): the lot is published by then, and a
    published lot's configuration no longer changes. Returns the lot's min_bids (the fewest bidders to start)."""
    lot = await Lot.get(id=auction.lot_id)
    auction.require_signed_bids = bool(lot.config.get("require_signed_bids"))
    auction.require_two_factor_for_bids = bool(lot.config.get("require_two_factor_for_bids"))
    # an auction made from a listing has the listing's offerers, two or more: the listing's rule decided already
    return 1 if auction.from_listing else int(lot.config.get("min_bids", 1))


def _check_bidder(auction: Auction, actor: Actor, verified: Verified | None) -> None:
    if auction.require_two_factor_for_bids and not actor.two_factor:
        raise TwoFactorRequired()
    if auction.require_signed_bids and verified is None:
        raise SignatureRequired()


def _bidder_number(taken: set[str]) -> str:
    """A random 4-digit bidder number not yet used in this auction (random, so it says nothing)."""
    while True:
        number = f"{secrets.randbelow(9000) + 1000}"
        if number not in taken:
            return number


def _public_state(auction: Auction) -> dict[str, Any]:
    return {
        "lot_id": auction.lot_id,
        "phase": auction.phase,
        "seq": auction.seq,
        "price_fen": auction.current_price_fen,
        "leading_bidder_no": auction.leading_bidder_no,
        "ends_at": auction.ends_at,
    }


async def advance(auction: Auction, now: datetime) -> list[OutboxEvent]:
    """Applies every phase change that is due at `now` to a locked auction and saves it; returns the
    events recorded. Used by the chronograph and by bids that arrive before it ran."""
    recorded: list[OutboxEvent] = []
    system = Actor(client_id="system", roles=frozenset({Role.OPERATOR}))
    while True:
        phase = Phase(auction.phase)
        qualified = 0
        facts = _clock_facts(auction, now)
        step = TABLE.due(phase, **facts, bidders=1)  # by the clock; bidders are qualified once the start is due
        if step is None:
            if phase in OVER:
                auction.next_check_at = None
            break
        if step.name == "remind":
            auction.reminded_at, auction.next_check_at, auction.updated_at = now, auction.starts_at, now
            await auction.save()
            if now < auction.starts_at:
                orgs = await column(
                    Registration.filter(lot_id=auction.lot_id, status="registered").values_list(
                        "organisation_id", flat=True
                    ),
                    int,
                )
                recorded.append(
                    await events.record(
                        AuctionStartingSoon(
                            object_id=str(auction.id),
                            lot_id=auction.lot_id,
                            starts_at=auction.starts_at,
                            audience=Audience(orgs=tuple(sorted({int(o) for o in orgs})), roles=()),
                        ),
                        system,
                    )
                )
            continue
        bidders, min_bidders = 1, 1
        if step.name == "start":
            min_bidders = await _copy_bidder_rules(auction)
            qualified = await _qualify(auction, now)
            bidders = await AuctionEntry.filter(auction_id=auction.id).count()
            # start, or fail_unattended with fewer bidders than the lot's min_bids
            step = TABLE.due(phase, **facts, bidders=bidders, min_bidders=min_bidders)
            assert step is not None
        auction.phase = TABLE.fire(phase, step.name, by=system, **facts, bidders=bidders, min_bidders=min_bidders).value
        if step.name == "fail_unattended":
            auction.closed_at, auction.next_check_at = now, None
        elif step.name == "start":
            auction.next_check_at = auction.free_ends_at
        elif step.name == "start_countdown":
            auction.ends_at = auction.free_ends_at + timedelta(seconds=auction.countdown_seconds)
            auction.next_check_at = auction.ends_at
        else:  # sell or close_unsold
            sold = step.name == "sell"
            auction.winner_entry_id = auction.leading_entry_id if sold else None
            if sold:
                lot = await Lot.get(id=auction.lot_id)
                auction.confirmation_no = f"CJ{lot.trade_code}"
            auction.closed_at, auction.next_check_at = auction.ends_at, None
        auction.updated_at = now
        await auction.save()
        over = Phase(auction.phase) in OVER
        recorded.append(
            await events.record(
                AuctionPhaseChanged(
                    object_id=str(auction.id),
                    **_public_state(auction),
                    reserve_price_fen=auction.reserve_price_fen if over else None,
                    qualified=qualified,
                    audience=Audience(public=True),
                ),
                system,
            )
        )
        if Phase(auction.phase) is Phase.SOLD and auction.winner_entry_id is not None:
            entry = await AuctionEntry.get(id=auction.winner_entry_id)
            recorded.append(
                await events.record(
                    AuctionWon(
                        object_id=str(auction.id),
                        lot_id=auction.lot_id,
                        price_fen=auction.current_price_fen or 0,
                        bidder_no=entry.bidder_no,
                        audience=Audience(orgs=(entry.organisation_id,)),
                    ),
                    system,
                )
            )
    if auction.next_check_at is None and Phase(auction.phase) not in OVER:
        auction.next_check_at = auction.ends_at or auction.free_ends_at
        await auction.save()
    return recorded


def _clock_facts(auction: Auction, now: datetime) -> dict[str, Any]:
    """What the phase table's time-driven moves read of an auction."""
    return {
        "now": now,
        "starts_at": auction.starts_at,
        "reminded": auction.reminded_at is not None,
        "free_ends_at": auction.free_ends_at,
        "ends_at": auction.ends_at,
        "price_fen": auction.current_price_fen,
        "reserve_fen": auction.reserve_price_fen,
        "descending": auction.descending,
    }


async def _fire(auction: Auction, now: datetime) -> None:
    locked = await lock(Auction.filter(id=auction.id)).get()
    await advance(locked, now)
    auction.next_check_at = locked.next_check_at


# ---------------------------------------------------------------- bidding


# what a bid changes on the auction row (advance() saves its own changes)
BID_FIELDS = (
    "seq",
    "current_price_fen",
    "leading_entry_id",
    "leading_bidder_no",
    "ends_at",
    "next_check_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class Placed:
    bid: AuctionBid
    event: OutboxEvent  # the public bid event, for live delivery right after the commit


def _yuan(fen: int) -> str:
    return Money(fen).yuan_text()


def _too_low(cls: type[BidTooLow], auction: Auction, min_next: int) -> BidTooLow:
    return _too_low_at(cls, auction.current_price_fen or 0, min_next, auction.seq)


def _too_high_at(cls: type[BidTooHigh], current: int, max_next: int, seq: int) -> BidTooHigh:
    return cls(
        current_price_fen=current,
        max_next_fen=max_next,
        seq=seq,
        current_text=_yuan(current),
        max_next_text=_yuan(max_next),
    )


def next_limit(auction: Auction) -> int:
    """The bid nearest the current price accepted next: the starting price first, then the current price plus one
    increment (reverse auction: less one decrement)."""
    if auction.current_price_fen is None:
        return int(auction.starting_price_fen)
    step = -auction.increment_fen if auction.descending else auction.increment_fen
    return int(auction.current_price_fen + step)


def _judge_amount(auction: Auction, amount_fen: int) -> None:
    """Raises unless the amount is on the auction's grid, beyond the current price in the auction's direction (and,
    in a reverse auction, not above the sealed ceiling)."""
    base = auction.current_price_fen if auction.current_price_fen is not None else auction.starting_price_fen
    limit = next_limit(auction)
    current = auction.current_price_fen or 0
    if auction.descending:
        if amount_fen > limit:
            raise _too_high_at(BidTooHigh, current, limit, auction.seq)
        if (base - amount_fen) % auction.increment_fen:
            raise _too_high_at(BidNotOnDecrement, current, limit, auction.seq)
        if amount_fen > auction.reserve_price_fen:
            raise BidAboveCeiling()
        return
    if amount_fen < limit:
        raise _too_low(BidTooLow, auction, limit)
    if (amount_fen - base) % auction.increment_fen:
        raise _too_low(BidNotOnIncrement, auction, limit)


def _too_low_at(cls: type[BidTooLow], current: int, min_next: int, seq: int) -> BidTooLow:
    return cls(
        current_price_fen=current,
        min_next_fen=min_next,
        seq=seq,
        current_text=_yuan(current),
        min_next_text=_yuan(min_next),
    )


@raises(
    AuctionNotLive,
    NotQualified,
    BidTooLow,
    BidNotOnIncrement,
    BidTooHigh,
    BidNotOnDecrement,
    BidAboveCeiling,
    AlreadyLeading,
    TwoFactorRequired,
    *SIGNATURE_ERRORS,
)
@use_case("auction.bid", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def place_bid(
    actor: Actor, lot_id: int, amount_fen: int, idempotency_key: str | None = None, signed: Signed | None = None
) -> Placed:
    """Accepts the bid iff the auction is live, the caller qualified (signed in with two factors and
    signing the bid when the lot requires it), and the amount is the current price plus whole
    increments (reverse auction: less whole decrements, at most the sealed ceiling); returns it with its
    sequence number and the new end."""
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()
    if not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_PRICE_FEN:
        raise InvalidInput(field="amountFen")
    if signed is None and FAST_PATH and using_postgres() and (idempotency_key is None or _key_fits(idempotency_key)):
        placed = await _place_in_one_statement(actor, lot_id, amount_fen, idempotency_key)
        if placed is not None:
            return placed
    verified: Verified | None = None
    if signed is not None:
        # checked before the row lock: certificate path validation must not hold up other bidders
        lot = await Lot.get_or_none(id=lot_id)
        if lot is None or lot.status == LotStatus.DRAFT.value:
            raise NotFound()
        verified = await signatures.check(actor, acts.auction_bid(lot.trade_code, amount_fen), signed, required=False)
    made: list[Placed] = []
    facts: list[network.Key | None] = []

    async def bid() -> dict[str, Any]:
        auction = await lock(Auction.filter(lot_id=lot_id)).first()
        if auction is None:
            raise NotFound()
        now = clock.now()  # taken under the lock: bids are judged in the order they got it
        _known_scope(lot_id, auction.id, auction.created_at)
        await advance(auction, now)
        phase = TABLE.fire(auction.phase, "bid_in_countdown" if auction.phase == Phase.TIMED else "bid")
        _check_bidder(auction, actor, verified)
        # the caller's entry and the leader's (to tell it it was outbid) in one round trip
        entries = await AuctionEntry.filter(
            Q(organisation_id=actor.org_id) | Q(id=auction.leading_entry_id or 0), auction_id=auction.id
        )
        entry = next((e for e in entries if e.organisation_id == actor.org_id), None)
        if entry is None:
            raise NotQualified()
        if auction.leading_entry_id == entry.id:
            raise AlreadyLeading()
        _judge_amount(auction, amount_fen)
        previous = auction.leading_entry_id
        auction.seq += 1
        auction.current_price_fen = amount_fen
        auction.leading_entry_id = entry.id
        auction.leading_bidder_no = entry.bidder_no
        if phase is Phase.TIMED and auction.ends_at is not None:
            # 限时竞价: every valid bid restarts the countdown
            auction.ends_at = max(auction.ends_at, now + timedelta(seconds=auction.countdown_seconds))
            auction.next_check_at = auction.ends_at
        auction.updated_at = now
        await auction.save(update_fields=BID_FIELDS)
        placed = await AuctionBid.create(
            auction_id=auction.id,
            entry_id=entry.id,
            bidder_no=entry.bidder_no,
            seq=auction.seq,
            amount_fen=amount_fen,
            placed_at=now,
            ends_at=auction.ends_at,
            phase=phase.value,
        )
        if verified is not None:
            await signatures.record(actor, verified, "AuctionBid", placed.id, lot_id)
        # with its creation time: an id alone comes back after a database is restored or emptied
        scope = (auction.id, auction.created_at.isoformat())
        facts.append(await network.record_first(actor, lot_id, "auction.bid", scope))
        event = await events.record(
            BidPlaced(
                object_id=str(auction.id),
                lot_id=lot_id,
                seq=auction.seq,
                price_fen=amount_fen,
                bidder_no=entry.bidder_no,
                phase=phase.value,
                ends_at=auction.ends_at,
                placed_at=now,
                audience=Audience(public=True),
            ),
            actor,
        )
        loser = next((e for e in entries if e.id == previous), None)
        if loser is not None and loser.id != entry.id:
            await events.record(
                Outbid(
                    object_id=str(auction.id),
                    lot_id=lot_id,
                    seq=auction.seq,
                    price_fen=amount_fen,
                    audience=Audience(orgs=(loser.organisation_id,), roles=()),
                ),
                actor,
            )
        made.append(Placed(bid=placed, event=event))
        return {"bid_id": placed.id, "event_id": event.id}

    request: dict[str, Any] = {"lot": lot_id, "amount": amount_fen}
    if verified is not None:
        request["signature"] = verified.signature

    async def refused(error: DomainError) -> None:
        # the audit trail's failure event, in the transaction that refused the bid (use_case's fields)
        await events.record_refusal(actor, "auction.bid", "Lot", str(lot_id), error)

    result, replayed = await run_once(actor, idempotency_key, "auction.bid", request, bid, refused)
    if facts and not replayed:
        network.kept(facts[-1])  # the attempt that committed
    if made and not replayed:
        return made[-1]  # saves two reads on the hot path; a replay reads what the first request stored
    return Placed(bid=await AuctionBid.get(id=result["bid_id"]), event=await OutboxEvent.get(id=result["event_id"]))


# ---------------------------------------------------------------- bidding in one statement (PostgreSQL)

# PostgreSQL judges and records the common bid in one statement (migration 0024's auction_bid_place), so the
# auction's row lock is held for one round trip; tests turn it off to run the Python path on the same database
FAST_PATH = True

ONE_STATEMENT = "SELECT * FROM auction_bid_place(" + ", ".join(f"${n}" for n in range(1, 25)) + ")"

# what the statement answers when it refuses: the error, built from the figures it returns
_REFUSALS: dict[str, type[DomainError]] = {
    NotFound.code: NotFound,
    AuctionNotLive.code: AuctionNotLive,
    TwoFactorRequired.code: TwoFactorRequired,
    SignatureRequired.code: SignatureRequired,
    NotQualified.code: NotQualified,
    AlreadyLeading.code: AlreadyLeading,
    BidTooLow.code: BidTooLow,
    BidNotOnIncrement.code: BidNotOnIncrement,
    BidTooHigh.code: BidTooHigh,
    BidNotOnDecrement.code: BidNotOnDecrement,
    BidAboveCeiling.code: BidAboveCeiling,
}

# lot -> (auction id, created_at) this process has seen: the scope of a bidder's network fact (network.record_first)
_scopes: OrderedDict[int, tuple[int, datetime]] = OrderedDict()
SCOPES_MAX = 10_000


def _known_scope(lot_id: int, auction_id: int, created_at: datetime) -> None:
    _scopes[lot_id] = (auction_id, created_at)
    _scopes.move_to_end(lot_id)
    while len(_scopes) > SCOPES_MAX:
        _scopes.popitem(last=False)


def _key_fits(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH


def _clock_moves() -> bool:
    """Whether the installed clock runs by itself (the system clock), so the time waited for the lock counts."""
    return isinstance(clock._clock, clock.SystemClock)


def _fact_of(actor: Actor, lot_id: int) -> tuple[bool | None, tuple[int, datetime] | None, network.Key | None]:
    """Whether the bid keeps a network fact (None: this process cannot tell, not knowing the lot's auction), the
    auction scope that answer holds for, and the key to remember once committed; as network.record_first decides."""
    if actor.org_id is None or (actor.ip is None and not actor.device_id):
        return False, None, None
    scope = _scopes.get(lot_id)
    if scope is None:
        return None, None, None
    key = ("auction.bid", scope[0], scope[1].isoformat(), actor.org_id, actor.ip, actor.device_id)
    if key in network._seen:
        return False, scope, None
    return True, scope, key


async def _place_in_one_statement(actor: Actor, lot_id: int, amount_fen: int, key: str | None) -> Placed | None:
    """The bid judged and recorded by auction_bid_place in one statement; None when the bid needs the Python path (a
    phase change due, a key seen before, a network fact this process cannot decide on yet). A refusal is raised with
    its failure event already written by the same statement."""
    fact, scope, fact_key = _fact_of(actor, lot_id)
    if fact is None:
        return None  # the Python path learns the lot's auction (this process's first bid on it from a phone)
    now = clock.now()
    bid_event, outbid_event, failure_event = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    request_hash = (
        events.digest({"operation": "auction.bid", "request": {"lot": lot_id, "amount": amount_fen}}) if key else None
    )
    public = Audience(public=True).as_json()
    rows = await connections.get("default").execute_query_dict(
        ONE_STATEMENT,
        [
            lot_id,
            amount_fen,
            now,
            _clock_moves(),
            REMIND_BEFORE,
            actor.org_id,
            actor.user_id,
            actor.label,
            actor.ip,
            actor.two_factor,
            scope[0] if scope else None,
            scope[1] if scope else None,
            fact,
            (actor.ip or None) and actor.ip[:64],
            (actor.device_id or None) and actor.device_id[: network.MAX_DEVICE_ID],
            actor.key() if key else None,
            key,
            request_hash,
            KEY_LIFETIME,
            bid_event,
            outbid_event,
            failure_event,
            json.dumps(public),
            json.dumps(Audience().as_json()),
        ],
    )
    row = rows[0]
    if row["auction_pk"] is not None:
        _known_scope(lot_id, row["auction_pk"], row["auction_created"])
    verdict = row["verdict"]
    if verdict == "full":
        return None
    if verdict == "refused":
        raise events.refusal_recorded(_refusal(row))
    network.kept(fact_key)
    bid = AuctionBid(
        id=row["bid_pk"],
        auction_id=row["auction_pk"],
        entry_id=row["bid_entry"],
        bidder_no=row["bid_bidder_no"],
        seq=row["auction_seq"],
        amount_fen=amount_fen,
        placed_at=row["judged_at"],
        ends_at=row["new_ends_at"],
        phase=row["auction_phase"],
    )
    placed = BidPlaced(
        object_id=str(row["auction_pk"]),
        lot_id=lot_id,
        seq=row["auction_seq"],
        price_fen=amount_fen,
        bidder_no=row["bid_bidder_no"],
        phase=row["auction_phase"],
        ends_at=row["new_ends_at"],
        placed_at=row["judged_at"],
        audience=Audience(public=True),
    )
    event = OutboxEvent(
        id=row["event_pk"],
        event_id=bid_event,
        type=placed.type,
        object_type=placed.object_type,
        object_id=placed.object_id,
        outcome="success",
        actor_user_id=actor.user_id,
        actor_org_id=actor.org_id,
        actor_label=actor.label,
        actor_ip=actor.ip,
        payload=placed.payload(),
        audience=public,
        occurred_at=row["judged_at"],
        attempts=0,
    )
    return Placed(bid=bid, event=event)


def _refusal(row: dict[str, Any]) -> DomainError:
    cls = _REFUSALS[row["refusal"]]
    if issubclass(cls, BidTooLow):
        return _too_low_at(cls, row["price_now"], row["min_next"], row["auction_seq"])
    if issubclass(cls, BidTooHigh):
        return _too_high_at(cls, row["price_now"], row["min_next"], row["auction_seq"])
    if cls is AuctionNotLive:
        return AuctionNotLive(phase=row["auction_phase"])
    return cls()


# ---------------------------------------------------------------- the result

SaleAward = Callable[[Lot, int, int, str], Awaitable[object]]
_sale_awards: list[SaleAward] = []


def plug_sale(fn: SaleAward) -> None:
    """Adds what a sale's result does next, fn(lot, winner organisation id, price in fen, confirmation number): the
    results area's award of the lot (domain/wiring), which sits above this one. Plugging twice keeps one."""
    if fn not in _sale_awards:
        _sale_awards.append(fn)


async def award_sale(lot: Lot, organisation_id: int, price_fen: int, confirmation_no: str) -> None:
    """In the result's transaction: a sold auction's or listing's winner is awarded the lot by what is plugged."""
    for fn in list(_sale_awards):
        await fn(lot, organisation_id, price_fen, confirmation_no)


async def publish_result(lot_id: int) -> bool:
    """Publishes the auction's outcome once it is over (idempotent): a result announcement naming the
    winner, the price and the confirmation number (成交确认书), which awards the lot; or, when it
    failed (流拍), a termination announcement. True when it published one now."""
    from domain.publication.announcements import announce
    from domain.publication.models import Announcement

    auction = await Auction.get_or_none(lot_id=lot_id)
    if auction is None or auction.phase not in (Phase.SOLD.value, Phase.FAILED.value):
        return False
    lot = await Lot.get(id=lot_id)
    kind = "result" if auction.phase == Phase.SOLD.value else "termination"
    if await Announcement.exists(lot_id=lot_id, type=kind, status="published"):
        return False
    system = Actor(client_id="system", roles=frozenset({Role.OPERATOR}))
    when = clock.to_shanghai(auction.closed_at or clock.now()).strftime("%Y年%m月%d日 %H:%M:%S")
    what = "反向竞价" if auction.descending else "挂牌转网络竞价" if auction.from_listing else "网络竞价"
    reserve = Money(auction.reserve_price_fen).yuan_text()
    if kind == "result":
        winner = await winner_of(auction)
        price = Money(auction.current_price_fen or 0).yuan_text()
        title = f"{lot.name}{what}成交结果公告"
        party, limit = ("成交供应商", "最高限价") if auction.descending else ("竞得人", "保留价")
        body = (
            f"<p>{lot.name}（交易标识码 {lot.trade_code}）{what}于{when}结束。</p>"
            f"<p>{party}：{winner.name if winner else ''}；成交价：人民币 {price} 元；"
            f"{limit}：人民币 {reserve} 元。</p>"
            f"<p>成交确认书编号：{auction.confirmation_no}。</p>"
        )
    else:
        title = f"{lot.name}{what}{'失败' if auction.descending else '流拍'}公告"
        missed = "无有效报价" if auction.descending else "无有效出价达到保留价"
        body = (
            f"<p>{lot.name}（交易标识码 {lot.trade_code}）{what}于{when}结束，"
            f"{missed}，本次竞价{'失败' if auction.descending else '流拍'}。</p>"
        )
    await announce(system, lot, kind, title, body)
    if kind == "result":
        from domain.deposits import services as deposits

        winner_org = winner.id if winner else None
        if winner is not None:  # the contract follows as a tender's: drafted, signed by both, recorded
            number = auction.confirmation_no or f"CJ{lot.trade_code}"
            await award_sale(lot, winner.id, auction.current_price_fen or 0, number)
        await deposits.refund_all_but(lot_id, winner_org)  # the others get their deposits back now
    return True


# ---------------------------------------------------------------- reading


async def auction_of(lot_id: int) -> Auction:
    auction = await Auction.get_or_none(lot_id=lot_id)
    if auction is None:
        raise NotFound()
    return auction


async def bids_after(lot_id: int, seq: int, limit: int = 500) -> list[AuctionBid]:
    """Accepted bids after a sequence number, in order: how a reconnecting client re-syncs."""
    auction = await auction_of(lot_id)
    if seq < 0:
        raise InvalidInput(field="afterSeq")
    return await AuctionBid.filter(auction_id=auction.id, seq__gt=seq).order_by("seq").limit(min(limit, 500))


async def entry_of(actor: Actor, lot_id: int) -> AuctionEntry | None:
    """The caller organisation's entry (its bidder number), if it qualified."""
    auction = await auction_of(lot_id)
    if actor.org_id is None:
        return None
    return await AuctionEntry.get_or_none(auction_id=auction.id, organisation_id=actor.org_id)


async def winner_of(auction: Auction) -> Organisation | None:
    """The winning organisation, public once the auction is over."""
    if auction.phase != Phase.SOLD.value or auction.winner_entry_id is None:
        return None
    entry = await AuctionEntry.get(id=auction.winner_entry_id)
    return await Organisation.get(id=entry.organisation_id)


def reserve_shown(auction: Auction) -> int | None:
    """The reserve price: hidden from every role until the auction is over."""
    return auction.reserve_price_fen if auction.phase in (Phase.SOLD.value, Phase.FAILED.value) else None
