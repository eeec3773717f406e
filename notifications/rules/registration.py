"""Registration and bid security: the registration, deposits, guarantees."""

from __future__ import annotations

from datetime import datetime

from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.queries import column
from domain.deposits.models import DepositAccount
from domain.deposits.states import DepositStatus
from domain.guarantees.models import Guarantee
from domain.guarantees.states import LIVE as LIVE_GUARANTEE
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Lot
from domain.registration.models import Registration
from notifications.rules.common import notify, payload_time


async def registered(event: OutboxEvent) -> list[NewNotification]:
    reg = await Registration.get_or_none(id=int(event.object_id)).prefetch_related("lot")
    if reg is None:
        return []
    lot: Lot = reg.lot  # type: ignore[assignment]
    account = await DepositAccount.get_or_none(registration_id=reg.id)
    if account is None:
        security_zh, security_en = "本标段无需投标保证金。", "This lot asks no bid security."
    else:
        yuan = Money(account.amount_due_fen).yuan_text()
        security_zh = f"请在投标截止前缴纳保证金 {yuan} 元至子账号 {account.reference}，或提交电子保函。"
        security_en = (
            f"Pay the deposit of CNY {yuan} into sub-account {account.reference} before the bid deadline, "
            "or provide an electronic guarantee."
        )
    return notify(
        event,
        await active_users_of([reg.organisation_id]),
        Kind.REGISTRATION_RESULT,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        security_zh=security_zh,
        security_en=security_en,
    )


async def deposit_changed(event: OutboxEvent) -> list[NewNotification]:
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    due = event.payload.get("refund_due_at")
    return notify(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.DEPOSIT_RECEIVED if event.type == "deposit.paid" else Kind.DEPOSIT_REFUNDED,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        amount=Money(int(event.payload.get("amount_fen") or 0)).yuan_text(),
        reference=event.payload.get("reference", ""),
        due=shanghai_text(datetime.fromisoformat(due)) if due else "",
    )


async def deposit_due(event: OutboxEvent) -> list[NewNotification]:
    """A day before the deposit's deadline, to each registrant whose deposit has not arrived and who has no live
    guarantee on the lot (time-critical: a bid without security is rejected), with its own amount and sub-account."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    live = Guarantee.filter(lot_id=lot.id, status__in=[s.value for s in LIVE_GUARANTEE])
    guaranteed = set(await column(live.values_list("applicant_id", flat=True), int))
    accounts = await DepositAccount.filter(lot_id=lot.id, status=DepositStatus.AWAITING.value, amount_due_fen__gt=0)
    made: list[NewNotification] = []
    for account in accounts:
        if account.organisation_id in guaranteed:
            continue
        made += notify(
            event,
            await active_users_of([account.organisation_id]),
            Kind.DEPOSIT_DUE,
            event.type,
            object_type="Lot",
            object_id=str(lot.id),
            time_critical=True,
            lot=lot.name,
            trade_code=lot.trade_code,
            amount=Money(account.amount_due_fen - account.paid_fen).yuan_text(),
            reference=account.reference,
            deadline=payload_time(event, "deadline"),
        )
    return made


async def guarantee_changed(event: OutboxEvent) -> list[NewNotification]:
    """Every step of a guarantee, to the organisations its event was meant for (secrecy already applied)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    orgs = [int(o) for o in event.audience.get("orgs", [])]
    if event.type == "guarantee.applied":
        orgs = [int(event.payload["guarantor_id"])]
    return notify(
        event,
        await active_users_of(orgs),
        Kind.GUARANTEE,
        event.type,
        object_type="Guarantee",
        object_id=event.object_id,
        lot=lot.name,
        amount=Money(int(event.payload.get("amount_fen") or 0)).yuan_text(),
        letter_no=event.payload.get("letter_no") or "",
        reason=event.payload.get("reason") or "",
        deadline=payload_time(event, "deadline"),
        required_until=payload_time(event, "required_until"),
        valid_until=payload_time(event, "valid_until"),
        extension_until=payload_time(event, "extension_until"),
    )
