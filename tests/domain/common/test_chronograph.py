"""The chronograph on the real database: leases, periodic jobs, and due transitions fired once."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from domain.accounts import sessions
from domain.accounts.models import User
from domain.common import chronograph
from domain.common.chronograph import PeriodicJob, TimedTransition, fire_due, run_periodic, take_lease
from domain.common.models import OutboxEvent, SchedulerLease
from domain.db import MODEL_MODULES, Model
from domain.wiring import wire
from tests.domain import factories as df

LOCK = timedelta(minutes=15)


def job(name: str = "test.job", every: timedelta = timedelta(minutes=5)) -> tuple[PeriodicJob, list[datetime]]:
    runs: list[datetime] = []

    async def run(now: datetime) -> None:
        runs.append(now)

    return PeriodicJob(name, every, run), runs


async def test_one_holder_per_period(db, manual_clock):
    # given a job every 5 minutes and two processes asking for it at the same moment
    every, _ = job()
    now = manual_clock.now()

    # when both ask for the lease, concurrently
    first = await asyncio.gather(take_lease(every, "a", now), take_lease(every, "b", now))

    # then exactly one gets it, and nobody gets it again within the period
    assert sorted(first) == [False, True]
    assert not await take_lease(every, "a", now + timedelta(minutes=4, seconds=59))
    assert not await take_lease(every, "b", now + timedelta(minutes=4, seconds=59))

    # when the period is over, again exactly one gets it
    later = now + timedelta(minutes=5)
    second = await asyncio.gather(take_lease(every, "b", later), take_lease(every, "a", later))
    assert sorted(second) == [False, True]
    lease = await SchedulerLease.get(name="test.job")
    assert lease.leased_until == later + timedelta(minutes=5)
    assert lease.last_run_at == later
    assert await SchedulerLease.all().count() == 1


async def test_each_job_has_its_own_lease(db, manual_clock):
    hourly, _ = job("test.hourly", timedelta(hours=1))
    minutely, _ = job("test.minutely", timedelta(minutes=1))
    assert await take_lease(hourly, "a")
    assert await take_lease(minutely, "b")
    manual_clock.advance(minutes=1)
    assert await take_lease(minutely, "a")
    assert not await take_lease(hourly, "b")


async def test_periodic_jobs_run_once_per_period_and_survive_a_failure(db, manual_clock):
    # given a job that works and one that always fails, run by two processes
    purge, runs = job("test.purge")

    async def broken(now: datetime) -> None:
        raise RuntimeError("disk full")

    jobs = [PeriodicJob("test.broken", timedelta(minutes=5), broken), purge]

    # when both processes tick twice within one period
    ticks = [await run_periodic(jobs, holder) for holder in ("a", "b", "a", "b")]

    # then the working job ran once, the failing one did not stop it
    assert ticks == [["test.purge"], [], [], []]
    assert runs == [manual_clock.now()]

    # when the period is over, it runs once more
    manual_clock.advance(minutes=5)
    assert [await run_periodic(jobs, holder) for holder in ("b", "a")] == [["test.purge"], []]
    assert len(runs) == 2


async def test_fire_due_unlocks_exactly_the_due_users(db, manual_clock):
    # given a user locked now for 15 minutes, one locked later, and one never locked
    org = await df.organisation()
    now = manual_clock.now()
    early = await df.user(org, locked_until=now + LOCK)
    late = await df.user(org, locked_until=now + LOCK + timedelta(minutes=10))
    free = await df.user(org)

    # when nothing is due yet
    manual_clock.advance(LOCK - timedelta(seconds=1))
    assert await fire_due() == 0

    # when the first lock is due
    manual_clock.advance(seconds=1)
    fired = await fire_due()

    # then exactly that user is unlocked, its check cleared and the change recorded
    assert fired == 1
    early = await User.get(id=early.id)
    assert (early.locked_until, early.next_check_at, early.failed_logins) == (None, None, 0)
    late = await User.get(id=late.id)
    assert late.locked_until is not None
    assert late.next_check_at == now + LOCK + timedelta(minutes=10)
    unlocked = await OutboxEvent.filter(type="user.unlocked")
    assert [(e.object_id, e.actor_label) for e in unlocked] == [(str(early.id), "client:system")]
    assert unlocked[0].audience["users"] == [early.id]

    # and firing again at the same time does nothing more
    assert await fire_due() == 0

    # when the second lock is due, only it fires
    manual_clock.advance(minutes=10)
    assert await fire_due() == 1
    assert await User.filter(next_check_at__not_isnull=True).count() == 0
    assert await OutboxEvent.filter(type="user.unlocked").count() == 2
    assert (await User.get(id=free.id)).failed_logins == 0


async def test_an_explicit_time_is_used_instead_of_the_clock(db, manual_clock):
    org = await df.organisation()
    due = await df.user(org, locked_until=manual_clock.now() + LOCK)
    assert await fire_due(now=manual_clock.now() + LOCK) == 1
    assert (await User.get(id=due.id)).locked_until is None


async def test_fire_due_works_in_batches(db, manual_clock):
    # given more due users than one batch
    org = await df.organisation()
    for _ in range(5):
        await df.user(org, locked_until=manual_clock.now())

    # when fired with a batch of 2, each call moves at most 2
    assert [await fire_due(batch=2) for _ in range(4)] == [2, 2, 1, 0]
    assert await OutboxEvent.filter(type="user.unlocked").count() == 5


async def test_one_failing_object_does_not_hold_back_the_others(db, manual_clock, monkeypatch):
    # given three due users, and an unlock that writes, then fails, for the second of them
    org = await df.organisation()
    users = [await df.user(org, locked_until=manual_clock.now()) for _ in range(3)]
    poisoned = users[1]

    async def flaky(user: User, now: datetime) -> None:
        if user.id == poisoned.id:
            await User.filter(id=user.id).update(failed_logins=0, locked_until=None)
            raise RuntimeError("half done")
        await sessions.unlock_due(user, now)

    monkeypatch.setitem(chronograph._transitions, "user.unlock", TimedTransition("user.unlock", User, flaky))

    # when the chronograph fires
    fired = await fire_due()

    # then the others moved, and the failing one is untouched and still due
    assert fired == 2
    unlocked = await OutboxEvent.filter(type="user.unlocked").values_list("object_id", flat=True)
    assert sorted(unlocked) == sorted([str(users[0].id), str(users[2].id)])
    still = await User.get(id=poisoned.id)
    assert (still.failed_logins, still.locked_until, still.next_check_at) == (5, manual_clock.now(), manual_clock.now())

    # when the fault is gone, the next tick moves it
    monkeypatch.undo()
    assert await fire_due() == 1
    assert await User.filter(next_check_at__not_isnull=True).count() == 0


async def test_a_transition_that_does_not_move_on_is_cleared(db, manual_clock, monkeypatch):
    # given a due user and a transition that forgets to move next_check_at on
    org = await df.organisation()
    due = await df.user(org, locked_until=manual_clock.now())

    async def forgetful(user: User, now: datetime) -> None:
        return None

    monkeypatch.setitem(chronograph._transitions, "user.unlock", TimedTransition("user.unlock", User, forgetful))

    # when fired, then its check is cleared so that it does not fire at every tick
    assert await fire_due() == 1
    assert await fire_due() == 0
    after = await User.get(id=due.id)
    assert (after.next_check_at, after.locked_until) == (None, manual_clock.now())


async def test_two_concurrent_chronographs_fire_each_due_user_once(db, manual_clock):
    # given five users whose locks are due
    org = await df.organisation()
    users = [await df.user(org, locked_until=manual_clock.now() + LOCK) for _ in range(5)]
    manual_clock.advance(LOCK)

    # when two chronograph processes fire at the same moment
    fired = await asyncio.gather(fire_due(), fire_due())

    # then each user was unlocked exactly once
    assert sum(fired) == 5
    events = await OutboxEvent.filter(type="user.unlocked").values_list("object_id", flat=True)
    assert sorted(events) == sorted(str(u.id) for u in users)


def test_the_user_unlock_transition_is_registered():
    wire()
    assert ("user.unlock", User, sessions.unlock_due) in [(t.name, t.model, t.fire) for t in chronograph.transitions()]


def _run(script: str) -> list[str]:
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    return sorted(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_worker_process_that_builds_no_schema_fires_every_transition():
    # given every model that stores a next due time (each needs a timed transition to move it)
    models = {
        f"{m.__module__}.{m.__name__}"
        for module in MODEL_MODULES
        for m in vars(importlib.import_module(module)).values()
        if isinstance(m, type) and issubclass(m, Model) and m.__module__ == module and "next_check_at" in m._meta.fields
    }
    assert "domain.auctions.models.Auction" in models
    models.discard("domain.publication.models.Lot")  # a column no code sets: a lot has no time-driven step

    # when a fresh interpreter builds its services as the worker does (api/manage.py), never the GraphQL schema
    script = (
        "import json; from api.services import build_services; from api.settings import Settings; "
        "from domain.common import chronograph as c; build_services(Settings()); "
        "print(json.dumps([f'{t.model.__module__}.{t.model.__name__}' for t in c.transitions()]))"
    )

    # then a timed transition moves every one of them (a worker once fired no auction phase change, the schema
    # being the only importer of the auctions)
    assert set(_run(script)) == models


IMPORT_EVERYTHING = (
    "import json, pkgutil, importlib\n"
    "for pkg in ('domain', 'api', 'schema', 'notifications'):\n"
    "    for m in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + '.'):\n"
    "        if '.migrations.' not in m.name and m.name != 'api.__main__':\n"
    "            importlib.import_module(m.name)\n"
)


def test_no_transition_registers_itself_on_import():
    # when a fresh interpreter imports every module of the domain, the API, the schema and notifications
    script = IMPORT_EVERYTHING + (
        "from domain.common import chronograph\nprint(json.dumps([t.name for t in chronograph.transitions()]))"
    )

    # then no transition is registered: only domain/wiring.wire() registers them
    assert _run(script) == []


def test_no_award_blocker_registers_itself_on_import():
    # when a fresh interpreter imports every module
    script = IMPORT_EVERYTHING + (
        "from domain.results import services as results\nprint(json.dumps([b.__name__ for b in results._blockers]))"
    )

    # then no award blocker is registered: domain/wiring._award_blockers registers each (an award must not skip
    # the pending-objection check because complaints happened not to be imported)
    assert _run(script) == [], "award blockers register at import; domain/wiring._award_blockers is their place"
