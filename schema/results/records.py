"""After the award: the winners that left it (sequential award), cancellations, and the contract with its changes,
acceptance and payments."""

from datetime import date, datetime
from enum import StrEnum
from typing import TypeAlias

import strawberry

from domain.certificates import acts
from domain.results import cancellation as cancellations
from domain.results import contracts, sequence, states
from domain.results.models import Cancellation as CancellationRow
from domain.results.models import ContractChange as ContractChangeRow
from schema.describe import describe_values
from schema.relay import to_global_id
from schema.scalars import Fen

WithdrawalGround: TypeAlias = states.WithdrawalReason
strawberry.enum(WithdrawalGround, name="WithdrawalGround", description="Why an award leaves its winner (第五十五条).")
describe_values(
    WithdrawalGround,
    {
        "DECLINED": "The winner declines the award (放弃中标); the winner itself or the tenderer.",
        "CONTRACT_NOT_SIGNED": "No contract by the 30-day deadline (flagged overdue first).",
        "SECURITY_NOT_SUBMITTED": "The performance security the documents ask was not handed in.",
        "FORCE_MAJEURE": "Force majeure keeps the winner from performing; the winner itself or the tenderer.",
        "COMPLAINT_UPHELD": "A complaint on the lot was upheld: an offence affecting the result.",
        "CREDIT_BLOCKED": "The winner is under joint credit punishment (失信联合惩戒).",
    },
)
CancellationGround: TypeAlias = cancellations.CancellationReason
strawberry.enum(
    CancellationGround, name="CancellationGround", description="Why a lot is cancelled (终止招标/废标), by its rule."
)
describe_values(
    CancellationGround,
    {
        "TENDER_TERMINATED": "The tenderer terminates the tender (招标投标法实施条例 第三十一条).",
        "TOO_FEW_BIDS": "Fewer than three bids: not opened, to be re-tendered (招标投标法 第二十八条).",
        "ALL_BIDS_REJECTED": "The committee rejected every bid (招标投标法 第四十二条).",
        "NO_CANDIDATE_REMAINS": "Every candidate declined or was disqualified (实施条例 第五十五条).",
        "TOO_FEW_SUPPLIERS": "Government procurement: fewer than three qualified suppliers (政府采购法 第三十六条).",
        "IRREGULARITY": "Government procurement: an offence affecting fairness (政府采购法 第三十六条).",
        "OVER_BUDGET": "Government procurement: every price above the budget (政府采购法 第三十六条).",
        "TASK_CANCELLED": "Government procurement: a major change cancels the purchase (政府采购法 第三十六条).",
    },
)
CancellationState: TypeAlias = states.CancellationStatus
strawberry.enum(CancellationState, name="CancellationState", description="Where a cancellation stands.")
describe_values(
    CancellationState,
    {
        "OBJECTION_WINDOW": "Announced; bidders may object until objectionEndsAt.",
        "EFFECTIVE": "The window is over and every objection to it answered.",
    },
)
ContractState: TypeAlias = states.ContractStatus
strawberry.enum(ContractState, name="ContractState", description="Where a contract stands.")
describe_values(
    ContractState,
    {
        "PENDING": "Drafted: waits for both parties' signatures.",
        "ACTIVE": "Signed by both, recorded and announced.",
        "COMPLETED": "The performance record is published.",
        "TERMINATED": "Ended early, announced.",
    },
)
ContractChangeGround: TypeAlias = states.ChangeReason
strawberry.enum(ContractChangeGround, name="ContractChangeGround", description="Why a signed contract changes.")
describe_values(
    ContractChangeGround,
    {
        "SUPPLEMENT": "More of the same subject: all supplements at most 10% of the original (政府采购法 第四十九条).",
        "PUBLIC_INTEREST": "Performing as is would harm the state or the public interest (政府采购法 第五十条).",
        "AGREED_TERMS": "An adjustment the contract itself provides for.",
        "NON_SUBSTANTIVE": "Names, contacts, accounts: the amount does not change.",
    },
)
ContractEndGround: TypeAlias = states.TerminationReason
strawberry.enum(ContractEndGround, name="ContractEndGround", description="Why a contract ends early.")
describe_values(
    ContractEndGround,
    {
        "PUBLIC_INTEREST": "Performing would harm the state or the public interest (政府采购法 第五十条).",
        "MUTUAL_AGREEMENT": "Both parties agree (民法典 第五百六十二条).",
        "BREACH": "A breach defeats the contract's purpose (民法典 第五百六十三条).",
        "FORCE_MAJEURE": "Force majeure defeats the contract's purpose (民法典 第五百六十三条).",
    },
)

