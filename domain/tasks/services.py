"""Guided navigation (智慧导办): every next step the caller owes, derived from the state the areas already keep (no
to-do table): the deposit or guarantee due, the bid to seal or confirm, the key to hand over, the result to confirm,
the contract to sign, the objection to answer, the complaint to accept or decide, the final offer to make, the bids to
score, the guarantee a moved deadline left short to have extended (the applicant) and the extension to answer (the
guarantor). The deadlines are the ones the areas enforce (deposits.deposit_deadline, registration.bid_deadline, the
opening's window, the objection's and complaint's due times, the award's contract deadline, the negotiation's window,
the evaluation room's booking, the lot's deadline for an extension), read with a fixed number of queries whatever
the number of lots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.common import clock
from domain.common.actors import Actor, Role
from domain.complaints.models import Complaint, Objection
from domain.complaints.states import ComplaintStatus, ObjectionStatus
from domain.deposits.models import DepositAccount
from domain.deposits.services import deposit_deadline
from domain.deposits.states import DepositStatus
from domain.evaluation.models import Evaluation, Score
from domain.evaluation.states import EvaluationStatus
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import requirement
from domain.guarantees.states import LIVE as LIVE_GUARANTEE
from domain.guarantees.states import GuaranteeStatus
from domain.negotiation.models import FinalOffer, Negotiation
from domain.negotiation.states import FinalOfferStatus, NegotiationStatus
from domain.publication.models import Lot
from domain.publication.procedures import SEALED, Procedure
from domain.publication.states import LotStatus
from domain.registration.models import Registration
from domain.registration.services import RegistrationStatus, bid_deadline
from domain.results.models import Award, Contract
from domain.results.states import AwardStatus, ContractStatus
from domain.tendering.models import Opening, SealedBid
from domain.tendering.states import BidStatus, OpeningStatus
from domain.venues.models import Booking
from domain.venues.states import BookingPurpose, BookingStatus

LINK = "palmtrade://"  # the app's scheme, as the kiosk QR code's palmtrade://qr-login


class TaskKind(StrEnum):
    PAY_SECURITY = "pay_security"  # 缴纳保证金或提交保函
    SEAL_BID = "seal_bid"  # 递交投标文件
    CONFIRM_BID = "confirm_bid"  # 确认或重新递交（澄清修改后）
    HAND_OVER_KEY = "hand_over_key"  # 开标解密
    FINAL_OFFER = "final_offer"  # 最后报价
    CONFIRM_RESULT = "confirm_result"  # 确认中标结果
    SIGN_CONTRACT = "sign_contract"  # 签订合同
    ANSWER_OBJECTION = "answer_objection"  # 答复异议
    ACCEPT_COMPLAINT = "accept_complaint"  # 投诉受理
    DECIDE_COMPLAINT = "decide_complaint"  # 投诉处理决定
    SCORE_BIDS = "score_bids"  # 评标打分
    EXTEND_GUARANTEE = "extend_guarantee"  # 保函展期申请（截止时间顺延后保函有效期不足）
    ANSWER_EXTENSION = "answer_extension"  # 答复保函展期申请（担保机构）


OPERATION: dict[TaskKind, str] = {
    TaskKind.PAY_SECURITY: "guaranteeApply",
    TaskKind.SEAL_BID: "bidSubmit",
    TaskKind.CONFIRM_BID: "bidConfirm",
    TaskKind.HAND_OVER_KEY: "bidDecrypt",
    TaskKind.FINAL_OFFER: "finalOfferSubmit",
    TaskKind.CONFIRM_RESULT: "resultConfirm",
    TaskKind.SIGN_CONTRACT: "contractSign",
    TaskKind.ANSWER_OBJECTION: "objectionAnswer",
    TaskKind.ACCEPT_COMPLAINT: "complaintAccept",
    TaskKind.DECIDE_COMPLAINT: "complaintDecide",
    TaskKind.SCORE_BIDS: "evaluationSheetSubmit",
    TaskKind.EXTEND_GUARANTEE: "guaranteeExtensionRequest",
    TaskKind.ANSWER_EXTENSION: "guaranteeExtend",
}


@dataclass(frozen=True)
class Task:
    kind: TaskKind
    role: Role
    lot_id: int
    object_type: str
    object_id: int
    deadline: datetime | None
    lot_name: str = ""
    trade_code: str = ""

    @property
    def operation(self) -> str:
        return OPERATION[self.kind]

    @property
    def link(self) -> str:
        """The app's deep link: palmtrade://lot/<lot>/<kind>?<objectType>=<id>."""
        return f"{LINK}lot/{self.lot_id}/{self.kind.value}?{self.object_type.lower()}={self.object_id}"

    def overdue(self, now: datetime) -> bool:
        return self.deadline is not None and self.deadline <= now


