"""Post-qualification (资格后审): the lot's qualification criteria, the committee's judgements, the outcome per bid.

While the lot is a draft its managers set its criteria: a kind (licence or qualification grade, similar
performance, financial standing, personnel, credit, other), what the bidder must show, and whether failing it
rejects the bid. The texts pass the same anti-local-protection check as the lot's eligibility rules
(procedures.check_eligibility; 招标投标法实施条例 第三十二条: no unreasonable conditions that restrict or exclude
bidders). The criteria are public with the tender from its publication.

After the opening the drawn committee reviews each valid (decrypted) bid against each criterion, with the bid's
opened files and the bidder's licences open to it (documents/access.py); every member's judgement is kept. The
last judgement that completes the review decides it in the same transaction: a bid that a majority of the committee
finds failing a mandatory criterion is rejected (招标投标法实施条例 第五十一条：有下列情形之一的，评标委员会应当否决其
投标：……（三）投标人不符合国家或者招标文件规定的资格条件), with the criteria it failed, the votes and the members'
reasons on the record. Only qualified bids are then scored and ranked (scoring.py); with none qualified the report
fails the lot.

The review stays within the committee, the tenderer, operators and supervisors of the category until the
evaluation is finished (招标投标法 第四十四条: 评标委员会成员……不得透露对投标文件的评审和比较); then each bidder sees
its own outcome and reasons, never who judged what.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.evaluation import scoring
from domain.evaluation.errors import CriterionUnknown as CriterionUnknown
from domain.evaluation.errors import EvaluationFinished as EvaluationFinished
from domain.evaluation.errors import EvaluationNotStarted as EvaluationNotStarted
from domain.evaluation.errors import NoQualificationCriteria as NoQualificationCriteria
from domain.evaluation.errors import NotCommitteeMember as NotCommitteeMember
from domain.evaluation.errors import QualificationDecided as QualificationDecided
from domain.evaluation.errors import ReasonRequired as ReasonRequired
from domain.evaluation.models import (
    Evaluation,
    QualificationCriterion,
    QualificationJudgement,
    QualificationOutcome,
)
from domain.evaluation.states import EVALUATION
from domain.publication.models import Lot, Project
from domain.publication.procedures import EVALUATED, LocalProtectionBanned, Procedure, check_eligibility
from domain.publication.projects import manages
from domain.publication.states import TABLE as LOT_TABLE
from domain.publication.states import LotStatus
from domain.tendering.models import SealedBid
from domain.tendering.services import NotSealedTender

MAX_CRITERIA = 20
MAX_DESCRIPTION = 1000
MAX_REASON = 500
MAX_ENTRIES = 2000


class CriterionKind(StrEnum):
    QUALIFICATION = "qualification"  # 资质等级、许可证
    PERFORMANCE = "performance"  # 类似项目业绩
    FINANCE = "finance"  # 财务状况
    PERSONNEL = "personnel"  # 项目负责人及主要人员
    CREDIT = "credit"  # 信用记录
    OTHER = "other"


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class CriteriaSet(DomainEvent):
    """The draft lot's qualification criteria were replaced."""

    type = "qualification.criteria_set"
    object_type = "Lot"
    lot_id: int
    criteria: int
    mandatory: int


@dataclass(frozen=True, kw_only=True)
class QualificationJudged(DomainEvent):
    """Progress only, for operators and supervisors: never a judgement or a reason."""

    type = "qualification.judged"
    object_type = "Evaluation"
    lot_id: int
    expert_id: int
    judgements: int
    complete_members: int
    members: int


@dataclass(frozen=True, kw_only=True)
class QualificationDecidedEvent(DomainEvent):
    """The review is decided: how many bids qualified and how many were rejected."""

    type = "qualification.decided"
    object_type = "Evaluation"
    lot_id: int
    qualified: int
    rejected: int


@dataclass(frozen=True, kw_only=True)
class BidRejectedAtQualification(DomainEvent):
    """To the bidder alone, once the evaluation ended: its bid was rejected at post-qualification (the criteria and
    reasons are read with myQualificationOutcome)."""

    type = "qualification.bid_rejected"
    object_type = "Lot"
    lot_id: int
    organisation_id: int
    sealed_bid_id: int
    criteria: int


# ---------------------------------------------------------------- criteria


