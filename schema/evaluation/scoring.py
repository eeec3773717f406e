"""Evaluation by the committee: start, score sheets by experts, the report and its candidates."""

from datetime import datetime
from typing import Annotated, Any, TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.common.events import canonical_json
from domain.evaluation import scoring
from domain.evaluation.errors import QualificationPending
from domain.evaluation.models import Evaluation as EvaluationModel
from domain.evaluation.models import Score
from domain.publication.procedures import EvaluationMethod
from domain.tendering.services import NotSealedTender
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsExpert, IsOperator
from schema.publication.types import EvaluationMethodType
from schema.relay import Node, int_id, node_resolver, to_global_id
from schema.scalars import Fen

EvaluationState: TypeAlias = scoring.EvaluationStatus
strawberry.enum(
    EvaluationState,
    name="EvaluationState",
    description="SCORING while sheets come in; REPORTED with candidates; FAILED when no bid complied (流标).",
)
describe_values(
    EvaluationState,
    {
        "SCORING": "The committee is scoring: sheets are coming in.",
        "REPORTED": "Every member scored: the report and its candidates are made.",
        "FAILED": "No bid was found compliant: the lot fails (流标).",
    },
)

START_ERRORS = [scoring.OpeningNotClosed, scoring.CommitteeIncomplete, NotSealedTender]
SHEET_ERRORS = [
    QualificationPending,
    scoring.EvaluationNotStarted,
    scoring.EvaluationFinished,
    scoring.NotCommitteeMember,
    scoring.ScoreSheetMismatch,
    scoring.PointsOutOfRange,
    scoring.ReasonRequired,
]


def _bid_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("SealedBidReceipt", pk))


def _org_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("Organisation", pk))


@strawberry.type(description="Points of 100 for each part of a comprehensive evaluation.")
class EvaluationWeights:
    price: int = strawberry.field(description="Points of 100 for the price part.")
    technical: int = strawberry.field(description="Points of 100 for the technical part.")
    commercial: int = strawberry.field(description="Points of 100 for the commercial part.")


@strawberry.type(description="A bid document named in a sealed bid, with its SHA-256.")
class BidDocument:
    name: str = strawberry.field(description="The document's file name.")
    sha256: str = strawberry.field(description="SHA-256 of the document's content, in hex.")


@strawberry.type(description="A valid (decrypted) bid as the committee evaluates it.")
class EvaluationBid:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid (its receipt).")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the bidder's organisation.")
    bidder: str = strawberry.field(description="The bidder's name.")
    price_fen: Fen = strawberry.field(description="The bid price, in fen.")
    documents: list[BidDocument] = strawberry.field(description="The documents of the bid, each with its SHA-256.")
    submitted_at: datetime = strawberry.field(description="Server time the standing bid was received.")


@strawberry.type(description="One member's judgement of one bid, in the report.")
class MemberJudgement:
    member: int = strawberry.field(description="1-based position of the member in the committee.")
    expert_id: strawberry.ID | None = strawberry.field(
        description="The expert's global id: operators and supervisors of the category only, else null."
    )
    compliant: bool = strawberry.field(description="Whether this member found the bid compliant.")
    reason: str | None = strawberry.field(description="The member's reason when not compliant.")
    technical_centi: int | None = strawberry.field(description="Hundredths of a point; null for lowest price.")
    commercial_centi: int | None = strawberry.field(
        description="Commercial points in hundredths of a point; null for lowest price."
    )


@strawberry.type(description="A bid in the evaluation report, with the votes, every member's figures and the scores.")
class ReportBid:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid (its receipt).")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the bidder's organisation.")
    bidder: str = strawberry.field(description="The bidder's name.")
    price_fen: Fen = strawberry.field(description="The price of the bid, in fen.")
    submitted_at: datetime = strawberry.field(description="Server time the standing bid was received.")
    compliant: bool = strawberry.field(description="Whether a majority of the committee found it compliant.")
    compliant_votes: int = strawberry.field(description="How many members found the bid compliant.")
    non_compliant_votes: int = strawberry.field(description="How many members found it not compliant.")
    price_score_centi: int | None = strawberry.field(
        description="price weight x 100 x lowest compliant price / price, floored; comprehensive, compliant only."
    )
    technical_centi: int | None = strawberry.field(description="Mean of the members' points, floored.")
    commercial_centi: int | None = strawberry.field(description="Mean of the members' points, floored.")
    total_centi: int | None = strawberry.field(
        description="Price, technical and commercial scores added, in hundredths of a point; null when not scored."
    )
    rank: int | None = strawberry.field(description="Place among compliant bids; null when not compliant.")
    judgements: list[MemberJudgement] = strawberry.field(
        description="Every member's judgement and figures for this bid."
    )


