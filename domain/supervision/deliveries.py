"""Was everyone told? The notices of a lot with each push's delivery record, and the drawn experts' notices with
their calls and answers: for operators and the supervisors of the lot's category."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.queryset import QuerySet

from domain.accounts.models import User
from domain.common.actors import Actor
from domain.evaluation.models import ExpertNotice
from domain.notifications.models import Device, Notification, PushDelivery
from domain.supervision.evidence import visible_lot


@dataclass(frozen=True, slots=True)
class PushRecord:
    provider: str
    platform: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    kind: str
    title: str
    user_id: int | None
    user_name: str
    organisation_id: int | None
    time_critical: bool
    created_at: datetime
    read_at: datetime | None
    pushes: list[PushRecord] = field(default_factory=list)
    expert_id: int | None = None  # a drawn expert's own notice (expert_drawn), told in the expert app


MAX_NOTICES = 2000  # lot_notices answers at most this many, oldest first; lot_notice_query pages through all


async def lot_notice_query(actor: Actor, lot_id: int, kind: str | None = None) -> QuerySet[Notification]:
    """Every notice about the lot (the lot's own object), of one kind if given; NotFound for a lot the actor may
    not supervise."""
    lot, _ = await visible_lot(actor, lot_id)
    query = Notification.filter(object_type="Lot", object_id=str(lot.id))
    return query.filter(kind=kind) if kind else query


async def lot_notices(actor: Actor, lot_id: int, kind: str | None = None) -> list[NoticeRecord]:
    """The first MAX_NOTICES notices about the lot, oldest first, with the vendors' answers to each push."""
    query = await lot_notice_query(actor, lot_id, kind)
    return await notice_records(list(await query.order_by("id").limit(MAX_NOTICES)))


async def notice_records(notes: list[Notification]) -> list[NoticeRecord]:
    """The notices in the order given, each with who was told and the vendors' answers to each push."""
    users = {u.id: u for u in await User.filter(id__in=list({n.user_id for n in notes if n.user_id is not None}))}
    pushes = await PushDelivery.filter(notification_id__in=[n.id for n in notes]).order_by("id")
    devices = {d.id: d for d in await Device.filter(id__in=list({p.device_id for p in pushes if p.device_id}))}
    by_note: dict[int, list[PushRecord]] = {}
    for p in pushes:
        device = devices.get(p.device_id or 0)
        by_note.setdefault(p.notification_id, []).append(
            PushRecord(
                provider=device.provider if device else "-",
                platform=device.platform if device else "-",
                status=p.status,
                attempts=p.attempts,
                sent_at=p.sent_at,
                last_error=p.last_error,
            )
        )
    records = []
    for n in notes:
        user = users.get(n.user_id) if n.user_id is not None else None
        records.append(
            NoticeRecord(
                kind=n.kind,
                title=n.title_zh,
                user_id=n.user_id,
                user_name=user.name if user else (f"评标专家（专家库编号 {n.expert_id}）" if n.expert_id else ""),
                organisation_id=user.organisation_id if user else None,
                time_critical=n.time_critical,
                created_at=n.created_at,
                read_at=n.read_at,
                pushes=by_note.get(n.id, []),
                expert_id=n.expert_id,
            )
        )
    return records


async def expert_notices(actor: Actor, lot_id: int) -> list[ExpertNotice]:
    """The drawn experts' notices of the lot: answered how and when, and their calls."""
    lot, _ = await visible_lot(actor, lot_id)
    return list(await ExpertNotice.filter(lot_id=lot.id).order_by("id"))
