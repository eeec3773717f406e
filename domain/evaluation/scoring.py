"""Evaluation (评标) by the drawn committee: score sheets, the report and up to three candidates.

After the opening closes, the operator starts the evaluation of a lot whose committee is complete
(every draw round revealed): the method and weights are copied from the lot's configuration and the
committee is fixed. Each member hands in one complete sheet: for every valid (decrypted) bid, whether
it complies (with the reason when it does not) and, for comprehensive scoring (综合评估法), technical
and commercial points in hundredths of a point. A member may replace its sheet until the report
exists. The last member's sheet makes the report in the same transaction:

- a bid complies when a majority of the committee marks it so (评标委员会成员过半数);
- lowest price (经评审的最低投标价法): compliant bids by price ascending;
- comprehensive: price score = price_weight * 100 * lowest compliant price / price, technical and
  commercial = the mean of the members' points, each floored to whole hundredths; total descending;
- ties: the lower price, then the credit tie-break priority where the lot applies one (守信激励,
  registration/incentives.tie_break_order: a favoured grade first), then the earlier submission (then the lower
  bid id, so the order is total);
- the first three are the candidates (中标候选人); with no compliant bid the lot fails (流标) and a
  termination announcement is published.

The report keeps every figure that led to the ranking; report_sha256 is the SHA-256 of its canonical
JSON (keys sorted, no spaces, UTF-8), so anyone holding the report can check it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.access import scope
from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.queries import column
from domain.common.storage import lock
from domain.evaluation import signing, witnesses
from domain.evaluation.draw import committee
from domain.evaluation.errors import CommitteeIncomplete as CommitteeIncomplete
from domain.evaluation.errors import EvaluationFinished as EvaluationFinished
from domain.evaluation.errors import EvaluationNotStarted as EvaluationNotStarted
from domain.evaluation.errors import NotCommitteeMember as NotCommitteeMember
from domain.evaluation.errors import OpeningNotClosed as OpeningNotClosed
from domain.evaluation.errors import PointsOutOfRange as PointsOutOfRange
from domain.evaluation.errors import ReasonRequired as ReasonRequired
from domain.evaluation.errors import ScoreSheetMismatch as ScoreSheetMismatch
from domain.evaluation.models import Evaluation, ExpertDraw, Score
from domain.evaluation.states import EVALUATION, DrawStatus
from domain.evaluation.states import EvaluationStatus as EvaluationStatus
from domain.publication.announcements import announce
from domain.publication.models import Lot, Project
from domain.publication.procedures import EVALUATED, EvaluationMethod, Procedure, evaluation_settings
from domain.publication.projects import move_lot
from domain.publication.states import LotStatus
from domain.registration import incentives
from domain.results.models import Candidate
from domain.tendering.models import Opening, SealedBid
from domain.tendering.opening import OpeningStatus
from domain.tendering.services import BidStatus, NotSealedTender

MAX_CANDIDATES = 3
MAX_REASON = 500


FINISHED = frozenset({EvaluationStatus.REPORTED.value, EvaluationStatus.FAILED.value})


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class EvaluationStarted(DomainEvent):
    """The committee may score; its members are not named here."""

    type = "evaluation.started"
    object_type = "Evaluation"
    lot_id: int
    method: str
    members: int
    bids: int


@dataclass(frozen=True, kw_only=True)
class SheetSubmitted(DomainEvent):
    """Progress only, for operators and supervisors: never a point, a vote or a reason."""

    type = "evaluation.sheet_submitted"
    object_type = "Evaluation"
    lot_id: int
    expert_id: int
    replaced: bool
    submitted: int
    members: int


@dataclass(frozen=True, kw_only=True)
class EvaluationReported(DomainEvent):
    """The report exists: candidates (0 when no bid complied and the lot failed) and its digest."""

    type = "evaluation.reported"
    object_type = "Evaluation"
    lot_id: int
    candidates: int
    failed: bool
    report_sha256: str


KEEPERS = (Role.OPERATOR.value, Role.SUPERVISOR.value)


# ---------------------------------------------------------------- the ranking, pure


@dataclass(frozen=True, slots=True)
class BidFacts:
    """What the ranking reads of a valid bid."""

    sealed_bid_id: int
    organisation_id: int
    price_fen: int
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class Judgement:
    """One member's judgement of one bid."""

    sealed_bid_id: int
    compliant: bool
    reason: str | None = None
    technical_centi: int | None = None
    commercial_centi: int | None = None


