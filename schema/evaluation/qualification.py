"""Post-qualification (资格后审): a draft lot's criteria (its managers), the committee's judgements (experts), the
review (committee, tenderer, operators, supervisors) and a bidder's own outcome. Decode, call one service, map."""

from datetime import datetime
from typing import Annotated, Any, TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.documents import reviewing
from domain.evaluation import qualification
from domain.evaluation.models import QualificationCriterion as CriterionModel
from domain.evaluation.models import QualificationOutcome
from schema import fields
from schema.describe import describe_values
from schema.documents.types import Document
from schema.errors import mutation, result_union
from schema.permissions import IsExpert, has_role
from schema.relay import int_id, to_global_id
from schema.scalars import Fen

CanManageProjects = has_role(Role.TENDERER, Role.AGENCY, Role.OPERATOR)
IsBidder = has_role(Role.BIDDER)

QualificationCriterionKind: TypeAlias = qualification.CriterionKind
strawberry.enum(
    QualificationCriterionKind,
    name="QualificationCriterionKind",
    description="What a qualification criterion is about.",
)
describe_values(
    QualificationCriterionKind,
    {
        "QUALIFICATION": "Licence or qualification grade (资质等级、许可证).",
        "PERFORMANCE": "Similar performance (类似项目业绩).",
        "FINANCE": "Financial standing (财务状况).",
        "PERSONNEL": "Project manager and key personnel (项目负责人及主要人员).",
        "CREDIT": "Credit record (信用记录).",
        "OTHER": "Another condition the tender documents state.",
    },
)


def _criterion_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("QualificationCriterion", pk))


def _bid_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("SealedBidReceipt", pk))


@strawberry.type(description="A qualification condition of a lot under post-qualification (资格后审).")
class QualificationCriterion:
    id: strawberry.ID = strawberry.field(description="Global id of the criterion, named by judgements.")
    position: int = strawberry.field(description="1-based place in the lot's list.")
    kind: QualificationCriterionKind = strawberry.field(
        description="Licence or qualification grade, similar performance, finance, personnel, credit, other."
    )
    description: str = strawberry.field(description="What the bidder must show.")
    mandatory: bool = strawberry.field(
        description="Whether failing it (by a majority of the committee) rejects the bid."
    )

    @classmethod
    def from_model(cls, m: CriterionModel) -> "QualificationCriterion":
        return cls(
            id=_criterion_id(m.id),
            position=m.position,
            kind=qualification.CriterionKind(m.kind),
            description=m.description,
            mandatory=m.mandatory,
        )


@strawberry.type(description="A criterion a bid failed by a majority of the committee, with the votes and reasons.")
class QualificationFailure:
    criterion_id: strawberry.ID = strawberry.field(description="Global id of the criterion failed.")
    position: int = strawberry.field(description="The criterion's place in the lot's list.")
    description: str = strawberry.field(description="The criterion, as the tender documents state it.")
    mandatory: bool = strawberry.field(description="True: the bid is rejected for it (实施条例 第五十一条(三)).")
    pass_votes: int = strawberry.field(description="Members who found the criterion met.")
    fail_votes: int = strawberry.field(description="Members who found it not met (a majority).")
    reasons: list[str] = strawberry.field(description="The reasons the members who failed it gave (unnamed).")


def _failures(items: list[dict[str, Any]]) -> list[QualificationFailure]:
    return [
        QualificationFailure(
            criterion_id=_criterion_id(int(f["criterion_id"])),
            position=int(f["position"]),
            description=str(f["description"]),
            mandatory=bool(f["mandatory"]),
            pass_votes=int(f["pass_votes"]),
            fail_votes=int(f["fail_votes"]),
            reasons=[str(r) for r in f["reasons"]],
        )
        for f in items
    ]


@strawberry.type(description="One member's judgement of one bid on one criterion.")
class QualificationVote:
    member: int = strawberry.field(description="1-based position of the member in the committee.")
    expert_id: strawberry.ID | None = strawberry.field(
        description="The expert's global id: operators and supervisors of the category only, else null."
    )
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid judged.")
    criterion_id: strawberry.ID = strawberry.field(description="Global id of the criterion.")
    passed: bool = strawberry.field(description="Whether the member found the criterion met.")
    reason: str | None = strawberry.field(description="The member's reason when not met.")
    judged_at: datetime = strawberry.field(description="When the member last judged it.")


