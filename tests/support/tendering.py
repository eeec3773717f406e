"""A sealed tender brought to its evaluation through the domain services: published, bid on,
opened, decrypted, closed, with a committee drawn and revealed. Needs the `db` and `manual_clock`
fixtures: the helper moves the clock past the deadline and the decryption window."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.accounts.models import Expert, Organisation
from domain.common import chronograph, clock
from domain.common.actors import Actor, Role
from domain.common.clock import ManualClock
from domain.evaluation import draw
from domain.publication import announcements, projects
from domain.publication.models import Lot, Project
from domain.registration import services as registration
from domain.tendering import opening
from domain.tendering import services as tendering
from domain.tendering.models import SealedBid
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.factories import organisation
from tests.support.commitments import commit

SPECIALTY = "市政公用工程"
OPERATOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))
_people = itertools.count(50_000)


def person(org: Organisation, role: Role) -> Actor:
    """An actor signed in for the organisation (no user row is needed by the services used here)."""
    return Actor(user_id=next(_people), org_id=org.id, roles=frozenset({role}))


def expert_actor(expert_id: int) -> Actor:
    return Actor(expert_id=expert_id, roles=frozenset({Role.EXPERT}))


@dataclass
class Bidder:
    org: Organisation
    actor: Actor
    price_fen: int
    key: dict[str, Any]
    bid: SealedBid | None = None


@dataclass
class Tender:
    lot: Lot
    project: Project
    tenderer: Actor
    bidders: list[Bidder]
    committee: list[int]
    pool: list[int] = field(default_factory=list)

    @property
    def valid_bids(self) -> list[SealedBid]:
        return [b.bid for b in self.bidders if b.bid is not None and b.bid.status == "decrypted"]

    async def reload(self) -> None:
        self.lot = await Lot.get(id=self.lot.id)


async def add_experts(n: int, specialty: str = SPECIALTY, employer: Organisation | None = None) -> list[int]:
    ids = []
    for _ in range(n):
        number = next(_people)
        expert = await Expert.create(
            name=f"专家{number}",
            id_number_hash=hashlib.sha256(f"id-{number}-{secrets.token_hex(4)}".encode()).hexdigest(),
            phone=f"139{number:08d}",
            specialties=[specialty],
            employer=employer,
            created_at=clock.now(),
        )
        ids.append(expert.id)
    return ids


async def published_tender(config: dict[str, Any] | None = None, estimated_price_fen: int = 100_000_000) -> Tender:
    """An open tender without security, bids due in 21 days, its opening scheduled."""
    org = await organisation(kinds=["tenderer"])
    tenderer = person(org, Role.TENDERER)
    deadline = clock.now() + timedelta(days=21)
    form = projects.ProjectForm(
        name="青岛市市北区管网改造工程",
        category="engineering_construction",
        region_code="370200",
        industry="A02",  # 招标项目类型 市政 (a pipe network)
        lots=[
            projects.LotForm(
                name="第1标段",
                procedure="open_tender",
                estimated_price_fen=estimated_price_fen,
                config={"bid_deadline": deadline, "deposit_required": False, **(config or {})},
            )
        ],
    )
    project = await projects.create_project(tenderer, form)
    lot = await Lot.get(project_id=project.id)
    tender = announcements.AnnouncementForm(
        project_id=project.id, type="tender", title="招标公告", body_html="<p>招标</p>", lot_id=lot.id
    )
    await announcements.publish_announcement(tenderer, (await announcements.draft_announcement(tenderer, tender)).id)
    await opening.schedule(lot.id)  # what the dispatcher does on the lot's opening
    return Tender(await Lot.get(id=lot.id), project, tenderer, [], [])


async def evaluating_tender(
    manual_clock: ManualClock,
    prices: list[int],
    *,
    decrypted: int | None = None,
    committee_size: int = 5,
    pool: int = 7,
    config: dict[str, Any] | None = None,
    bidders: list[Organisation] | None = None,
) -> Tender:
    """A tender whose opening has closed and whose committee is drawn: one bidder per price (new organisations, or
    `bidders` in order); the first `decrypted` of them (all by default) hand over their keys, the others' bids become
    invalid. `pool` more experts join the pool first (0: the committee is drawn from the experts already there)."""
    t = await published_tender(config)
    t.pool = await add_experts(pool)
    secret = secrets.token_hex(32)
    first = await draw.commit(OPERATOR, t.lot.id, SPECIALTY, committee_size, draw.commitment_of(secret))
    for i, price in enumerate(prices):
        org = bidders[i] if bidders is not None else await organisation(kinds=["bidder"])
        bidder = Bidder(org, person(org, Role.BIDDER), price, new_key())
        await commit(bidder.actor, t.lot.id, "registration")  # an open tender: 信用承诺制 by default
        await registration.register(bidder.actor, t.lot.id)
        await commit(bidder.actor, t.lot.id, "bid")
        files = {f"技术标-{org.id}.pdf": secrets.token_bytes(8), "商务标.pdf": secrets.token_bytes(8)}
        await tendering.submit(bidder.actor, t.lot.id, seal(bidder.key, t.lot.trade_code, price, files))
        t.bidders.append(bidder)
    deadline = registration.bid_deadline(t.lot)
    assert deadline is not None
    manual_clock.set(deadline + timedelta(seconds=1))
    await chronograph.fire_due()
    for bidder in t.bidders[: len(prices) if decrypted is None else decrypted]:
        await opening.submit_key(bidder.actor, t.lot.id, bidder.key)
    await draw.reveal(OPERATOR, first.id, secret)
    manual_clock.advance(minutes=int(t.lot.config["decryption_window_minutes"]) + 1)
    await chronograph.fire_due()
    for bidder in t.bidders:
        bidder.bid = await SealedBid.filter(lot_id=t.lot.id, organisation_id=bidder.org.id).order_by("-id").first()
    t.committee = draw.committee(await draw.ExpertDraw.filter(lot_id=t.lot.id))
    await t.reload()
    return t


LOCK_TIMEOUT = "SET LOCAL lock_timeout = '2s'"


async def registered_bidder(lot_id: int) -> Actor:
    """A new bidder organisation's person, registered for the lot with both credit commitments signed."""
    org = await organisation(kinds=["bidder"])
    bidder = person(org, Role.BIDDER)
    await commit(bidder, lot_id, "registration")
    await registration.register(bidder, lot_id)
    await commit(bidder, lot_id, "bid")
    return bidder


@contextlib.asynccontextmanager
async def held(take: Callable[[], Awaitable[Any]]) -> AsyncIterator[None]:
    """Another transaction holds what `take` locks until the block ends; the block runs in a transaction of its own
    that waits LOCK_TIMEOUT at most for a lock (PostgreSQL)."""
    taken, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with in_transaction():
            await take()
            taken.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await taken.wait()
    try:
        async with in_transaction() as connection:
            await connection.execute_query(LOCK_TIMEOUT)
            yield
    finally:
        release.set()
        await holder
