"""A bidding day under load, with faults: several processes on PostgreSQL + Redis, nothing lost.

Two server processes and a worker (dispatcher, chronograph, push senders) serve one database, with a
Redis and an FCM stub of their own (tests/support/load.py). On it:
- a sealed tender whose deadline falls inside the run: its bidders sign in, register for the lot,
  register their phones for pushes, submit sealed bids, and at the deadline hand over their keys; some
  object at the opening;
- an online auction whose free bidding ends inside the run, then timed bidding (every bid restarts the
  60 s countdown) until it closes: bidders bid the minimum increment, many watchers follow it live over
  WebSockets (a kiosk in the hall, phones);
- anonymous browsing (the home screen by persisted hash, search, an announcement) and inbox reads.
While it runs: kill -9 a server (started again), kill -9 the worker (started again), restart Redis, and
the FCM stub answers 503 to everything for a while.

Afterwards: every acknowledged registration, sealed bid, key, objection and auction bid is stored exactly
once; the auction closed on time (no bid after its end, closed at its end) with the highest acknowledged
bid winning; every outbox event delivered and audited once on an unbroken chain; every push delivered or
given up for a stated reason, and none twice but for those in flight at the worker's kill; no request
was answered 5xx or INTERNAL. The figures (clients, requests/s, p50/p99 by operation and the p99 of the steady
state apart from the start-up burst and the faults, outcomes, faults, the load generator's own event-loop lag
and CPU) are printed one per line, `name: value unit`.

Scale: PALMTRADE_LOAD_CLIENTS (CI: 60; the full run at least 3,000), PALMTRADE_LOAD_FREE_SECONDS (how
long free bidding has left when the load begins; the run lasts about that plus 70 s),
PALMTRADE_LOAD_SERVERS, PALMTRADE_LOAD_WORKERS:

    PALMTRADE_LOAD_CLIENTS=3000 PALMTRADE_LOAD_FREE_SECONDS=60 PALMTRADE_LOAD_OVERLOAD=1 make resilience

(PALMTRADE_LOAD_OVERLOAD: see OVERLOAD below and the README.)
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.seed import create_operator
from domain.accounts.models import SigningKey
from domain.accounts.tokens import _create_key
from domain.auctions.models import Auction, AuctionBid, AuctionEntry
from domain.audit import services as audit
from domain.audit.models import AuditEntry
from domain.common.models import OutboxEvent
from domain.notifications.models import Notification, PushDelivery
from domain.publication.models import Announcement
from domain.registration.models import Registration
from domain.tendering.models import OpeningObjection, SealedBid
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import from_global_id
from tests import factories as f
from tests.resilience.test_auction_crash import needs_services
from tests.scenarios.test_auction import START_PRICE, at, auction_lot, bidders
from tests.scenarios.test_sealed_bids import sealed_lot
from tests.support.load import Cluster, Metrics, Phone, Pools, Unanswered, Watcher, think

pytestmark = pytest.mark.postgres_redis

CLIENTS = int(os.environ.get("PALMTRADE_LOAD_CLIENTS", "60"))
FREE_SECONDS = float(os.environ.get("PALMTRADE_LOAD_FREE_SECONDS", "20"))
SERVERS = int(os.environ.get("PALMTRADE_LOAD_SERVERS", "2"))
WORKERS = int(os.environ.get("PALMTRADE_LOAD_WORKERS", "1"))
# Overload (a machine too small for the clients): a phone may give up (no answer within 3 minutes) or be
# refused as too late (registration closed, deadline passed); then the invariants hold for what was
# acknowledged (stored once, nothing acknowledged missing) rather than for every client's whole journey
OVERLOAD = os.environ.get("PALMTRADE_LOAD_OVERLOAD", "") not in ("", "0")
COUNTDOWN = 60  # the shortest countdown a lot may have (procedures.py)
CLIENTS_PER_POOL = 25
TIMED_BIDDING = 8.0  # seconds the auction bidders go on after free bidding ends
SEARCH_WORDS = ["道路", "维修", "地块", "工程", "出让", "施工", "青岛"]


@dataclass(frozen=True)
class Mix:
    """How the clients divide: few bidders, many browsers and watchers, as on a real bidding day."""

    auction_bidders: int
    sealed_bidders: int
    inbox_readers: int
    watchers: int
    browsers: int

    @classmethod
    def of(cls, clients: int) -> Mix:
        auction = max(3, clients // 60)
        sealed = max(4, clients // 15)
        inbox = max(3, clients // 15)
        watchers = max(4, clients // 6)
        return cls(auction, sealed, inbox, watchers, max(4, clients - auction - sealed - inbox - watchers))

    @property
    def total(self) -> int:
        return self.auction_bidders + self.sealed_bidders + self.inbox_readers + self.watchers + self.browsers


@dataclass
class Ledger:
    """What the clients were told was done: the invariants compare it with the database."""

    registrations: set[str] = field(default_factory=set)  # registration global ids acknowledged
    sealed: dict[str, str] = field(default_factory=dict)  # phone -> sha256 of the acknowledged bid
    keys: dict[str, int] = field(default_factory=dict)  # phone -> decrypted price acknowledged
    objections: Counter[str] = field(default_factory=Counter)  # phone -> objections acknowledged
    bids: list[tuple[int, int, str]] = field(default_factory=list)  # (seq, amount, bidder number)
    refusals: Counter[str] = field(default_factory=Counter)


@pytest.fixture
async def backdated(api, manual_clock) -> AsyncIterator[datetime]:
    """The real now; a signing key active since 26 days back (the set-up runs on the manual clock)."""
    real_now = datetime.now(UTC)
    key = await _create_key(
        real_now - timedelta(days=26), real_now - timedelta(days=26), api.services.settings.kek_ring()
    )
    await api.services.keyring.load()
    try:
        yield real_now
    finally:
        await SigningKey.filter(kid=key.kid).delete()
        await api.services.keyring.load()


@needs_services
async def test_a_bidding_day_under_load_and_faults_loses_nothing(api, manual_clock, backdated, db, tmp_path):
    mix = Mix.of(CLIENTS)
    # given (set up through the in-process API on a manual clock, then moved to now) a sealed tender whose
    # deadline is FREE_SECONDS + 30 s away, its bidders approved (they register during the load) ...
    # the servers come up first (half a minute or more on a loaded machine), so that the set-up's lead below is
    # spent on the set-up alone; the workers start once it is done
    cluster = Cluster(db.url, tmp_path, servers=SERVERS, workers=WORKERS)
    try:
        await cluster.start(workers=False)
        now = max(backdated, datetime.now(UTC))
        setup_started = time.monotonic()
        organisations = mix.sealed_bidders + mix.auction_bidders + mix.inbox_readers
        lead = FREE_SECONDS + 30 + 0.5 * organisations  # the set-up below takes a while at full scale
        manual_clock.set(now + timedelta(seconds=lead) - timedelta(days=25))
        operator_phone = f.new_phone()
        await create_operator(phone=operator_phone, name="运营管理员", password=f.PASSWORD)
        operator = await f.login(api, operator_phone)  # on each clock: a token must not come from the future
        project, _, _ = await sealed_lot(api, manual_clock, operator)
        sealed_lot_id, trade_code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
        sealed_people = [await f.approved_org(api, operator) for _ in range(mix.sealed_bidders)]
        # ... and an auction whose free bidding ends `lead - 30` s from now, its bidders registered
        manual_clock.set(now + timedelta(seconds=lead - 30) - timedelta(days=21, hours=1, minutes=30))
        operator = await f.login(api, operator_phone)
        auction_id, _, free_ends = await auction_lot(
            api, manual_clock, operator, reserve=START_PRICE, countdown_seconds=COUNTDOWN
        )
        auction_people = await bidders(api, operator, auction_id, mix.auction_bidders)
        inbox_people = [await f.approved_org(api, operator) for _ in range(mix.inbox_readers)]
        await api.dispatch()  # the publications schedule the opening and the auction's phases
        await at(manual_clock, datetime.now(UTC))
        # the auction's bidders are in the bidding room already, signed in (the others sign in under load)
        auction_tokens = [await f.login(api, p.phone) for p in auction_people]
        auction = await Auction.get(lot_id=int(from_global_id(auction_id)[1]))
        assert auction.phase == "free", auction.phase
        deadline = free_ends + timedelta(seconds=30)  # the sealed tender's, set above
        setup_took = time.monotonic() - setup_started
        announcements = [str(a) for a in await Announcement.all().values_list("id", flat=True)]
    except BaseException:
        cluster.stop()
        raise
    metrics = Metrics()
    ledger = Ledger()
    stop = asyncio.Event()
    try:
        cluster.start_workers()
        began = time.monotonic()
        cluster.began = began
        metrics.begin(began)  # the generator's own lag and CPU are reported with the figures
        until_free_end = (free_ends - datetime.now(UTC)).total_seconds()
        # the auction's bidders bid until TIMED_BIDDING s after its free bidding: a set-up past that left them none
        assert until_free_end + TIMED_BIDDING > 5, f"the set-up took {setup_took:.1f} s, past its lead of {lead:.0f} s"
        # one connection pool per 25 clients (a session of aiohttp each; under httpx, httpcore matched waiting
        # requests to connections in O(waiting x connections), and one pool for 3,000 phones spent the core on that)
        async with Pools(mix.total, CLIENTS_PER_POOL) as shards:
            urls = cluster.urls
            seeds = itertools.count(1)

            def phone(token: str | None = None) -> Phone:
                seed = next(seeds)
                return Phone(shards[seed], urls, metrics, token, seed=seed)

            watchers = [Watcher(urls, auction_id, metrics, next(seeds)) for _ in range(mix.watchers)]
            clients = [
                *(
                    sealed_bidder(phone(), person, sealed_lot_id, trade_code, deadline, ledger, i)
                    for i, person in enumerate(sealed_people)
                ),
                *(
                    auction_bidder(
                        phone(token), p.phone, auction_id, free_ends + timedelta(seconds=TIMED_BIDDING), ledger
                    )
                    for p, token in zip(auction_people, auction_tokens, strict=True)
                ),
                *(inbox_reader(phone(), person[1], stop) for person in inbox_people),
                *(browser(phone(), announcements, stop) for _ in range(mix.browsers)),
            ]
            tasks = [asyncio.create_task(c) for c in clients]
            watching = [asyncio.create_task(w.run(stop)) for w in watchers]
            # the faults, spread over the auction's life
            end_guess = until_free_end + TIMED_BIDDING + COUNTDOWN
            # (FCM blocked across the auction's close, when the result and the winner's notice go out)
            faults = asyncio.create_task(
                inject(cluster, [0.15 * end_guess, 0.3 * end_guess, 0.45 * end_guess, end_guess - 4])
            )
            closed = await auction_closed(auction.id, within=end_guess + 60)
            if closed is None:
                from tortoise import connections

                row = await Auction.get(id=auction.id)
                _, activity = await connections.get("default").execute_query(
                    "SELECT pid, state, wait_event_type, left(query, 200), now() - xact_start FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                )
                raise AssertionError(
                    f"not closed: phase {row.phase} ends {row.ends_at} next check {row.next_check_at} now "
                    f"{datetime.now(UTC)}; workers alive {[w.alive for w in cluster.workers]}\n{activity}\n"
                    f"{cluster.tail()}"
                )
            # the watchers hear of it: the close goes out through the worker's outbox (the worker may be catching up
            # after its kill, the push stub blocked across the close), so each connected watcher is given up to 30 s
            for _ in range(60):
                if all(w.last and w.last["phase"] in ("SOLD", "sold") for w in watchers if w.connected):
                    break
                await asyncio.sleep(0.5)
            # what each watcher shows at the close (connected: its socket is up now, not mid-reconnect)
            shown = [(w.connected, w.last) for w in watchers]
            stop.set()
            await faults
            outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
            await asyncio.wait_for(asyncio.gather(*watching, return_exceptions=True), 30)
            elapsed = time.monotonic() - began
            metrics.end()
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        gave_up = [o for o in failures if isinstance(o, Unanswered | TooLate)]
        if OVERLOAD:
            failures = [o for o in failures if o not in gave_up]
        if not failures:
            await drained(cluster)
            await settled(cluster)
        fcm = await cluster.fcm_stats()
    finally:
        stop.set()
        metrics.end()
        cluster.stop()

    # then the figures
    report = [
        f"clients: {mix.total} count",
        f"clients_sealed_bidders: {mix.sealed_bidders} count",
        f"clients_auction_bidders: {mix.auction_bidders} count",
        f"clients_watchers: {mix.watchers} count",
        f"clients_inbox_readers: {mix.inbox_readers} count",
        f"clients_browsers: {mix.browsers} count",
        f"processes: {SERVERS} servers + {WORKERS} workers",
        f"setup: {setup_took:.1f} s",
        f"duration: {elapsed:.1f} s",
        *metrics.report(elapsed, cluster.faults),  # the faults' windows cut out of the `_steady` p99s
        f"watcher_updates: {sum(w.updates for w in watchers)} count",
        f"watcher_reconnects: {sum(w.reconnects for w in watchers)} count",
        f"fcm_accepted: {fcm['accepted']} count",
        f"fcm_failures: {sum(fcm['failures'].values())} count",
        f"fcm_duplicates: {fcm['duplicates']} count",
        *(
            f"fault_{i}: at {fault.at:.1f} s, {fault.what} (took {fault.took:.1f} s)"
            for i, fault in enumerate(cluster.faults)
        ),
    ]
    report.append(f"clients_gave_up_or_too_late: {len(gave_up)} count")
    print("\n" + "\n".join(report))
    assert not failures, (len(failures), failures[:5])

    # and no request was answered 5xx or INTERNAL
    assert metrics.server_errors == [], metrics.server_errors[:5]
    assert len(cluster.faults) == 4, cluster.faults

    # and every acknowledged registration, sealed bid, key and objection is stored exactly once
    sealed_lot_pk = int(from_global_id(sealed_lot_id)[1])
    stored_registrations = await Registration.filter(lot_id=sealed_lot_pk).values_list("id", flat=True)
    acknowledged = sorted(int(from_global_id(r)[1]) for r in ledger.registrations)
    assert set(acknowledged) <= set(stored_registrations)
    assert len(acknowledged) == len(set(acknowledged))
    if not OVERLOAD:  # (a phone that gave up may have registered without hearing so)
        assert acknowledged == sorted(stored_registrations)
        assert len(ledger.sealed) == mix.sealed_bidders, ledger.refusals
    bids = await SealedBid.filter(lot_id=sealed_lot_pk, status__in=["submitted", "decrypted"]).values(
        "ciphertext_sha256", "status", "price_fen"
    )
    standing = sorted(b["ciphertext_sha256"] for b in bids)
    assert len(standing) == len(set(standing))
    assert set(ledger.sealed.values()) <= set(standing)
    assert await SealedBid.filter(lot_id=sealed_lot_pk).count() == len(bids)  # none superseded by a resend
    opened = sorted(b["price_fen"] for b in bids if b["status"] == "decrypted")
    assert set(ledger.keys.values()) <= set(opened)
    objections = await OpeningObjection.filter(opening__lot_id=sealed_lot_pk).count()
    assert objections >= sum(ledger.objections.values())
    if not OVERLOAD:
        assert standing == sorted(ledger.sealed.values())
        assert opened == sorted(ledger.keys.values())
        assert len(ledger.keys) == mix.sealed_bidders
        assert objections == sum(ledger.objections.values())

    # and the auction closed on time with the highest acknowledged bid winning
    await auction.refresh_from_db()
    stored = [
        tuple(row)
        for row in await AuctionBid.filter(auction_id=auction.id)
        .order_by("seq")
        .values_list("seq", "amount_fen", "bidder_no")
    ]
    assert set(ledger.bids) <= set(stored)
    if not OVERLOAD:
        assert stored == sorted(ledger.bids)
    assert [s for s, _, _ in stored] == list(range(1, len(stored) + 1))
    assert stored, ledger.refusals  # the bidders got bids in, load or not
    assert auction.phase == "sold", (auction.phase, stored[-3:])
    assert closed is not None
    placed = await AuctionBid.filter(auction_id=auction.id).order_by("seq").values_list("placed_at", flat=True)
    timed = [p for p in placed if p >= auction.free_ends_at]
    expected_end = max(
        [auction.free_ends_at + timedelta(seconds=COUNTDOWN)] + [p + timedelta(seconds=COUNTDOWN) for p in timed]
    )
    assert auction.ends_at == expected_end
    assert auction.closed_at == auction.ends_at
    assert all(p < auction.ends_at for p in placed)
    winner = await AuctionEntry.get(id=auction.winner_entry_id)
    assert winner.bidder_no == stored[-1][2]
    assert (auction.seq, auction.current_price_fen) == stored[-1][:2]
    finals = [last for connected, last in shown if last is not None and (connected or not OVERLOAD)]
    assert finals
    assert all(u["phase"] in ("SOLD", "sold") for u in finals), Counter(u["phase"] for u in finals)

    # and every outbox event was delivered and audited once, on an unbroken chain
    left = await OutboxEvent.filter(dispatched_at=None).values("type", "occurred_at", "attempts", "last_error")
    assert not left, left[:5]
    audited = await AuditEntry.all().values_list("event_id", flat=True)
    assert len(audited) == len(set(audited))
    assert set(audited) == set(await OutboxEvent.all().values_list("event_id", flat=True))
    chain = await audit.verify()
    assert chain.ok, chain

    # and every notification is in its inbox once; every push went out or was given up with a reason
    messages = await Notification.all().values_list("message_id", flat=True)
    assert len(messages) == len(set(messages))
    pushes = Counter(await PushDelivery.all().values_list("status", flat=True))
    assert set(pushes) <= {"sent", "skipped", "failed", "dead"}, pushes
    assert pushes["sent"] >= 1, pushes
    if not OVERLOAD:
        assert sum(fcm["failures"].values()) >= 1, fcm  # the block was felt: pushes waited and went out after it
    # a push sent just before the worker's kill -9, its answer not yet recorded, goes out again with
    # the same message id (FCM shows it once): at most the sends in flight at the kill
    assert fcm["duplicates"] <= 8 * WORKERS, fcm


class TooLate(Exception):
    """Refused as too late (registration closed, bid deadline passed): a phone that came too slowly."""


def too_late(answer: dict[str, Any]) -> None:
    if OVERLOAD and answer.get("code") in ("REGISTRATION_CLOSED", "BID_DEADLINE_PASSED", "DECRYPTION_CLOSED"):
        raise TooLate(answer["code"])


async def inject(cluster: Cluster, at_seconds: list[float]) -> None:
    """kill -9 a server, kill -9 the worker, restart Redis, block FCM, at the given seconds."""
    actions = [
        lambda: cluster.kill_server(0),
        lambda: cluster.kill_worker(0),
        cluster.restart_redis,
        lambda: cluster.block_fcm(10),
    ]
    for when, action in zip(at_seconds, actions, strict=True):
        await asyncio.sleep(max(0.0, cluster.began + when - time.monotonic()))
        await action()


async def auction_closed(auction_id: int, within: float) -> datetime | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        auction = await Auction.get(id=auction_id)
        if auction.closed_at is not None:
            return auction.closed_at
        await asyncio.sleep(0.5)
    return None


async def settled(cluster: Cluster) -> None:
    """The deployment stops as one does: the servers first, then the workers once they have drained what the servers
    left. A worker delivers what its last periodic step recorded as it leaves (`api.services.stop`); pushes that
    last delivery queued, or anything a step recorded past it, wait for the next worker to start, as they would in
    production, so one is started to deliver them and stopped again."""
    for server in cluster.servers:
        await asyncio.to_thread(server.stop)
    await drained(cluster)
    for worker in cluster.workers:
        assert await asyncio.to_thread(worker.stop) == 0, worker.tail()
    pushing = PushDelivery.filter(status__in=["pending", "sending"]).exists()
    if await OutboxEvent.filter(dispatched_at=None).exists() or await pushing:
        cluster.workers[0].start()
        await drained(cluster)
        assert await asyncio.to_thread(cluster.workers[0].stop) == 0, cluster.workers[0].tail()


async def drained(cluster: Cluster, within: float = 60) -> None:
    """Waits for the workers to deliver every outbox event and to finish every due push."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        pending = await OutboxEvent.filter(dispatched_at=None).exists()
        pushing = await PushDelivery.filter(status__in=["pending", "sending"]).exists()
        if not pending and not pushing:
            return
        await asyncio.sleep(0.5)
    stuck = await OutboxEvent.filter(dispatched_at=None).values("type", "attempts", "last_error")
    raise AssertionError(f"not drained: {stuck[:5]}\n{cluster.tail()}")