def rank(
    bids: Sequence[BidFacts],
    members: Sequence[int],
    sheets: Mapping[int, Sequence[Judgement]],
    method: str,
    weights: Mapping[str, int],
    priority: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The report: every bid with every member's judgement, the votes, the scores and the ranking.

    `sheets` maps each member to a complete sheet; `priority`, where given, orders the organisations whose score
    and price tie (the lot's credit tie-break). Pure: the same inputs give the same report, and its JSON form is
    what report_sha256 digests.
    """
    method = EvaluationMethod(method).value
    n = len(members)
    by_member = {m: {j.sealed_bid_id: j for j in sheets[m]} for m in members}
    compliant_ids = {
        b.sealed_bid_id for b in bids if 2 * sum(by_member[m][b.sealed_bid_id].compliant for m in members) > n
    }
    prices = [b.price_fen for b in bids if b.sealed_bid_id in compliant_ids]
    lowest = min(prices) if prices else None
    comprehensive = method == EvaluationMethod.COMPREHENSIVE.value

    lines: list[dict[str, Any]] = []
    for b in sorted(bids, key=lambda b: b.sealed_bid_id):
        judged = [by_member[m][b.sealed_bid_id] for m in members]
        votes = sum(j.compliant for j in judged)
        ok = b.sealed_bid_id in compliant_ids
        line: dict[str, Any] = {
            "sealed_bid_id": b.sealed_bid_id,
            "organisation_id": b.organisation_id,
            "price_fen": b.price_fen,
            "submitted_at": b.submitted_at.isoformat(),
            "compliant_votes": votes,
            "non_compliant_votes": n - votes,
            "compliant": ok,
            "members": [
                {
                    "expert_id": m,
                    "compliant": j.compliant,
                    "reason": j.reason,
                    "technical_centi": j.technical_centi,
                    "commercial_centi": j.commercial_centi,
                }
                for m, j in zip(members, judged, strict=True)
            ],
            "price_score_centi": None,
            "technical_centi": None,
            "commercial_centi": None,
            "total_centi": None,
            "rank": None,
        }
        if comprehensive:
            line["technical_centi"] = sum(int(j.technical_centi or 0) for j in judged) // n
            line["commercial_centi"] = sum(int(j.commercial_centi or 0) for j in judged) // n
            if ok and lowest is not None:
                line["price_score_centi"] = weights["price"] * 100 * lowest // b.price_fen
                line["total_centi"] = line["price_score_centi"] + line["technical_centi"] + line["commercial_centi"]
        lines.append(line)

    submitted = {b.sealed_bid_id: b.submitted_at for b in bids}
    place = {org: i for i, org in enumerate(priority or ())}

    def order(line: dict[str, Any]) -> tuple[int, int, int, datetime, int]:
        first = -line["total_centi"] if comprehensive else line["price_fen"]
        favoured = place.get(line["organisation_id"], len(place))
        return (first, line["price_fen"], favoured, submitted[line["sealed_bid_id"]], line["sealed_bid_id"])

    ranked = sorted((line for line in lines if line["compliant"]), key=order)
    for position, line in enumerate(ranked, start=1):
        line["rank"] = position
    report: dict[str, Any] = {
        "method": method,
        "weights": {k: int(weights[k]) for k in ("price", "technical", "commercial")},
        "committee": list(members),
        "lowest_compliant_price_fen": lowest,
        "bids": lines,
        "ranking": [line["sealed_bid_id"] for line in ranked],
    }
    if priority:
        report["tie_break_priority"] = list(priority)
    return report


def check_sheet(
    entries: Sequence[Judgement], valid_bid_ids: Sequence[int], method: str, weights: Mapping[str, int]
) -> list[Judgement]:
    """A complete, well-formed sheet (reasons trimmed), or the first error found."""
    comprehensive = EvaluationMethod(method) is EvaluationMethod.COMPREHENSIVE
    checked = []
    for i, e in enumerate(entries):
        reason = (e.reason or "").strip() or None
        if reason is not None and len(reason) > MAX_REASON:
            raise InvalidInput(field=f"entries.{i}.reason")
        if not e.compliant and reason is None:
            raise ReasonRequired(field=f"entries.{i}.reason")
        for part, value in (("technical", e.technical_centi), ("commercial", e.commercial_centi)):
            field = f"entries.{i}.{part}Centi"
            if not comprehensive:
                if value is not None:
                    raise InvalidInput(field=field)
                continue
            high = int(weights[part]) * 100
            if value is None or isinstance(value, bool) or not 0 <= value <= high:
                raise PointsOutOfRange(field, high)
        checked.append(Judgement(e.sealed_bid_id, e.compliant, reason, e.technical_centi, e.commercial_centi))
    given = [e.sealed_bid_id for e in checked]
    valid = set(valid_bid_ids)
    missing = len(valid - set(given))
    unexpected = len(given) - len(set(given)) + len(set(given) - valid)
    if missing or unexpected:
        raise ScoreSheetMismatch(missing=missing, unexpected=unexpected)
    return checked


# ---------------------------------------------------------------- reading rights


async def _lot(lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    return lot, lot.project


async def members_of(lot_id: int) -> list[int]:
    """The lot's committee: the evaluation's snapshot once started, else the revealed draw rounds."""
    evaluation = await Evaluation.get_or_none(lot_id=lot_id)
    if evaluation is not None:
        return [int(m) for m in evaluation.committee]
    return committee(await ExpertDraw.filter(lot_id=lot_id))


async def may_read(actor: Actor, lot: Lot, project: Project) -> bool:
    """Committee members, the tenderer (and its agency), operators, supervisors of the lot's category, and the
    witnesses assigned to the lot (read-only)."""
    if scope.keeps_project(actor, project):
        return True
    if actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id):
        return True
    if actor.has(Role.WITNESS) and await witnesses.assigned(actor, lot.id):  # 见证: read-only
        return True
    return actor.expert_id is not None and actor.has(Role.EXPERT) and actor.expert_id in await members_of(lot.id)


def sees_experts(actor: Actor, project: Project) -> bool:
    """Who may see which expert judged what before the award: operators, supervisors of the category."""
    return scope.keeps_project(actor, project)


# ---------------------------------------------------------------- services


async def _valid_bids(lot_id: int) -> list[SealedBid]:
    return list(
        await SealedBid.filter(lot_id=lot_id, status=BidStatus.DECRYPTED.value, price_fen__not_isnull=True).order_by(
            "id"
        )
    )


def _audience(project: Project, *roles: str) -> Audience:
    return Audience(orgs=tuple(o for o in (project.tenderer_id, project.agency_id) if o), roles=roles or KEEPERS)


@use_case("evaluation.start", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def start(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Evaluation:
    """Starts the lot's evaluation once its opening closed and its committee is complete, with the
    method, weights and committee fixed from then on; starting again returns the same evaluation."""
    if not actor.has(Role.OPERATOR) or (actor.user_id is None and not actor.is_system):
        raise PermissionDenied()
    lot, project = await _lot(lot_id)
    if Procedure(lot.procedure) not in EVALUATED:
        raise NotSealedTender()

    async def create() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot.id)).get()
        existing = await Evaluation.get_or_none(lot_id=lot.id)
        if existing is not None:
            return {"id": existing.id}
        passing = {"opening_status": OpeningStatus.CLOSED.value, "committee_complete": True}
        EVALUATION.precheck("start", by=actor, lot_status=locked.status, **passing)  # no query on a lot not evaluating
        opening = await Opening.get_or_none(lot_id=lot.id)
        facts = {"lot_status": locked.status, "opening_status": opening.status if opening else None}
        EVALUATION.precheck("start", by=actor, **facts, committee_complete=True)
        draws = list(await ExpertDraw.filter(lot_id=lot.id).order_by("round"))
        members = committee(draws)
        revealed = bool(draws) and all(d.status == DrawStatus.REVEALED.value for d in draws)
        started = EVALUATION.fire(
            None, "start", by=actor, **facts, committee_complete=revealed and len(members) == draws[0].size
        )
        settings = evaluation_settings(Procedure(locked.procedure), locked.config)
        assert settings is not None  # a sealed tender
        evaluation = await Evaluation.create(
            lot_id=lot.id,
            method=settings.method.value,
            weights=settings.weights(),
            committee=members,
            status=started.value,
            started_at=clock.now(),
        )
        await events.record(
            EvaluationStarted(
                object_id=str(evaluation.id),
                lot_id=lot.id,
                method=evaluation.method,
                members=len(members),
                bids=len(await _valid_bids(lot.id)),
                audience=_audience(project),
            ),
            actor,
        )
        return {"id": evaluation.id}

    result, _ = await run_once(actor, idempotency_key, "evaluation.start", {"lot": lot.id}, create)
    return await Evaluation.get(id=result["id"])


@dataclass(frozen=True, slots=True)
class BidView:
    """A valid bid as the committee reads it."""

    sealed_bid_id: int
    organisation_id: int
    organisation_name: str
    price_fen: int
    documents: list[dict[str, str]]
    submitted_at: datetime


async def bids_for(actor: Actor, lot_id: int) -> list[BidView]:
    """The decrypted valid bids of a lot whose opening closed, to its committee, tenderer, operators and
    supervisors of its category; NotFound to anyone else."""
    lot, project = await _lot(lot_id)
    opening = await Opening.get_or_none(lot_id=lot.id)
    if opening is None or opening.status != OpeningStatus.CLOSED.value or not await may_read(actor, lot, project):
        raise NotFound()
    bids = await _valid_bids(lot.id)
    evaluation = await Evaluation.get_or_none(lot_id=lot.id)
    if evaluation is not None:
        from domain.evaluation import qualification  # it builds on this module

        bids = await qualification.scored_bids(evaluation, bids)  # once the review rejected some, the others
        if actor.expert_id is not None and actor.expert_id in [int(m) for m in evaluation.committee]:
            await signing.bids_opened(evaluation, actor.expert_id)  # its sheet's time starts (evaluation alerts)
    names = {o.id: o.name for o in await Organisation.filter(id__in=[b.organisation_id for b in bids])}
    return [
        BidView(
            sealed_bid_id=b.id,
            organisation_id=b.organisation_id,
            organisation_name=names.get(b.organisation_id, ""),
            price_fen=int(b.price_fen or 0),
            documents=[{"name": str(d["name"]), "sha256": str(d["sha256"])} for d in b.documents or []],
            submitted_at=b.submitted_at,
        )
        for b in bids
    ]


def _member(actor: Actor) -> int:
    if actor.expert_id is None or not actor.has(Role.EXPERT):
        raise PermissionDenied()
    return actor.expert_id


@use_case("evaluation.submit_sheet", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def submit_sheet(
    actor: Actor, lot_id: int, entries: Sequence[Judgement], idempotency_key: str | None = None
) -> Evaluation:
    """Stores a member's complete sheet (replacing its previous one) while the evaluation is scoring; the
    last member's sheet makes the report and the candidates, or fails the lot, in the same transaction."""
    expert_id = _member(actor)
    lot, project = await _lot(lot_id)

    async def store() -> dict[str, Any]:
        evaluation = await lock(Evaluation.filter(lot_id=lot.id)).first()
        if evaluation is None:
            raise EvaluationNotStarted()
        members = [int(m) for m in evaluation.committee]
        EVALUATION.precheck("submit_sheet", by=actor, member=expert_id in members)
        from domain.evaluation import qualification  # it builds on this module

        pending = await qualification.pending(evaluation)
        EVALUATION.fire(evaluation.status, "submit_sheet", by=actor, member=True, qualification_pending=pending)
        bids = await qualification.scored_bids(evaluation, await _valid_bids(lot.id))
        sheet = check_sheet(entries, [b.id for b in bids], evaluation.method, evaluation.weights)
        now = clock.now()
        replaced = await Score.filter(evaluation_id=evaluation.id, expert_id=expert_id).delete()
        await Score.bulk_create(
            [
                Score(
                    evaluation_id=evaluation.id,
                    expert_id=expert_id,
                    sealed_bid_id=j.sealed_bid_id,
                    compliant=j.compliant,
                    reason=j.reason,
                    technical_centi=j.technical_centi,
                    commercial_centi=j.commercial_centi,
                    submitted_at=now,
                )
                for j in sheet
            ]
        )
        await signing.sheet_handed_in(evaluation, lot, expert_id, now)  # the sheet as its member signs it
        scored = await column(
            Score.filter(evaluation_id=evaluation.id).distinct().values_list("expert_id", flat=True), int
        )
        submitted = len({int(e) for e in scored} & set(members))
        await events.record(
            SheetSubmitted(
                object_id=str(evaluation.id),
                lot_id=lot.id,
                expert_id=expert_id,
                replaced=bool(replaced),
                submitted=submitted,
                members=len(members),
                audience=Audience(roles=KEEPERS),
            ),
            actor,
        )
        if submitted == len(members):
            await _report(evaluation, lot, project, bids, now)
        return {"id": evaluation.id}

    request = {"lot": lot.id, "entries": [_entry_json(e) for e in entries]}
    result, _ = await run_once(actor, idempotency_key, "evaluation.submit_sheet", request, store)
    return await Evaluation.get(id=result["id"])


def _entry_json(e: Judgement) -> dict[str, Any]:
    return {
        "bid": e.sealed_bid_id,
        "compliant": e.compliant,
        "reason": e.reason,
        "technical": e.technical_centi,
        "commercial": e.commercial_centi,
    }


async def _report(evaluation: Evaluation, lot: Lot, project: Project, bids: list[SealedBid], now: datetime) -> None:
    """The report from every member's sheet, its candidates, or the lot's failure; in the caller's transaction."""
    members = [int(m) for m in evaluation.committee]
    sheets: dict[int, list[Judgement]] = {m: [] for m in members}
    for s in await Score.filter(evaluation_id=evaluation.id).order_by("id"):
        if s.expert_id in sheets:
            sheets[s.expert_id].append(
                Judgement(s.sealed_bid_id, s.compliant, s.reason, s.technical_centi, s.commercial_centi)
            )
    facts = [BidFacts(b.id, b.organisation_id, int(b.price_fen or 0), b.submitted_at) for b in bids]
    by_submission = [b.organisation_id for b in sorted(facts, key=lambda b: (b.submitted_at, b.sealed_bid_id))]
    favoured = await incentives.tie_break_order(lot.id, by_submission)
    priority = favoured if favoured != by_submission else None  # the report names a priority only where it acts
    report = rank(facts, members, sheets, evaluation.method, evaluation.weights, priority)
    from domain.evaluation import qualification  # it builds on this module

    rejected = await qualification.rejected_lines(evaluation.id)
    if rejected:  # 资格后审: rejected bids stay on the record with the criteria they failed and the reasons
        report["rejected_at_qualification"] = rejected
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    chosen = report["ranking"][:MAX_CANDIDATES]
    for position, bid_id in enumerate(chosen, start=1):
        line = lines[bid_id]
        await Candidate.create(
            lot_id=lot.id,
            rank=position,
            organisation_id=line["organisation_id"],
            sealed_bid_id=bid_id,
            price_fen=line["price_fen"],
            score_centi=line["total_centi"],
            created_at=now,
        )
    failed = not chosen
    evaluation.status = EVALUATION.fire(evaluation.status, "fail" if failed else "report", by=SYSTEM).value
    evaluation.report, evaluation.report_sha256, evaluation.reported_at = report, events.digest(report), now
    await evaluation.save(update_fields=["status", "report", "report_sha256", "reported_at"])
    await events.record(
        EvaluationReported(
            object_id=str(evaluation.id),
            lot_id=lot.id,
            candidates=len(chosen),
            failed=failed,
            report_sha256=str(evaluation.report_sha256),
            audience=_audience(project, Role.OPERATOR.value, Role.SUPERVISOR.value),
        ),
        SYSTEM,
    )
    await qualification.tell_rejected(evaluation, rejected)
    if failed:
        await _fail(lot, len(bids) + len(rejected))


async def _fail(lot: Lot, bids: int) -> None:
    """流标 at the evaluation: the lot fails and a termination announcement ends it, as at the opening."""
    await move_lot(SYSTEM, lot.id, {LotStatus.EVALUATING}, LotStatus.FAILED)
    await announce(
        SYSTEM,
        lot,
        "termination",
        f"{lot.name}流标公告",
        f"<p>{lot.name}（交易标识码 {lot.trade_code}）经评标委员会评审，{bids} 份有效投标均未通过"
        "符合性审查，依法否决全部投标，本次招标失败（流标）。</p>",
    )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class View:
    evaluation: Evaluation | None
    lot: Lot
    project: Project
    members: int
    submitted: int
    candidates: list[Candidate]
    experts_shown: bool


async def view(actor: Actor, lot_id: int) -> View:
    """The evaluation as the caller may see it: committee, tenderer, operators, supervisors of the category."""
    lot, project = await _lot(lot_id)
    if not await may_read(actor, lot, project):
        raise NotFound()
    evaluation = await Evaluation.get_or_none(lot_id=lot.id)
    if evaluation is None:
        return View(None, lot, project, len(await members_of(lot.id)), 0, [], sees_experts(actor, project))
    members = {int(m) for m in evaluation.committee}
    scored = await column(Score.filter(evaluation_id=evaluation.id).distinct().values_list("expert_id", flat=True), int)
    candidates = list(await Candidate.filter(lot_id=lot.id).order_by("rank")) if evaluation.status in FINISHED else []
    return View(
        evaluation,
        lot,
        project,
        len(members),
        len({int(e) for e in scored} & members),
        candidates,
        sees_experts(actor, project),
    )


async def my_sheet(actor: Actor, lot_id: int) -> tuple[Evaluation, list[Score]] | None:
    """The caller's own sheet for a lot (None before it hands one in); NotFound to anyone but a member."""
    expert_id = _member(actor)
    evaluation = await Evaluation.get_or_none(lot_id=lot_id)
    if evaluation is None or expert_id not in [int(m) for m in evaluation.committee]:
        raise NotFound()
    scores = list(await Score.filter(evaluation_id=evaluation.id, expert_id=expert_id).order_by("sealed_bid_id"))
    return (evaluation, scores) if scores else None
