"""The pool meets the lots: what the draw leaves out (suspended, busy, conflicted experts), a conflict found after the
draw, the appraisal after an evaluation (专家考核评价) and its rating, the fees, and the statistics per expert and
per specialty.

The draw (domain/evaluation/draw) sits below this area: it asks `excluded` through the plug domain/wiring sets."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tortoise.expressions import Q

from domain.access import scope
from domain.accounts.models import Expert, Organisation
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock_named
from domain.evaluation.draw import committee
from domain.evaluation.models import ExpertDraw, ExpertNotice
from domain.evaluation.notices import Answer, ReplacementNeeded
from domain.evaluation.states import DrawStatus
from domain.experts import errors
from domain.experts.models import (
    ExpertAppraisal,
    ExpertBusyDay,
    ExpertConflict,
    ExpertConflictReport,
    ExpertFee,
    ExpertPenalty,
)
from domain.experts.pool import Entity, PenaltyKind, matches, new_conflict, standing
from domain.publication.models import Lot, Project
from domain.publication.states import LotStatus

SCORE_MAX = 10  # attendance, diligence and conduct are each scored 0..10
FULL_RATING = 100
MAX_FEE_FEN = 10_000_000  # 100,000 yuan for one evaluation is beyond any published standard


@dataclass(frozen=True, kw_only=True)
class ExpertConflictFound(DomainEvent):
    """A conflict discovered after the draw: the expert must be replaced (补抽)."""

    type = "expert.conflict_found"
    object_type = "ExpertConflictReport"
    lot_id: int
    expert_id: int
    relation: str


@dataclass(frozen=True, kw_only=True)
class ExpertAppraised(DomainEvent):
    type = "expert.appraised"
    object_type = "ExpertAppraisal"
    lot_id: int
    expert_id: int
    by_role: str
    attendance: int
    diligence: int
    conduct: int


@dataclass(frozen=True, kw_only=True)
class ExpertFeeRecorded(DomainEvent):
    type = "expert.fee_recorded"
    object_type = "ExpertFee"
    lot_id: int
    expert_id: int
    amount_fen: int


# ---------------------------------------------------------------- the draw's exclusions


def sitting_day(lot: Lot) -> date | None:
    """The day (Asia/Shanghai) the committee sits: the lot's evaluation time, else its opening, else its deadline."""
    when = lot.config.get("evaluation_at") or lot.config.get("opening_at") or lot.config.get("bid_deadline")
    return clock.to_shanghai(datetime.fromisoformat(when)).date() if when else None


async def excluded(lot: Lot, conflicted: set[int], candidates: list[int], now: datetime) -> set[int]:
    """The candidates the pool keeps out of a lot's draw: suspended now, busy on the lot's sitting day, or having
    declared a conflict with an organisation of the lot (tenderer, agency, registrants, bidders)."""
    if not candidates:
        return set()
    out: set[Any] = set(
        await ExpertPenalty.filter(
            expert_id__in=candidates, kind=PenaltyKind.SUSPENSION, starts_at__lte=now, ends_at__gt=now
        ).values_list("expert_id", flat=True)
    )
    day = sitting_day(lot)
    if day is not None:
        out |= set(await ExpertBusyDay.filter(expert_id__in=candidates, day=day).values_list("expert_id", flat=True))
    orgs = {
        int(i): (str(code), str(name))
        for i, code, name in await Organisation.filter(id__in=sorted(conflicted)).values_list(
            "id", "credit_code", "name"
        )
    }
    for conflict in await ExpertConflict.filter(expert_id__in=candidates):
        if matches(conflict, orgs):
            out.add(conflict.expert_id)
    return {int(i) for i in out}


# ---------------------------------------------------------------- a conflict found after the draw