# ------------------------------------------------------------------------------------------ the clients


async def sign_in(phone: Phone, number: str) -> None:
    data = await phone.call("SignIn", {"input": {"phone": number, "password": f.PASSWORD}})
    signed = data["authLogin"]
    assert signed["__typename"] == "SignedIn", signed
    phone.token = signed["session"]["accessToken"]


async def register_device(phone: Phone, number: str) -> None:
    device = {
        "provider": "FCM",
        "token": f"fcm-{number}-{uuid.uuid4().hex[:8]}",
        "platform": "ANDROID",
        "appVersion": "3.2.0",
        "installationId": f"install-{number}",
    }
    registered = (await phone.call("DeviceRegister", {"input": device}))["deviceRegister"]
    assert registered["__typename"] == "DeviceRegistered", registered


async def commit(phone: Phone, lot_id: str, stage: str) -> None:
    """Signs the lot's credit commitment at the stage (a retry under the same key answers the first outcome)."""
    sign = {"input": {"lotId": lot_id, "stage": stage, "version": 1, "idempotencyKey": f"cc-{uuid.uuid4()}"}}
    signed = (await phone.call("CreditCommitmentSign", sign))["creditCommitmentSign"]
    if OVERLOAD and signed.get("code") == "INVALID_TRANSITION":  # the lot left OPEN at its deadline
        raise TooLate(signed["code"])
    assert signed["__typename"] == "CreditCommitmentSigned", signed


