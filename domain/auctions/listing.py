"""Listing (挂牌) for land, property and environmental rights, and its turn into an online auction (挂牌转竞价).

A lot whose procedure is listing is configured while a draft: the listing price (挂牌起始价), the increment
(增价幅度), a reserve (底价) no role reads before the end, when the listing period starts (it ends at the lot's bid
deadline), and the rules of the auction it may turn into. A registrant whose deposit or guarantee is in place offers
(报价) during the listing period: the first offer the listing price plus whole increments, every later one the
current price plus whole increments; each accepted offer updates the listed price
(招标拍卖挂牌出让国有建设用地使用权规定, 国土资源部令第39号, 第十七条). Offerers are known to others by a bidder
number kept for the whole listing.

At the end of the period the chronograph decides (第十九条): one offerer at or above the reserve buys at its offer
(挂牌成交), announced as the lot's result; two or more go on to an online auction (this repository's auction, in
place of 现场竞价) whose bidders are exactly the offerers, with their bidder numbers, and whose highest offer leads
from the start: if nobody bids, its offerer wins at it, as 第十九条（二） says; no offer, or a lone offer under
the reserve, fails the listing (挂牌不成交), announced as a termination. The listing period is at least
min_submission_days (10) days (第十八条: 挂牌时间不得少于10日).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.accounts.models import Organisation
from domain.auctions import services as auctions
from domain.auctions.models import Auction, AuctionEntry, Listing, ListingOffer
from domain.auctions.services import (
    MAX_FREE_MINUTES,
    MAX_PRICE_FEN,
    REMIND_BEFORE,
    AlreadyLeading,
    AuctionConfigured,
    BidNotOnIncrement,
    BidTooLow,
    NotQualified,
)
from domain.auctions.states import LISTING, ListingNotOpen, ListingStatus, Phase
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.money import Money
from domain.common.queries import column
from domain.common.storage import lock
from domain.publication.models import Lot
from domain.publication.procedures import ConfigOutOfBounds, Procedure, bounds
from domain.publication.projects import managed_project
from domain.publication.states import LotStatus
from domain.registration import services as registration

MAX_GAP_MINUTES = 7 * 24 * 60
DEFAULT_GAP_MINUTES = 30
DEFAULT_FREE_MINUTES = 30
ENDED = frozenset({ListingStatus.SOLD, ListingStatus.AUCTION, ListingStatus.FAILED})
OFFER_FIELDS = ("seq", "current_price_fen", "leading_offer_id", "leading_bidder_no", "updated_at")
SYSTEM_ACTOR = Actor(client_id="system", roles=frozenset({Role.OPERATOR}))


class ListingNotConfigurable(DomainError):
    code = "LISTING_NOT_CONFIGURABLE"
    message_zh = "只有草稿状态的挂牌标的可以设置挂牌规则"
    message_en = "Only a draft lot sold by listing can be given listing rules"


@dataclass(frozen=True, kw_only=True)
class ListingConfigured(DomainEvent):
    type = "listing.configured"
    object_type = "Listing"
    lot_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class ListingOfferPlaced(DomainEvent):
    """Public: the new listed price, the bidder number and the sequence; never who offered."""

    type = "listing.offer_placed"
    object_type = "Listing"
    lot_id: int
    seq: int
    price_fen: int
    bidder_no: str
    placed_at: datetime


@dataclass(frozen=True, kw_only=True)
class ListingOutbid(DomainEvent):
    """To the organisation whose offer led until now."""

    type = "listing.outbid"
    object_type = "Listing"
    lot_id: int
    seq: int
    price_fen: int


@dataclass(frozen=True, kw_only=True)
class ListingEnded(DomainEvent):
    """Public: how the listing ended (sold, auction, failed), its price and leading bidder number, the reserve, and
    when the auction starts when it turned into one."""

    type = "listing.ended"
    object_type = "Listing"
    lot_id: int
    status: str
    price_fen: int | None
    leading_bidder_no: str | None
    offerers: int
    reserve_price_fen: int
    auction_starts_at: datetime | None = None


# ---------------------------------------------------------------- configuration


@raises(ListingNotConfigurable, ConfigOutOfBounds)
@use_case("listing.configure", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def configure_listing(
    actor: Actor,
    lot_id: int,
    *,
    listing_price_fen: int,
    increment_fen: int,
    reserve_price_fen: int,
    starts_at: datetime,
    auction_free_minutes: int = DEFAULT_FREE_MINUTES,
    auction_countdown_seconds: int | None = None,
    auction_gap_minutes: int = DEFAULT_GAP_MINUTES,
    idempotency_key: str | None = None,
) -> Listing:
    """Sets (or changes) the listing rules of a draft listing lot the actor manages; the period ends at the lot's bid
    deadline and lasts at least min_submission_days days."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    await managed_project(actor, lot.project_id)
    if lot.procedure != Procedure.LISTING.value or lot.status != LotStatus.DRAFT.value:
        raise ListingNotConfigurable()
    for name, value in (("listingPriceFen", listing_price_fen), ("incrementFen", increment_fen)):
        if not 0 < value <= MAX_PRICE_FEN:
            raise InvalidInput(field=name)
    if not listing_price_fen <= reserve_price_fen <= MAX_PRICE_FEN:
        raise InvalidInput(field="reservePriceFen")
    if not 1 <= auction_free_minutes <= MAX_FREE_MINUTES:
        raise InvalidInput(field="auctionFreeMinutes")
    if not 0 <= auction_gap_minutes <= MAX_GAP_MINUTES:
        raise InvalidInput(field="auctionGapMinutes")
    countdown = (
        auction_countdown_seconds
        if auction_countdown_seconds is not None
        else int(lot.config["auction_countdown_seconds"])
    )
    limit = bounds(Procedure.LISTING)["auction_countdown_seconds"]
    if not limit.low <= countdown <= limit.high:
        raise InvalidInput(field="auctionCountdownSeconds")
    if starts_at.tzinfo is None:
        raise InvalidInput(field="startsAt")
    ends_at = registration.bid_deadline(lot)
    if ends_at is None:
        raise InvalidInput(field="bidDeadline")
    days = int(lot.config["min_submission_days"])
    # 招标拍卖挂牌出让国有建设用地使用权规定 第十八条: 挂牌时间不得少于10日 (the lot's min_submission_days, >= 10)
    if ends_at - starts_at < timedelta(days=days):
        raise ConfigOutOfBounds("startsAt", f"{days} days before the bid deadline", "-")
    values: dict[str, Any] = {
        "listing_price_fen": listing_price_fen,
        "increment_fen": increment_fen,
        "reserve_price_fen": reserve_price_fen,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "auction_gap_minutes": auction_gap_minutes,
        "auction_free_minutes": auction_free_minutes,
        "auction_countdown_seconds": countdown,
        "status": ListingStatus.SCHEDULED.value,
        "next_check_at": starts_at,
    }
    request = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()} | {"lot": lot_id}

    async def save() -> dict[str, Any]:
        now = clock.now()
        listing = await lock(Listing.filter(lot_id=lot_id)).first()
        if listing is None:
            LISTING.fire(None, "schedule")
            listing = await Listing.create(lot_id=lot_id, created_at=now, updated_at=now, **values)
        else:
            listing.update_from_dict({**values, "updated_at": now})
            await listing.save()
        await events.record(
            ListingConfigured(
                object_id=str(listing.id), lot_id=lot_id, starts_at=starts_at, ends_at=ends_at, audience=Audience()
            ),
            actor,
        )
        return {"id": listing.id}

    result, _ = await run_once(actor, idempotency_key, "listing.configure", request, save)
    return await Listing.get(id=result["id"])


