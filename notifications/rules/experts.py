"""The expert draw: drawn experts, replacements, a complete committee."""

from __future__ import annotations

from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.evaluation.models import ExpertNotice
from domain.evaluation.notices import report_at
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Lot
from notifications.rules.common import lot_and_project, managers, notify, operators


async def expert_drawn(event: OutboxEvent) -> list[NewNotification]:
    """A revealed draw (or replacement draw): a time-critical push to each expert it selected, on the expert app,
    beside the text and the voice call; it names the lot, when and where to report, never a bidder."""
    notices = await ExpertNotice.filter(draw_id=int(event.object_id)).order_by("id")
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if not notices or lot is None:
        return []
    time_text, place = report_at(lot)
    return notify(
        event,
        (),
        Kind.EXPERT_DRAWN,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        experts=[n.expert_id for n in notices],
        lot=lot.name,
        time=time_text,
        place=place,
        answer_by=shanghai_text(notices[0].answer_due_at),
    )


async def expert_replacement_needed(event: OutboxEvent) -> list[NewNotification]:
    """A drawn expert declined, did not answer, or declared a conflict: the operators are asked for a replacement draw
    (补抽)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    answer = event.payload.get("answer")
    said, said_en = {
        "declined": ("已拒绝", "declined"),
        "conflict": ("申报了利益冲突，须回避", "declared a conflict of interest and must withdraw"),
    }.get(str(answer), ("未在规定时间内答复", "did not answer in time"))
    return notify(
        event,
        await active_users_of(await operators()),
        Kind.EXPERT_REPLACEMENT_NEEDED,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        expert=event.payload["expert_id"],
        answer=said,
        answer_en=said_en,
    )


async def committee_complete(event: OutboxEvent) -> list[NewNotification]:
    """Every drawn expert confirmed: the operators and the tenderer (and its agency) are told."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return notify(
        event,
        await active_users_of([*await operators(), *managers(project)]),
        Kind.COMMITTEE_COMPLETE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        size=event.payload["size"],
    )