@strawberry.type(description="The committee's evaluation report (评标报告) and its digest.")
class EvaluationReport:
    sha256: str = strawberry.field(description="SHA-256 of the canonical JSON of the report (sorted keys, no spaces).")
    lowest_compliant_price_fen: Fen | None = strawberry.field(
        description="The lowest price among compliant bids, in fen; null when none complied."
    )
    bids: list[ReportBid] = strawberry.field(description="Every valid bid, by sealed bid.")
    canonical_json: str | None = strawberry.field(
        description="The report exactly as digested (names experts): operators and supervisors only, else null."
    )


@strawberry.type(description="A winning-bid candidate (中标候选人) of the report.")
class EvaluationCandidate:
    rank: int = strawberry.field(description="1 to 3: the candidate ranked 1 is awarded unless the law says otherwise.")
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the candidate's sealed bid.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the candidate's organisation.")
    bidder: str = strawberry.field(description="The candidate's name.")
    price_fen: Fen = strawberry.field(description="The candidate's bid price, in fen.")
    score_centi: int | None = strawberry.field(
        description="Total in hundredths (comprehensive); null for lowest price."
    )


@strawberry.type(description="A lot's evaluation (评标): method, progress, and the report once every member scored.")
class Evaluation(Node):
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot evaluated.")
    method: EvaluationMethodType = strawberry.field(
        description="The evaluation method of the lot: lowest price or comprehensive."
    )
    weights: EvaluationWeights = strawberry.field(
        description="Points of 100 for price, technical and commercial parts (comprehensive evaluation)."
    )
    status: EvaluationState = strawberry.field(description="Scoring, reported, or failed when no bid complied.")
    members: int = strawberry.field(description="Committee size.")
    submitted: int = strawberry.field(description="Members who handed in a complete sheet.")
    started_at: datetime = strawberry.field(description="When the operator started the evaluation.")
    reported_at: datetime | None = strawberry.field(
        description="When the last member's sheet made the report; null before."
    )
    report: EvaluationReport | None = strawberry.field(
        description="The committee's report once every member has scored; null before."
    )
    candidates: list[EvaluationCandidate] = strawberry.field(description="At most 3, once reported.")


@strawberry.type(description="A line of an expert's own score sheet.")
class ScoreSheetEntry:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid judged.")
    compliant: bool = strawberry.field(description="Whether the expert found the bid compliant.")
    reason: str | None = strawberry.field(description="The expert's reason when not compliant.")
    technical_centi: int | None = strawberry.field(
        description="Technical points in hundredths of a point; null for lowest price."
    )
    commercial_centi: int | None = strawberry.field(
        description="Commercial points in hundredths of a point; null for lowest price."
    )


@strawberry.type(description="The signed-in expert's own score sheet for a lot.")
class ScoreSheet:
    submitted_at: datetime = strawberry.field(description="When the expert last handed in the sheet.")
    entries: list[ScoreSheetEntry] = strawberry.field(description="One entry for every valid bid.")


async def _names(info: Info, ids: list[int]) -> dict[int, str]:
    orgs = await info.context.loaders.organisation.load_many(ids)
    return {i: (o.name if o is not None else "") for i, o in zip(ids, orgs, strict=True)}