@dataclass(frozen=True, slots=True)
class CriterionForm:
    kind: str
    description: str
    mandatory: bool = True


def check_criteria(forms: Sequence[CriterionForm]) -> list[CriterionForm]:
    """Well-formed, lawful criteria (descriptions trimmed), or the first error found."""
    if len(forms) > MAX_CRITERIA:
        raise InvalidInput(field="criteria")
    checked = []
    for i, form in enumerate(forms):
        try:
            kind = CriterionKind(form.kind)
        except ValueError:
            raise InvalidInput(field=f"criteria.{i}.kind") from None
        text = form.description.strip()
        if not 0 < len(text) <= MAX_DESCRIPTION:
            raise InvalidInput(field=f"criteria.{i}.description")
        # 青政办字〔2020〕50号 二（二）1 and 招标投标法实施条例 第三十二条: no locality conditions
        check_eligibility([{"kind": kind.value, "text": text}])
        checked.append(CriterionForm(kind.value, text, bool(form.mandatory)))
    return checked


async def _managed_lot(actor: Actor, lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or not await manages(actor, lot.project):
        raise NotFound()
    return lot, lot.project


@raises(LocalProtectionBanned, NotSealedTender)
@use_case("qualification.criteria_set", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def set_criteria(
    actor: Actor, lot_id: int, criteria: Sequence[CriterionForm], idempotency_key: str | None = None
) -> list[QualificationCriterion]:
    """Replaces the qualification criteria (none: no post-qualification) of a draft lot the drawn committee evaluates
    (a tender or an inquiry), by its managers."""
    checked = check_criteria(criteria)
    lot, project = await _managed_lot(actor, lot_id)
    # the procedures whose drawn committee judges the opened offers (procedures.EVALUATED): a tender, and an inquiry,
    # whose suppliers must meet the notice's qualification conditions (政府采购法 第四十条（二）: 符合相应资格条件的
    # 供应商) before the lowest price wins. A negotiation or consultation panel works through rounds and final offers
    # (domain/negotiation), without these criteria.
    if Procedure(lot.procedure) not in EVALUATED:
        raise NotSealedTender()
    LOT_TABLE.fire(lot.status, "configure")

    async def replace() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot.id)).get()
        LOT_TABLE.fire(locked.status, "configure")  # only before the tender is published
        await QualificationCriterion.filter(lot_id=lot.id).delete()
        now = clock.now()
        await QualificationCriterion.bulk_create(
            [
                QualificationCriterion(
                    lot_id=lot.id,
                    position=n,
                    kind=c.kind,
                    description=c.description,
                    mandatory=c.mandatory,
                    created_at=now,
                )
                for n, c in enumerate(checked, start=1)
            ]
        )
        await events.record(
            CriteriaSet(
                object_id=str(lot.id),
                lot_id=lot.id,
                criteria=len(checked),
                mandatory=sum(c.mandatory for c in checked),
                audience=Audience(orgs=tuple(o for o in (project.tenderer_id, project.agency_id) if o)),
            ),
            actor,
        )
        return {"lot": lot.id}

    request = {"lot": lot.id, "criteria": [[c.kind, c.description, c.mandatory] for c in checked]}
    await run_once(actor, idempotency_key, "qualification.criteria_set", request, replace)
    return await _criteria(lot.id)


async def _criteria(lot_id: int) -> list[QualificationCriterion]:
    return list(await QualificationCriterion.filter(lot_id=lot_id).order_by("position"))


async def criteria_of(actor: Actor, lot_id: int) -> list[QualificationCriterion]:
    """A lot's criteria: public once the tender is published, to its managers while a draft; NotFound otherwise."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or (lot.status == LotStatus.DRAFT.value and not await manages(actor, lot.project)):
        raise NotFound()
    return await _criteria(lot.id)


# ---------------------------------------------------------------- the committee's review, pure


@dataclass(frozen=True, slots=True)
class Entry:
    """One member's judgement of one bid against one criterion."""

    sealed_bid_id: int
    criterion_id: int
    passed: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CriterionFacts:
    id: int
    position: int
    kind: str
    description: str
    mandatory: bool


