"""Evaluation and results: the report, the candidates' publicity, award and result notices, late contracts."""

from __future__ import annotations

from datetime import datetime

from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Lot
from domain.results import services as results
from domain.results.models import Award, Contract
from domain.results.states import WITHDRAWAL_GROUNDS, WithdrawalReason
from notifications.rules.common import lot_and_project, managers, notify, supervisors_of


async def evaluation_reported(event: OutboxEvent) -> list[NewNotification]:
    """To the tenderer (and its agency): the report is ready, publish the candidates; or the lot failed."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    failed = bool(event.payload.get("failed"))
    return notify(
        event,
        await active_users_of(managers(project)),
        Kind.EVALUATION_REPORTED,
        "evaluation.reported.failed" if failed else "evaluation.reported",
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        candidates=int(event.payload.get("candidates") or 0),
    )


async def bid_rejected_at_qualification(event: OutboxEvent) -> list[NewNotification]:
    """To the bidder whose bid the committee rejected at post-qualification, once the evaluation ended."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, _ = found
    return notify(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.RESULT_NOTICE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
    )


async def candidates_published(event: OutboxEvent) -> list[NewNotification]:
    """To every bidder whose bid took part in the opening: the candidates are publicised until the end date."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    ends = event.payload.get("publicity_ends_at")
    return notify(
        event,
        await active_users_of(await results.bidders_of(lot.id)),
        Kind.CANDIDATE_PUBLICITY,
        event.type,
        object_type="Announcement",
        object_id=str(event.payload["announcement_id"]),
        lot=lot.name,
        trade_code=lot.trade_code,
        ends=shanghai_text(datetime.fromisoformat(ends)) if ends else "",
    )


async def result_notice(event: OutboxEvent) -> list[NewNotification]:
    """The award notice (中标通知书) to the winner, a result notice (结果通知书) to each other bidder."""
    award = await Award.get_or_none(id=int(event.object_id))
    if award is None:
        return []
    lot = await Lot.get(id=award.lot_id)
    awarded = event.type == "result.awarded"
    due = event.payload.get("contract_due_at")
    return notify(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.AWARD_NOTICE if awarded else Kind.RESULT_NOTICE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
        confirmation_no=award.confirmation_no,
        due=shanghai_text(datetime.fromisoformat(due)) if due else "",
        winner=event.payload.get("winner") or "",
    )


async def contract_overdue(event: OutboxEvent) -> list[NewNotification]:
    """To the tenderer (and its agency) and the supervisors of the lot's category."""
    award = await Award.get_or_none(id=int(event.object_id))
    if award is None:
        return []
    found = await lot_and_project(award.lot_id)
    if found is None:
        return []
    lot, project = found
    orgs = managers(project) + await supervisors_of(project.category)
    return notify(
        event,
        await active_users_of(orgs),
        Kind.CONTRACT_OVERDUE,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        confirmation_no=award.confirmation_no,
        due=shanghai_text(award.contract_due_at),
    )


async def award_withdrawn(event: OutboxEvent) -> list[NewNotification]:
    """To the withdrawn winner, the tenderer (and its agency): the award left it, and whether the lot failed."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    reason = WithdrawalReason(str(event.payload["reason"]))
    orgs = [int(event.payload["organisation_id"]), *managers(project)]
    return notify(
        event,
        await active_users_of(orgs),
        Kind.AWARD_WITHDRAWN,
        "result.award_withdrawn.failed" if event.payload.get("failed") else "result.award_withdrawn",
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        rank=int(event.payload["rank"]),
        ground=WITHDRAWAL_GROUNDS[reason].zh,
        basis=str(event.payload.get("basis") or ""),
    )


_CONTRACT_STEPS = {
    "changed": ("变更", "changed"),
    "accepted": ("验收", "accepted"),
    "paid": ("付款登记", "paid"),
    "terminated": ("终止", "terminated"),
}
# a proposal waits for the other party's signature, or its decline/withdrawal is told (waiting_for)
_PROPOSAL_STEPS = {
    "change_proposed": ("提出变更，待您签署", "proposed for change; it awaits your signature"),
    "change_signed": ("变更经对方签署，待您签署", "change signed by the other party; it awaits yours"),
    "termination_proposed": ("提出解除，待您签署", "proposed for termination; it awaits your signature"),
    "termination_signed": ("解除经对方签署，待您签署", "termination signed by the other party; it awaits yours"),
    "change_declined": ("变更被对方拒绝", "change declined by the other party"),
    "change_withdrawn": ("变更被对方撤回", "change withdrawn by the other party"),
    "termination_declined": ("解除被对方拒绝", "termination declined by the other party"),
    "termination_withdrawn": ("解除被对方撤回", "termination withdrawn by the other party"),
}


async def contract_moved(event: OutboxEvent) -> list[NewNotification]:
    """A drafted contract to the winner, a half-signed one to the party whose signature is awaited, a change, an
    acceptance, a payment or a termination to the supplier."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, _ = found
    step = str(event.payload["step"])
    contract = await Contract.get_or_none(id=int(event.object_id))
    if contract is None:
        return []
    step_zh, step_en = _CONTRACT_STEPS.get(step) or _PROPOSAL_STEPS.get(step) or ("", "")
    if step in _PROPOSAL_STEPS and event.payload.get("waiting_for") is not None:
        org, template = int(event.payload["waiting_for"]), "result.contract.changed"
    elif step == "drafted":
        org, template = contract.organisation_id, "result.contract.drafted"
    elif step == "signed":
        waiting = event.payload.get("waiting_for")
        if waiting is None:
            return []  # both signed: the contract announcement tells everyone
        org, template = int(waiting), "result.contract.signed"
    elif step in _CONTRACT_STEPS:
        org, template = contract.organisation_id, "result.contract.changed"
    else:
        return []
    return notify(
        event,
        await active_users_of([org]),
        Kind.CONTRACT,
        template,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        contract_no=contract.contract_no,
        amount=Money(int(event.payload.get("amount_fen") or 0)).yuan_text(),
        step_zh=step_zh,
        step_en=step_en,
    )