async def evaluation_of(info: Info, view: scoring.View) -> Evaluation | None:
    m = view.evaluation
    if m is None:
        return None
    report: EvaluationReport | None = None
    names: dict[int, str] = {}
    if m.report:
        names = await _names(info, sorted({int(line["organisation_id"]) for line in m.report["bids"]}))
        report = EvaluationReport(
            sha256=str(m.report_sha256),
            lowest_compliant_price_fen=m.report["lowest_compliant_price_fen"],
            bids=[_report_bid(line, names, view.experts_shown) for line in m.report["bids"]],
            canonical_json=canonical_json(m.report).decode() if view.experts_shown else None,
        )
    return Evaluation(
        _pk=m.id,
        lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
        method=EvaluationMethod(m.method),
        weights=EvaluationWeights(**{k: int(v) for k, v in m.weights.items()}),
        status=EvaluationState(m.status),
        members=view.members,
        submitted=view.submitted,
        started_at=m.started_at,
        reported_at=m.reported_at,
        report=report,
        candidates=[
            EvaluationCandidate(
                rank=c.rank,
                sealed_bid_id=_bid_id(c.sealed_bid_id),
                organisation_id=_org_id(c.organisation_id),
                bidder=names.get(c.organisation_id, ""),
                price_fen=c.price_fen,
                score_centi=c.score_centi,
            )
            for c in view.candidates
        ],
    )


def _report_bid(line: dict[str, Any], names: dict[int, str], experts_shown: bool) -> ReportBid:
    return ReportBid(
        sealed_bid_id=_bid_id(int(line["sealed_bid_id"])),
        organisation_id=_org_id(int(line["organisation_id"])),
        bidder=names.get(int(line["organisation_id"]), ""),
        price_fen=Fen(int(line["price_fen"])),
        submitted_at=datetime.fromisoformat(line["submitted_at"]),
        compliant=bool(line["compliant"]),
        compliant_votes=int(line["compliant_votes"]),
        non_compliant_votes=int(line["non_compliant_votes"]),
        price_score_centi=line["price_score_centi"],
        technical_centi=line["technical_centi"],
        commercial_centi=line["commercial_centi"],
        total_centi=line["total_centi"],
        rank=line["rank"],
        judgements=[
            MemberJudgement(
                member=n,
                expert_id=strawberry.ID(to_global_id("Expert", j["expert_id"])) if experts_shown else None,
                compliant=bool(j["compliant"]),
                reason=j["reason"],
                technical_centi=j["technical_centi"],
                commercial_centi=j["commercial_centi"],
            )
            for n, j in enumerate(line["members"], start=1)
        ],
    )


def _sheet(scores: list[Score]) -> ScoreSheet:
    return ScoreSheet(
        submitted_at=max(s.submitted_at for s in scores),
        entries=[
            ScoreSheetEntry(
                sealed_bid_id=_bid_id(s.sealed_bid_id),
                compliant=s.compliant,
                reason=s.reason,
                technical_centi=s.technical_centi,
                commercial_centi=s.commercial_centi,
            )
            for s in scores
        ],
    )


@strawberry.input(description="Start the evaluation of a lot whose opening closed and whose committee is complete.")
class EvaluationStartInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The evaluation started (or had started): the committee may score.")
class EvaluationStarted:
    evaluation: Evaluation = strawberry.field(description="The evaluation as it now stands.")


EvaluationStartResult = result_union("EvaluationStartResult", EvaluationStarted, START_ERRORS)


@strawberry.input(description="One member's judgement of one valid bid.")
class ScoreSheetEntryInput:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid, from evaluationBids.")
    compliant: bool = strawberry.field(
        description="Whether the bid meets the tender documents' substantive requirements."
    )
    reason: str | None = strawberry.field(default=None, description="Required when not compliant.")
    technical_centi: int | None = strawberry.field(
        default=None, description="Comprehensive: hundredths of a point, 0 to technical weight x 100; else null."
    )
    commercial_centi: int | None = strawberry.field(
        default=None, description="Comprehensive: hundredths of a point, 0 to commercial weight x 100; else null."
    )


