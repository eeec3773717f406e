"""Bid deposits (投标保证金): a virtual sub-account per registration, credited by signed bank callbacks.

A bank (a guarantor organisation with a registered `bank_callback` key) confirms each payment into a
reference and each refund out of it with a compact JWS. Every callback is recorded in `bank_callback`,
accepted or rejected with a code; an accepted one carries `accepted_key` (bank + bank transaction id),
unique in the database, so one bank transaction is credited at most once even when two deliveries race.
A payment counts only if it is the full amount due and happened before the lot's bid deadline. Once the
lot has its result (contract signed, failed or terminated), paid deposits are due back within 5 days
(at a tender's award those of bidders that are no ranked candidate already: the candidates stay secured for a
sequential award until then);
the chronograph flags those not refunded by then to supervisors. Operators may keep (forfeit) a deposit
where the rules say so.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.access import scope
from domain.accounts import keys
from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, NotFound, PermissionDenied, raises, required_text
from domain.common.errors import InvalidInput as InvalidInput
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.storage import lock
from domain.deposits.errors import CallbackReplayed as CallbackReplayed
from domain.deposits.errors import DepositAlreadyPaid as DepositAlreadyPaid
from domain.deposits.errors import DepositAmountMismatch as DepositAmountMismatch
from domain.deposits.errors import DepositTooLate as DepositTooLate
from domain.deposits.errors import InvalidCallback as InvalidCallback
from domain.deposits.errors import RefundNotDue as RefundNotDue
from domain.deposits.errors import UnknownReference as UnknownReference
from domain.deposits.models import BankCallback, DepositAccount
from domain.deposits.states import BANK, TABLE
from domain.deposits.states import DepositStatus as DepositStatus
from domain.publication.models import Lot, Project
from domain.publication.states import LotStatus
from domain.registration import security as registration_security
from domain.registration.models import Registration

# 招标投标法实施条例 第五十七条: deposits are refunded within 5 days of the written contract
REFUND_DAYS = 5
# the lot has its result, or will never have one: every paid deposit is due back
RESULT_STATUSES = frozenset({LotStatus.CONTRACTED, LotStatus.COMPLETED, LotStatus.FAILED, LotStatus.TERMINATED})
# a bank's clock may run slightly ahead of ours; later than this is not a confirmed fact yet
CLOCK_SKEW = timedelta(minutes=2)
MAX_REASON = 500

_EVENT_NAMESPACE = uuid.UUID("2f6a1c52-4d0e-4c59-9a63-5b8f0e7d3a11")


class CallbackKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


# ---------------------------------------------------------------- errors


# codes that concern the bidder's own money: it is told, not only the operators
_BIDDER_CODES = frozenset({DepositAmountMismatch.code, DepositTooLate.code, DepositAlreadyPaid.code})


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class DepositPaid(DomainEvent):
    type = "deposit.paid"
    object_type = "DepositAccount"
    lot_id: int
    organisation_id: int
    reference: str
    amount_fen: int
    paid_at: datetime
    bank_organisation_id: int
    callback_id: int


@dataclass(frozen=True, kw_only=True)
class DepositRefundScheduled(DomainEvent):
    type = "deposit.refund_scheduled"
    object_type = "DepositAccount"
    lot_id: int
    organisation_id: int
    reference: str
    amount_fen: int
    refund_due_at: datetime
    lot_status: str


@dataclass(frozen=True, kw_only=True)
class DepositRefunded(DomainEvent):
    type = "deposit.refunded"
    object_type = "DepositAccount"
    lot_id: int
    organisation_id: int
    reference: str
    amount_fen: int
    refunded_at: datetime
    was_overdue: bool
    bank_organisation_id: int
    callback_id: int


@dataclass(frozen=True, kw_only=True)
class DepositRefundOverdue(DomainEvent):
    type = "deposit.refund_overdue"
    object_type = "DepositAccount"
    lot_id: int
    organisation_id: int
    reference: str
    amount_fen: int
    refund_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class DepositKept(DomainEvent):
    type = "deposit.kept"
    object_type = "DepositAccount"
    lot_id: int
    organisation_id: int
    reference: str
    amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class DepositCallbackRejected(DomainEvent):
    type = "deposit.callback_rejected"
    object_type = "BankCallback"
    code: str
    kind: str | None
    transaction_id: str | None
    reference: str | None
    amount_fen: int | None
    bank_organisation_id: int | None
    deposit_id: int | None
    lot_id: int | None
    organisation_id: int | None


# ---------------------------------------------------------------- accounts


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of a string of digits (as bank account numbers carry)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def reference_for(lot_id: int, organisation_id: int) -> str:
    """The 19-digit virtual sub-account of one bidder for one lot: 8, lot, organisation, Luhn digit."""
    body = f"8{lot_id:09d}{organisation_id:08d}"
    return body + luhn_digit(body)


async def open_account(registration: Registration, lot: Lot) -> DepositAccount:
    """The registration's deposit account (created once, in the caller's transaction)."""
    existing = await DepositAccount.get_or_none(registration_id=registration.id)
    if existing is not None:
        return existing
    now = clock.now()
    return await DepositAccount.create(
        registration_id=registration.id,
        lot_id=lot.id,
        organisation_id=registration.organisation_id,
        reference=reference_for(lot.id, registration.organisation_id),
        amount_due_fen=await registration_security.amount_owed(lot, registration.organisation_id),
        status=DepositStatus.AWAITING.value,
        created_at=now,
        updated_at=now,
    )


def deposit_deadline(lot: Lot) -> datetime | None:
    """When deposits must have arrived: the bid deadline, else the registration close (listings)."""
    for name in ("bid_deadline", "registration_closes_at"):
        value = lot.config.get(name)
        if value:
            return datetime.fromisoformat(value)
    return None


def _facts(account: DepositAccount, amount_fen: int | None = None) -> dict[str, Any]:
    """What every deposit event says about its account (the amount defaults to what was paid)."""
    return {
        "object_id": str(account.id),
        "lot_id": account.lot_id,
        "organisation_id": account.organisation_id,
        "reference": account.reference,
        "amount_fen": account.paid_fen if amount_fen is None else amount_fen,
    }


def _yuan(fen: int) -> str:
    return Money(fen).yuan_text()


def _derived_id(fact: str, account_id: int) -> uuid.UUID:
    return uuid.uuid5(_EVENT_NAMESPACE, f"{fact}:{account_id}")


async def _record_once(event: DomainEvent, actor: Actor, fact: str, account_id: int) -> None:
    """Records an event that happens once in an account's life; a redelivered cause records nothing."""
    event_id = _derived_id(fact, account_id)
    if not await OutboxEvent.exists(event_id=event_id):
        await events.record(event, actor, event_id=event_id)