async def _lot(lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    return lot, lot.project


async def _draws(lot_id: int) -> list[ExpertDraw]:
    return list(await ExpertDraw.filter(lot_id=lot_id).order_by("round"))


def _ever_drawn(draws: list[ExpertDraw], expert_id: int) -> bool:
    return any(d.status == DrawStatus.REVEALED.value and expert_id in (d.selected or []) for d in draws)


@raises(errors.NotDrawnForLot, errors.ConflictReported)
@use_case("expert.report_conflict", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def report_conflict(
    actor: Actor,
    lot_id: int,
    relation: str,
    entity: Entity,
    note: str | None = None,
    expert_id: int | None = None,
    idempotency_key: str | None = None,
) -> ExpertConflictReport:
    """A conflict discovered after the draw, declared by the drawn expert itself or recorded by the operator: the
    conflict is kept (later draws honour it), the report recorded, and the operators asked for a replacement draw
    (补抽, expertDrawReplace) as for a decline. The expert must sit on the lot's standing committee."""
    if actor.expert_id is not None and actor.has(Role.EXPERT):
        if expert_id not in (None, actor.expert_id):
            raise PermissionDenied()
        target, by = actor.expert_id, "expert"
    elif actor.user_id is not None and actor.has(Role.OPERATOR):
        if expert_id is None:
            raise InvalidInput(field="expertId")
        target, by = expert_id, "operator"
    else:
        raise PermissionDenied()
    lot, _ = await _lot(lot_id)

    async def create() -> dict[str, Any]:
        await lock_named(f"expert.conflict:{lot.id}:{target}")
        if await ExpertConflictReport.exists(lot_id=lot.id, expert_id=target):
            raise errors.ConflictReported()
        if target not in committee(await _draws(lot.id)):
            raise errors.NotDrawnForLot()
        conflict = await new_conflict(target, relation, entity, note)
        report = await ExpertConflictReport.create(
            lot_id=lot.id, expert_id=target, conflict_id=conflict.id, reported_by=by, reported_at=clock.now()
        )
        await ExpertNotice.filter(lot_id=lot.id, expert_id=target, status=Answer.PENDING).update(
            status=Answer.DECLINED, answered_at=clock.now(), answered_by="conflict"
        )
        await events.record(
            ExpertConflictFound(object_id=str(report.id), lot_id=lot.id, expert_id=target, relation=relation), actor
        )
        await events.record(
            ReplacementNeeded(
                object_id=str(lot.id),
                lot_id=lot.id,
                expert_id=target,
                answer="conflict",
                audience=Audience(roles=(Role.OPERATOR.value,)),
            ),
            actor,
        )
        return {"id": report.id}

    request = {"lot": lot.id, "expert": target, "relation": relation, "entity": repr(entity)}
    result, _ = await run_once(actor, idempotency_key, "expert.report_conflict", request, create)
    return await ExpertConflictReport.get(id=result["id"])


@dataclass(frozen=True, slots=True)
class ConflictOnLot:
    report: ExpertConflictReport
    conflict: ExpertConflict
    replaced_in_round: int | None


async def describe(report: ExpertConflictReport) -> ConflictOnLot:
    """A report with its conflict and the replacement round that took the expert's seat, if any yet."""
    conflict = await ExpertConflict.get(id=report.conflict_id)
    draws = await _draws(report.lot_id)
    replaced = next((d.round for d in draws if report.expert_id in (d.replaces or [])), None)
    return ConflictOnLot(report, conflict, replaced)


async def conflicts_of_lot(actor: Actor, lot_id: int) -> list[ConflictOnLot]:
    """The conflicts found after the lot's draw, with the replacement round that took each expert's seat: operators
    and the lot's supervisors."""
    if not await scope.keeps_lot(actor, lot_id):
        return []
    reports = list(await ExpertConflictReport.filter(lot_id=lot_id).order_by("id"))
    conflicts = {c.id: c for c in await ExpertConflict.filter(id__in=[r.conflict_id for r in reports])}
    draws = await _draws(lot_id)

    def replaced(expert_id: int) -> int | None:
        return next((d.round for d in draws if expert_id in (d.replaces or [])), None)

    return [ConflictOnLot(r, conflicts[r.conflict_id], replaced(r.expert_id)) for r in reports]


# ---------------------------------------------------------------- appraisal and rating


@raises(errors.NotPartyToLot, errors.NotDrawnForLot, errors.AlreadyAppraised)
@use_case("expert.appraise", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def appraise(
    actor: Actor,
    lot_id: int,
    expert_id: int,
    attendance: int,
    diligence: int,
    conduct: int,
    note: str | None = None,
    idempotency_key: str | None = None,
) -> ExpertAppraisal:
    """The operator, or the tenderer (or its agency) of the lot's project, appraises an expert drawn for the lot:
    attendance, diligence and conduct, 0 to 10 each; once per side and expert. It feeds the expert's rating."""
    for name, value in (("attendance", attendance), ("diligence", diligence), ("conduct", conduct)):
        if not 0 <= value <= SCORE_MAX:
            raise InvalidInput(field=name)
    text = (note or "").strip() or None
    if text is not None and len(text) > 500:
        raise InvalidInput(field="note")
    if actor.user_id is None:
        raise errors.NotPartyToLot()
    lot, project = await _lot(lot_id)
    if actor.has(Role.OPERATOR):
        by_role = "operator"
    elif actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id):
        by_role = "tenderer"
    else:
        raise errors.NotPartyToLot()

    async def create() -> dict[str, Any]:
        if not _ever_drawn(await _draws(lot.id), expert_id):
            raise errors.NotDrawnForLot()
        await lock_named(f"expert.appraisal:{lot.id}:{expert_id}:{by_role}")
        if await ExpertAppraisal.exists(lot_id=lot.id, expert_id=expert_id, by_role=by_role):
            raise errors.AlreadyAppraised()
        row = await ExpertAppraisal.create(
            lot_id=lot.id,
            expert_id=expert_id,
            by_role=by_role,
            by_user=actor.user_id,
            by_org=actor.org_id if by_role == "tenderer" else None,
            attendance=attendance,
            diligence=diligence,
            conduct=conduct,
            note=text,
            created_at=clock.now(),
        )
        await events.record(
            ExpertAppraised(
                object_id=str(row.id),
                lot_id=lot.id,
                expert_id=expert_id,
                by_role=by_role,
                attendance=attendance,
                diligence=diligence,
                conduct=conduct,
            ),
            actor,
        )
        return {"id": row.id}

    request = {"lot": lot.id, "expert": expert_id, "scores": [attendance, diligence, conduct], "note": text}
    result, _ = await run_once(actor, idempotency_key, "expert.appraise", request, create)
    return await ExpertAppraisal.get(id=result["id"])


def rating_of(appraisals: list[ExpertAppraisal]) -> int:
    """0..100: the mean of the appraisals' totals (attendance + diligence + conduct, out of 30), 100 with none."""
    if not appraisals:
        return FULL_RATING
    total = sum(a.attendance + a.diligence + a.conduct for a in appraisals)
    return round(total * FULL_RATING / (3 * SCORE_MAX * len(appraisals)))


# ---------------------------------------------------------------- fees


@raises(errors.NotDrawnForLot, errors.FeeRecorded)
@use_case("expert.fee", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def record_fee(
    actor: Actor, lot_id: int, expert_id: int, amount_fen: int, idempotency_key: str | None = None
) -> ExpertFee:
    """The operator records the fee paid to an expert drawn for the lot (integer fen), once."""
    if actor.user_id is None or not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    if not 0 <= amount_fen <= MAX_FEE_FEN:
        raise InvalidInput(field="amountFen")
    lot, _ = await _lot(lot_id)

    async def create() -> dict[str, Any]:
        if not _ever_drawn(await _draws(lot.id), expert_id):
            raise errors.NotDrawnForLot()
        await lock_named(f"expert.fee:{lot.id}:{expert_id}")
        if await ExpertFee.exists(lot_id=lot.id, expert_id=expert_id):
            raise errors.FeeRecorded()
        row = await ExpertFee.create(
            lot_id=lot.id,
            expert_id=expert_id,
            amount_fen=amount_fen,
            recorded_by=actor.user_id,
            recorded_at=clock.now(),
        )
        await events.record(
            ExpertFeeRecorded(object_id=str(row.id), lot_id=lot.id, expert_id=expert_id, amount_fen=amount_fen), actor
        )
        return {"id": row.id}

    request = {"lot": lot.id, "expert": expert_id, "amount": amount_fen}
    result, _ = await run_once(actor, idempotency_key, "expert.fee", request, create)
    return await ExpertFee.get(id=result["id"])


# ---------------------------------------------------------------- statistics


@dataclass(slots=True)
class ExpertStats:
    """One expert's record in the pool: how often drawn, attended, refused, appraised and paid."""

    expert: Expert
    status: str
    draws: int = 0
    attendances: int = 0
    refusals: int = 0
    conflicts: int = 0
    appraisals: int = 0
    rating: int = FULL_RATING
    warnings: int = 0
    suspensions: int = 0
    fees_fen: int = 0
    specialties: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SpecialtyStats:
    specialty: str
    experts: int = 0
    active: int = 0
    draws: int = 0
    attendances: int = 0
    refusals: int = 0
    appraisals: int = 0
    fees_fen: int = 0


async def statistics(actor: Actor, specialty: str | None = None) -> tuple[list[ExpertStats], list[SpecialtyStats]]:
    """Per expert and per specialty, for operators and supervisors (a supervisor counts the lots of its categories
    only): draws (times selected in a revealed round), attendances (confirmed notices), refusals (declined, unanswered
    or conflicted), conflicts found after a draw, appraisals and rating, penalties and fees paid (fen)."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    return await _statistics(scope.kept_lots(actor), specialty, served_only=not actor.has(Role.OPERATOR))


async def _statistics(
    lots: Q, specialty: str | None, served_only: bool = False
) -> tuple[list[ExpertStats], list[SpecialtyStats]]:
    """`served_only`: the experts drawn for one of `lots` alone (a supervisor sees who served its categories)."""
    experts = [e for e in await Expert.all().order_by("id") if specialty is None or specialty in e.specialties]
    drawn: Counter[int] = Counter()
    revealed = ExpertDraw.filter(lots, status=DrawStatus.REVEALED.value)
    for selected in await revealed.values_list("selected", flat=True):
        drawn.update(int(i) for i in (selected or []))
    if served_only:
        experts = [e for e in experts if drawn[e.id]]
    ids = [e.id for e in experts]
    answers: dict[int, Counter[str]] = defaultdict(Counter)
    for expert_id, status in await ExpertNotice.filter(lots, expert_id__in=ids).values_list("expert_id", "status"):
        answers[int(expert_id)][str(status)] += 1
    appraisals: dict[int, list[ExpertAppraisal]] = defaultdict(list)
    for a in await ExpertAppraisal.filter(lots, expert_id__in=ids):
        appraisals[a.expert_id].append(a)
    penalties: dict[int, Counter[str]] = defaultdict(Counter)
    for expert_id, kind in await ExpertPenalty.filter(expert_id__in=ids).values_list("expert_id", "kind"):
        penalties[int(expert_id)][str(kind)] += 1
    fees: Counter[int] = Counter()
    for expert_id, amount in await ExpertFee.filter(lots, expert_id__in=ids).values_list("expert_id", "amount_fen"):
        fees[int(expert_id)] += int(amount)
    reported = ExpertConflictReport.filter(lots, expert_id__in=ids)
    conflicts = Counter(r.expert_id for r in await reported)
    now = clock.now()
    rows = []
    for e in experts:
        said = answers[e.id]
        rows.append(
            ExpertStats(
                expert=e,
                status=(await standing(e, now)).status,
                draws=drawn[e.id],
                attendances=said[Answer.CONFIRMED],
                refusals=said[Answer.DECLINED] + said[Answer.NO_ANSWER],
                conflicts=conflicts[e.id],
                appraisals=len(appraisals[e.id]),
                rating=rating_of(appraisals[e.id]),
                warnings=penalties[e.id][PenaltyKind.WARNING],
                suspensions=penalties[e.id][PenaltyKind.SUSPENSION],
                fees_fen=fees[e.id],
                specialties=list(e.specialties),
            )
        )
    by_field: dict[str, SpecialtyStats] = {}
    for r in rows:
        for s in r.specialties:
            if specialty is not None and s != specialty:
                continue
            agg = by_field.setdefault(s, SpecialtyStats(s))
            agg.experts += 1
            agg.active += r.status == "active"
            agg.draws += r.draws
            agg.attendances += r.attendances
            agg.refusals += r.refusals
            agg.appraisals += r.appraisals
            agg.fees_fen += r.fees_fen
    return rows, sorted(by_field.values(), key=lambda s: s.specialty)


async def profile(actor: Actor, expert_id: int) -> ExpertStats:
    """One expert's record: for operators, for the supervisors of a category whose lot it was drawn for (counting
    those lots), and for the expert itself."""
    own = actor.expert_id == expert_id and actor.has(Role.EXPERT)
    if not own and not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise NotFound()
    if not await Expert.exists(id=expert_id):
        raise NotFound()
    served_only = not own and not actor.has(Role.OPERATOR)
    rows, _ = await _statistics(Q() if own else scope.kept_lots(actor), None, served_only)
    found = next((r for r in rows if r.expert.id == expert_id), None)
    if found is None:  # a supervisor reads the experts who served its categories' lots
        raise NotFound()
    return found


async def fees_report(actor: Actor, lot_id: int | None = None) -> list[ExpertFee]:
    """The fees recorded (of one lot), for operators and supervisors of the lots' categories."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    rows = ExpertFee.filter(scope.kept_lots(actor))
    if lot_id is not None:
        rows = rows.filter(lot_id=lot_id)
    return list(await rows.order_by("lot_id", "expert_id"))