@strawberry.input(description="A complete score sheet: one entry for every valid bid; replaces the previous one.")
class EvaluationSheetSubmitInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    entries: list[ScoreSheetEntryInput] = strawberry.field(
        description="One judgement for every valid bid, each exactly once."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The sheet is in; the last member's sheet makes the report.")
class ScoreSheetSubmitted:
    evaluation: Evaluation = strawberry.field(
        description="The evaluation as it now stands (reported if this was the last sheet)."
    )
    sheet: ScoreSheet = strawberry.field(description="The expert's sheet as recorded.")


EvaluationSheetSubmitResult = result_union("EvaluationSheetSubmitResult", ScoreSheetSubmitted, SHEET_ERRORS)


def _entries(items: list[ScoreSheetEntryInput]) -> list[scoring.Judgement]:
    return [
        scoring.Judgement(
            sealed_bid_id=int_id(e.sealed_bid_id, "SealedBidReceipt", f"entries.{i}.sealedBidId"),
            compliant=e.compliant,
            reason=e.reason,
            technical_centi=e.technical_centi,
            commercial_centi=e.commercial_centi,
        )
        for i, e in enumerate(items)
    ]


async def _shown(info: Info, lot_id: int) -> Evaluation:
    shown = await evaluation_of(info, await scoring.view(info.context.actor, lot_id))
    assert shown is not None  # the caller just started it or scored in it
    return shown


@strawberry.type
class ScoringQueries:
    @fields.field(
        description="A lot's evaluation: method, weights, progress, and the report and candidates once made. "
        "For its committee, tenderer, operators and supervisors of its category; null for anyone else "
        "and before it starts."
    )
    async def evaluation(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> Evaluation | None:
        try:
            view = await scoring.view(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await evaluation_of(info, view)

    @fields.field(
        description="The valid (decrypted) bids of a lot whose opening closed, for its committee, tenderer, "
        "operators and supervisors of its category; empty for anyone else."
    )
    async def evaluation_bids(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of the lot whose opening has closed.")
        ],
    ) -> list[EvaluationBid]:
        try:
            bids = await scoring.bids_for(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return [
            EvaluationBid(
                sealed_bid_id=_bid_id(b.sealed_bid_id),
                organisation_id=_org_id(b.organisation_id),
                bidder=b.organisation_name,
                price_fen=Fen(b.price_fen),
                documents=[BidDocument(name=d["name"], sha256=d["sha256"]) for d in b.documents],
                submitted_at=b.submitted_at,
            )
            for b in bids
        ]

    @fields.field(
        description="The signed-in expert's own score sheet for a lot; null before one is handed in.",
        permission_classes=[IsExpert],
    )
    async def my_score_sheet(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of the lot the signed-in expert evaluates.")
        ],
    ) -> ScoreSheet | None:
        try:
            mine = await scoring.my_sheet(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return _sheet(mine[1]) if mine else None


@strawberry.type
class ScoringMutations:
    @mutation(
        EvaluationStartResult,
        description="Start a lot's evaluation after its opening closed, with its committee complete (operator).",
        permission_classes=[IsOperator],
    )
    async def evaluation_start(
        self,
        info: Info,
        input: Annotated[EvaluationStartInput, strawberry.argument(description="The lot to evaluate.")],
    ) -> EvaluationStarted:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await scoring.start(info.context.actor, lot_id, input.idempotency_key)
        return EvaluationStarted(evaluation=await _shown(info, lot_id))

    @mutation(
        EvaluationSheetSubmitResult,
        description="Hand in (or replace, until the report exists) a complete score sheet (committee member).",
        permission_classes=[IsExpert],
    )
    async def evaluation_sheet_submit(
        self,
        info: Info,
        input: Annotated[
            EvaluationSheetSubmitInput, strawberry.argument(description="The expert's complete score sheet.")
        ],
    ) -> ScoreSheetSubmitted:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await scoring.submit_sheet(info.context.actor, lot_id, _entries(input.entries), input.idempotency_key)
        mine = await scoring.my_sheet(info.context.actor, lot_id)
        assert mine is not None  # just handed in
        return ScoreSheetSubmitted(evaluation=await _shown(info, lot_id), sheet=_sheet(mine[1]))


@node_resolver("Evaluation")
async def _evaluation_node(info: Info, pk: str) -> Evaluation | None:
    found = await EvaluationModel.get_or_none(id=int(pk)) if pk.isdigit() else None
    if found is None:
        return None
    try:
        view = await scoring.view(info.context.actor, found.lot_id)
    except DomainError:
        return None
    return await evaluation_of(info, view)
