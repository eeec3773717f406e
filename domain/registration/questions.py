"""Bidders' questions on a lot (答疑): asked by registered bidders until the lot's question deadline, answered by the
tenderer or its agency in a clarification that every registrant receives (domain/tendering/clarifications).

The question deadline is `question_cutoff_days` (a lot setting of the procedure table) before the bid deadline, so it
moves with the deadline. Who asked stays hidden from other bidders and the public; the operators and the supervisors of
the lot's category see it, and the tenderer and its agency as they see the registrants: not before the opening while
the lot keeps its registrants secret (招标投标法 第二十二条: 招标人不得向他人透露已获取招标文件的潜在投标人的名称、
数量).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.access import scope
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.publication.models import Lot, Project, Question
from domain.publication.procedures import Procedure, bounds
from domain.publication.states import LotStatus
from domain.registration.errors import NotRegistered, QuestionsClosed
from domain.registration.models import Registration
from domain.registration.states import QUESTION, QuestionStatus, RegistrationStatus

MAX_TEXT = 2000


@dataclass(frozen=True, kw_only=True)
class QuestionAsked(DomainEvent):
    """To the asker, the lot's managers and keepers; never who asked in the payload."""

    type = "question.asked"
    object_type = "Question"
    lot_id: int


def _at(config: dict[str, Any], name: str) -> datetime | None:
    value = config.get(name)
    return datetime.fromisoformat(value) if value else None


def question_deadline(lot: Lot) -> datetime | None:
    """When questions on the lot close: question_cutoff_days before the bid deadline (None without a deadline)."""
    deadline = _at(lot.config, "bid_deadline")
    if deadline is None:
        return None
    default = bounds(Procedure(lot.procedure))["question_cutoff_days"].default
    return deadline - timedelta(days=int(lot.config.get("question_cutoff_days", default)))


@raises(QuestionsClosed, NotRegistered)
@use_case("question.ask", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def ask(actor: Actor, lot_id: int, text: str, idempotency_key: str | None = None) -> Question:
    """Records a registered bidder's question on an open lot before its question deadline."""
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    body = required_text(text, "text", MAX_TEXT)
    org_id, user_id = actor.org_id, actor.user_id
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project = lot.project

    async def create() -> dict[str, Any]:
        now = clock.now()
        closes = question_deadline(lot) if lot.status == LotStatus.OPEN.value else None
        QUESTION.precheck("ask", by=actor, now=now, closes_at=closes)
        if not await Registration.exists(
            lot_id=lot.id, organisation_id=org_id, status=RegistrationStatus.REGISTERED.value
        ):
            raise NotRegistered()
        status = QUESTION.fire(None, "ask", by=actor, now=now, closes_at=closes)
        question = await Question.create(
            lot_id=lot.id, organisation_id=org_id, asked_by=user_id, text=body, status=status.value, asked_at=now
        )
        managers = tuple(o for o in (project.tenderer_id, project.agency_id) if o)
        await events.record(
            QuestionAsked(
                object_id=str(question.id),
                lot_id=lot.id,
                audience=Audience(orgs=(org_id, *managers), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
            ),
            actor,
        )
        return {"id": question.id}

    result, _ = await run_once(actor, idempotency_key, "question.ask", {"lot": lot.id, "text": body}, create)
    return await Question.get(id=result["id"])


@dataclass(frozen=True, slots=True)
class QuestionView:
    question: Question
    asker_shown: bool  # whether the caller may see which organisation asked
    mine: bool


async def sees_askers(actor: Actor, lot: Lot, project: Project) -> bool:
    """Operators and the category's supervisors; the tenderer and agency once the registrants are not secret."""
    if scope.keeps_project(actor, project):
        return True
    if actor.org_id is None or actor.org_id not in (project.tenderer_id, project.agency_id):
        return False
    opening = _at(lot.config, "opening_at") or _at(lot.config, "bid_deadline")
    return not lot.config.get("registrants_secret") or (opening is not None and clock.now() >= opening)


async def lot_questions(actor: Actor, lot_id: int) -> list[QuestionView]:
    """A lot's questions, oldest first: every question to its managers and keepers; to anyone else the answered ones
    (published in a clarification anyway) and the caller's own."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project = lot.project
    manager = scope.keeps_project(actor, project) or (
        actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id)
    )
    shown = await sees_askers(actor, lot, project)
    rows = await Question.filter(lot_id=lot.id).order_by("id")
    views = []
    for q in rows:
        mine = actor.org_id is not None and q.organisation_id == actor.org_id
        if manager or mine or q.status == QuestionStatus.ANSWERED.value:
            views.append(QuestionView(question=q, asker_shown=shown or mine, mine=mine))
    return views