# ---------------------------------------------------------------- bank callbacks


@dataclass(frozen=True, slots=True)
class Callback:
    """A bank callback's payload, checked field by field."""

    kind: CallbackKind
    transaction_id: str
    reference: str
    amount_fen: int
    payer_account: str | None
    payer_name: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CallbackReceipt:
    """An accepted callback and the account it credited."""

    callback: BankCallback
    account: DepositAccount


@dataclass(slots=True)
class _Seen:
    """What is known of a callback so far: recorded with its rejection, whatever stage refused it."""

    jws_sha256: str
    bank_organisation_id: int | None = None
    key_id: str | None = None
    payload: dict[str, Any] | None = None
    kind: str | None = None
    transaction_id: str | None = None
    reference: str | None = None
    amount_fen: int | None = None
    account: DepositAccount | None = None


def _text(payload: dict[str, Any], name: str, max_len: int, required: bool = True) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_len:
        raise InvalidCallback(field=name)
    return value.strip()


def parse_callback(payload: dict[str, Any], now: datetime) -> Callback:
    """The callback's fields; InvalidCallback naming the first field that is missing or malformed."""
    try:
        kind = CallbackKind(str(payload.get("type")))
    except ValueError:
        raise InvalidCallback(field="type") from None
    transaction_id = _text(payload, "transactionId", 64)
    reference = _text(payload, "reference", 32)
    amount = payload.get("amountFen")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 2**63:
        raise InvalidCallback(field="amountFen")
    payment = kind is CallbackKind.PAYMENT
    payer_account = _text(payload, "payerAccount", 64, required=payment)
    payer_name = _text(payload, "payerName", 200, required=payment)
    raw = payload.get("occurredAt")
    try:
        occurred_at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        occurred_at = None
    if occurred_at is None or occurred_at.tzinfo is None or occurred_at > now + CLOCK_SKEW:
        raise InvalidCallback(field="occurredAt")
    return Callback(
        kind=kind,
        transaction_id=str(transaction_id),
        reference=str(reference),
        amount_fen=amount,
        payer_account=payer_account,
        payer_name=payer_name,
        occurred_at=min(occurred_at, now),
    )


def _bank_actor(bank_id: int | None, ip: str | None) -> Actor:
    return Actor(org_id=bank_id, client_id="bank_callback", ip=ip)


