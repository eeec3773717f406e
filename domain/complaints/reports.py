"""Reports (举报) from anyone, also without signing in, about a lot or an organisation: the reporter gets
a tracking code once (only its SHA-256 is kept) and follows the status with it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.complaints.events import ReportReceived, ReportStatusChanged
from domain.complaints.models import Report
from domain.complaints.shared import MAX_TEXT, Evidence, checked_evidence, keeper_roles, public_lot, supervises
from domain.complaints.states import REPORT


def tracking_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_tracking_code() -> str:
    """JB + 16 characters of Crockford base32 (80 bits): not guessable, easy to read out."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "JB" + "".join(secrets.choice(alphabet) for _ in range(16))


@dataclass(frozen=True, slots=True)
class FiledReport:
    report: Report
    tracking_code: str | None  # given once; None on the replay of an idempotency key


@raises()
@use_case("report.file", "Report")
async def file_report(
    actor: Actor,
    text: str,
    evidence: list[Evidence],
    lot_id: int | None = None,
    organisation_id: int | None = None,
    idempotency_key: str | None = None,
) -> FiledReport:
    """Anyone, also anonymously, reports about a lot or an organisation; returns the tracking code once
    (only its SHA-256 is kept; a replay of the idempotency key gets the report without it)."""
    body = required_text(text, "text", MAX_TEXT)
    files = checked_evidence(evidence)
    if (lot_id is None) == (organisation_id is None):
        raise InvalidInput(field="lotId" if lot_id is None else "organisationId")
    category = None
    if lot_id is not None:
        _, project, _ = await public_lot(lot_id)
        category = project.category
    elif not await Organisation.exists(id=organisation_id):
        raise NotFound()
    code = new_tracking_code()
    request = {"lot": lot_id, "org": organisation_id, "text": body, "evidence": files}

    async def create() -> dict[str, Any]:
        now = clock.now()
        made = await Report.create(
            tracking_hash=tracking_hash(code),
            lot_id=lot_id,
            organisation_id=organisation_id,
            category=category,
            reporter_user_id=actor.user_id,
            text=body,
            evidence=files,
            status=REPORT.fire(None, "file", by=actor).value,
            received_at=now,
            updated_at=now,
        )
        await events.record(
            ReportReceived(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=organisation_id,
                category=category,
                anonymous=actor.user_id is None,
                audience=Audience(roles=keeper_roles()),
            ),
            actor,
        )
        return {"id": made.id}

    result, replayed = await run_once(actor, idempotency_key, "report.file", request, create)
    return FiledReport(await Report.get(id=result["id"]), None if replayed else code)


async def report_by_code(code: str) -> Report | None:
    """The report behind a tracking code (no sign-in needed), or None."""
    text = code.strip()
    if not text or len(text) > 64:
        return None
    return await Report.get_or_none(tracking_hash=tracking_hash(text))


def of_categories(categories: list[str]) -> QuerySet[Report]:
    """The reports a supervisor of these categories reads: those of its categories and those about no lot."""
    return Report.filter(Q(category__in=categories) | Q(category__isnull=True))


def supervised_reports(actor: Actor, status: str | None = None) -> QuerySet[Report]:
    """Reports of the supervisor's categories and those about an organisation (operators: all)."""
    if actor.has(Role.OPERATOR):
        query = Report.all()
    elif actor.has(Role.SUPERVISOR):
        query = of_categories(sorted(actor.supervised_categories))
    else:
        raise PermissionDenied()
    return query.filter(status=status) if status else query


async def _move_report(actor: Actor, report_id: int, transition: str, outcome: str | None) -> dict[str, Any]:
    current = await lock(Report.filter(id=report_id)).first()
    if current is None or not supervises(actor, current.category):
        raise NotFound()
    target = REPORT.fire(current.status, transition, by=actor)
    current.status, current.handled_by, current.updated_at = target.value, actor.user_id, clock.now()
    if outcome is not None:
        current.outcome = outcome
    await current.save()
    users = (current.reporter_user_id,) if current.reporter_user_id else ()
    await events.record(
        ReportStatusChanged(
            object_id=str(current.id),
            status=target.value,
            category=current.category,
            audience=Audience(users=users, roles=keeper_roles()),
        ),
        actor,
    )
    return {"id": current.id}


@raises()
@use_case("report.investigate", "Report", lambda actor, report_id, *a, **k: str(report_id))
async def investigate_report(actor: Actor, report_id: int, idempotency_key: str | None = None) -> Report:
    """The supervisor starts investigating a received report."""

    async def change() -> dict[str, Any]:
        return await _move_report(actor, report_id, "investigate", None)

    result, _ = await run_once(actor, idempotency_key, "report.investigate", {"id": report_id}, change)
    return await Report.get(id=result["id"])


@raises()
@use_case("report.close", "Report", lambda actor, report_id, *a, **k: str(report_id))
async def close_report(actor: Actor, report_id: int, outcome: str, idempotency_key: str | None = None) -> Report:
    """The supervisor closes a report with its outcome, which the reporter reads with the code."""
    text = required_text(outcome, "outcome", MAX_TEXT)

    async def change() -> dict[str, Any]:
        return await _move_report(actor, report_id, "close", text)

    result, _ = await run_once(actor, idempotency_key, "report.close", {"id": report_id, "o": text}, change)
    return await Report.get(id=result["id"])