# ---------------------------------------------------------------- offers


def next_offer_fen(listing: Listing) -> int:
    """The lowest offer accepted next: the listing price, then the current price plus one increment."""
    if listing.current_price_fen is None:
        return int(listing.listing_price_fen)
    return int(listing.current_price_fen + listing.increment_fen)


@raises(ListingNotOpen, NotQualified, BidTooLow, BidNotOnIncrement, AlreadyLeading)
@use_case("listing.offer", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def place_offer(actor: Actor, lot_id: int, amount_fen: int, idempotency_key: str | None = None) -> ListingOffer:
    """Accepts the offer iff the listing period runs, the caller's registration stands with its security in place,
    it does not lead already, and the amount is the listed price (the listing price before the first offer) plus
    whole increments."""
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()
    if not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_PRICE_FEN:
        raise InvalidInput(field="amountFen")
    org_id = actor.org_id

    async def offer() -> dict[str, Any]:
        listing = await lock(Listing.filter(lot_id=lot_id)).first()
        if listing is None:
            raise NotFound()
        now = clock.now()  # under the lock: offers are judged in the order they got it
        await advance(listing, now)
        LISTING.fire(
            listing.status,
            "offer",
            now=now,
            starts_at=listing.starts_at,
            ends_at=listing.ends_at,
            status=listing.status,
        )
        reg = await registration.active(lot_id, org_id)
        if reg is None or not await registration.security_in_place(lot_id, org_id, now):
            raise NotQualified()
        leader = await ListingOffer.get_or_none(id=listing.leading_offer_id) if listing.leading_offer_id else None
        if leader is not None and leader.organisation_id == org_id:
            raise AlreadyLeading()
        base = listing.current_price_fen if listing.current_price_fen is not None else listing.listing_price_fen
        min_next = next_offer_fen(listing)
        current = listing.current_price_fen or 0
        if amount_fen < min_next:
            raise auctions._too_low_at(BidTooLow, current, min_next, listing.seq)
        if (amount_fen - base) % listing.increment_fen:
            raise auctions._too_low_at(BidNotOnIncrement, current, min_next, listing.seq)
        mine = await ListingOffer.filter(listing_id=listing.id, organisation_id=org_id).first()
        if mine is not None:
            number = mine.bidder_no
        else:
            taken = await column(ListingOffer.filter(listing_id=listing.id).values_list("bidder_no", flat=True), str)
            number = auctions._bidder_number(set(taken))
        listing.seq += 1
        placed = await ListingOffer.create(
            listing_id=listing.id,
            organisation_id=org_id,
            registration_id=reg.id,
            bidder_no=number,
            seq=listing.seq,
            amount_fen=amount_fen,
            placed_at=now,
        )
        listing.current_price_fen = amount_fen
        listing.leading_offer_id = placed.id
        listing.leading_bidder_no = number
        listing.updated_at = now
        await listing.save(
            update_fields=("seq", "current_price_fen", "leading_offer_id", "leading_bidder_no", "updated_at")
        )
        await events.record(
            ListingOfferPlaced(
                object_id=str(listing.id),
                lot_id=lot_id,
                seq=listing.seq,
                price_fen=amount_fen,
                bidder_no=number,
                placed_at=now,
                audience=Audience(public=True),
            ),
            actor,
        )
        if leader is not None:
            await events.record(
                ListingOutbid(
                    object_id=str(listing.id),
                    lot_id=lot_id,
                    seq=listing.seq,
                    price_fen=amount_fen,
                    audience=Audience(orgs=(leader.organisation_id,), roles=()),
                ),
                actor,
            )
        return {"offer_id": placed.id}

    async def refused(error: DomainError) -> None:
        await events.record_refusal(actor, "listing.offer", "Lot", str(lot_id), error)

    result, _ = await run_once(
        actor, idempotency_key, "listing.offer", {"lot": lot_id, "amount": amount_fen}, offer, refused
    )
    return await ListingOffer.get(id=result["offer_id"])


# ---------------------------------------------------------------- the clock of a listing


async def _offerers(listing: Listing) -> int:
    orgs = await column(ListingOffer.filter(listing_id=listing.id).values_list("organisation_id", flat=True), int)
    return len(set(orgs))


async def advance(listing: Listing, now: datetime) -> None:
    """Applies every status change due at `now` to a locked listing and saves it: opened at starts_at, then at
    ends_at sold to a lone offerer, turned into an auction with the offerers, or failed."""
    while True:
        offerers = await _offerers(listing) if listing.status == ListingStatus.OPEN.value else 0
        facts = {
            "now": now,
            "starts_at": listing.starts_at,
            "ends_at": listing.ends_at,
            "offerers": offerers,
            "price_fen": listing.current_price_fen,
            "reserve_fen": listing.reserve_price_fen,
            "status": listing.status,
        }
        step = LISTING.due(listing.status, **facts)
        if step is None:
            if ListingStatus(listing.status) in ENDED:
                listing.next_check_at = None
                await listing.save(update_fields=("next_check_at",))
            return
        listing.status = LISTING.fire(listing.status, step.name, by=SYSTEM_ACTOR, **facts).value
        listing.updated_at = now
        if step.name == "open":
            listing.next_check_at = listing.ends_at
            await listing.save()
            continue
        listing.closed_at, listing.next_check_at = listing.ends_at, None
        auction_starts: datetime | None = None
        if step.name == "sell":
            lot = await Lot.get(id=listing.lot_id)
            leader = await ListingOffer.get(id=listing.leading_offer_id)
            listing.winner_organisation_id = leader.organisation_id
            listing.confirmation_no = f"CJ{lot.trade_code}"
        elif step.name == "turn_to_auction":
            auction = await _turn_into_auction(listing, now)
            listing.auction_id = auction.id
            auction_starts = auction.starts_at
        await listing.save()
        await events.record(
            ListingEnded(
                object_id=str(listing.id),
                lot_id=listing.lot_id,
                status=listing.status,
                price_fen=listing.current_price_fen,
                leading_bidder_no=listing.leading_bidder_no,
                offerers=offerers,
                reserve_price_fen=listing.reserve_price_fen,
                auction_starts_at=auction_starts,
                audience=Audience(public=True),
            ),
            SYSTEM_ACTOR,
        )
        return


async def _turn_into_auction(listing: Listing, now: datetime) -> Auction:
    """挂牌转竞价: an auction of the lot whose entries are the offerers with their bidder numbers, starting from the
    highest offer, which leads (seq 0: no bid of the auction yet)."""
    starts_at = listing.ends_at + timedelta(minutes=listing.auction_gap_minutes)
    price = listing.current_price_fen
    auction = await Auction.create(
        lot_id=listing.lot_id,
        starting_price_fen=price,
        increment_fen=listing.increment_fen,
        reserve_price_fen=listing.reserve_price_fen,
        starts_at=starts_at,
        free_ends_at=starts_at + timedelta(minutes=listing.auction_free_minutes),
        countdown_seconds=listing.auction_countdown_seconds,
        entry_deadline=listing.ends_at,
        phase=Phase.SCHEDULED.value,
        current_price_fen=price,
        from_listing=True,
        next_check_at=max(starts_at - REMIND_BEFORE, now),
        created_at=now,
        updated_at=now,
    )
    firsts: dict[int, ListingOffer] = {}
    for o in await ListingOffer.filter(listing_id=listing.id).order_by("seq"):
        firsts.setdefault(o.organisation_id, o)
    leading = None
    for org_id, o in firsts.items():
        entry = await AuctionEntry.create(
            auction_id=auction.id,
            organisation_id=org_id,
            registration_id=o.registration_id,
            bidder_no=o.bidder_no,
            qualified_at=now,
        )
        if o.bidder_no == listing.leading_bidder_no:
            leading = entry
    assert leading is not None
    auction.leading_entry_id, auction.leading_bidder_no = leading.id, leading.bidder_no
    await auction.save(update_fields=("leading_entry_id", "leading_bidder_no"))
    await events.record(
        AuctionConfigured(object_id=str(auction.id), lot_id=listing.lot_id, starts_at=starts_at, audience=Audience()),
        SYSTEM_ACTOR,
    )
    return auction


async def _fire(listing: Listing, now: datetime) -> None:
    locked = await lock(Listing.filter(id=listing.id)).get()
    await advance(locked, now)
    listing.next_check_at = locked.next_check_at


# ---------------------------------------------------------------- the result


async def publish_result(lot_id: int) -> bool:
    """Publishes a listing's outcome once it is sold or failed (idempotent): a result announcement naming the buyer,
    the price and the confirmation number, which awards the lot, and refunds the others' deposits; or a termination
    (挂牌不成交). A listing turned into an auction is announced by the auction's end. True when it published now."""
    from domain.deposits import services as deposits
    from domain.publication.announcements import announce
    from domain.publication.models import Announcement

    listing = await Listing.get_or_none(lot_id=lot_id)
    if listing is None or listing.status not in (ListingStatus.SOLD.value, ListingStatus.FAILED.value):
        return False
    lot = await Lot.get(id=lot_id)
    kind = "result" if listing.status == ListingStatus.SOLD.value else "termination"
    if await Announcement.exists(lot_id=lot_id, type=kind, status="published"):
        return False
    when = clock.to_shanghai(listing.closed_at or clock.now()).strftime("%Y年%m月%d日 %H:%M:%S")
    if kind == "result":
        winner = await winner_of(listing)
        title = f"{lot.name}挂牌出让成交结果公告"
        body = (
            f"<p>{lot.name}（交易标识码 {lot.trade_code}）挂牌期限于{when}届满，挂牌期内仅一名竞买人报价且不低于底价，"
            "挂牌成交。</p>"
            f"<p>竞得人：{winner.name if winner else ''}；"
            f"成交价：人民币 {Money(listing.current_price_fen or 0).yuan_text()} 元；"
            f"底价：人民币 {Money(listing.reserve_price_fen).yuan_text()} 元。</p>"
            f"<p>成交确认书编号：{listing.confirmation_no}。</p>"
        )
    else:
        title = f"{lot.name}挂牌出让不成交公告"
        body = (
            f"<p>{lot.name}（交易标识码 {lot.trade_code}）挂牌期限于{when}届满，"
            "挂牌期内无人报价或报价低于底价，挂牌不成交。</p>"
        )
    await announce(SYSTEM_ACTOR, lot, kind, title, body)
    if kind == "result":
        if listing.winner_organisation_id is not None:  # 成交确认书, then the contract signed by both parties
            number = listing.confirmation_no or f"CJ{lot.trade_code}"
            await auctions.award_sale(lot, listing.winner_organisation_id, listing.current_price_fen or 0, number)
        await deposits.refund_all_but(lot_id, listing.winner_organisation_id)
    return True


# ---------------------------------------------------------------- reading


async def listing_of(lot_id: int) -> Listing:
    listing = await Listing.get_or_none(lot_id=lot_id)
    if listing is None:
        raise NotFound()
    return listing


async def offers_after(lot_id: int, seq: int, limit: int = 500) -> list[ListingOffer]:
    """Accepted offers after a sequence number, in order."""
    listing = await listing_of(lot_id)
    if seq < 0:
        raise InvalidInput(field="afterSeq")
    return await ListingOffer.filter(listing_id=listing.id, seq__gt=seq).order_by("seq").limit(min(limit, 500))


async def my_bidder_no(actor: Actor, lot_id: int) -> str | None:
    """The caller organisation's bidder number in the listing, once it offered."""
    listing = await listing_of(lot_id)
    if actor.org_id is None:
        return None
    mine = await ListingOffer.filter(listing_id=listing.id, organisation_id=actor.org_id).first()
    return mine.bidder_no if mine else None


async def winner_of(listing: Listing) -> Organisation | None:
    """The buying organisation, public once sold (a listing turned into an auction: the auction's winner)."""
    if listing.status != ListingStatus.SOLD.value or listing.winner_organisation_id is None:
        return None
    return await Organisation.get(id=listing.winner_organisation_id)


def reserve_shown(listing: Listing) -> int | None:
    """The reserve (底价): hidden from every role until the listing ended."""
    return listing.reserve_price_fen if ListingStatus(listing.status) in ENDED else None