async def receive_callback(token: str, ip: str | None = None) -> CallbackReceipt:
    """Credits a deposit account from a signed bank callback, once per bank transaction.

    Every callback is recorded in bank_callback. A rejected one raises its DomainError after it
    is recorded (in its own transaction) and changes nothing else: SignatureInvalid, InvalidCallback,
    UnknownReference, DepositAmountMismatch, DepositTooLate, DepositAlreadyPaid, RefundNotDue or
    CallbackReplayed (the same bank transaction was accepted before: already credited).
    """
    token = token.strip()
    seen = _Seen(jws_sha256=hashlib.sha256(token.encode("utf-8", "replace")).hexdigest())
    try:
        if len(token) > keys.MAX_JWS_LENGTH:
            raise InvalidCallback(field="body")
        verified = await keys.verify(token, keys.KeyPurpose.BANK_CALLBACK)
        seen.bank_organisation_id, seen.key_id = verified.key.organisation_id, verified.key.kid
        seen.payload = verified.payload
        bank = await Organisation.get_or_none(id=verified.key.organisation_id)
        if bank is None or bank.status != OrgStatus.APPROVED.value or OrgKind.GUARANTOR.value not in bank.kinds:
            raise keys.SignatureInvalid()  # a key of an organisation that is no longer a bank in good standing
        _note_fields(seen, verified.payload)
        callback = parse_callback(verified.payload, clock.now())
        try:
            async with in_transaction():
                return await _apply(callback, seen, bank.id, _bank_actor(bank.id, ip))
        except IntegrityError:
            # another delivery of the same bank transaction committed first (unique accepted_key)
            raise CallbackReplayed() from None
    except DomainError as err:
        await _record_rejection(seen, err, ip)
        raise


def _note_fields(seen: _Seen, payload: dict[str, Any]) -> None:
    """Keeps what the payload says, within the column sizes, for the record of a rejection."""
    kind, txn, ref, amount = (payload.get(k) for k in ("type", "transactionId", "reference", "amountFen"))
    seen.kind = kind[:16] if isinstance(kind, str) else None
    seen.transaction_id = txn[:64] if isinstance(txn, str) else None
    seen.reference = ref[:32] if isinstance(ref, str) else None
    valid_amount = isinstance(amount, int) and not isinstance(amount, bool) and -(2**63) < amount < 2**63
    seen.amount_fen = amount if valid_amount else None


def _accepted_key(bank_id: int, transaction_id: str) -> str:
    return f"{bank_id}:{transaction_id}"


async def _apply(callback: Callback, seen: _Seen, bank_id: int, actor: Actor) -> CallbackReceipt:
    account = await lock(DepositAccount.filter(reference=callback.reference)).first()
    seen.account = account
    # after the account's lock: a concurrent delivery of this transaction has committed by now
    if await BankCallback.exists(accepted_key=_accepted_key(bank_id, callback.transaction_id)):
        raise CallbackReplayed()
    if account is None:
        raise UnknownReference()
    now = clock.now()
    row = await BankCallback.create(
        bank_organisation_id=bank_id,
        key_id=seen.key_id,
        kind=callback.kind.value,
        transaction_id=callback.transaction_id,
        reference=callback.reference,
        amount_fen=callback.amount_fen,
        outcome="accepted",
        code=None,
        jws_sha256=seen.jws_sha256,
        payload=seen.payload,
        accepted_key=_accepted_key(bank_id, callback.transaction_id),
        received_at=now,
    )
    if callback.kind is CallbackKind.PAYMENT:
        await _credit_payment(account, callback, row, bank_id, actor, now)
    else:
        await _credit_refund(account, callback, row, bank_id, actor, now)
    return CallbackReceipt(callback=row, account=account)


async def _credit_payment(
    account: DepositAccount, callback: Callback, row: BankCallback, bank_id: int, actor: Actor, now: datetime
) -> None:
    lot = await Lot.get(id=account.lot_id)
    account.status = TABLE.fire(
        account.status,
        "pay",
        by=BANK,
        amount_fen=callback.amount_fen,
        expected_fen=account.amount_due_fen,
        occurred_at=callback.occurred_at,
        deadline=deposit_deadline(lot),
    ).value
    account.paid_fen = callback.amount_fen
    account.paid_at = callback.occurred_at
    account.payer_account = callback.payer_account
    account.payer_name = callback.payer_name
    account.bank_organisation_id = bank_id
    account.updated_at = now
    await account.save()
    await events.record(
        DepositPaid(
            **_facts(account),
            paid_at=callback.occurred_at,
            bank_organisation_id=bank_id,
            callback_id=row.id,
            audience=Audience(orgs=(account.organisation_id, bank_id)),
        ),
        actor,
    )
    if LotStatus(lot.status) in RESULT_STATUSES:
        # the bank confirmed late a payment made in time; the lot's refunds were scheduled already
        await _schedule_refund(account, lot.status, now)


