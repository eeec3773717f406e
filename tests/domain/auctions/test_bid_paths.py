"""A bid takes one of two paths: on PostgreSQL the common bid is judged and recorded in one statement
(migration 0024's auction_bid_place), everything else (and every bid on SQLite) in Python. The same inputs give
the same answers, rows and events on both: each script runs twice on identical auctions, once as the platform runs
(one statement where it can) and once with the statement turned off, and the two worlds are compared. On SQLite
both worlds run the Python path; the scripts' answers are checked there too."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from domain.access.models import NetworkFact
from domain.auctions import services
from domain.auctions.models import Auction, AuctionBid, AuctionEntry
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError
from domain.common.models import IdempotencyRecord, OutboxEvent
from domain.common.storage import lock, using_postgres
from domain.publication.models import Lot, Project
from tests.domain.factories import organisation

START = 100_000_000
STEP = 1_000_000
FREE = timedelta(minutes=30)
COUNTDOWN = 300


@dataclass
class World:
    """One lot's auction in free bidding since a minute ago, three qualified bidders with fixed numbers."""

    name: str
    lot: Lot
    auction: Auction
    actors: dict[str, Actor]
    entry_org: dict[int, int]
    answers: list[tuple[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


async def bidders() -> dict[str, Actor]:
    """a (no address, no device: keeps no network fact), b and c (phones), d (not entered)."""
    orgs = {name: await organisation() for name in "abcd"}
    phones = {"b": ("10.0.0.2", "phone-b"), "c": ("10.0.0.3", None)}
    return {
        name: Actor(
            user_id=1000 + i,
            org_id=org.id,
            roles=frozenset({Role.BIDDER}),
            ip=phones.get(name, (None, None))[0],
            device_id=phones.get(name, (None, None))[1],
        )
        for i, (name, org) in enumerate(orgs.items())
    }


async def world(name: str, actors: dict[str, Actor], start: datetime, **auction: Any) -> World:
    project = await Project.create(
        trade_code=f"P-{name}",
        name="竞价测试项目",
        category="land_use_rights",
        region_code="370211",
        tenderer_id=1,
        created_at=start,
    )
    lot = await Lot.create(
        project=project,
        lot_no=1,
        trade_code=f"L-{name}",
        name="2026-18号地块",
        procedure="online_auction",
        estimated_price_fen=START,
        config={},
        status="published",
        created_at=start,
        updated_at=start,
    )
    fields: dict[str, Any] = {
        "starting_price_fen": START,
        "increment_fen": STEP,
        "reserve_price_fen": START + 5 * STEP,
        "starts_at": start - timedelta(minutes=1),
        "free_ends_at": start + FREE,
        "countdown_seconds": COUNTDOWN,
        "entry_deadline": start - timedelta(days=1),
        "phase": "free",
        "reminded_at": start - timedelta(minutes=11),
        "next_check_at": start + FREE,
        "created_at": start - timedelta(days=2),
        "updated_at": start,
    }
    created = await Auction.create(lot=lot, **(fields | auction))
    entry_org = {}
    for n, who in enumerate("abc"):
        entry = await AuctionEntry.create(
            auction=created,
            organisation_id=actors[who].org_id,
            registration_id=n + 1,
            bidder_no=f"100{n + 1}",
            qualified_at=start,
        )
        entry_org[entry.id] = actors[who].org_id
    return World(name, lot, created, dict(actors), entry_org)


async def bid(w: World, who: str, amount: int, key: str | None = None) -> None:
    """Places the bid and keeps its answer in the world's terms (ids replaced by what they stand for)."""
    actor = w.actors[who]
    try:
        placed = await services.place_bid(actor, w.lot.id, amount, f"{w.name}-{key}" if key else None)
    except DomainError as err:
        w.answers.append(("refused", (type(err).__name__, err.code, err.params)))
        return
    stored = await OutboxEvent.get(id=placed.event.id)
    assert (placed.event.event_id, placed.event.payload, placed.event.audience) == (
        stored.event_id,
        stored.payload,
        stored.audience,
    )
    assert placed.bid.id == (await AuctionBid.get(auction_id=w.auction.id, seq=placed.bid.seq)).id
    w.answers.append(("placed", (_bid(w, placed.bid), _event(w, placed.event))))


async def advance(w: World) -> None:
    """What the chronograph does for the auction now."""
    async with in_transaction():
        auction = await lock(Auction.filter(id=w.auction.id)).get()
        await services.advance(auction, clock.now())


def _bid(w: World, b: AuctionBid) -> tuple[Any, ...]:
    return (w.entry_org[b.entry_id], b.bidder_no, b.seq, b.amount_fen, b.placed_at, b.ends_at, b.phase)


def _event(w: World, e: OutboxEvent) -> tuple[Any, ...]:
    ids = {str(w.auction.id): "AUCTION", str(w.lot.id): "LOT"}
    payload = {k: ("LOT" if k == "lot_id" and v == w.lot.id else v) for k, v in e.payload.items()}
    return (
        e.type,
        e.object_type,
        ids.get(e.object_id, e.object_id),
        e.outcome,
        e.actor_user_id,
        e.actor_org_id,
        e.actor_label,
        e.actor_ip,
        payload,
        e.audience,
        e.occurred_at,
        e.attempts,
        e.dispatched_at,
    )


async def rows(w: World) -> dict[str, Any]:
    """Everything the world's bids wrote, in its own terms."""
    auction = await Auction.get(id=w.auction.id)
    bids = await AuctionBid.filter(auction_id=auction.id).order_by("seq")
    eventful = await OutboxEvent.filter(object_id__in=[str(auction.id), str(w.lot.id)]).order_by("id")
    facts = await NetworkFact.filter(lot_id=w.lot.id).order_by("id")
    keys = await IdempotencyRecord.filter(key__startswith=f"{w.name}-").order_by("id")
    seq_of_bid = {b.id: b.seq for b in bids}
    seq_of_event = {e.id: e.payload.get("seq") for e in eventful}
    state = {
        k: v
        for k, v in auction.__dict__.items()
        if not k.startswith("_") and k not in ("id", "lot_id", "created_at", "leading_entry_id", "winner_entry_id")
    }
    state["confirmation_no"] = (auction.confirmation_no or "").replace(w.lot.trade_code, "LOT")
    state["leader"] = w.entry_org.get(auction.leading_entry_id or 0)
    state["winner"] = w.entry_org.get(auction.winner_entry_id or 0)
    return {
        "auction": state,
        "bids": [_bid(w, b) for b in bids],
        "events": [_event(w, e) for e in eventful],
        "facts": [(f.organisation_id, f.user_id, f.action, f.ip, f.device_id, f.recorded_at) for f in facts],
        "keys": [
            (
                r.caller,
                r.key.removeprefix(f"{w.name}-"),
                r.operation,
                r.created_at,
                r.expires_at,
                seq_of_bid.get(r.result.get("bid_id")),
                seq_of_event.get(r.result.get("event_id")),
            )
            for r in keys
        ],
    }


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> dict[str, World]:
    """Records, per world, whether each bid was answered by the one statement or went the Python way."""
    current: dict[str, World] = {}
    statement = services._place_in_one_statement

    async def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            placed = await statement(*args, **kwargs)
        except DomainError:
            current["world"].paths.append("statement")
            raise
        current["world"].paths.append("statement" if placed is not None else "python")
        return placed

    monkeypatch.setattr(services, "_place_in_one_statement", watched)
    return current


async def both(
    manual_clock: Any,
    paths: dict[str, World],
    monkeypatch: pytest.MonkeyPatch,
    script: Any,
    **auction: Any,
) -> tuple[World, World]:
    """Runs the script on two identical worlds from the same moment: first as the platform runs, then with the
    one statement turned off."""
    start = manual_clock.now()
    actors = await bidders()
    worlds = []
    for name, fast in (("fast", True), ("python", False)):
        manual_clock.set(start)
        monkeypatch.setattr(services, "FAST_PATH", fast)
        w = await world(name, actors, start, **auction)
        paths["world"] = w
        await script(w, manual_clock)
        worlds.append(w)
    fast_world, python_world = worlds
    assert fast_world.answers == python_world.answers
    assert await rows(fast_world) == await rows(python_world)
    assert python_world.paths == []
    return fast_world, python_world


def placed(w: World) -> list[tuple[int, int, int]]:
    """(bidder's organisation, seq, amount) of each accepted answer."""
    return [(a[1][0][0], a[1][0][2], a[1][0][3]) for a in w.answers if a[0] == "placed"]


def refused(w: World) -> list[tuple[str, dict[str, Any]]]:
    return [(a[1][1], a[1][2]) for a in w.answers if a[0] == "refused"]


async def test_free_bidding_gives_the_same_answers_rows_and_events_on_both_paths(db, manual_clock, paths, monkeypatch):
    async def script(w: World, clock: Any) -> None:
        await bid(w, "a", START)  # the first bid, at the starting price
        await bid(w, "b", START)  # too low: the price is taken
        await bid(w, "b", START + STEP + STEP // 2)  # above the next price but off the increment
        clock.advance(seconds=1)
        await bid(w, "b", START + STEP)  # exactly the next increment: a is outbid
        await bid(w, "b", START + 2 * STEP)  # the leader again
        await bid(w, "d", START + 2 * STEP)  # never entered
        clock.advance(seconds=1)
        await bid(w, "a", START + 4 * STEP)  # whole increments above the next price
        services._scopes.pop(w.lot.id, None)  # as a process that has not seen this lot's auction yet
        await bid(w, "c", START + 5 * STEP)  # c's first bid: keeps its phone's network fact
        await bid(w, "b", START + 6 * STEP)
        await bid(w, "c", START + 7 * STEP)  # c's second: its fact is kept already

    # when the same bids are placed on both paths
    fast, _ = await both(manual_clock, paths, monkeypatch, script)

    # then both answered as the auction's rules say, with the same rows and events (checked in both())
    a, b, c = (fast.actors[n].org_id for n in "abc")
    assert placed(fast) == [
        (a, 1, START),
        (b, 2, START + STEP),
        (a, 3, START + 4 * STEP),
        (c, 4, START + 5 * STEP),
        (b, 5, START + 6 * STEP),
        (c, 6, START + 7 * STEP),
    ]
    too_low = {"current_price_fen": START, "min_next_fen": START + STEP, "seq": 1}
    texts = {"current_text": "1,000,000.00", "min_next_text": "1,010,000.00"}
    assert refused(fast) == [
        ("BID_TOO_LOW", too_low | texts),
        ("BID_NOT_ON_INCREMENT", too_low | texts),
        ("ALREADY_LEADING", {}),
        ("NOT_QUALIFIED", {}),
    ]
    events = await OutboxEvent.filter(object_id__in=[str(fast.auction.id), str(fast.lot.id)]).order_by("id")
    assert [(e.type, e.outcome) for e in events].count(("auction.bid", "failure")) == 4
    assert [e.audience["orgs"] for e in events if e.type == "auction.outbid"] == [[a], [b], [a], [c], [b]]
    if using_postgres():
        # every bid in one statement but c's first: the process did not know the lot's auction then, so it could not
        # tell whether c's phone's network fact was kept already (b's first knew: a's bid had told it)
        assert fast.paths == ["statement"] * 7 + ["python"] + ["statement"] * 2


async def test_timed_bidding_restarts_the_countdown_and_a_late_bid_is_refused_on_both_paths(
    db, manual_clock, paths, monkeypatch
):
    async def script(w: World, clock: Any) -> None:
        start = clock.now()
        await bid(w, "a", START)
        clock.set(start + FREE + timedelta(seconds=10))
        await bid(w, "b", START + STEP)  # the countdown is due: the bid starts it (Python), then is placed
        clock.set(start + FREE + timedelta(seconds=200))
        await bid(w, "a", START + 2 * STEP)  # restarts the countdown: ends 300 s from now
        await bid(w, "b", START + 3 * STEP)  # at the same moment: the end stays
        clock.set(start + FREE + timedelta(seconds=200 + COUNTDOWN - 1))
        await bid(w, "a", START + 4 * STEP)  # a second before the end: the end moves again
        await bid(w, "a", START + 5 * STEP)  # the leader again
        clock.set(start + FREE + timedelta(seconds=200 + 2 * COUNTDOWN - 1))
        await bid(w, "c", START + 5 * STEP)  # at the end: the auction is over (sold), refused, nothing changes
        await advance(w)  # the chronograph closes it
        await bid(w, "c", START + 6 * STEP)  # sold: not live

    # when
    fast, _ = await both(manual_clock, paths, monkeypatch, script, reserve_price_fen=START + 4 * STEP)

    # then
    start = manual_clock.now() - timedelta(seconds=200 + 2 * COUNTDOWN - 1) - FREE
    ends = [a[1][0][5] for a in fast.answers if a[0] == "placed"]
    assert ends == [
        None,
        start + FREE + timedelta(seconds=10 + COUNTDOWN),
        start + FREE + timedelta(seconds=200 + COUNTDOWN),
        start + FREE + timedelta(seconds=200 + COUNTDOWN),
        start + FREE + timedelta(seconds=200 + 2 * COUNTDOWN - 1),
    ]
    assert refused(fast) == [
        ("ALREADY_LEADING", {}),
        ("AUCTION_NOT_LIVE", {"phase": "sold"}),
        ("AUCTION_NOT_LIVE", {"phase": "sold"}),
    ]
    state = await Auction.get(id=fast.auction.id)
    assert (state.phase, state.current_price_fen, state.seq) == ("sold", START + 4 * STEP, 5)
    if using_postgres():
        # the bid that started the countdown and the one at its end went the Python way (a phase change was due)
        assert fast.paths == ["statement", "python"] + ["statement"] * 4 + ["python", "statement"]


async def test_idempotency_keys_replay_and_refusals_free_the_key_on_both_paths(db, manual_clock, paths, monkeypatch):
    async def script(w: World, clock: Any) -> None:
        await bid(w, "a", START, key="k1")
        await bid(w, "a", START, key="k1")  # a retry: the first answer again, nothing more written
        await bid(w, "a", START + STEP, key="k1")  # the key with another amount
        await bid(w, "b", START, key="k2")  # too low: refused, the key not kept
        clock.advance(seconds=5)
        await bid(w, "b", START + STEP, key="k2")  # so the same key places the corrected bid
        await bid(w, "b", START + STEP, key="k2")

    # when
    fast, _ = await both(manual_clock, paths, monkeypatch, script)

    # then
    a, b = fast.actors["a"].org_id, fast.actors["b"].org_id
    assert placed(fast) == [(a, 1, START), (a, 1, START), (b, 2, START + STEP), (b, 2, START + STEP)]
    assert [code for code, _ in refused(fast)] == ["IDEMPOTENCY_KEY_REUSED", "BID_TOO_LOW"]
    keys = (await rows(fast))["keys"]
    assert [(k[1], k[5]) for k in keys] == [("k1", 1), ("k2", 2)]
    if using_postgres():
        # replays and the reused key are answered in Python (the statement saw the key was taken), the rest in one
        assert fast.paths == ["statement", "python", "python", "statement", "statement", "python"]


async def test_bidder_rules_and_phases_refuse_alike_on_both_paths(db, manual_clock, paths, monkeypatch):
    async def script(w: World, clock: Any) -> None:
        await bid(w, "a", START)  # the lot wants a two-factor sign-in
        await bid(w, "a", START, key="2fa")
        w.actors["a"] = replace(w.actors["a"], amr=frozenset({"cert", "sms"}))
        await bid(w, "a", START)  # and signed bids: this one carries no signature

    # when the lot requires two factors and signatures
    fast, _ = await both(
        manual_clock, paths, monkeypatch, script, require_two_factor_for_bids=True, require_signed_bids=True
    )

    # then
    assert [code for code, _ in refused(fast)] == ["TWO_FACTOR_REQUIRED", "TWO_FACTOR_REQUIRED", "SIGNATURE_REQUIRED"]
    if using_postgres():
        assert fast.paths == ["statement"] * 3


async def test_a_scheduled_auction_refuses_until_it_starts_alike_on_both_paths(db, manual_clock, paths, monkeypatch):
    async def script(w: World, clock: Any) -> None:
        start = clock.now()
        await bid(w, "a", START)  # an hour before the start, long before the reminder
        clock.set(start + timedelta(minutes=55))
        await bid(w, "a", START)  # the reminder is due: the bid sends it (Python), then is refused
        await advance(w)
        await bid(w, "a", START)  # reminded: refused in one statement

    # when the auction starts in an hour
    fast, _ = await both(
        manual_clock,
        paths,
        monkeypatch,
        script,
        phase="scheduled",
        reminded_at=None,
        starts_at=manual_clock.now() + timedelta(hours=1),
        free_ends_at=manual_clock.now() + timedelta(hours=2),
        next_check_at=manual_clock.now() + timedelta(minutes=50),
    )

    # then
    assert refused(fast) == [("AUCTION_NOT_LIVE", {"phase": "scheduled"})] * 3
    if using_postgres():
        assert fast.paths == ["statement", "python", "statement"]


async def test_a_reverse_auction_goes_down_by_decrements_under_its_sealed_ceiling_alike_on_both_paths(
    db, manual_clock, paths, monkeypatch
):
    ceiling = START - 3 * STEP

    async def script(w: World, clock: Any) -> None:
        start = clock.now()
        await bid(w, "a", START)  # the starting price, but above the sealed ceiling
        await bid(w, "a", START - STEP - STEP // 2)  # under the starting price, off the decrements
        await bid(w, "a", ceiling)  # at the ceiling: accepted
        await bid(w, "b", ceiling)  # not under the current price
        await bid(w, "b", START - 4 * STEP)  # one decrement under: a is outbid
        await bid(w, "b", START - 5 * STEP)  # the leader again
        await bid(w, "c", START - 7 * STEP)  # whole decrements under the next price
        await bid(w, "d", START - 8 * STEP)  # never entered
        clock.set(start + FREE + timedelta(seconds=10))
        await bid(w, "a", START - 8 * STEP)  # the countdown is due: the bid starts it (Python), then is placed
        clock.set(start + FREE + timedelta(seconds=10 + COUNTDOWN))
        await advance(w)  # the chronograph closes it: the lowest bid, under the ceiling, wins

    # when the same bids are placed on both paths of a reverse auction
    fast, _ = await both(manual_clock, paths, monkeypatch, script, descending=True, reserve_price_fen=ceiling)

    # then
    a, b, c = (fast.actors[n].org_id for n in "abc")
    assert placed(fast) == [
        (a, 1, ceiling),
        (b, 2, START - 4 * STEP),
        (c, 3, START - 7 * STEP),
        (a, 4, START - 8 * STEP),
    ]
    first = {"current_price_fen": 0, "max_next_fen": START, "seq": 0}
    after = {"current_price_fen": ceiling, "max_next_fen": START - 4 * STEP, "seq": 1}
    assert refused(fast) == [
        ("BID_ABOVE_CEILING", {}),  # no figure: the ceiling stays sealed
        ("BID_NOT_ON_DECREMENT", first | {"current_text": "0.00", "max_next_text": "1,000,000.00"}),
        ("BID_TOO_HIGH", after | {"current_text": "970,000.00", "max_next_text": "960,000.00"}),
        ("ALREADY_LEADING", {}),
        ("NOT_QUALIFIED", {}),
    ]
    state = await Auction.get(id=fast.auction.id)
    assert (state.phase, state.current_price_fen, state.seq) == ("sold", START - 8 * STEP, 4)
    assert state.winner_entry_id == state.leading_entry_id
    if using_postgres():
        # the bid that started the countdown went the Python way (a phase change was due); the rest in one statement
        assert fast.paths == ["statement"] * 8 + ["python"]


async def test_a_reverse_auction_without_a_bid_under_its_ceiling_fails(db, manual_clock, paths, monkeypatch):
    async def script(w: World, clock: Any) -> None:
        start = clock.now()
        await bid(w, "a", START)  # above the ceiling: refused, so no bid stands
        clock.set(start + FREE)
        await advance(w)
        clock.set(start + FREE + timedelta(seconds=COUNTDOWN))
        await advance(w)

    # when
    fast, _ = await both(manual_clock, paths, monkeypatch, script, descending=True, reserve_price_fen=START - STEP)

    # then
    assert [code for code, _ in refused(fast)] == ["BID_ABOVE_CEILING"]
    state = await Auction.get(id=fast.auction.id)
    assert (state.phase, state.current_price_fen, state.winner_entry_id) == ("failed", None, None)


async def test_an_auction_made_from_a_listing_starts_from_its_leading_offer_alike_on_both_paths(
    db, manual_clock, paths, monkeypatch
):
    async def script(w: World, clock: Any) -> None:
        # 挂牌转竞价: the highest listing offer (a's) leads before any bid of the auction
        a_entry = next(e for e, org in w.entry_org.items() if org == w.actors["a"].org_id)
        await Auction.filter(id=w.auction.id).update(
            current_price_fen=START, leading_entry_id=a_entry, leading_bidder_no="1001", from_listing=True
        )
        await bid(w, "a", START + STEP)  # the leader of the listing leads the auction
        await bid(w, "b", START)  # the listing's price is taken
        await bid(w, "b", START + STEP)  # one increment above it: a is outbid
        await bid(w, "a", START + 2 * STEP)

    # when
    fast, _ = await both(manual_clock, paths, monkeypatch, script)

    # then
    a, b = fast.actors["a"].org_id, fast.actors["b"].org_id
    assert placed(fast) == [(b, 1, START + STEP), (a, 2, START + 2 * STEP)]
    assert [code for code, _ in refused(fast)] == ["ALREADY_LEADING", "BID_TOO_LOW"]
    events = await OutboxEvent.filter(object_id=str(fast.auction.id), type="auction.outbid").order_by("id")
    assert [e.audience["orgs"] for e in events] == [[a], [b]]
    if using_postgres():
        assert fast.paths == ["statement"] * 4
