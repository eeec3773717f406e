"""Results of a tendered lot: candidates, award, confirmation, contract and performance records."""

from datetime import date, datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.certificates import acts
from domain.common.errors import DomainError
from domain.publication import models as lot_models
from domain.results import cancellation as cancellations
from domain.results import contracts, sequence
from domain.results import models as result_models
from domain.results import services as results
from schema import fields
from schema.describe import describe_values
from schema.relay import Node, int_id, node_resolver, to_global_id
from schema.results import records
from schema.scalars import Fen

AwardState: TypeAlias = results.AwardStatus
strawberry.enum(
    AwardState,
    name="AwardState",
    description="AWARDED (result announced), CONFIRMED (the winner acknowledged), CONTRACTED, COMPLETED, "
    "WITHDRAWN (the winner left; the next candidate or the lot fails), FAILED (no candidate remained).",
)
describe_values(
    AwardState,
    {
        "AWARDED": "The result is announced and the notices sent.",
        "CONFIRMED": "The winner acknowledged the result confirmation (成交确认书).",
        "CONTRACTED": "The contract is recorded and announced.",
        "COMPLETED": "The performance record is published.",
        "WITHDRAWN": "The winner declined or was disqualified: the tenderer awards the next candidate.",
        "FAILED": "No candidate remained: the lot failed (流标).",
    },
)


def _lot_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("Lot", pk))


def _org_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("Organisation", pk))


@strawberry.type(description="A winning-bid candidate (中标候选人) as publicised.")
class ResultCandidate:
    rank: int = strawberry.field(description="1 to 3, the committee's ranking.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the bidder's organisation.")
    bidder: str = strawberry.field(description="The bidder's name.")
    price_fen: Fen = strawberry.field(description="The bid price.")
    score_centi: int | None = strawberry.field(
        description="Total score in hundredths (comprehensive evaluation); null for lowest price."
    )


@strawberry.type(description="The candidate publicity (中标候选人公示): its announcement and window.")
class CandidatePublicity:
    announcement_id: strawberry.ID = strawberry.field(description="Global id of the announcement.")
    starts_at: datetime = strawberry.field(description="Server time the publicity began.")
    ends_at: datetime = strawberry.field(description="Server time it ends; the lot may be awarded after it.")


@strawberry.type(description="The award of a lot (中标), public once the result announcement is published.")
class Award(Node):
    status: AwardState = strawberry.field(description="Where the award stands.")
    confirmation_no: str = strawberry.field(description="The result confirmation number (成交确认书编号).")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the winner.")
    winner: str = strawberry.field(description="The winner's name.")
    price_fen: Fen = strawberry.field(description="The winning price.")
    awarded_at: datetime = strawberry.field(description="Server time of the award.")
    contract_due_at: datetime = strawberry.field(description="The written contract is due by then (30 days).")
    contract_no: str | None = strawberry.field(description="The contract number, once recorded.")
    contract_amount_fen: Fen | None = strawberry.field(description="The contract amount, once recorded.")
    contract_signed_on: date | None = strawberry.field(description="The day the contract was signed.")
    contract_recorded_at: datetime | None = strawberry.field(description="Server time the contract was recorded.")
    performance_recorded_at: datetime | None = strawberry.field(
        description="Server time the performance record was published."
    )


@strawberry.type(
    description="The result confirmation (成交确认书): for the winner, the tenderer (and its agency), operators "
    "and supervisors of the lot's category."
)
class ResultConfirmation:
    confirmation_no: str = strawberry.field(description="Its number.")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    lot_name: str = strawberry.field(description="The lot's name.")
    trade_code: str = strawberry.field(description="The lot's unified trade identifier.")
    tenderer: str = strawberry.field(description="The tenderer's name.")
    winner: str = strawberry.field(description="The winner's name.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the winner.")
    price_fen: Fen = strawberry.field(description="The winning price.")
    awarded_at: datetime = strawberry.field(description="Server time of the award.")
    confirmed_at: datetime | None = strawberry.field(description="When the winner acknowledged it.")
    contract_due_at: datetime = strawberry.field(description="The written contract is due by then.")
    contract_overdue_at: datetime | None = strawberry.field(
        description="When the chronograph flagged the contract overdue; null while it is not."
    )


