"""Candidate publicity, award, result confirmation, contract record, performance record."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.results import services as results
from schema.errors import mutation, result_union
from schema.permissions import IsUser, has_role
from schema.relay import int_id
from schema.results.queries import LotResult, shown
from schema.scalars import Fen

CanManageResults = has_role(Role.TENDERER, Role.AGENCY, Role.OPERATOR)


@strawberry.input(description="Publish the candidate publicity (中标候选人公示) of an evaluated lot.")
class CandidatesPublishInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an evaluated lot the caller manages.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The candidates are publicised.")
class CandidatesPublished:
    result: LotResult = strawberry.field(
        description="The lot's result as it now stands: the candidates and the publicity."
    )


CandidatesPublishResult = result_union("CandidatesPublishResult", CandidatesPublished, [results.publish_candidates])


@strawberry.input(description="Award the lot to its first candidate after the publicity (定标).")
class ResultAwardInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a lot in publicity that the caller manages.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Awarded: the result announcement is published and the notices sent.")
class LotAwarded:
    result: LotResult = strawberry.field(description="The lot's result with its award.")


ResultAwardResult = result_union("ResultAwardResult", LotAwarded, [results.award])


@strawberry.input(description="The winner acknowledges the result confirmation (成交确认书).")
class ResultConfirmInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot the caller's organisation won.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Acknowledged.")
class ResultConfirmed:
    result: LotResult = strawberry.field(description="The lot's result with the acknowledgement.")


ResultConfirmResult = result_union("ResultConfirmResult", ResultConfirmed, [results.confirm])


@strawberry.input(description="Record the signed contract; publishes the contract announcement.")
class ContractRecordInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an awarded lot the caller manages.")
    contract_no: str = strawberry.field(description="The contract's number, up to 64 characters.")
    amount_fen: Fen = strawberry.field(description="The contract amount: the winning price.")
    signed_on: date = strawberry.field(description="The day it was signed (Beijing), not in the future.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Recorded and announced; the winner's security is let go.")
class ContractRecorded:
    result: LotResult = strawberry.field(description="The lot's result with its contract.")


ContractRecordResult = result_union("ContractRecordResult", ContractRecorded, [results.record_contract])


@strawberry.input(description="Publish the performance record (履约信息) of a contracted lot.")
class PerformanceRecordInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a contracted lot the caller manages.")
    summary: str = strawberry.field(description="What was delivered, up to 2000 characters.")
    completed_on: date = strawberry.field(description="The day performance was completed, not in the future.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Published; the lot is completed.")
class PerformanceRecorded:
    result: LotResult = strawberry.field(description="The lot's result with the performance record.")


PerformanceRecordResult = result_union("PerformanceRecordResult", PerformanceRecorded, [results.record_performance])


@strawberry.type
class ResultMutations:
    @mutation(
        CandidatesPublishResult,
        description="Publish the candidate publicity of an evaluated lot (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def candidates_publish(
        self,
        info: Info,
        input: Annotated[CandidatesPublishInput, strawberry.argument(description="The evaluated lot.")],
    ) -> CandidatesPublished:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await results.publish_candidates(info.context.actor, lot_id, input.idempotency_key)
        return CandidatesPublished(result=await shown(info, lot_id))

    @mutation(
        ResultAwardResult,
        description="Award the lot to its first candidate once the publicity has ended and nothing pauses it "
        "(tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def result_award(
        self, info: Info, input: Annotated[ResultAwardInput, strawberry.argument(description="The lot to award.")]
    ) -> LotAwarded:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await results.award(info.context.actor, lot_id, input.idempotency_key)
        return LotAwarded(result=await shown(info, lot_id))

    @mutation(
        ResultConfirmResult,
        description="Acknowledge the result confirmation (the winner), once.",
        permission_classes=[IsUser],
    )
    async def result_confirm(
        self,
        info: Info,
        input: Annotated[
            ResultConfirmInput,
            strawberry.argument(description="The lot whose result confirmation the winner acknowledges."),
        ],
    ) -> ResultConfirmed:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await results.confirm(info.context.actor, lot_id, input.idempotency_key)
        return ResultConfirmed(result=await shown(info, lot_id))

    @mutation(
        ContractRecordResult,
        description="Record the signed contract and publish the contract announcement (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def contract_record(
        self,
        info: Info,
        input: Annotated[ContractRecordInput, strawberry.argument(description="The lot and its signed contract.")],
    ) -> ContractRecorded:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await results.record_contract(
            info.context.actor,
            lot_id,
            input.contract_no,
            int(input.amount_fen),
            input.signed_on,
            input.idempotency_key,
        )
        return ContractRecorded(result=await shown(info, lot_id))

    @mutation(
        PerformanceRecordResult,
        description="Publish the performance record; the lot is completed (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def performance_record(
        self,
        info: Info,
        input: Annotated[
            PerformanceRecordInput, strawberry.argument(description="The lot and how its contract was performed.")
        ],
    ) -> PerformanceRecorded:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await results.record_performance(
            info.context.actor, lot_id, input.summary, input.completed_on, input.idempotency_key
        )
        return PerformanceRecorded(result=await shown(info, lot_id))
