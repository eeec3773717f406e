"""The chronograph: time-driven transitions and periodic jobs, safe with several processes.

Every object with a time-driven transition stores its next due time in an indexed
`next_check_at`; `fire_due` claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL) and fires
their transition in a transaction. Periodic jobs run under a lease so that one process runs
each job per period.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.common import clock
from domain.common.models import SchedulerLease
from domain.common.storage import claim
from domain.db import Model

log = logging.getLogger("palmtrade.chronograph")


@dataclass(frozen=True, slots=True)
class TimedTransition:
    name: str
    model: type[Model]
    fire: Callable[[Any, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[datetime], Awaitable[object]]


_transitions: dict[str, TimedTransition] = {}


def register(name: str, model: type[Model], fire: Callable[[Any, datetime], Awaitable[None]]) -> None:
    """Registers the time-driven transition of a model; `fire` must move `next_check_at` on.
    Called by domain/wiring.wire() alone, so that a process fires what it wired, whatever it imported."""
    _transitions[name] = TimedTransition(name, model, fire)


def transitions() -> list[TimedTransition]:
    """The registered transitions; domain/wiring.wire() registers every one (nothing registers on import)."""
    return list(_transitions.values())


async def fire_due(now: datetime | None = None, batch: int = 100) -> int:
    """Fires every transition that is due; returns how many objects moved."""
    when = now or clock.now()
    fired = 0
    for transition in transitions():
        async with in_transaction():
            due = await claim(transition.model.filter(next_check_at__lte=when).order_by("next_check_at").limit(batch))
            for obj in due:
                try:
                    # a savepoint: an object whose transition fails stays due and holds back no other
                    async with in_transaction():
                        before = obj.next_check_at  # type: ignore[attr-defined]
                        await transition.fire(obj, when)
                        if obj.next_check_at == before:  # type: ignore[attr-defined]
                            log.error("%s left next_check_at unchanged on %s; cleared", transition.name, obj.pk)
                            await transition.model.filter(pk=obj.pk).update(next_check_at=None)
                except Exception:
                    log.exception("%s failed on %s; retried at the next tick", transition.name, obj.pk)
                    continue
                fired += 1
    return fired


async def take_lease(job: PeriodicJob, holder: str, now: datetime | None = None) -> bool:
    """True for exactly one holder per period of the job."""
    when = now or clock.now()
    taken = await SchedulerLease.filter(name=job.name, leased_until__lte=when).update(
        holder=holder, leased_until=when + job.every, last_run_at=when
    )
    if taken:
        return True
    if await SchedulerLease.exists(name=job.name):
        return False
    try:
        await SchedulerLease.create(name=job.name, holder=holder, leased_until=when + job.every, last_run_at=when)
    except IntegrityError:
        return False
    return True


async def run_periodic(jobs: list[PeriodicJob], holder: str, now: datetime | None = None) -> list[str]:
    """Runs each job whose lease this holder gets; returns the names run."""
    ran = []
    for job in jobs:
        if await take_lease(job, holder, now):
            try:
                await job.run(now or clock.now())
                ran.append(job.name)
            except Exception:
                log.exception("periodic job %s failed", job.name)
    return ran
