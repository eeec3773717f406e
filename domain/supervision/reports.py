"""Scheduled statistics reports to supervisors (monthly, quarterly, half-yearly, yearly): at each period's end a
periodic step stores, for every approved supervisor organisation, the figures of its categories as a snapshot (rows
and CSV) with its files (CSV and PDF, kept as documents: domain/supervision/report_files), and records an event that
notifies its users. Never public: a supervisor reads its own, operators all."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import NotFound, PermissionDenied
from domain.common.events import Audience, DomainEvent
from domain.supervision import report_files, statistics
from domain.supervision.report_models import StatisticsReport


@dataclass(frozen=True, kw_only=True)
class StatisticsReportReady(DomainEvent):
    type = "statistics.report_ready"
    object_type = "StatisticsReport"
    supervisor_id: int
    period: str
    label: str


async def produce_due(now: datetime) -> int:
    """Stores the report of every period kind's last complete period for every supervisor that has none yet;
    returns how many were made (idempotent: one per supervisor, period kind and period)."""
    made = 0
    supervisors = await Organisation.filter(status="approved").order_by("id")
    for org in supervisors:
        if "supervisor" not in org.kinds or not org.supervised_categories:
            continue
        for period in statistics.Period:
            starts_on, ends_on = statistics.last_complete(period, now)
            label = statistics.period_of(statistics._start_of(starts_on), period)
            existing = await StatisticsReport.get_or_none(supervisor_id=org.id, period=period.value, label=label)
            if existing is not None:
                if not await report_files.has_files(existing.id):  # made before reports had files
                    async with in_transaction():
                        await report_files.keep(existing, org.name)
                continue
            categories = sorted(org.supervised_categories)
            reader = Actor(
                org_id=org.id, roles=frozenset({Role.SUPERVISOR}), supervised_categories=frozenset(categories)
            )
            rows = await statistics.figures(reader, period, starts_on, ends_on)
            async with in_transaction():
                report = await StatisticsReport.create(
                    supervisor_id=org.id,
                    period=period.value,
                    label=label,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    categories=categories,
                    rows=[asdict(r) for r in rows],
                    csv=statistics.as_csv(rows),
                    created_at=clock.now(),
                )
                await report_files.keep(report, org.name)
                await events.record(
                    StatisticsReportReady(
                        object_id=str(report.id),
                        supervisor_id=org.id,
                        period=period.value,
                        label=label,
                        audience=Audience(orgs=(org.id,), roles=()),
                    ),
                    SYSTEM,
                )
            made += 1
    return made


def _readable(actor: Actor) -> dict[str, Any]:
    if actor.has(Role.OPERATOR) and actor.client_id is None:
        return {}
    if actor.has(Role.SUPERVISOR) and actor.org_id is not None and actor.client_id is None:
        return {"supervisor_id": actor.org_id}
    raise PermissionDenied()


async def reports(actor: Actor, period: statistics.Period | None = None) -> list[StatisticsReport]:
    """The reports the caller may read, newest first: a supervisor its own, an operator every one."""
    query = StatisticsReport.filter(**_readable(actor))
    if period is not None:
        query = query.filter(period=period.value)
    return await query.order_by("-ends_on", "period", "id").limit(200)


async def report(actor: Actor, report_id: int) -> StatisticsReport:
    """One report the caller may read, else NotFound."""
    found = await StatisticsReport.get_or_none(id=report_id, **_readable(actor))
    if found is None:
        raise NotFound()
    return found