async def _credit_refund(
    account: DepositAccount, callback: Callback, row: BankCallback, bank_id: int, actor: Actor, now: datetime
) -> None:
    # a confirmed refund is money that has left: recorded from refund_due, and from paid too (e.g. a
    # bidder that withdrew), after which the security is no longer in place
    refunded = TABLE.fire(
        account.status, "refund", by=BANK, amount_fen=callback.amount_fen, expected_fen=account.paid_fen
    )
    was_overdue = account.overdue_flagged_at is not None
    account.status = refunded.value
    account.refunded_at = callback.occurred_at
    account.next_check_at = None
    account.updated_at = now
    await account.save()
    roles = (Role.OPERATOR.value, Role.SUPERVISOR.value) if was_overdue else (Role.OPERATOR.value,)
    await events.record(
        DepositRefunded(
            **_facts(account, amount_fen=callback.amount_fen),
            refunded_at=callback.occurred_at,
            was_overdue=was_overdue,
            bank_organisation_id=bank_id,
            callback_id=row.id,
            audience=Audience(orgs=(account.organisation_id, bank_id), roles=roles),
        ),
        actor,
    )


async def _record_rejection(seen: _Seen, err: DomainError, ip: str | None) -> None:
    """The rejected callback and why, in its own transaction; nothing else changes."""
    account = seen.account
    if account is None and seen.reference:
        account = await DepositAccount.get_or_none(reference=seen.reference)
    async with in_transaction():
        row = await BankCallback.create(
            bank_organisation_id=seen.bank_organisation_id,
            key_id=seen.key_id,
            kind=seen.kind,
            transaction_id=seen.transaction_id,
            reference=seen.reference,
            amount_fen=seen.amount_fen,
            outcome="rejected",
            code=err.code,
            jws_sha256=seen.jws_sha256,
            payload=seen.payload,
            accepted_key=None,
            received_at=clock.now(),
        )
        orgs: tuple[int, ...] = (seen.bank_organisation_id,) if seen.bank_organisation_id else ()
        if account is not None and err.code in _BIDDER_CODES:
            orgs = (*orgs, account.organisation_id)
        await events.record(
            DepositCallbackRejected(
                object_id=str(row.id),
                code=err.code,
                kind=seen.kind,
                transaction_id=seen.transaction_id,
                reference=seen.reference,
                amount_fen=seen.amount_fen,
                bank_organisation_id=seen.bank_organisation_id,
                deposit_id=account.id if account else None,
                lot_id=account.lot_id if account else None,
                organisation_id=account.organisation_id if account else None,
                audience=Audience(orgs=orgs),
            ),
            _bank_actor(seen.bank_organisation_id, ip),
        )


# ---------------------------------------------------------------- refunds


async def _schedule_refund(account: DepositAccount, lot_status: str, now: datetime) -> None:
    due = now + timedelta(days=REFUND_DAYS)
    account.status = TABLE.fire(account.status, "schedule_refund", by=SYSTEM).value
    account.refund_due_at = due
    account.next_check_at = due
    account.updated_at = now
    await account.save()
    await _record_once(
        DepositRefundScheduled(
            **_facts(account),
            refund_due_at=due,
            lot_status=lot_status,
            audience=Audience(orgs=(account.organisation_id,)),
        ),
        SYSTEM,
        "deposit.refund_scheduled",
        account.id,
    )


async def on_lot_status_changed(lot_id: int, after: str) -> None:
    """Once the lot has its result (contract, failure, termination) every paid deposit is due back
    within 5 days. Idempotent: only deposits still `paid` move, so a redelivered event does nothing."""
    try:
        status = LotStatus(after)
    except ValueError:
        return
    if status not in RESULT_STATUSES:
        return
    async with in_transaction():
        now = clock.now()
        for account in await lock(DepositAccount.filter(lot_id=lot_id, status=DepositStatus.PAID.value)):
            await _schedule_refund(account, status.value, now)


async def on_registration_withdrawn(lot_id: int, organisation_id: int) -> None:
    """A bidder that withdrew before the deadline gets its paid deposit back (due within 5 days)."""
    async with in_transaction():
        now = clock.now()
        query = DepositAccount.filter(lot_id=lot_id, organisation_id=organisation_id, status=DepositStatus.PAID.value)
        for account in await lock(query):
            await _schedule_refund(account, "withdrawn", now)