async def sealed_bidder(
    phone: Phone, person: tuple[str, str, str], lot_id: str, trade_code: str, deadline: datetime, ledger: Ledger, i: int
) -> None:
    """Signs in, registers for the lot and its phone for pushes, seals and submits a bid before the
    deadline, hands over the key once the opening has begun; every fourth objects at the opening."""
    _, number, _ = person
    await asyncio.sleep(phone.random.random() * 15)
    await sign_in(phone, number)
    await commit(phone, lot_id, "REGISTRATION")  # an open tender: 信用承诺制 by default
    key = f"reg-{uuid.uuid4()}"
    registered = (await phone.call("LotRegister", {"input": {"lotId": lot_id, "idempotencyKey": key}}))["lotRegister"]
    too_late(registered)
    assert registered["__typename"] == "LotRegistered", registered
    ledger.registrations.add(registered["registration"]["id"])
    await register_device(phone, number)
    await commit(phone, lot_id, "BID")
    price = 1_000_000_000 + 1_000 * i + phone.random.randrange(1000)
    jwk = new_key()
    sealed = seal(jwk, trade_code, price, {"商务标.pdf": os.urandom(2048)})
    submit = {"input": {"lotId": lot_id, "sealedBid": sealed, "idempotencyKey": f"bid-{uuid.uuid4()}"}}
    receipt = (await phone.call("BidSubmit", submit))["bidSubmit"]
    too_late(receipt)
    assert receipt["__typename"] == "BidSubmitted", receipt
    ledger.sealed[number] = receipt["receipt"]["sha256"]
    # at the opening: the key, again until the window has opened (a bid is not readable before it)
    wait = (deadline - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, wait) + phone.random.random() * 3)
    while True:
        answer = (await phone.call("BidDecrypt", {"input": {"lotId": lot_id, "key": jwk}}))["bidDecrypt"]
        if answer["__typename"] == "BidDecrypted":
            ledger.keys[number] = answer["priceFen"]
            assert answer["priceFen"] == price
            break
        too_late(answer)
        ledger.refusals[answer.get("code", answer["__typename"])] += 1
        assert datetime.now(UTC) < deadline + timedelta(minutes=5), answer
        await asyncio.sleep(1)
    if i % 4 == 0:
        objection = {"lotId": lot_id, "text": "第三名的工期明显不合理", "idempotencyKey": f"obj-{uuid.uuid4()}"}
        objected = await phone.call("OpeningObject", {"input": objection})
        assert objected["openingObject"]["__typename"] == "OpeningObjected", objected
        ledger.objections[number] += 1