def urgency(tasks: list[Task], now: datetime) -> list[Task]:
    """Overdue first, then by deadline (soonest first), those without a deadline last; ties by lot and kind."""
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(tasks, key=lambda t: (not t.overdue(now), t.deadline or far, t.lot_id, t.kind.value))


def _named(task: Task, lots: dict[int, Lot]) -> Task:
    lot = lots.get(task.lot_id)
    if lot is None:
        return task
    return Task(
        task.kind, task.role, task.lot_id, task.object_type, task.object_id, task.deadline, lot.name, lot.trade_code
    )


def _before(deadline: datetime | None, now: datetime) -> bool:
    return deadline is None or now < deadline


async def _as_bidder(org_id: int, now: datetime) -> list[Task]:
    regs = await Registration.filter(organisation_id=org_id, status=RegistrationStatus.REGISTERED.value)
    lot_ids = [r.lot_id for r in regs]
    tasks: list[Task] = []
    lots = {lot.id: lot for lot in await Lot.filter(id__in=lot_ids)} if lot_ids else {}
    if lots:
        openings = {o.lot_id: o for o in await Opening.filter(lot_id__in=list(lots))}
        bids = await SealedBid.filter(
            lot_id__in=list(lots),
            organisation_id=org_id,
            status__in=[BidStatus.SUBMITTED.value, BidStatus.UNCONFIRMED.value],
        )
        bid_of = {b.lot_id: b for b in bids}
        deposits = await DepositAccount.filter(
            lot_id__in=list(lots),
            organisation_id=org_id,
            status__in=[DepositStatus.AWAITING.value, DepositStatus.PAID.value],
        )
        accounts = [a for a in deposits if a.status == DepositStatus.AWAITING.value]
        paid = {a.lot_id for a in deposits if a.status == DepositStatus.PAID.value}
        guarantees = await Guarantee.filter(
            lot_id__in=list(lots), applicant_id=org_id, status__in=[s.value for s in LIVE_GUARANTEE]
        )
        guaranteed = {g.lot_id for g in guarantees}
        tasks += _extensions_owed(guarantees, lots, paid, now)
        for account in accounts:
            lot = lots[account.lot_id]
            due = deposit_deadline(lot)
            owed = lot.status == LotStatus.OPEN.value and account.amount_due_fen > 0
            if owed and account.lot_id not in guaranteed and _before(due, now):
                tasks.append(Task(TaskKind.PAY_SECURITY, Role.BIDDER, lot.id, "DepositAccount", account.id, due))
        for lot in lots.values():
            if Procedure(lot.procedure) not in SEALED:
                continue
            opening, bid = openings.get(lot.id), bid_of.get(lot.id)
            deadline = bid_deadline(lot)
            if opening is not None and opening.status == OpeningStatus.DECRYPTING.value:
                if bid is not None and bid.status == BidStatus.SUBMITTED.value and _before(opening.window_ends_at, now):
                    tasks.append(
                        Task(TaskKind.HAND_OVER_KEY, Role.BIDDER, lot.id, "SealedBid", bid.id, opening.window_ends_at)
                    )
            elif (
                lot.status == LotStatus.OPEN.value
                and _before(deadline, now)
                and (opening is None or opening.status == OpeningStatus.SCHEDULED.value)
            ):
                if bid is None:
                    tasks.append(Task(TaskKind.SEAL_BID, Role.BIDDER, lot.id, "Lot", lot.id, deadline))
                elif bid.status == BidStatus.UNCONFIRMED.value:
                    tasks.append(Task(TaskKind.CONFIRM_BID, Role.BIDDER, lot.id, "SealedBid", bid.id, deadline))
    negotiations = await Negotiation.filter(status=NegotiationStatus.FINAL_OFFERS.value, lot_id__in=lot_ids)
    if negotiations:
        offered = set(
            await FinalOffer.filter(
                negotiation_id__in=[n.id for n in negotiations],
                organisation_id=org_id,
                status=FinalOfferStatus.SUBMITTED.value,
            ).values_list("negotiation_id", flat=True)
        )
        for n in negotiations:
            if org_id in (n.suppliers or []) and n.id not in offered and _before(n.offers_close_at, now):
                tasks.append(Task(TaskKind.FINAL_OFFER, Role.BIDDER, n.lot_id, "Negotiation", n.id, n.offers_close_at))
    awards = await Award.filter(
        organisation_id=org_id, status__in=[AwardStatus.AWARDED.value, AwardStatus.CONFIRMED.value]
    )
    contracts = {c.lot_id: c for c in await Contract.filter(lot_id__in=[a.lot_id for a in awards])}
    for award in awards:
        lot_id = award.lot_id
        if award.status == AwardStatus.AWARDED.value:
            tasks.append(Task(TaskKind.CONFIRM_RESULT, Role.BIDDER, lot_id, "Award", award.id, award.contract_due_at))
        contract = contracts.get(lot_id)
        if (
            contract is not None
            and contract.status == ContractStatus.PENDING.value
            and contract.supplier_signature_id is None
        ):
            tasks.append(
                Task(TaskKind.SIGN_CONTRACT, Role.BIDDER, lot_id, "Contract", contract.id, award.contract_due_at)
            )
    return tasks