def decide(
    bids: Sequence[tuple[int, int]],
    criteria: Sequence[CriterionFacts],
    members: Sequence[int],
    judged: dict[tuple[int, int, int], Entry],
) -> list[dict[str, Any]]:
    """The outcome of each bid (sealed bid id, organisation id) from every member's judgement, keyed by (member,
    bid, criterion): rejected when a majority of the committee fails it on a mandatory criterion; each failed
    criterion with its votes and the reasons given (members unnamed). Pure, for a complete review."""
    n = len(members)
    outcomes = []
    for bid_id, org_id in bids:
        failures = []
        for c in criteria:
            votes = [judged[(m, bid_id, c.id)] for m in members]
            fails = [j for j in votes if not j.passed]
            if 2 * len(fails) > n:  # 评标委员会成员过半数
                failures.append(
                    {
                        "criterion_id": c.id,
                        "position": c.position,
                        "kind": c.kind,
                        "description": c.description,
                        "mandatory": c.mandatory,
                        "pass_votes": n - len(fails),
                        "fail_votes": len(fails),
                        "reasons": [str(j.reason) for j in fails if j.reason],
                    }
                )
        qualified = not any(f["mandatory"] for f in failures)
        outcomes.append(
            {"sealed_bid_id": bid_id, "organisation_id": org_id, "qualified": qualified, "failures": failures}
        )
    return outcomes


def check_entries(entries: Sequence[Entry], criterion_ids: set[int], bid_ids: set[int]) -> dict[tuple[int, int], Entry]:
    """Well-formed judgements (reasons trimmed) by (bid, criterion), the last one of a pair winning; or the first
    error found."""
    if not entries or len(entries) > MAX_ENTRIES:
        raise InvalidInput(field="entries")
    checked: dict[tuple[int, int], Entry] = {}
    for i, e in enumerate(entries):
        if e.criterion_id not in criterion_ids:
            raise CriterionUnknown(field=f"entries.{i}.criterionId")
        if e.sealed_bid_id not in bid_ids:
            raise InvalidInput(field=f"entries.{i}.sealedBidId")
        reason = (e.reason or "").strip() or None
        if reason is not None and len(reason) > MAX_REASON:
            raise InvalidInput(field=f"entries.{i}.reason")
        if not e.passed and reason is None:
            raise ReasonRequired(field=f"entries.{i}.reason")
        checked[(e.sealed_bid_id, e.criterion_id)] = Entry(e.sealed_bid_id, e.criterion_id, e.passed, reason)
    return checked


# ---------------------------------------------------------------- the committee's review, services


def _member(actor: Actor) -> int:
    if actor.expert_id is None or not actor.has(Role.EXPERT):
        raise PermissionDenied()
    return actor.expert_id


async def _decided(evaluation_id: int) -> bool:
    return await QualificationOutcome.exists(evaluation_id=evaluation_id)