ContractProposalKind: TypeAlias = states.ChangeKind
strawberry.enum(ContractProposalKind, name="ContractProposalKind", description="What a proposal does to a contract.")
describe_values(
    ContractProposalKind,
    {"CHANGE": "A change (变更) of its terms or amount.", "TERMINATION": "Ending it early (解除/终止)."},
)
ContractProposalState: TypeAlias = states.ChangeStatus
strawberry.enum(
    ContractProposalState, name="ContractProposalState", description="Where a proposed change or termination stands."
)
describe_values(
    ContractProposalState,
    {
        "PROPOSED": "Proposed by one party: waits for both parties' signatures.",
        "EFFECTIVE": "Signed by both: in force (and announced where the law asks).",
        "DECLINED": "The other party declined it.",
        "WITHDRAWN": "Its proposer took it back.",
    },
)


@strawberry.enum(description="A party to a contract.")
class ContractSide(StrEnum):
    BUYER = "buyer"  # the tenderer's side (采购人/招标人/出让人)
    SUPPLIER = "supplier"  # the winner (中标人/成交供应商/竞得人)


@strawberry.enum(description="How a contract came to the platform.")
class ContractOrigin(StrEnum):
    PLATFORM = "platform"  # drafted with its file and signed by both parties here
    RECORDED = "recorded"  # signed elsewhere and recorded by contractRecord: number, amount and day only


describe_values(
    ContractSide,
    {
        "BUYER": "The tenderer's side: 采购人/招标人/出让人, or its agency acting for it.",
        "SUPPLIER": "The winner: 中标人/成交供应商/竞得人.",
    },
)
describe_values(
    ContractOrigin,
    {
        "PLATFORM": "Drafted with its file and signed by both parties on the platform.",
        "RECORDED": "Signed elsewhere and recorded by contractRecord: number, amount and day only.",
    },
)


def _id(kind: str, pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id(kind, pk))


@strawberry.type(description="A winner that left the award, and what followed.")
class AwardWithdrawal:
    rank: int = strawberry.field(description="The withdrawn winner's rank.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the withdrawn winner.")
    bidder: str = strawberry.field(description="Its name.")
    price_fen: Fen = strawberry.field(description="Its price.")
    ground: WithdrawalGround = strawberry.field(description="Why it left.")
    ground_text: str = strawberry.field(description="The ground in Chinese.")
    basis: str = strawberry.field(description="The rule it stands on.")
    detail: str | None = strawberry.field(
        description="The explanation given: for the lot's keepers and the withdrawn winner, else null."
    )
    withdrawn_at: datetime = strawberry.field(description="Server time of the withdrawal.")
    next_announcement_id: strawberry.ID | None = strawberry.field(
        description="Global id of the next candidate's result notice, once awarded."
    )
    failed: bool = strawberry.field(description="No candidate remained: the lot failed.")


def withdrawal_of(line: sequence.WithdrawalLine, detail: bool) -> AwardWithdrawal:
    w = line.withdrawal
    return AwardWithdrawal(
        rank=w.rank,
        organisation_id=_id("Organisation", w.organisation_id),
        bidder=line.bidder,
        price_fen=Fen(w.price_fen),
        ground=WithdrawalGround(w.reason),
        ground_text=line.ground_zh,
        basis=line.basis,
        detail=w.detail if detail else None,
        withdrawn_at=w.withdrawn_at,
        next_announcement_id=_id("Announcement", w.next_announcement_id) if w.next_announcement_id else None,
        failed=w.failed,
    )


@strawberry.type(description="A cancellation (终止招标/废标) of a lot, or of every running lot of a project.")
class Cancellation:
    id: strawberry.ID = strawberry.field(description="Global id of the cancellation.")
    ground: CancellationGround = strawberry.field(description="Why.")
    ground_text: str = strawberry.field(description="The ground in Chinese.")
    basis: str = strawberry.field(description="The rule it stands on.")
    explanation: str = strawberry.field(description="The tenderer's explanation.")
    status: CancellationState = strawberry.field(description="Where it stands.")
    whole_project: bool = strawberry.field(description="Every running lot of the project was cancelled.")
    lot_ids: list[strawberry.ID] = strawberry.field(description="Global ids of the lots it ended.")
    announcement_ids: list[strawberry.ID] = strawberry.field(description="Their termination announcements.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Global ids of its documents.")
    cancelled_at: datetime = strawberry.field(description="Server time it was announced.")
    objection_ends_at: datetime = strawberry.field(description="Objections (stage CANCELLATION) until then.")
    effective_at: datetime | None = strawberry.field(description="When it became effective.")