@strawberry.type(description="A valid bid under review: the bidder, its documents, and the outcome once decided.")
class QualificationBid:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid (its receipt).")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the bidder's organisation.")
    bidder: str = strawberry.field(description="The bidder's name.")
    price_fen: Fen = strawberry.field(description="The bid price, in fen.")
    opened_files: list[Document] = strawberry.field(
        description="The bid's files decrypted at the opening (download with documentDownload)."
    )
    licences: list[Document] = strawberry.field(
        description="The organisation's licences and qualification certificates (download with documentDownload)."
    )
    qualified: bool | None = strawberry.field(description="The committee's conclusion; null before it is decided.")
    failures: list[QualificationFailure] = strawberry.field(
        description="Criteria failed by a majority (mandatory ones reject the bid); empty before the decision."
    )


@strawberry.type(description="A lot's post-qualification review (资格后审) by its evaluation committee.")
class QualificationReview:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    criteria: list[QualificationCriterion] = strawberry.field(description="The lot's criteria, in order.")
    members: int = strawberry.field(description="Committee size; 0 before the evaluation starts.")
    complete_members: int = strawberry.field(description="Members who judged every bid on every criterion.")
    decided: bool = strawberry.field(description="Whether the last judgement decided the review.")
    bids: list[QualificationBid] = strawberry.field(description="Every valid bid, by sealed bid.")
    votes: list[QualificationVote] = strawberry.field(
        description="Every member's judgements (a member sees only its own)."
    )


@strawberry.type(description="The signed-in bidder's own post-qualification outcome, once the evaluation ended.")
class QualificationOutcomeOwn:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the bidder's sealed bid.")
    qualified: bool = strawberry.field(description="False: the bid was rejected for the mandatory criteria failed.")
    failures: list[QualificationFailure] = strawberry.field(description="Criteria failed, with votes and reasons.")
    decided_at: datetime = strawberry.field(description="When the committee decided.")


async def review_of(info: Info, lot_id: int) -> QualificationReview:
    actor = info.context.actor
    r = await qualification.review(actor, lot_id)
    orgs = sorted({b.organisation_id for b in r.bids})
    loaded = await info.context.loaders.organisation.load_many(orgs)
    names = {i: (o.name if o is not None else "") for i, o in zip(orgs, loaded, strict=True)}
    docs = await reviewing.bidder_documents(actor, lot_id, orgs) if orgs else {}
    position = {m: n for n, m in enumerate(r.members, start=1)}
    return QualificationReview(
        lot_id=strawberry.ID(to_global_id("Lot", lot_id)),
        criteria=[QualificationCriterion.from_model(c) for c in r.criteria],
        members=len(r.members),
        complete_members=r.complete_members,
        decided=r.decided,
        bids=[
            QualificationBid(
                sealed_bid_id=_bid_id(b.sealed_bid_id),
                organisation_id=strawberry.ID(to_global_id("Organisation", b.organisation_id)),
                bidder=names.get(b.organisation_id, ""),
                price_fen=Fen(b.price_fen),
                opened_files=[Document.from_model(d) for d in docs[b.organisation_id].opened_files],
                licences=[Document.from_model(d) for d in docs[b.organisation_id].licences],
                qualified=b.outcome.qualified if b.outcome else None,
                failures=_failures(list(b.outcome.failures)) if b.outcome else [],
            )
            for b in r.bids
        ],
        votes=[
            QualificationVote(
                member=position.get(int(j.expert_id), 0),
                expert_id=strawberry.ID(to_global_id("Expert", j.expert_id)) if r.experts_shown else None,
                sealed_bid_id=_bid_id(j.sealed_bid_id),
                criterion_id=_criterion_id(j.criterion_id),
                passed=j.passed,
                reason=j.reason,
                judged_at=j.judged_at,
            )
            for j in r.judgements
        ],
    )


def _own(o: qualification.OwnOutcome | QualificationOutcome) -> QualificationOutcomeOwn:
    return QualificationOutcomeOwn(
        sealed_bid_id=_bid_id(o.sealed_bid_id),
        qualified=o.qualified,
        failures=_failures(list(o.failures)),
        decided_at=o.decided_at,
    )


@strawberry.input(description="A qualification condition: what it is about, what must be shown, whether it rejects.")
class QualificationCriterionInput:
    kind: QualificationCriterionKind = strawberry.field(description="What the criterion is about.")
    description: str = strawberry.field(description="What the bidder must show (≤ 1,000 characters, no locality).")
    mandatory: bool = strawberry.field(default=True, description="Failing it rejects the bid (default true).")


