"""Crash test: kill -9 the server during a burst of bids and restart it; every acknowledged bid is there.

A real server process (``python -m api.manage serve``, RUN_WORKERS=1) on PostgreSQL + Redis serves a
live auction. Bidders read the price and raise it by one increment, each request with an idempotency
key; a request whose connection breaks is sent again, unchanged, until it gets an answer (as the app
does), so a bid that committed just before the crash is answered by its replay. Mid-burst the server
gets SIGKILL and is started again on the same port; bidding goes on. Afterwards the database must hold
exactly the acknowledged bids, each once, with the sequence and amount the client saw, sequences
1..N without a gap, prices strictly increasing, and the auction row agreeing with the last bid.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import connections

from domain.accounts.models import SigningKey
from domain.accounts.tokens import _create_key
from domain.auctions.models import Auction, AuctionBid
from domain.audit import services as audit
from domain.audit.models import AuditEntry
from domain.common.models import OutboxEvent
from schema.relay import from_global_id
from tests import factories as f
from tests.conftest import ROOT, SERVER_START, free_port
from tests.scenarios.test_auction import START_PRICE, STATE, at, auction_lot, bidders

pytestmark = pytest.mark.postgres_redis

needs_services = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and (os.environ.get("DATABASE_URL") or "").startswith("postgres")),
    reason="needs DATABASE_URL on PostgreSQL and REDIS_URL (the second pass of .ci/run sets both)",
)

BIDDERS = 8
ACKS_BEFORE_KILL = 15
ACKS_AFTER_RESTART = 10
BID = """mutation($input: BidPlaceInput!) { bidPlace(input: $input) {
  __typename
  ... on BidPlaced { bid { seq amountFen bidderNo } }
  ... on Error { code message }
} }"""
REFUSALS = {"BID_TOO_LOW", "ALREADY_LEADING", "BID_RATE_LIMITED"}


class Server:
    """One `api.manage serve` process on a fixed port, which the test kills and starts again."""

    def __init__(self, port: int, database_url: str, tmp: Path) -> None:
        self.port, self.database_url, self.tmp = port, database_url, tmp
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self) -> None:
        self.starts += 1
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "SEED_DEMO": "0",
            "RUN_WORKERS": "1",
            "SECRET_KEY": "crash-test-secret-0123456789abcdef0123",
            "AUDIT_EXPORT_PATH": str(self.tmp / "heads.jsonl"),
            "LOG_LEVEL": "warning",
        }
        log = (self.tmp / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.manage", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp.glob("server-*.log")))

    async def healthy(self, within: float = SERVER_START) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.proc is not None
                assert self.proc.poll() is None, self.logs()
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not come up\n{self.logs()}")


@pytest.fixture
def process(db, tmp_path) -> Iterator[Server]:
    s = Server(free_port(), db.url, tmp_path)
    try:
        yield s
    finally:
        s.stop()


class Bidder:
    """A phone: reads the price, bids one increment more, resends a request whose answer was lost."""

    def __init__(self, server: Server, lot_id: str, token: str) -> None:
        self.server, self.lot_id, self.token = server, lot_id, token
        self.acks: list[tuple[int, int, str]] = []  # (seq, amount, bidder number) as acknowledged
        self.refusals: dict[str, int] = {}
        self.resent = 0
        self.in_flight = False
        self.last_resent = False
        self.answered_after_resend: list[int] = []  # seqs of bids acknowledged only after a broken connection

    async def post(self, http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The answer to this request, however many times the connection breaks before it arrives."""
        headers = {"authorization": f"Bearer {self.token}"}
        self.last_resent = False
        first = True
        while True:
            if not first:
                self.resent += 1
                self.last_resent = True
                await asyncio.sleep(0.05)
            first = False
            try:
                response = await http.post(
                    self.server.url, json={"query": query, "variables": variables}, headers=headers
                )
            except httpx.TransportError:
                continue  # killed, or not listening yet: the same request again
            body: dict[str, Any] = response.json()
            assert response.status_code == 200, body
            assert "errors" not in body, body
            return body["data"]

    async def run(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            state = (await self.post(http, STATE, {"lotId": self.lot_id}))["auction"]
            amount = state["minNextBidFen"]
            key = f"bid-{uuid.uuid4()}"
            request = {"input": {"lotId": self.lot_id, "amountFen": amount, "idempotencyKey": key}}
            while True:
                self.in_flight = True
                try:
                    result = (await self.post(http, BID, request))["bidPlace"]
                finally:
                    self.in_flight = False
                if result.get("code") != "BID_RATE_LIMITED":
                    break
                self.refusals["BID_RATE_LIMITED"] = self.refusals.get("BID_RATE_LIMITED", 0) + 1
                await asyncio.sleep(0.2)  # not processed: the same request again a little later
            if result["__typename"] == "BidPlaced":
                bid = result["bid"]
                assert bid["amountFen"] == amount, (bid, amount)
                self.acks.append((bid["seq"], bid["amountFen"], bid["bidderNo"]))
                if self.last_resent:
                    self.answered_after_resend.append(bid["seq"])
            else:
                assert result.get("code") in REFUSALS, result
                self.refusals[result["code"]] = self.refusals.get(result["code"], 0) + 1


async def _until(condition: Any, within: float, what: str, server: Server, tasks: list[asyncio.Task[None]]) -> None:
    deadline = time.monotonic() + within
    while not condition():
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{server.logs()}")
        await asyncio.sleep(0.01)


async def _committed_not_yet_acknowledged(auction_id: int, phones: list[Bidder], within: float) -> bool:
    """Waits until the newest committed bid is one no phone has seen acknowledged (polling the database)."""
    conn = connections.get("default")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        _, rows = await conn.execute_query("SELECT max(seq) FROM auction_bid WHERE auction_id = $1", [auction_id])
        newest = rows[0][0] or 0
        if newest > max((s for p in phones for s, _, _ in p.acks), default=0) and any(p.in_flight for p in phones):
            return True
    return False


@pytest.fixture
async def three_weeks_ago(api, manual_clock) -> AsyncIterator[datetime]:
    """The manual clock 21 days and an hour back, with a signing key active since then (removed afterwards)."""
    real_now = datetime.now(UTC)
    then = real_now - timedelta(days=21, hours=1, minutes=5)
    key = await _create_key(then, then, api.services.settings.kek_ring())
    await api.services.keyring.load()
    manual_clock.set(then)
    try:
        yield real_now
    finally:
        await SigningKey.filter(kid=key.kid).delete()
        await api.services.keyring.load()


@needs_services
async def test_kill_9_during_a_burst_of_bids_loses_no_acknowledged_bid(api, manual_clock, three_weeks_ago, process):
    server, real_now = process, three_weeks_ago
    # given a lot whose online auction started five minutes ago (set up through the in-process API on a
    # manual clock 21 days back, then moved to now: the entries qualify, free bidding runs 25 more minutes)
    operator = await f.operator_token(api)
    lot_id, _, free_ends = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    people = await bidders(api, operator, lot_id, BIDDERS)
    await at(manual_clock, real_now)
    auction = await Auction.get(lot_id=int(from_global_id(lot_id)[1]))
    assert auction.phase == "free"
    assert free_ends > real_now + timedelta(minutes=20)

    # and a real server process on PostgreSQL + Redis (its own clock is the real one), the bidders signed in on it
    server.start()
    await server.healthy()
    limits = httpx.Limits(max_connections=BIDDERS * 2, max_keepalive_connections=BIDDERS * 2)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10), limits=limits) as http:
        tokens = []
        for person in people:
            login = await http.post(
                server.url,
                json={"query": f.LOGIN, "variables": {"input": {"phone": person.phone, "password": f.PASSWORD}}},
            )
            tokens.append(login.json()["data"]["authLogin"]["session"]["accessToken"])
        phones = [Bidder(server, lot_id, token) for token in tokens]

        def acked() -> int:
            return sum(len(p.acks) for p in phones)

        # when they bid as fast as they may
        stop = asyncio.Event()
        tasks = [asyncio.create_task(p.run(http, stop)) for p in phones]
        try:
            await _until(lambda: acked() >= ACKS_BEFORE_KILL, 20, "the first acknowledgements", server, tasks)
            # and the server is killed in the middle of it, at the worst moment: bids in flight, one of them
            # committed but its answer not yet seen by its phone (else after 3 s, whatever is in flight)
            await _until(lambda: sum(p.in_flight for p in phones) >= 2, 5, "bids in flight", server, tasks)
            worst_moment = await _committed_not_yet_acknowledged(auction.id, phones, within=3.0)
            # (no await between this check and the kill: what is in flight now is in flight at the kill)
            await _until(lambda: any(p.in_flight for p in phones), 5, "a bid in flight", server, tasks)
            in_flight_at_kill = sum(p.in_flight for p in phones)
            killed_at = datetime.now(UTC)
            server.kill9()
            acked_at_kill = acked()
            await asyncio.sleep(0.3)  # the phones keep trying meanwhile
            server.start()
            await server.healthy()
            await _until(
                lambda: acked() >= acked_at_kill + ACKS_AFTER_RESTART, 20, "bids after the restart", server, tasks
            )
        finally:
            stop.set()
            done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        # (the restarted server's dispatcher delivers what the killed one left behind)
        drained = time.monotonic() + 20
        while await OutboxEvent.filter(dispatched_at=None).exists():
            if time.monotonic() > drained:
                stuck = await OutboxEvent.filter(dispatched_at=None).values(
                    "id", "type", "outcome", "attempts", "next_attempt_at", "last_error"
                )
                raise AssertionError(f"the outbox was not drained after the restart: {stuck}\n{server.logs()}")
            await asyncio.sleep(0.1)

    # then the database holds exactly the bids the phones saw acknowledged: none lost, none twice, none unknown
    acks = sorted(a for p in phones for a in p.acks)
    seqs = [s for s, _, _ in acks]
    assert len(set(seqs)) == len(seqs), f"a sequence number was acknowledged twice: {acks}"
    stored = [
        tuple(row)
        for row in await AuctionBid.filter(auction_id=auction.id)
        .order_by("seq")
        .values_list("seq", "amount_fen", "bidder_no")
    ]
    assert stored == acks
    # with sequences 1..N without a gap and prices strictly increasing with the sequence
    assert seqs == list(range(1, len(seqs) + 1))
    prices = [a for _, a, _ in acks]
    assert all(x < y for x, y in itertools.pairwise(prices)), prices
    # and the auction row agrees with the last bid
    await auction.refresh_from_db()
    assert (auction.seq, auction.current_price_fen, auction.leading_bidder_no) == acks[-1]
    # and each bid's public event committed with it, once
    events = await OutboxEvent.filter(type="auction.bid_placed", outcome="success").values_list("payload", flat=True)
    assert sorted((e["seq"], e["price_fen"], e["bidder_no"]) for e in events) == acks
    # and every event was audited exactly once, on an unbroken hash chain, although a dispatcher was killed
    outbox_ids = set(await OutboxEvent.all().values_list("event_id", flat=True))
    audited = await AuditEntry.all().values_list("event_id", flat=True)
    assert len(audited) == len(set(audited))
    assert set(audited) == outbox_ids
    chain = await audit.verify()
    assert chain.ok, chain
    # (the kill really happened mid-burst, and bidding went on after it)
    assert in_flight_at_kill >= 1
    assert 0 < acked_at_kill < len(acks)
    # (a bid acknowledged only after a resend but placed before the kill was committed, its answer lost, and
    # answered by the replay of its idempotency key)
    resent = sorted(s for p in phones for s in p.answered_after_resend)
    placed = dict(await AuctionBid.filter(auction_id=auction.id, seq__in=resent).values_list("seq", "placed_at"))
    replayed = sum(1 for s in resent if placed[s] < killed_at)
    refusals = {k: sum(p.refusals.get(k, 0) for p in phones) for k in sorted(REFUSALS)}
    print(
        f"\ncrash test: {len(acks)} bids acknowledged ({acked_at_kill} before the kill), {in_flight_at_kill} in flight "
        f"at the kill (a commit not yet acknowledged: {worst_moment}), {sum(p.resent for p in phones)} requests "
        f"resent, {len(resent)} bids acknowledged after a resend ({replayed} of them committed before the kill: "
        f"answered by their replay), refusals {refusals}"
    )