def cancellation_of(row: CancellationRow) -> Cancellation:
    reason = cancellations.reason_of(row)
    return Cancellation(
        id=_id("Cancellation", row.id),
        ground=CancellationGround(row.reason),
        ground_text=reason.zh,
        basis=row.basis,
        explanation=row.explanation,
        status=CancellationState(row.status),
        whole_project=row.lot_id is None,
        lot_ids=[_id("Lot", i) for i in row.lot_ids],
        announcement_ids=[_id("Announcement", i) for i in row.announcement_ids],
        document_ids=[_id("Document", i) for i in row.document_ids],
        cancelled_at=row.cancelled_at,
        objection_ends_at=row.objection_ends_at,
        effective_at=row.effective_at,
    )


@strawberry.type(description="A change (变更) of a signed contract.")
class ContractChange:
    seq: int = strawberry.field(description="1 for the first change, and so on.")
    ground: ContractChangeGround = strawberry.field(description="Why.")
    basis: str = strawberry.field(description="The rule it stands on.")
    rationale: str = strawberry.field(description="What changed and why.")
    before_fen: Fen = strawberry.field(description="The amount before.")
    after_fen: Fen = strawberry.field(description="The amount after.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Global ids of the agreement's files.")
    announcement_id: strawberry.ID | None = strawberry.field(
        description="Global id of the 合同变更公告; null where the law asks none (engineering, same amount)."
    )
    changed_at: datetime = strawberry.field(description="Server time it took effect (both parties had signed).")


@strawberry.type(
    description="A change or termination one party proposed: in force only once both parties signed its toSign."
)
class ContractProposal:
    seq: int = strawberry.field(description="Its number among the contract's proposals, 1 for the first.")
    kind: ContractProposalKind = strawberry.field(description="A change or a termination.")
    status: ContractProposalState = strawberry.field(description="Where it stands.")
    change_ground: ContractChangeGround | None = strawberry.field(description="Why it changes (a change).")
    end_ground: ContractEndGround | None = strawberry.field(description="Why it ends (a termination).")
    basis: str = strawberry.field(description="The rule it stands on.")
    rationale: str = strawberry.field(description="What changes, or why it ends.")
    before_fen: Fen = strawberry.field(description="The amount before.")
    after_fen: Fen = strawberry.field(description="The amount after (a termination: unchanged).")
    document_ids: list[strawberry.ID] = strawberry.field(description="Global ids of its files.")
    documents_sha256: list[str] = strawberry.field(description="Their SHA-256, in the order both parties sign.")
    to_sign: str = strawberry.field(description="The canonical content each party signs (act contract.change).")
    proposed_by: ContractSide | None = strawberry.field(description="The side that proposed it.")
    proposed_at: datetime = strawberry.field(description="Server time it was proposed.")
    buyer_signed_at: datetime | None = strawberry.field(description="When the tenderer's side signed it.")
    supplier_signed_at: datetime | None = strawberry.field(description="When the supplier signed it.")
    decided_at: datetime | None = strawberry.field(description="When it took effect, was declined or withdrawn.")
    decision_note: str | None = strawberry.field(description="Why it was declined or withdrawn.")
    announcement_id: strawberry.ID | None = strawberry.field(
        description="Global id of the 合同变更公告 of a change in force; null otherwise."
    )


def _proposal(ch: ContractChangeRow, to_sign: str) -> ContractProposal:
    change = ch.kind == states.ChangeKind.CHANGE.value
    return ContractProposal(
        seq=ch.seq,
        kind=ContractProposalKind(ch.kind),
        status=ContractProposalState(ch.status),
        change_ground=ContractChangeGround(ch.reason) if change else None,
        end_ground=None if change else ContractEndGround(ch.reason),
        basis=ch.basis,
        rationale=ch.rationale,
        before_fen=Fen(ch.before_fen),
        after_fen=Fen(ch.after_fen),
        document_ids=[_id("Document", i) for i in ch.document_ids],
        documents_sha256=list(ch.documents_sha256 or []),
        to_sign=to_sign,
        proposed_by=ContractSide(ch.proposed_by) if ch.proposed_by else None,
        proposed_at=ch.changed_at,
        buyer_signed_at=ch.buyer_signed_at,
        supplier_signed_at=ch.supplier_signed_at,
        decided_at=ch.decided_at,
        decision_note=ch.decision_note,
        announcement_id=_id("Announcement", ch.announcement_id) if ch.announcement_id else None,
    )


