"""Objections, complaints, lot suspensions, reports and collusion alerts: what complainants, tenderers
and supervisors hear."""

from __future__ import annotations

from domain.accounts.models import User
from domain.common.models import OutboxEvent
from domain.complaints.models import Report
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Lot
from notifications.rules.common import lot_and_project, managers, notify, payload_time, registrants, supervisors_of
from notifications.templates import DECISION_WORDS, REPORT_STATUS_WORDS, SIGNAL_WORDS, STAGE_WORDS, SUBJECT_WORDS, words


async def _objection(event: OutboxEvent, orgs: list[int], lot: Lot, kind: Kind) -> list[NewNotification]:
    stage_zh, stage_en = words(STAGE_WORDS, event.payload.get("stage"))
    return notify(
        event,
        await active_users_of(orgs),
        kind,
        event.type,
        lot=lot.name,
        trade_code=lot.trade_code,
        stage_zh=stage_zh,
        stage_en=stage_en,
        due=payload_time(event, "answer_due_at"),
    )


async def objection_raised(event: OutboxEvent) -> list[NewNotification]:
    """To the tenderer (and its agency): answer by the due time."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return await _objection(event, managers(project), lot, Kind.OBJECTION)


async def objection_answered(event: OutboxEvent) -> list[NewNotification]:
    """To the objector: the tenderer answered."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    return await _objection(event, [int(event.payload["organisation_id"])], found[0], Kind.OBJECTION)


async def objection_overdue(event: OutboxEvent) -> list[NewNotification]:
    """To the objector, the tenderer (and its agency) and the supervisors of the event's category."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    orgs = [int(event.payload["organisation_id"]), *managers(project)]
    orgs += await supervisors_of(str(event.payload["category"]))
    return await _objection(event, orgs, lot, Kind.OBJECTION_OVERDUE)


async def complaint_notice(event: OutboxEvent) -> list[NewNotification]:
    """Filed: to the supervisors of the category; accepted or decided: to the complainant and the tenderer
    (and its agency); refused: to the complainant."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    complainant = [int(event.payload["organisation_id"])]
    if event.type == "complaint.filed":
        orgs = await supervisors_of(str(event.payload["category"]))
    elif event.type == "complaint.refused":
        orgs = complainant
    else:
        orgs = complainant + managers(project)
    subject_zh, subject_en = words(SUBJECT_WORDS, event.payload.get("subject"))
    decision_zh, decision_en = words(DECISION_WORDS, event.payload.get("decision"))
    announcement = event.payload.get("announcement_id")
    return notify(
        event,
        await active_users_of(orgs),
        Kind.COMPLAINT,
        event.type,
        object_type="Announcement" if announcement else None,
        object_id=str(announcement) if announcement else None,
        lot=lot.name,
        trade_code=lot.trade_code,
        subject_zh=subject_zh,
        subject_en=subject_en,
        due=payload_time(event, "accept_due_at") or payload_time(event, "decide_due_at"),
        reason=event.payload.get("reason") or "",
        decision_zh=decision_zh,
        decision_en=decision_en,
    )


async def complaint_overdue(event: OutboxEvent) -> list[NewNotification]:
    """To the supervisors of the event's category: acceptance or decision late."""
    stage = event.payload.get("stage")
    if stage not in ("accept", "decide"):
        return []
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    return notify(
        event,
        await active_users_of(await supervisors_of(str(event.payload["category"]))),
        Kind.COMPLAINT_OVERDUE,
        f"complaint.overdue.{stage}",
        lot=lot.name,
        trade_code=lot.trade_code,
        due=payload_time(event, "due_at"),
    )


async def lot_suspension(event: OutboxEvent) -> list[NewNotification]:
    """Suspended or resumed: to the lot's registered bidders and the tenderer (and its agency)."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return notify(
        event,
        await active_users_of([*await registrants(lot.id), *managers(project)]),
        Kind.LOT_SUSPENSION,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        reason=event.payload.get("reason") or "",
    )


async def report_status_changed(event: OutboxEvent) -> list[NewNotification]:
    """To the reporter when it reported signed in (an anonymous one follows with its tracking code)."""
    report = await Report.get_or_none(id=int(event.object_id))
    if report is None or report.reporter_user_id is None:
        return []
    if not await User.exists(id=report.reporter_user_id, is_active=True):
        return []
    status_zh, status_en = words(REPORT_STATUS_WORDS, event.payload.get("status"))
    return notify(
        event,
        [report.reporter_user_id],
        Kind.REPORT_STATUS,
        event.type,
        status_zh=status_zh,
        status_en=status_en,
    )


async def collusion_alert(event: OutboxEvent) -> list[NewNotification]:
    """To the supervisors of the lot's category only (围标串标预警)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    signal_zh, signal_en = words(SIGNAL_WORDS, event.payload.get("signal"))
    return notify(
        event,
        await active_users_of(await supervisors_of(str(event.payload["category"]))),
        Kind.COLLUSION_ALERT,
        event.type,
        lot=lot.name,
        trade_code=lot.trade_code,
        signal_zh=signal_zh,
        signal_en=signal_en,
    )
