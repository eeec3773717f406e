"""Sequential award, cancellation and the contract's life: withdraw an award, award the next candidate, cancel a lot
or a project, draft, sign, change, terminate and accept a contract, record a payment."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.certificates import acts
from domain.publication.models import Lot
from domain.results import cancellation as cancellations
from domain.results import contracts, sequence
from schema.certificates.types import SignatureInput, signed
from schema.errors import mutation, result_union
from schema.permissions import IsUser
from schema.relay import int_id
from schema.results import records
from schema.results.mutations import CanManageResults
from schema.results.queries import LotResult, shown
from schema.scalars import Fen

_KEY = "Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."


def _docs(ids: list[strawberry.ID]) -> list[int]:
    return [int_id(i, "Document", f"documentIds.{n}") for n, i in enumerate(ids)]


async def _contract(info: Info, lot_id: int) -> records.Contract:
    view = await contracts.contract_of(info.context.actor, lot_id)
    assert view is not None  # the caller just changed it, so it may see it
    lot = await Lot.get(id=lot_id)
    return records.contract_of(view, acts.encode(contracts.content_of(lot, view.contract)).decode())


# ---------------------------------------------------------------- sequential award


@strawberry.input(description="Withdraw the award from its winner on a ground of 实施条例 第五十五条.")
class AwardWithdrawInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the awarded lot.")
    ground: records.WithdrawalGround = strawberry.field(
        description="DECLINED or FORCE_MAJEURE by the winner itself; any ground by the tenderer or its agency."
    )
    detail: str = strawberry.field(description="The explanation, up to 2000 characters.")
    complaint_id: strawberry.ID | None = strawberry.field(
        default=None, description="COMPLAINT_UPHELD: global id of the upheld complaint (any upheld one if null)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The award left its winner; with no candidate left the lot failed.")
class AwardWithdrawn:
    result: LotResult = strawberry.field(description="The lot's result with the withdrawal.")


AwardWithdrawResult = result_union("AwardWithdrawResult", AwardWithdrawn, [sequence.withdraw])


@strawberry.input(description="Award the next candidate in rank order after a withdrawal (实施条例 第五十五条).")
class AwardNextInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot whose award was withdrawn.")
    candidate_rank: int | None = strawberry.field(
        default=None, description="The candidate meant (its rank); it must be the next in rank. Null: the next."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The next candidate is awarded: a new result notice, award and result notices.")
class AwardedNext:
    result: LotResult = strawberry.field(description="The lot's result with its new award.")


AwardNextResult = result_union("AwardNextResult", AwardedNext, [sequence.award_next])


# ---------------------------------------------------------------- cancellation


@strawberry.input(description="Cancel a lot, or every running lot of a project (终止招标/废标).")
class CancellationPublishInput:
    project_id: strawberry.ID = strawberry.field(description="Global id of the project the caller manages.")
    lot_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the lot; null: every running lot of the project."
    )
    ground: records.CancellationGround = strawberry.field(
        description="The reason from the list: the government procurement ones only for its projects."
    )
    explanation: str = strawberry.field(description="The explanation, up to 4000 characters.")
    document_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 20 documents of purpose CANCELLATION_DOCUMENT handed in on the lot(s)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="Cancelled: the termination announcements are out and the objection window is open.")
class CancellationPublished:
    cancellation: records.Cancellation = strawberry.field(description="The cancellation.")


CancellationPublishResult = result_union("CancellationPublishResult", CancellationPublished, [cancellations.cancel])


# ---------------------------------------------------------------- contracts


@strawberry.input(description="Draft the contract of an award with its files; both parties sign it next.")
class ContractDraftInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the awarded lot.")
    contract_no: str = strawberry.field(description="The contract's number, up to 64 characters.")
    amount_fen: Fen = strawberry.field(description="The contract amount: the winning price.")
    document_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 20 documents of purpose CONTRACT handed in on the lot, in the order they are signed."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="A contract drafted, signed, terminated or accepted.")
class ContractUpdated:
    contract: records.Contract = strawberry.field(description="The contract as it now stands.")


ContractDraftResult = result_union("ContractDraftResult", ContractUpdated, [contracts.draft])


@strawberry.input(description="Sign the drafted contract with a bound certificate (the tenderer's side or the winner).")
class ContractSignInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    signature: SignatureInput = strawberry.field(
        description="Over the contract's toSign content (act contract.sign, mobile_contract/SIGNATURES.md)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractSignResult = result_union("ContractSignResult", ContractUpdated, [contracts.sign])


@strawberry.input(
    description="Propose a change (变更) of the signed contract (either party); in force once both parties signed it."
)
class ContractChangeInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    ground: records.ContractChangeGround = strawberry.field(description="Why it changes.")
    rationale: str = strawberry.field(description="What changes and why, up to 2000 characters.")
    amount_fen: Fen = strawberry.field(description="The contract amount after the change.")
    document_ids: list[strawberry.ID] = strawberry.field(description="The agreement's files (purpose CONTRACT).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractChangeResult = result_union("ContractChangeResult", ContractUpdated, [contracts.change_contract])


@strawberry.input(
    description="Propose to end the signed contract early (either party); it ends once both parties signed it."
)
class ContractTerminateInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    ground: records.ContractEndGround = strawberry.field(description="Why it ends.")
    explanation: str = strawberry.field(description="Up to 2000 characters.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Its files (purpose CONTRACT).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractTerminateResult = result_union("ContractTerminateResult", ContractUpdated, [contracts.terminate])


@strawberry.input(description="Sign a proposed change or termination with a bound certificate (either party).")
class ContractChangeSignInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    seq: int = strawberry.field(description="The proposal's seq.")
    signature: SignatureInput = strawberry.field(
        description="Over the proposal's toSign content (act contract.change, mobile_contract/SIGNATURES.md)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractChangeSignResult = result_union("ContractChangeSignResult", ContractUpdated, [contracts.sign_change])


@strawberry.input(description="Decline a proposed change or termination (the other party), or withdraw it (its side).")
class ContractChangeDeclineInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    seq: int = strawberry.field(description="The proposal's seq.")
    note: str = strawberry.field(description="Why, up to 2000 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractChangeDeclineResult = result_union("ContractChangeDeclineResult", ContractUpdated, [contracts.decline_change])


@strawberry.input(description="Record the acceptance (验收) of the contract's performance, once.")
class ContractAcceptInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    accepted_on: date = strawberry.field(description="The acceptance day (Beijing), not before signing nor future.")
    passed: bool = strawberry.field(description="Whether it passed.")
    summary: str = strawberry.field(description="The acceptance report's conclusion, up to 2000 characters.")
    document_ids: list[strawberry.ID] = strawberry.field(description="The report's files (purpose CONTRACT).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractAcceptResult = result_union("ContractAcceptResult", ContractUpdated, [contracts.accept])


@strawberry.input(description="Record a payment to the supplier under the contract.")
class ContractPaymentRecordInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    amount_fen: Fen = strawberry.field(description="The amount paid; all payments stay within the contract amount.")
    paid_on: date = strawberry.field(description="The day paid (Beijing), not before signing nor future.")
    milestone: str = strawberry.field(description="What it pays for, up to 200 characters.")
    reference: str = strawberry.field(description="The voucher number, once per contract; up to 64 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


ContractPaymentRecordResult = result_union("ContractPaymentRecordResult", ContractUpdated, [contracts.record_payment])


@strawberry.type
class AfterAwardMutations:
    @mutation(
        AwardWithdrawResult,
        description="Withdraw the award from its winner: the winner declines, or the tenderer disqualifies it on a "
        "ground of 实施条例 第五十五条; with no candidate left the lot fails.",
        permission_classes=[IsUser],
    )
    async def award_withdraw(
        self, info: Info, input: Annotated[AwardWithdrawInput, strawberry.argument(description="The withdrawal.")]
    ) -> AwardWithdrawn:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        complaint = int_id(input.complaint_id, "Complaint", "complaintId") if input.complaint_id else None
        await sequence.withdraw(
            info.context.actor, lot_id, input.ground.value, input.detail, complaint, input.idempotency_key
        )
        return AwardWithdrawn(result=await shown(info, lot_id))

    @mutation(
        AwardNextResult,
        description="Award the next candidate in rank order after a withdrawal (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def award_next(
        self, info: Info, input: Annotated[AwardNextInput, strawberry.argument(description="The lot.")]
    ) -> AwardedNext:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await sequence.award_next(info.context.actor, lot_id, input.candidate_rank, input.idempotency_key)
        return AwardedNext(result=await shown(info, lot_id))

    @mutation(
        CancellationPublishResult,
        description="Cancel a lot or a project's running lots: termination announcements, objection window, "
        "deposits and guarantees let go (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def cancellation_publish(
        self,
        info: Info,
        input: Annotated[CancellationPublishInput, strawberry.argument(description="The cancellation.")],
    ) -> CancellationPublished:
        made = await cancellations.cancel(
            info.context.actor,
            int_id(input.project_id, "Project", "projectId"),
            int_id(input.lot_id, "Lot", "lotId") if input.lot_id else None,
            input.ground.value,
            input.explanation,
            _docs(input.document_ids),
            input.idempotency_key,
        )
        return CancellationPublished(cancellation=records.cancellation_of(made))

    @mutation(
        ContractDraftResult,
        description="Draft the contract of an award (tenderer or its agency); both parties sign it next.",
        permission_classes=[CanManageResults],
    )
    async def contract_draft(
        self, info: Info, input: Annotated[ContractDraftInput, strawberry.argument(description="The contract.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.draft(
            info.context.actor,
            lot_id,
            input.contract_no,
            int(input.amount_fen),
            _docs(input.document_ids),
            input.idempotency_key,
        )
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractSignResult,
        description="Sign the drafted contract (the tenderer's side or the winner); once both have, it is "
        "recorded and announced.",
        permission_classes=[IsUser],
    )
    async def contract_sign(
        self, info: Info, input: Annotated[ContractSignInput, strawberry.argument(description="The signature.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.sign(info.context.actor, lot_id, signed(input.signature), input.idempotency_key)
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractChangeResult,
        description="Propose a change of the signed contract (the tenderer, its agency or the supplier); in force "
        "once both parties signed it (contractChangeSign), then published as 合同变更公告 where the law asks.",
        permission_classes=[IsUser],
    )
    async def contract_change(
        self, info: Info, input: Annotated[ContractChangeInput, strawberry.argument(description="The change.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.change_contract(
            info.context.actor,
            lot_id,
            input.ground.value,
            input.rationale,
            int(input.amount_fen),
            _docs(input.document_ids),
            input.idempotency_key,
        )
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractTerminateResult,
        description="Propose to end the signed contract early (the tenderer, its agency or the supplier); it ends "
        "once both parties signed it (contractChangeSign), then published as 合同终止公告.",
        permission_classes=[IsUser],
    )
    async def contract_terminate(
        self, info: Info, input: Annotated[ContractTerminateInput, strawberry.argument(description="The end.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.terminate(
            info.context.actor,
            lot_id,
            input.ground.value,
            input.explanation,
            _docs(input.document_ids),
            input.idempotency_key,
        )
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractChangeSignResult,
        description="Sign a proposed change or termination of the contract (the tenderer's side or the supplier); "
        "once both have, it takes effect and is announced where the law asks.",
        permission_classes=[IsUser],
    )
    async def contract_change_sign(
        self, info: Info, input: Annotated[ContractChangeSignInput, strawberry.argument(description="The signature.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.sign_change(
            info.context.actor, lot_id, input.seq, signed(input.signature), input.idempotency_key
        )
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractChangeDeclineResult,
        description="Decline a proposed change or termination (the other party) or withdraw it (its proposer's "
        "side); the contract stays as it was.",
        permission_classes=[IsUser],
    )
    async def contract_change_decline(
        self, info: Info, input: Annotated[ContractChangeDeclineInput, strawberry.argument(description="Why.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.decline_change(info.context.actor, lot_id, input.seq, input.note, input.idempotency_key)
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractAcceptResult,
        description="Record the acceptance (验收) of the contract's performance (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def contract_accept(
        self, info: Info, input: Annotated[ContractAcceptInput, strawberry.argument(description="The acceptance.")]
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.accept(
            info.context.actor,
            lot_id,
            input.accepted_on,
            input.passed,
            input.summary,
            _docs(input.document_ids),
            input.idempotency_key,
        )
        return ContractUpdated(contract=await _contract(info, lot_id))

    @mutation(
        ContractPaymentRecordResult,
        description="Record a payment to the supplier (tenderer or its agency).",
        permission_classes=[CanManageResults],
    )
    async def contract_payment_record(
        self,
        info: Info,
        input: Annotated[ContractPaymentRecordInput, strawberry.argument(description="The payment.")],
    ) -> ContractUpdated:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await contracts.record_payment(
            info.context.actor,
            lot_id,
            int(input.amount_fen),
            input.paid_on,
            input.milestone,
            input.reference,
            input.idempotency_key,
        )
        return ContractUpdated(contract=await _contract(info, lot_id))
