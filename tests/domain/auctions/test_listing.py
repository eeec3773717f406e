"""A listing (挂牌): its table, the offers' rules, and what its end makes of the offers (39号令 第十七至十九条)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.auctions import listing, services
from domain.auctions.models import Auction, AuctionEntry, Listing
from domain.auctions.states import LISTING, ListingNotOpen
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError
from domain.common.models import OutboxEvent
from domain.publication.models import Lot, Project
from domain.registration.models import Registration
from tests.domain.factories import organisation

PRICE = 10_000_000
STEP = 100_000
RESERVE = 10_500_000
STARTS = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
ENDS = STARTS + timedelta(days=10)


def facts(now: datetime, **over: Any) -> dict[str, Any]:
    base = {"now": now, "starts_at": STARTS, "ends_at": ENDS, "offerers": 0, "price_fen": None}
    return base | {"reserve_fen": RESERVE, "status": "open"} | over


def due(status: str, now: datetime, **over: Any) -> str | None:
    step = LISTING.due(status, **facts(now, **over))
    return None if step is None else step.name


def test_the_listing_opens_at_its_start_and_its_end_sells_turns_into_an_auction_or_fails() -> None:
    # when / then
    assert LISTING.problems() == []
    assert due("scheduled", STARTS - timedelta(seconds=1)) is None
    assert due("scheduled", STARTS) == "open"
    assert due("open", ENDS - timedelta(seconds=1), offerers=2, price_fen=RESERVE) is None
    assert due("open", ENDS, offerers=1, price_fen=RESERVE) == "sell"  # 第十九条（一）
    assert due("open", ENDS, offerers=1, price_fen=RESERVE - STEP) == "fail"  # a lone offer under the reserve
    assert due("open", ENDS, offerers=2, price_fen=PRICE) == "turn_to_auction"  # the auction decides (the reserve too)
    assert due("open", ENDS, offerers=0) == "fail"  # 第十九条（三）
    for ended in ("sold", "auction", "failed"):
        assert due(ended, ENDS + timedelta(days=1), offerers=3, price_fen=RESERVE) is None


def test_an_offer_is_taken_only_while_the_listing_is_open() -> None:
    # when / then
    assert LISTING.fire("open", "offer", **facts(STARTS)) == "open"
    for status in ("scheduled", "sold", "auction", "failed"):
        with pytest.raises(ListingNotOpen) as refused:
            LISTING.fire(status, "offer", **facts(STARTS, status=status))
        assert (refused.value.code, refused.value.params) == ("LISTING_NOT_OPEN", {"status": status})


async def a_listing(start: datetime, registered: int) -> tuple[Lot, Listing, list[Actor]]:
    """A published listing lot without security, its listing opened at `start` for ten days, and `registered`
    registered bidders; one more bidder who did not register."""
    project = await Project.create(
        trade_code="P-L1",
        name="排污权挂牌",
        category="environmental_rights",
        region_code="370211",
        tenderer_id=1,
        created_at=start,
    )
    lot = await Lot.create(
        project=project,
        lot_no=1,
        trade_code="L-L1",
        name="化学需氧量排污权 120 吨",
        procedure="listing",
        estimated_price_fen=PRICE,
        config={"bid_deadline": (start + timedelta(days=10)).isoformat(), "min_bids": 1, "min_submission_days": 10},
        status="open",
        created_at=start,
        updated_at=start,
    )
    made = await Listing.create(
        lot=lot,
        listing_price_fen=PRICE,
        increment_fen=STEP,
        reserve_price_fen=RESERVE,
        starts_at=start,
        ends_at=start + timedelta(days=10),
        auction_gap_minutes=30,
        auction_free_minutes=30,
        auction_countdown_seconds=300,
        status="open",
        next_check_at=start + timedelta(days=10),
        created_at=start,
        updated_at=start,
    )
    actors = []
    for n in range(registered + 1):
        org = await organisation()
        if n < registered:
            await Registration.create(
                lot=lot, organisation=org, user_id=100 + n, status="registered", registered_at=start, updated_at=start
            )
        actors.append(Actor(user_id=100 + n, org_id=org.id, roles=frozenset({Role.BIDDER})))
    return lot, made, actors


async def offer(lot: Lot, actor: Actor, amount: int) -> str:
    try:
        placed = await listing.place_offer(actor, lot.id, amount)
    except DomainError as err:
        return err.code
    return f"#{placed.seq}"


async def end(made: Listing, now: datetime) -> Listing:
    await listing._fire(made, now)
    return await Listing.get(id=made.id)


async def test_offers_follow_the_listed_price_by_increments_and_refusals_are_on_the_audit_trail(db, manual_clock):
    # given a listing open since this morning, two registrants and an outsider
    lot, made, (a, b, outsider) = await a_listing(manual_clock.now() - timedelta(hours=1), registered=2)

    # when
    answers = [
        await offer(lot, outsider, PRICE),
        await offer(lot, a, PRICE - STEP),
        await offer(lot, a, PRICE),
        await offer(lot, a, PRICE + STEP),
        await offer(lot, b, PRICE + STEP + STEP // 2),
        await offer(lot, b, PRICE + 3 * STEP),
        await offer(lot, a, PRICE + 4 * STEP),
    ]

    # then
    assert answers == ["NOT_QUALIFIED", "BID_TOO_LOW", "#1", "ALREADY_LEADING", "BID_NOT_ON_INCREMENT", "#2", "#3"]
    state = await Listing.get(id=made.id)
    assert (state.seq, state.current_price_fen) == (3, PRICE + 4 * STEP)
    numbers = {o.organisation_id: o.bidder_no async for o in state.offers.all()}  # type: ignore[attr-defined]
    assert state.leading_bidder_no == numbers[a.org_id]
    assert len(set(numbers.values())) == 2  # one number per offerer, kept across its offers
    failures = await OutboxEvent.filter(type="listing.offer", outcome="failure").count()
    placed = await OutboxEvent.filter(type="listing.offer_placed").values_list("audience", flat=True)
    assert failures == 4
    assert all(audience["public"] for audience in placed)  # type: ignore[index]
    topped = await OutboxEvent.filter(type="listing.outbid").order_by("id").values_list("audience", flat=True)
    assert [audience["orgs"] for audience in topped] == [[a.org_id], [b.org_id]]  # type: ignore[index]


async def test_two_offerers_become_the_auctions_only_bidders_with_their_numbers_and_the_highest_leading(
    db, manual_clock
):
    # given two offerers and a third registrant who never offered
    start = manual_clock.now() - timedelta(days=1)
    lot, made, (a, b, silent, _) = await a_listing(start, registered=3)
    await offer(lot, a, PRICE)
    await offer(lot, b, PRICE + 2 * STEP)

    # when the period ends, and later the auction starts
    ended = await end(made, made.ends_at)
    auction = await Auction.get(lot_id=lot.id)
    entries = {e.organisation_id: e for e in await AuctionEntry.filter(auction_id=auction.id)}
    auction.next_check_at = auction.starts_at
    await services._fire(auction, auction.starts_at)
    started = await Auction.get(id=auction.id)
    late = await offer(lot, a, PRICE + 3 * STEP)

    # then
    assert (ended.status, ended.auction_id, ended.next_check_at) == ("auction", auction.id, None)
    assert auction.from_listing
    assert (auction.starting_price_fen, auction.current_price_fen, auction.seq) == (
        PRICE + 2 * STEP,
        PRICE + 2 * STEP,
        0,
    )
    assert auction.starts_at == made.ends_at + timedelta(minutes=30)
    assert auction.reserve_price_fen == RESERVE
    assert set(entries) == {a.org_id, b.org_id}
    assert auction.leading_entry_id == entries[b.org_id].id
    assert auction.leading_bidder_no == ended.leading_bidder_no
    assert started.phase == "free"
    assert await AuctionEntry.filter(auction_id=auction.id).count() == 2  # the silent registrant never qualified
    assert silent.org_id not in entries
    assert late == "LISTING_NOT_OPEN"
    [ending] = await OutboxEvent.filter(type="listing.ended")
    assert (ending.payload["status"], ending.payload["offerers"]) == ("auction", 2)


async def test_a_lone_offer_under_the_reserve_fails(db, manual_clock):
    # given one offer, under the reserve
    start = manual_clock.now() - timedelta(days=1)
    lot, made, (a, _) = await a_listing(start, registered=1)
    await offer(lot, a, RESERVE - STEP)

    # when the period ends
    ended = await end(made, made.ends_at)

    # then it failed: no auction, nobody wins
    assert (ended.status, ended.winner_organisation_id, ended.confirmation_no) == ("failed", None, None)
    assert not await Auction.exists(lot_id=lot.id)
    assert listing.reserve_shown(ended) == RESERVE


async def test_a_lone_offer_at_the_reserve_buys_the_lot(db, manual_clock):
    # given one offer, at the reserve
    start = manual_clock.now() - timedelta(days=1)
    lot, made, (a, _) = await a_listing(start, registered=1)
    await offer(lot, a, RESERVE)
    assert listing.reserve_shown(await Listing.get(id=made.id)) is None

    # when
    ended = await end(made, made.ends_at)

    # then
    assert (ended.status, ended.winner_organisation_id) == ("sold", a.org_id)
    assert ended.confirmation_no == f"CJ{lot.trade_code}"
    assert (await listing.winner_of(ended)) is not None