def _extensions_owed(guarantees: list[Guarantee], lots: dict[int, Lot], paid: set[int], now: datetime) -> list[Task]:
    """An issued guarantee a moved deadline left short (guarantee.validity_short) that is still its bid's security (no
    paid deposit, no other guarantee of the lot that covers) and not yet asked to be extended: ask the guarantor
    (guaranteeExtensionRequest) before the lot's deadline, after which no extension is taken."""
    tasks: list[Task] = []
    for g in guarantees:
        lot = lots[g.lot_id]
        rule = requirement(lot)
        if (
            g.status != GuaranteeStatus.ISSUED.value
            or g.extension_until is not None
            or rule.valid_until is None
            or g.valid_until >= rule.valid_until
            or lot.status != LotStatus.OPEN.value
            or g.lot_id in paid
            or not _before(rule.deadline, now)
        ):
            continue
        covered = any(
            o.lot_id == g.lot_id and o.status == GuaranteeStatus.ISSUED.value and o.valid_until >= rule.valid_until
            for o in guarantees
        )
        if not covered:
            tasks.append(Task(TaskKind.EXTEND_GUARANTEE, Role.BIDDER, lot.id, "Guarantee", g.id, rule.deadline))
    return tasks


async def _as_guarantor(org_id: int, now: datetime) -> list[Task]:
    """The extensions its applicants asked for (extension.request) and it has not answered (guaranteeExtend with an
    amended letter, or guaranteeExtensionDecline), while the lot still takes them (until its deadline)."""
    asked = await Guarantee.filter(
        guarantor_id=org_id, status=GuaranteeStatus.ISSUED.value, extension_until__isnull=False
    )
    if not asked:
        return []
    lots = {lot.id: lot for lot in await Lot.filter(id__in=sorted({g.lot_id for g in asked}))}
    tasks: list[Task] = []
    for g in asked:
        lot = lots.get(g.lot_id)
        if lot is None or lot.status != LotStatus.OPEN.value:
            continue
        deadline = requirement(lot).deadline
        if _before(deadline, now):
            tasks.append(Task(TaskKind.ANSWER_EXTENSION, Role.GUARANTOR, lot.id, "Guarantee", g.id, deadline))
    return tasks