async def auction_bidder(phone: Phone, number: str, lot_id: str, stop_at: datetime, ledger: Ledger) -> None:
    """Bids the minimum next price, a breath after seeing it, until `stop_at`."""
    await register_device(phone, number)
    while datetime.now(UTC) < stop_at:
        state = (await phone.call("AuctionState", {"lotId": lot_id}, fresh=True))["auction"]
        request = {
            "input": {"lotId": lot_id, "amountFen": state["minNextBidFen"], "idempotencyKey": f"bid-{uuid.uuid4()}"}
        }
        result = (await phone.call("BidPlace", request))["bidPlace"]
        if result["__typename"] == "BidPlaced":
            bid = result["bid"]
            ledger.bids.append((bid["seq"], bid["amountFen"], bid["bidderNo"]))
        else:
            code = result.get("code", result["__typename"])
            assert code in ("BID_TOO_LOW", "ALREADY_LEADING", "BID_RATE_LIMITED"), result
            ledger.refusals[code] += 1
        await asyncio.sleep(0.3 + phone.random.random())


async def inbox_reader(phone: Phone, number: str, stop: asyncio.Event) -> None:
    await asyncio.sleep(phone.random.random() * 20)
    await sign_in(phone, number)
    while not stop.is_set():
        await phone.call("Inbox", {"first": 20})
        await think(phone, 5, 15, stop)


async def browser(phone: Phone, announcements: list[str], stop: asyncio.Event) -> None:
    """An anonymous visitor: the home screen, a search, an announcement, now and then a fresh list."""
    from schema.relay import to_global_id

    await asyncio.sleep(phone.random.random() * 10)
    while not stop.is_set():
        try:
            roll = phone.random.random()
            if roll < 0.5:
                await phone.call("AnnouncementList", {"first": 20}, fresh=roll < 0.05)
            elif roll < 0.8:
                await phone.call("AnnouncementSearch", {"query": phone.random.choice(SEARCH_WORDS), "first": 10})
            else:
                pk = phone.random.choice(announcements)
                await phone.call("AnnouncementDetail", {"id": to_global_id("Announcement", pk)})
        except Unanswered:
            pass
        await think(phone, 4, 16, stop)  # reading a list or an announcement takes a while