@strawberry.input(
    description="Replace the qualification criteria of a draft tender or inquiry (empty: no post-qualification)."
)
class LotQualificationCriteriaSetInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the draft lot.")
    criteria: list[QualificationCriterionInput] = strawberry.field(description="The criteria, in order (≤ 20).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The lot's criteria are replaced.")
class QualificationCriteriaSet:
    criteria: list[QualificationCriterion] = strawberry.field(description="The lot's criteria as now recorded.")


LotQualificationCriteriaSetResult = result_union(
    "LotQualificationCriteriaSetResult", QualificationCriteriaSet, [qualification.set_criteria]
)


@strawberry.input(description="One judgement: a valid bid against one of the lot's criteria.")
class QualificationJudgementInput:
    sealed_bid_id: strawberry.ID = strawberry.field(description="Global id of the sealed bid, from the review.")
    criterion_id: strawberry.ID = strawberry.field(description="Global id of the criterion, from the review.")
    passed: bool = strawberry.field(description="Whether the bidder meets the criterion.")
    reason: str | None = strawberry.field(default=None, description="Required when not met (≤ 500 characters).")


@strawberry.input(description="A member's judgements; each replaces the member's earlier judgement of the same pair.")
class QualificationJudgeInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot under evaluation.")
    entries: list[QualificationJudgementInput] = strawberry.field(description="One or more judgements (≤ 2,000).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The judgements are recorded; the one completing the review decides it.")
class QualificationJudged:
    review: QualificationReview = strawberry.field(description="The review as it now stands.")


QualificationJudgeResult = result_union("QualificationJudgeResult", QualificationJudged, [qualification.judge])


def _entries(items: list[QualificationJudgementInput]) -> list[qualification.Entry]:
    return [
        qualification.Entry(
            sealed_bid_id=int_id(e.sealed_bid_id, "SealedBidReceipt", f"entries.{i}.sealedBidId"),
            criterion_id=int_id(e.criterion_id, "QualificationCriterion", f"entries.{i}.criterionId"),
            passed=e.passed,
            reason=e.reason,
        )
        for i, e in enumerate(items)
    ]


@strawberry.type
class QualificationQueries:
    @fields.field(
        description="A lot's qualification criteria (资格后审): public once its tender is published, to its "
        "managers while a draft; empty otherwise."
    )
    async def qualification_criteria(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[QualificationCriterion]:
        try:
            found = await qualification.criteria_of(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return [QualificationCriterion.from_model(c) for c in found]

    @fields.field(
        description="A lot's post-qualification review: for its committee (its own judgements), tenderer, operators "
        "and supervisors of its category (every judgement); null for anyone else."
    )
    async def qualification_review(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> QualificationReview | None:
        try:
            return await review_of(info, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None

    @fields.field(
        description="The signed-in bidder's own post-qualification outcome on a lot, once the evaluation ended; "
        "null before, or when the lot had no review.",
        permission_classes=[IsBidder],
    )
    async def my_qualification_outcome(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> QualificationOutcomeOwn | None:
        try:
            found = await qualification.my_outcome(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return _own(found) if found else None


@strawberry.type
class QualificationMutations:
    @mutation(
        LotQualificationCriteriaSetResult,
        description="Replace the qualification criteria of a draft tender or inquiry (tenderer, agency, operator).",
        permission_classes=[CanManageProjects],
    )
    async def lot_qualification_criteria_set(
        self,
        info: Info,
        input: Annotated[
            LotQualificationCriteriaSetInput, strawberry.argument(description="The draft lot and its criteria.")
        ],
    ) -> QualificationCriteriaSet:
        forms = [qualification.CriterionForm(c.kind.value, c.description, c.mandatory) for c in input.criteria]
        made = await qualification.set_criteria(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), forms, input.idempotency_key
        )
        return QualificationCriteriaSet(criteria=[QualificationCriterion.from_model(c) for c in made])

    @mutation(
        QualificationJudgeResult,
        description="Judge valid bids against the lot's qualification criteria (committee member), until decided.",
        permission_classes=[IsExpert],
    )
    async def qualification_judge(
        self,
        info: Info,
        input: Annotated[QualificationJudgeInput, strawberry.argument(description="The member's judgements.")],
    ) -> QualificationJudged:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await qualification.judge(info.context.actor, lot_id, _entries(input.entries), input.idempotency_key)
        return QualificationJudged(review=await review_of(info, lot_id))