async def refund_all_but(lot_id: int, keep_organisation_id: int | None, *, keep_also: Collection[int] = ()) -> int:
    """Schedules the refund of every paid deposit of the lot except the winner's and those of `keep_also` (a tender's
    other ranked candidates, still eligible for a sequential award), which stay as security until the contract, the
    lot's failure or its cancellation (实施条例 第五十七条). Idempotent; returns how many were scheduled."""
    kept = {o for o in (keep_organisation_id, *keep_also) if o is not None}
    async with in_transaction():
        now = clock.now()
        query = DepositAccount.filter(lot_id=lot_id, status=DepositStatus.PAID.value)
        if kept:
            query = query.exclude(organisation_id__in=sorted(kept))
        accounts = await lock(query)
        for account in accounts:
            await _schedule_refund(account, LotStatus.AWARDED.value, now)
    return len(accounts)


async def flag_overdue(account: DepositAccount, now: datetime) -> None:
    """Chronograph transition: a refund still due at refund_due_at is flagged to supervisors, once."""
    current = await lock(DepositAccount.filter(id=account.id)).first()
    if (
        current is not None
        and TABLE.allows(current.status, "flag_overdue", by=SYSTEM)
        and current.refund_due_at is not None
        and current.refund_due_at <= now
        and current.overdue_flagged_at is None
    ):
        current.overdue_flagged_at = now
        current.updated_at = now
        await current.save(update_fields=["overdue_flagged_at", "updated_at"])
        await _record_once(
            DepositRefundOverdue(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                reference=current.reference,
                amount_fen=current.paid_fen,
                refund_due_at=current.refund_due_at,
                audience=Audience(orgs=(current.organisation_id,), roles=(Role.SUPERVISOR.value, Role.OPERATOR.value)),
            ),
            SYSTEM,
            "deposit.refund_overdue",
            current.id,
        )
    account.next_check_at = None
    await DepositAccount.filter(id=account.id).update(next_check_at=None)


# ---------------------------------------------------------------- operators


@raises()
@use_case("deposit.keep", "DepositAccount", lambda actor, account_id, *a, **k: str(account_id))
async def keep_deposit(
    actor: Actor, account_id: int, reason: str, idempotency_key: str | None = None
) -> DepositAccount:
    """An operator keeps (forfeits) a paid deposit where the rules say so, with the reason; it is then
    never refunded. E.g. 实施条例 第七十四条: the winner refuses to sign the contract; 第三十五条: a bid
    withdrawn after the deadline."""
    if not actor.has(Role.OPERATOR) or actor.user_id is None:
        raise PermissionDenied()
    why = required_text(reason, "reason", MAX_REASON)

    async def change() -> dict[str, Any]:
        account = await lock(DepositAccount.filter(id=account_id)).first()
        if account is None:
            raise NotFound()
        if account.status == DepositStatus.KEPT.value:
            return {"id": account.id}
        account.status = TABLE.fire(account.status, "keep", by=actor).value
        now = clock.now()
        account.next_check_at = None
        account.updated_at = now
        await account.save()
        await events.record(
            DepositKept(
                **_facts(account),
                reason=why,
                audience=Audience(orgs=(account.organisation_id,), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
            ),
            actor,
        )
        return {"id": account.id}

    result, _ = await run_once(actor, idempotency_key, "deposit.keep", {"id": account_id, "reason": why}, change)
    return await DepositAccount.get(id=result["id"])


# ---------------------------------------------------------------- reading


async def lot_deposits(actor: Actor, lot_id: int) -> QuerySet[DepositAccount]:
    """A lot's deposit accounts: operators and the supervisors of its category always; the tenderer (or its
    agency) once the opening has begun, since who paid reveals who bids; NotFound for anyone else."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project = await Project.get(id=lot.project_id)
    if scope.keeps_project(actor, project):
        return DepositAccount.filter(lot_id=lot.id)
    if actor.org_id is None or actor.org_id not in (project.tenderer_id, project.agency_id):
        raise NotFound()
    opening = lot.config.get("opening_at") or lot.config.get("bid_deadline")
    if opening is None or clock.now() < datetime.fromisoformat(opening):
        raise NotFound()
    return DepositAccount.filter(lot_id=lot.id)


def overdue_refunds(actor: Actor) -> QuerySet[DepositAccount]:
    """Deposits not refunded by their due date (flagged by the chronograph), for operators and the supervisors
    of their lots' categories."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    return DepositAccount.filter(
        scope.kept_lots(actor), status=DepositStatus.REFUND_DUE.value, overdue_flagged_at__isnull=False
    )
