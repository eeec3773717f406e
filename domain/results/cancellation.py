"""Cancellation as an object (终止招标 / 废标): one lot, or every lot of a project that is still running.

The tenderer (its agency, an operator) cancels with a reason from the list below, each with its legal basis and
the objection window it opens, an explanation and its documents (purpose cancellation_document, handed in on the
lot). Each lot gets its termination announcement (终止公告) with the documents listed, which ends the lot: the
deposits and guarantees of every bidder are let go with it (招标投标法实施条例 第三十一条: 及时退还; the deposits
and guarantees consumers of the lot's status). Bidders may object to the cancellation until the window ends
(objections with stage `cancellation`, domain/complaints); the chronograph makes it effective once the window is
over and every such objection is answered.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from domain.common import calendar, clock, events
from domain.common.actors import SYSTEM, Actor
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, NotFound, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.publication.announcements import announce
from domain.publication.models import Lot, Project
from domain.publication.projects import managed_project
from domain.publication.states import AnnouncementType
from domain.results import files
from domain.results import services as results
from domain.results.errors import AwardStands
from domain.results.models import Award, Cancellation
from domain.results.states import CANCELLABLE, CANCELLATION, CancellationStatus

PURPOSE = "cancellation_document"
MAX_EXPLANATION = 4000


class CancellationReason(StrEnum):
    TENDER_TERMINATED = "tender_terminated"  # 招标人终止招标
    TOO_FEW_BIDS = "too_few_bids"  # 投标人少于3个，不得开标，应当重新招标
    ALL_BIDS_REJECTED = "all_bids_rejected"  # 评标委员会否决全部投标
    NO_CANDIDATE_REMAINS = "no_candidate_remains"  # 中标候选人均放弃或被取消，重新招标
    TOO_FEW_SUPPLIERS = "too_few_suppliers"  # 政府采购: 符合条件或实质响应的供应商不足三家
    IRREGULARITY = "irregularity"  # 政府采购: 出现影响采购公正的违法、违规行为
    OVER_BUDGET = "over_budget"  # 政府采购: 报价均超过采购预算，采购人不能支付
    TASK_CANCELLED = "task_cancelled"  # 政府采购: 因重大变故，采购任务取消


@dataclass(frozen=True, slots=True)
class Reason:
    zh: str
    basis: str
    window_days: int
    working_days: bool


# 政府采购法 第五十二条: a supplier questions (质疑) within 7 working days of knowing; 招标投标法实施条例 第六十条:
# a complaint within 10 days of knowing. The window is the one of the rule the reason stands on.
REASONS: dict[CancellationReason, Reason] = {
    CancellationReason.TENDER_TERMINATED: Reason("招标人终止招标", "《招标投标法实施条例》第三十一条", 10, False),
    CancellationReason.TOO_FEW_BIDS: Reason(
        "投标人少于三个，依法重新招标", "《招标投标法》第二十八条、《招标投标法实施条例》第四十四条", 10, False
    ),
    CancellationReason.ALL_BIDS_REJECTED: Reason(
        "评标委员会否决全部投标，依法重新招标", "《招标投标法》第四十二条", 10, False
    ),
    CancellationReason.NO_CANDIDATE_REMAINS: Reason(
        "中标候选人均不符合中标条件，依法重新招标", "《招标投标法实施条例》第五十五条", 10, False
    ),
    CancellationReason.TOO_FEW_SUPPLIERS: Reason(
        "符合专业条件的供应商或者对招标文件作实质响应的供应商不足三家", "《政府采购法》第三十六条第一款第一项", 7, True
    ),
    CancellationReason.IRREGULARITY: Reason(
        "出现影响采购公正的违法、违规行为", "《政府采购法》第三十六条第一款第二项", 7, True
    ),
    CancellationReason.OVER_BUDGET: Reason(
        "投标人的报价均超过了采购预算，采购人不能支付", "《政府采购法》第三十六条第一款第三项", 7, True
    ),
    CancellationReason.TASK_CANCELLED: Reason(
        "因重大变故，采购任务取消", "《政府采购法》第三十六条第一款第四项", 7, True
    ),
}
# 废标 is government procurement's: those reasons only for its lots, the others only for the rest
_PROCUREMENT_ONLY = frozenset(
    {
        CancellationReason.TOO_FEW_SUPPLIERS,
        CancellationReason.IRREGULARITY,
        CancellationReason.OVER_BUDGET,
        CancellationReason.TASK_CANCELLED,
    }
)


@dataclass(frozen=True, kw_only=True)
class LotCancelled(DomainEvent):
    """Public: a lot or a project was cancelled, its reason and the end of its objection window."""

    type = "result.cancelled"
    object_type = "Cancellation"
    project_id: int
    lot_ids: list[int]
    reason: str
    basis: str
    objection_ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class CancellationEffective(DomainEvent):
    type = "result.cancellation_effective"
    object_type = "Cancellation"
    project_id: int
    lot_ids: list[int]


async def window_end(reason: Reason, now: datetime) -> datetime:
    if reason.working_days:
        return (await calendar.current()).add_working_days(now, reason.window_days)
    return calendar.end_of(clock.to_shanghai(now).date() + timedelta(days=reason.window_days))


@raises(AwardStands)
@use_case("result.cancel", "Project", lambda actor, project_id, *a, **k: str(project_id))
async def cancel(
    actor: Actor,
    project_id: int,
    lot_id: int | None,
    reason: str,
    explanation: str,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> Cancellation:
    """Cancels one lot (or every running lot of the project): a termination announcement per lot with the reason,
    its basis and the documents, the objection window opened; the lots' deposits and guarantees are let go."""
    try:
        why = CancellationReason(reason)
    except ValueError:
        raise InvalidInput(field="reason") from None
    text = required_text(explanation, "explanation", MAX_EXPLANATION)
    project = await managed_project(actor, project_id)
    procurement = project.category == Category.GOVERNMENT_PROCUREMENT.value
    if (why in _PROCUREMENT_ONLY) != procurement:
        raise InvalidInput(field="reason")
    rule = REASONS[why]
    request = {"project": project_id, "lot": lot_id, "reason": why.value, "text": text, "docs": document_ids}

    async def change() -> dict[str, Any]:
        query = Lot.filter(project_id=project_id)
        if lot_id is not None:
            query = query.filter(id=lot_id)
        lots = list(await lock(query.order_by("id")))
        if lot_id is not None and not lots:
            raise NotFound()
        if lot_id is None:
            lots = [lot for lot in lots if lot.status in CANCELLABLE]
            if not lots:
                raise InvalidInput(field="projectId")
        awards = {a.lot_id: a.status for a in await Award.filter(lot_id__in=[lot.id for lot in lots])}
        for lot in lots:
            CANCELLATION.fire(None, "cancel", by=actor, lot_status=lot.status, award_status=awards.get(lot.id))
        docs = await files.named_documents(document_ids, PURPOSE, [lot.id for lot in lots], "documentIds")
        now = clock.now()
        ends = await window_end(rule, now)
        listed = "".join(f"<li>{html.escape(d.name)}</li>" for d in docs)
        announcements = []
        for lot in lots:
            body = (
                f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）因{html.escape(rule.zh)}，"
                f"依据{html.escape(rule.basis)}，{'废标' if procurement else '终止招标'}。</p>"
                f"<p>{html.escape(text)}</p>"
                f"<p>已收取的投标保证金将依法及时退还，投标保函同时解除（《招标投标法实施条例》第三十一条）。</p>"
                f"<p>对本公告有异议的，请于{results._when(ends)}前在平台提出。</p>"
                f"<p>附件：</p><ul>{listed}</ul>"
            )
            ann = await announce(actor, lot, AnnouncementType.TERMINATION, f"{lot.name}终止公告", body)
            await files.attach(ann.id, docs)
            announcements.append(ann.id)
        made = await Cancellation.create(
            project_id=project_id,
            lot_id=lot_id,
            lot_ids=[lot.id for lot in lots],
            announcement_ids=announcements,
            reason=why.value,
            basis=rule.basis,
            explanation=text,
            document_ids=[d.id for d in docs],
            status=CancellationStatus.OBJECTION_WINDOW.value,
            cancelled_by=actor.user_id,
            cancelled_at=now,
            objection_ends_at=ends,
            next_check_at=ends,
        )
        await events.record(
            LotCancelled(
                object_id=str(made.id),
                project_id=project_id,
                lot_ids=made.lot_ids,
                reason=why.value,
                basis=rule.basis,
                objection_ends_at=ends,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "result.cancel", request, change)
    return await Cancellation.get(id=result["id"])


async def open_window(lot_id: int, now: datetime) -> Cancellation | None:
    """The cancellation of the lot whose objection window is open now, if any (domain/complaints asks)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        return None
    for row in await Cancellation.filter(project_id=lot.project_id).order_by("-id"):
        if lot_id in row.lot_ids and row.cancelled_at <= now < row.objection_ends_at:
            return row
    return None


# (lot ids) -> whether an objection to their cancellation is still unanswered
UnansweredCheck = Callable[[list[int]], Awaitable[bool]]
_unanswered: list[UnansweredCheck] = []


def register_unanswered(fn: UnansweredCheck) -> None:
    """domain/complaints plugs in its check of unanswered cancellation objections (results does not import it)."""
    if fn not in _unanswered:
        _unanswered.append(fn)


async def take_effect(made: Cancellation, now: datetime) -> None:
    """Chronograph transition: the window is over and every objection to the cancellation is answered."""
    current = await lock(Cancellation.filter(id=made.id)).get()
    due: datetime | None = None
    if current.status == CancellationStatus.OBJECTION_WINDOW.value:
        waiting = False
        for check in _unanswered:
            waiting = waiting or await check(current.lot_ids)
        facts = {"now": now, "objection_ends_at": current.objection_ends_at, "unanswered": waiting}
        if CANCELLATION.allows(current.status, "take_effect", by=SYSTEM, **facts):
            current.status = CANCELLATION.fire(current.status, "take_effect", by=SYSTEM, **facts).value
            current.effective_at = now
            await events.record(
                CancellationEffective(
                    object_id=str(current.id),
                    project_id=current.project_id,
                    lot_ids=current.lot_ids,
                    audience=Audience(public=True),
                ),
                SYSTEM,
            )
        else:
            due = max(current.objection_ends_at, now + timedelta(hours=1))  # look again after an answer
    current.next_check_at = due
    await current.save(update_fields=["status", "effective_at", "next_check_at"])
    made.next_check_at = due


async def cancellations_of(lot_id: int) -> list[Cancellation]:
    """The cancellations that ended the lot (public, like their announcements)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        return []
    rows = await Cancellation.filter(project_id=lot.project_id).order_by("id")
    return [r for r in rows if lot_id in r.lot_ids]


def reason_of(row: Cancellation) -> Reason:
    return REASONS[CancellationReason(row.reason)]


def of_categories(categories: list[str]) -> QuerySet[Cancellation]:
    """The cancellations a supervisor of these categories reads: those of its categories' projects (a whole
    project's cancellation belongs to no single lot)."""
    return Cancellation.filter(project_id__in=Subquery(Project.filter(category__in=categories).values("id")))