async def _as_buyer(org_id: int, role: Role) -> list[Task]:
    field = "project__tenderer_id" if role is Role.TENDERER else "project__agency_id"
    lot_ids = list(
        await Lot.filter(**{field: org_id}).exclude(status=LotStatus.DRAFT.value).values_list("id", flat=True)
    )
    if not lot_ids:
        return []
    tasks: list[Task] = []
    pending = [ObjectionStatus.PENDING.value, ObjectionStatus.OVERDUE.value]
    for o in await Objection.filter(lot_id__in=lot_ids, status__in=pending):
        tasks.append(Task(TaskKind.ANSWER_OBJECTION, role, o.lot_id, "Objection", o.id, o.answer_due_at))
    contracts = await Contract.filter(
        lot_id__in=lot_ids, status=ContractStatus.PENDING.value, buyer_signature_id__isnull=True
    )
    due = (
        {a.id: a.contract_due_at for a in await Award.filter(id__in=[c.award_id for c in contracts])}
        if contracts
        else {}
    )
    for c in contracts:
        tasks.append(Task(TaskKind.SIGN_CONTRACT, role, c.lot_id, "Contract", c.id, due.get(c.award_id)))
    return tasks


async def _as_supervisor(categories: frozenset[str]) -> list[Task]:
    if not categories:
        return []
    tasks: list[Task] = []
    open_ = [ComplaintStatus.SUBMITTED.value, ComplaintStatus.ACCEPTED.value]
    for c in await Complaint.filter(category__in=sorted(categories), status__in=open_):
        if c.status == ComplaintStatus.SUBMITTED.value:
            tasks.append(Task(TaskKind.ACCEPT_COMPLAINT, Role.SUPERVISOR, c.lot_id, "Complaint", c.id, c.accept_due_at))
        else:
            tasks.append(Task(TaskKind.DECIDE_COMPLAINT, Role.SUPERVISOR, c.lot_id, "Complaint", c.id, c.decide_due_at))
    return tasks


async def _as_expert(expert_id: int) -> list[Task]:
    scoring = [
        e for e in await Evaluation.filter(status=EvaluationStatus.SCORING.value) if expert_id in (e.committee or [])
    ]
    if not scoring:
        return []
    ids = [e.id for e in scoring]
    handed_in = set(
        await Score.filter(evaluation_id__in=ids, expert_id=expert_id).values_list("evaluation_id", flat=True)
    )
    rooms = await Booking.filter(
        lot_id__in=[e.lot_id for e in scoring],
        purpose=BookingPurpose.EVALUATION.value,
        status=BookingStatus.BOOKED.value,
    )
    room_ends = {b.lot_id: b.ends_at for b in rooms}
    return [
        Task(TaskKind.SCORE_BIDS, Role.EXPERT, e.lot_id, "Evaluation", e.id, room_ends.get(e.lot_id))
        for e in scoring
        if e.id not in handed_in
    ]


async def my_tasks(actor: Actor, now: datetime | None = None) -> list[Task]:
    """Every step the caller owes now, in every role it holds, most urgent first; a bounded number of queries."""
    now = now or clock.now()
    tasks: list[Task] = []
    if actor.expert_id is not None:
        tasks += await _as_expert(actor.expert_id)
    if actor.org_id is not None and actor.user_id is not None:
        if actor.has(Role.BIDDER):
            tasks += await _as_bidder(actor.org_id, now)
        for role in (Role.TENDERER, Role.AGENCY):
            if actor.has(role):
                tasks += await _as_buyer(actor.org_id, role)
        if actor.has(Role.SUPERVISOR):
            tasks += await _as_supervisor(actor.supervised_categories)
        if actor.has(Role.GUARANTOR):
            tasks += await _as_guarantor(actor.org_id, now)
    lot_ids = {t.lot_id for t in tasks}
    lots: dict[int, Any] = {lot.id: lot for lot in await Lot.filter(id__in=sorted(lot_ids))} if lot_ids else {}
    return urgency([_named(t, lots) for t in tasks], now)


__all__ = ["OPERATION", "Task", "TaskKind", "my_tasks", "urgency"]