@strawberry.type(description="A lot's results as the caller may see them.")
class LotResult:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    publicity: CandidatePublicity | None = strawberry.field(description="The candidate publicity, once published.")
    candidates: list[ResultCandidate] = strawberry.field(
        description="Public once publicised; before that only for the tenderer, operators and supervisors."
    )
    award: Award | None = strawberry.field(description="The award, once the result is announced.")
    confirmation: ResultConfirmation | None = strawberry.field(
        description="The result confirmation: for the winner and the keepers of the lot, else null."
    )

    @fields.field(description="Winners that left the award, oldest first (sequential award, 第五十五条).")
    async def withdrawals(self, info: Info) -> list[records.AwardWithdrawal]:
        actor, lot_pk = info.context.actor, int_id(self.lot_id, "Lot", "lotId")
        lines = await sequence.withdrawals_of(actor, lot_pk)
        return [
            records.withdrawal_of(line, await sequence.sees_detail(actor, lot_pk, line.withdrawal.organisation_id))
            for line in lines
        ]

    @fields.field(
        description="The contract: public once signed by both and announced; while pending, for both parties, "
        "the agency and the lot's keepers."
    )
    async def contract(self, info: Info) -> records.Contract | None:
        lot_pk = int_id(self.lot_id, "Lot", "lotId")
        view = await contracts.contract_of(info.context.actor, lot_pk)
        if view is None:
            return None
        lot = await lot_models.Lot.get(id=lot_pk)
        return records.contract_of(view, acts.encode(contracts.content_of(lot, view.contract)).decode())

    @fields.field(description="The cancellations (终止/废标) that ended the lot, public like their announcements.")
    async def cancellations(self, info: Info) -> list[records.Cancellation]:
        rows = await cancellations.cancellations_of(int_id(self.lot_id, "Lot", "lotId"))
        return [records.cancellation_of(row) for row in rows]


def lot_result_of(view: results.ResultView) -> LotResult:
    publicity = None
    p = view.publicity
    if p is not None and p.publicity_starts_at is not None and p.publicity_ends_at is not None:
        publicity = CandidatePublicity(
            announcement_id=strawberry.ID(to_global_id("Announcement", p.id)),
            starts_at=p.publicity_starts_at,
            ends_at=p.publicity_ends_at,
        )
    award = None
    a = view.award
    if a is not None:
        award = Award(
            _pk=a.id,
            status=AwardState(a.status),
            confirmation_no=a.confirmation_no,
            organisation_id=_org_id(a.organisation_id),
            winner=view.winner or "",
            price_fen=Fen(a.price_fen),
            awarded_at=a.awarded_at,
            contract_due_at=a.contract_due_at,
            contract_no=a.contract_no,
            contract_amount_fen=Fen(a.contract_amount_fen) if a.contract_amount_fen is not None else None,
            contract_signed_on=a.contract_signed_on,
            contract_recorded_at=a.contract_recorded_at,
            performance_recorded_at=a.performance_recorded_at,
        )
    confirmation = None
    c = view.confirmation
    if c is not None:
        confirmation = ResultConfirmation(
            confirmation_no=c.award.confirmation_no,
            lot_id=_lot_id(c.lot.id),
            lot_name=c.lot.name,
            trade_code=c.lot.trade_code,
            tenderer=c.tenderer,
            winner=c.winner,
            organisation_id=_org_id(c.award.organisation_id),
            price_fen=Fen(c.award.price_fen),
            awarded_at=c.award.awarded_at,
            confirmed_at=c.award.confirmed_at,
            contract_due_at=c.award.contract_due_at,
            contract_overdue_at=c.award.contract_overdue_at if view.keeper else None,
        )
    return LotResult(
        lot_id=_lot_id(view.lot.id),
        publicity=publicity,
        candidates=[
            ResultCandidate(
                rank=line.candidate.rank,
                organisation_id=_org_id(line.candidate.organisation_id),
                bidder=line.bidder,
                price_fen=Fen(line.candidate.price_fen),
                score_centi=line.candidate.score_centi,
            )
            for line in view.candidates
        ],
        award=award,
        confirmation=confirmation,
    )


async def shown(info: Info, lot_id: int) -> LotResult:
    """The lot's results for the caller who just changed them (who may see them)."""
    return lot_result_of(await results.lot_result(info.context.actor, lot_id))


@strawberry.type
class ResultQueries:
    @fields.field(
        description="A lot's results: candidates once publicised, the award once announced, the result "
        "confirmation for the winner and the lot's keepers. No token needed for what is public; null for a "
        "lot that does not exist or is a draft."
    )
    async def lot_result(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> LotResult | None:
        try:
            view = await results.lot_result(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return lot_result_of(view)


@node_resolver("Award")
async def _award_node(info: Info, pk: str) -> Award | None:
    found = await result_models.Award.get_or_none(id=int(pk)) if pk.isdigit() else None
    if found is None:
        return None
    try:
        return lot_result_of(await results.lot_result(info.context.actor, found.lot_id)).award
    except DomainError:
        return None