@strawberry.type(description="A payment to the supplier under the contract.")
class ContractPayment:
    amount_fen: Fen = strawberry.field(description="The amount paid.")
    paid_on: date = strawberry.field(description="The day it was paid (Beijing).")
    milestone: str = strawberry.field(description="What it pays for.")
    reference: str | None = strawberry.field(description="The voucher number: for the parties and keepers, else null.")


@strawberry.type(description="The contract of an award: public once signed by both parties and announced.")
class Contract:
    id: strawberry.ID = strawberry.field(description="Global id of the contract.")
    contract_no: str = strawberry.field(description="Its number.")
    status: ContractState = strawberry.field(description="Where it stands.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the supplier (the winner).")
    original_fen: Fen = strawberry.field(description="The amount signed: the winning price.")
    amount_fen: Fen = strawberry.field(description="The amount after its changes.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Global ids of the contract's files.")
    documents_sha256: list[str] = strawberry.field(description="Their SHA-256, in the order both parties sign.")
    to_sign: str = strawberry.field(description="The canonical content each party signs (act contract.sign).")
    buyer_signed_at: datetime | None = strawberry.field(description="When the tenderer's side signed.")
    supplier_signed_at: datetime | None = strawberry.field(description="When the winner signed.")
    signature_ids: list[strawberry.ID] = strawberry.field(description="Global ids of both signatures.")
    signed_on: date | None = strawberry.field(description="The day both had signed (Beijing).")
    announcement_id: strawberry.ID | None = strawberry.field(description="Global id of the 合同公告.")
    changes: list[ContractChange] = strawberry.field(description="Its changes in effect, oldest first.")
    proposals: list[ContractProposal] = strawberry.field(
        description="Its proposed changes and terminations, oldest first: all for both parties, the agency and the "
        "lot's keepers; those in effect for anyone else."
    )
    origin: ContractOrigin = strawberry.field(
        description="PLATFORM: signed by both parties here; RECORDED: signed elsewhere, recorded by contractRecord."
    )
    accepted_on: date | None = strawberry.field(description="The acceptance (验收) day.")
    acceptance_passed: bool | None = strawberry.field(description="Whether it passed.")
    acceptance_summary: str | None = strawberry.field(
        description="The acceptance report: for the parties and keepers, else null."
    )
    payments: list[ContractPayment] = strawberry.field(description="Payments recorded, by day paid.")
    paid_fen: Fen = strawberry.field(description="Paid so far.")
    terminated_at: datetime | None = strawberry.field(description="When it ended early.")
    termination_ground: ContractEndGround | None = strawberry.field(description="Why it ended early.")


def contract_of(view: contracts.ContractView, to_sign: str) -> Contract:
    c = view.contract
    return Contract(
        id=_id("Contract", c.id),
        contract_no=c.contract_no,
        status=ContractState(c.status),
        organisation_id=_id("Organisation", c.organisation_id),
        original_fen=Fen(c.original_fen),
        amount_fen=Fen(c.amount_fen),
        document_ids=[_id("Document", i) for i in c.document_ids],
        documents_sha256=list(c.documents_sha256),
        to_sign=to_sign,
        buyer_signed_at=c.buyer_signed_at,
        supplier_signed_at=c.supplier_signed_at,
        signature_ids=[_id("ActSignature", i) for i in view.signature_ids],
        signed_on=c.signed_on,
        announcement_id=_id("Announcement", c.announcement_id) if c.announcement_id else None,
        changes=[
            ContractChange(
                seq=ch.seq,
                ground=ContractChangeGround(ch.reason),
                basis=ch.basis,
                rationale=ch.rationale,
                before_fen=Fen(ch.before_fen),
                after_fen=Fen(ch.after_fen),
                document_ids=[_id("Document", i) for i in ch.document_ids],
                announcement_id=_id("Announcement", ch.announcement_id) if ch.announcement_id else None,
                changed_at=ch.decided_at or ch.changed_at,
            )
            for ch in view.changes
        ],
        proposals=[_proposal(ch, acts.encode(view.to_sign[ch.seq]).decode()) for ch in view.proposals],
        origin=ContractOrigin(c.origin),
        accepted_on=c.accepted_on,
        acceptance_passed=c.acceptance_passed,
        acceptance_summary=c.acceptance_summary if view.private else None,
        payments=[
            ContractPayment(
                amount_fen=Fen(p.amount_fen),
                paid_on=p.paid_on,
                milestone=p.milestone,
                reference=p.reference if view.private else None,
            )
            for p in view.payments
        ],
        paid_fen=Fen(sum(p.amount_fen for p in view.payments)),
        terminated_at=c.terminated_at,
        termination_ground=ContractEndGround(c.termination_reason) if c.termination_reason else None,
    )