@raises(
    EvaluationNotStarted,
    EvaluationFinished,
    NotCommitteeMember,
    QualificationDecided,
    NoQualificationCriteria,
    CriterionUnknown,
    ReasonRequired,
)
@use_case("qualification.judge", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def judge(actor: Actor, lot_id: int, entries: Sequence[Entry], idempotency_key: str | None = None) -> Evaluation:
    """Records a member's judgements of valid bids against the lot's criteria (replacing its earlier judgement of
    the same pair) until the review is decided; the judgement that completes every member's review decides it."""
    expert_id = _member(actor)
    lot, project = await scoring._lot(lot_id)

    async def store() -> dict[str, Any]:
        evaluation = await lock(Evaluation.filter(lot_id=lot.id)).first()
        if evaluation is None:
            raise EvaluationNotStarted()
        members = [int(m) for m in evaluation.committee]
        decided = await _decided(evaluation.id)
        facts = {"member": expert_id in members, "qualification_decided": decided}
        EVALUATION.fire(evaluation.status, "judge_qualification", by=actor, **facts)
        criteria = await _criteria(lot.id)
        if not criteria:
            raise NoQualificationCriteria()
        bids = await scoring._valid_bids(lot.id)
        checked = check_entries(entries, {c.id for c in criteria}, {b.id for b in bids})
        now = clock.now()
        for bid_id, criterion_id in checked:
            await QualificationJudgement.filter(
                evaluation_id=evaluation.id, expert_id=expert_id, sealed_bid_id=bid_id, criterion_id=criterion_id
            ).delete()
        await QualificationJudgement.bulk_create(
            [
                QualificationJudgement(
                    evaluation_id=evaluation.id,
                    expert_id=expert_id,
                    sealed_bid_id=e.sealed_bid_id,
                    criterion_id=e.criterion_id,
                    passed=e.passed,
                    reason=e.reason,
                    judged_at=now,
                )
                for e in checked.values()
            ]
        )
        judged = await _judged(evaluation.id)
        pairs = {(b.id, c.id) for b in bids for c in criteria}
        complete = [m for m in members if pairs <= {(b, c) for (e, b, c) in judged if e == m}]
        await events.record(
            QualificationJudged(
                object_id=str(evaluation.id),
                lot_id=lot.id,
                expert_id=expert_id,
                judgements=len(checked),
                complete_members=len(complete),
                members=len(members),
                audience=Audience(roles=scoring.KEEPERS),
            ),
            actor,
        )
        if len(complete) == len(members):
            await _decide(evaluation, lot, project, bids, criteria, judged, now)
        return {"id": evaluation.id}

    request = {"lot": lot.id, "entries": [[e.sealed_bid_id, e.criterion_id, e.passed, e.reason] for e in entries]}
    result, _ = await run_once(actor, idempotency_key, "qualification.judge", request, store)
    return await Evaluation.get(id=result["id"])


async def _judged(evaluation_id: int) -> dict[tuple[int, int, int], Entry]:
    return {
        (j.expert_id, j.sealed_bid_id, j.criterion_id): Entry(j.sealed_bid_id, j.criterion_id, j.passed, j.reason)
        for j in await QualificationJudgement.filter(evaluation_id=evaluation_id)
    }


async def _decide(
    evaluation: Evaluation,
    lot: Lot,
    project: Project,
    bids: list[SealedBid],
    criteria: list[QualificationCriterion],
    judged: dict[tuple[int, int, int], Entry],
    now: datetime,
) -> None:
    """Fixes each bid's outcome from every member's judgements, in the caller's transaction; with no bid qualified
    the report is made at once and fails the lot."""
    EVALUATION.fire(evaluation.status, "decide_qualification", by=SYSTEM)
    members = [int(m) for m in evaluation.committee]
    facts = [CriterionFacts(c.id, c.position, c.kind, c.description, c.mandatory) for c in criteria]
    outcomes = decide([(b.id, b.organisation_id) for b in bids], facts, members, judged)
    await QualificationOutcome.bulk_create(
        [
            QualificationOutcome(
                evaluation_id=evaluation.id,
                sealed_bid_id=o["sealed_bid_id"],
                organisation_id=o["organisation_id"],
                qualified=o["qualified"],
                failures=o["failures"],
                decided_at=now,
            )
            for o in outcomes
        ]
    )
    qualified = [b for b, o in zip(bids, outcomes, strict=True) if o["qualified"]]
    await events.record(
        QualificationDecidedEvent(
            object_id=str(evaluation.id),
            lot_id=lot.id,
            qualified=len(qualified),
            rejected=len(bids) - len(qualified),
            audience=scoring._audience(project),
        ),
        SYSTEM,
    )
    if not qualified:
        await scoring._report(evaluation, lot, project, [], now)


# ---------------------------------------------------------------- the hooks scoring calls


async def scored_bids(evaluation: Evaluation, bids: list[SealedBid]) -> list[SealedBid]:
    """The bids the committee scores and ranks: all of them without a review, else those it found qualified."""
    outcomes = {o.sealed_bid_id: o.qualified for o in await QualificationOutcome.filter(evaluation_id=evaluation.id)}
    return [b for b in bids if outcomes.get(b.id, True)]


async def pending(evaluation: Evaluation) -> bool:
    """Whether the lot has criteria whose review is not decided yet (with no valid bid there is nothing to review)."""
    if not await QualificationCriterion.exists(lot_id=evaluation.lot_id) or await _decided(evaluation.id):
        return False
    return bool(await scoring._valid_bids(evaluation.lot_id))


async def rejected_lines(evaluation_id: int) -> list[dict[str, Any]]:
    """The rejected bids for the report: each with the criteria it failed, the votes and the reasons."""
    return [
        {"sealed_bid_id": o.sealed_bid_id, "organisation_id": o.organisation_id, "failures": o.failures}
        for o in await QualificationOutcome.filter(evaluation_id=evaluation_id, qualified=False).order_by(
            "sealed_bid_id"
        )
    ]


async def tell_rejected(evaluation: Evaluation, lines: list[dict[str, Any]]) -> None:
    """Tells each rejected bidder, once the report exists (in its transaction), that its bid was rejected."""
    for line in lines:
        org = int(line["organisation_id"])
        await events.record(
            BidRejectedAtQualification(
                object_id=str(evaluation.lot_id),
                lot_id=evaluation.lot_id,
                organisation_id=org,
                sealed_bid_id=int(line["sealed_bid_id"]),
                criteria=sum(1 for f in line["failures"] if f["mandatory"]),
                audience=Audience(orgs=(org,), roles=()),
            ),
            SYSTEM,
        )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class BidUnderReview:
    """A valid bid as the committee reviews it (its documents: domain/documents/reviewing.py), the outcome once
    decided."""

    sealed_bid_id: int
    organisation_id: int
    price_fen: int
    outcome: QualificationOutcome | None


@dataclass(frozen=True, slots=True)
class Review:
    evaluation: Evaluation | None
    criteria: list[QualificationCriterion]
    bids: list[BidUnderReview]
    judgements: list[QualificationJudgement]  # every member's to those who may read them, else the caller's own
    members: list[int]
    complete_members: int
    decided: bool
    experts_shown: bool


async def review(actor: Actor, lot_id: int) -> Review:
    """The review as the caller may see it: the committee (its own judgements, and every bid's documents), the
    tenderer and agency, operators and supervisors of the category (every judgement; experts named only to the
    last two); NotFound to anyone else."""
    lot, project = await scoring._lot(lot_id)
    if not await scoring.may_read(actor, lot, project):
        raise NotFound()
    criteria = await _criteria(lot.id)
    evaluation = await Evaluation.get_or_none(lot_id=lot.id)
    if evaluation is None:
        return Review(None, criteria, [], [], [], 0, False, scoring.sees_experts(actor, project))
    members = [int(m) for m in evaluation.committee]
    bids = await scoring._valid_bids(lot.id)
    outcomes = {o.sealed_bid_id: o for o in await QualificationOutcome.filter(evaluation_id=evaluation.id)}
    shown = [
        BidUnderReview(
            sealed_bid_id=b.id,
            organisation_id=b.organisation_id,
            price_fen=int(b.price_fen or 0),
            outcome=outcomes.get(b.id),
        )
        for b in bids
    ]
    everyone = actor.expert_id is None or actor.expert_id not in members
    query = QualificationJudgement.filter(evaluation_id=evaluation.id)
    if not everyone:
        query = query.filter(expert_id=actor.expert_id)
    judgements = list(await query.order_by("sealed_bid_id", "criterion_id", "expert_id"))
    judged = await _judged(evaluation.id)
    pairs = {(b.id, c.id) for b in bids for c in criteria}
    complete = sum(1 for m in members if pairs <= {(b, c) for (e, b, c) in judged if e == m})
    return Review(
        evaluation,
        criteria,
        shown,
        judgements,
        members,
        complete,
        bool(outcomes),
        scoring.sees_experts(actor, project),
    )


@dataclass(frozen=True, slots=True)
class OwnOutcome:
    sealed_bid_id: int
    qualified: bool
    failures: list[dict[str, Any]]
    decided_at: datetime


async def my_outcome(actor: Actor, lot_id: int) -> OwnOutcome | None:
    """The caller's organisation's own outcome, once the evaluation is finished (None before, or without a
    review): qualified or not, with the criteria failed, the votes and the reasons, members unnamed."""
    if actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    evaluation = await Evaluation.get_or_none(lot_id=lot_id)
    # 招标投标法 第四十四条: nothing of the review leaves the committee before the evaluation ends
    if evaluation is None or evaluation.status not in scoring.FINISHED:
        return None
    outcome = await QualificationOutcome.filter(evaluation_id=evaluation.id, organisation_id=actor.org_id).first()
    if outcome is None:
        return None
    return OwnOutcome(outcome.sealed_bid_id, outcome.qualified, list(outcome.failures), outcome.decided_at)
