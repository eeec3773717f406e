"""Treasury settlement (国库集中支付): the tenderer asks the treasury to pay an instalment of a signed contract's price
to the supplier, or a platform service fee to the trading centre; the request is signed and sent (queued and retried
while the treasury cannot be reached), the treasury's signed callbacks move it, the daily statement is reconciled.

Statuses and amounts are for the contract's parties (tenderer, agency, supplier), operators and the supervisors of
the lot's category, never for other bidders. Every step is an event on the audit trail; paid tells the payee.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.access import scope
from domain.accounts.models import Organisation, User
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidBankAccount
from domain.common.models import OutboxEvent
from domain.common.storage import lock
from domain.publication.models import Lot, Project
from domain.results.models import Contract
from domain.results.states import ContractStatus
from domain.settlement import adapters
from domain.settlement.errors import (
    ContractNotSigned,
    InvalidTreasuryCallback,
    PaymentExceedsContract,
    SignatureInvalid,
    TreasuryUnreachable,
    UnknownPaymentRequest,
)
from domain.settlement.models import ServiceFee, TreasuryCallback, TreasuryMismatch, TreasuryPayment
from domain.settlement.states import BY_CALLBACK, LIVE, TABLE, TREASURY, PaymentStatus

S = PaymentStatus
MAX_AMOUNT_FEN = 10**15
RETRY_AFTER = timedelta(minutes=5)
KINDS = ("contract", "service_fee")


@dataclass(frozen=True, kw_only=True)
class TreasuryPaymentEvent(DomainEvent):
    """A treasury payment request moved; `step` says how (requested, submitted, accepted, paid, rejected, returned)."""

    type = "treasury.payment"
    object_type = "TreasuryPayment"
    step: str
    request_no: str
    lot_id: int | None
    kind: str
    payee_org_id: int
    amount_fen: int
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class TreasuryReconciled(DomainEvent):
    """The day's statement was compared with the requests: `mismatches` differences recorded."""

    type = "treasury.reconciled"
    object_type = "TreasuryStatement"
    day: str
    entries: int
    mismatches: int


def _managers(project: Project) -> tuple[int, ...]:
    return tuple(o for o in (project.tenderer_id, project.agency_id) if o)


async def _audience(p: TreasuryPayment) -> Audience:
    orgs = {p.payer_org_id, p.payee_org_id}
    if p.lot_id is not None:
        lot = await Lot.get(id=p.lot_id)
        orgs |= set(_managers(await Project.get(id=lot.project_id)))
    return Audience(orgs=tuple(sorted(orgs)), roles=("operator", "supervisor"))


async def _event(p: TreasuryPayment, step: str, actor: Actor) -> None:
    await events.record(
        TreasuryPaymentEvent(
            object_id=str(p.id),
            step=step,
            request_no=p.request_no,
            lot_id=p.lot_id,
            kind=p.kind,
            payee_org_id=p.payee_org_id,
            amount_fen=p.amount_fen,
            reason=p.reason,
            audience=await _audience(p),
        ),
        actor,
    )


def _amount(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT_FEN:
        raise InvalidInput(field="amountFen")
    return value


def _account(value: str) -> str:
    digits = "".join(value.split())
    if not digits.isdigit() or not 8 <= len(digits) <= 32:
        raise InvalidBankAccount(field="payeeAccount")
    return digits


def _request_no(now: datetime) -> str:
    return f"TP{clock.to_shanghai(now):%Y%m%d}{uuid.uuid4().hex[:12].upper()}"


async def message_of(p: TreasuryPayment) -> dict[str, Any]:
    """The signed request's payload, the same on every retry."""
    payer = await Organisation.get(id=p.payer_org_id)
    payee = await Organisation.get(id=p.payee_org_id)
    return {
        "requestNo": p.request_no,
        "kind": p.kind,
        "payer": {"creditCode": payer.credit_code, "name": payer.name, "account": adapters.deps.payer_account},
        "payee": {"creditCode": payee.credit_code, "name": payee.name, "account": p.payee_account},
        "amountFen": p.amount_fen,
        "purpose": p.purpose,
        "callbackUrl": adapters.deps.callback_url,
        "requestedAt": p.requested_at.isoformat(),
    }


@raises(ContractNotSigned, PaymentExceedsContract, InvalidBankAccount)
@use_case("treasury.request", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def request_payment(
    actor: Actor,
    lot_id: int | None,
    kind: str,
    amount_fen: int,
    payee_account: str,
    purpose: str,
    fee_id: int | None = None,
    idempotency_key: str | None = None,
) -> TreasuryPayment:
    """Stores a signed payment request of the lot's tenderer (or agency) and sends it; a contract instalment only
    under a signed contract in force and never beyond its amount less what live requests already ask; a request the
    treasury cannot take now stays queued (requested) and is retried by send_queued."""
    if kind not in KINDS:
        raise InvalidInput(field="kind")
    amount, account = _amount(amount_fen), _account(payee_account)
    what = required_text(purpose, "purpose", 200)
    request = {"lot": lot_id, "kind": kind, "amount": amount, "account": account, "purpose": what, "fee": fee_id}

    async def change() -> dict[str, Any]:
        now = clock.now()
        fields: dict[str, Any]
        if kind == "contract":
            lot = await Lot.get_or_none(id=lot_id) if lot_id is not None else None
            if lot is None:
                raise NotFound()
            project = await Project.get(id=lot.project_id)
            if actor.org_id is None or actor.org_id not in _managers(project):
                raise NotFound() if not scope.keeps_project(actor, project) else PermissionDenied()
            made = await lock(Contract.filter(lot_id=lot.id)).first()
            if made is None or made.status != ContractStatus.ACTIVE.value:
                raise ContractNotSigned()
            live = await TreasuryPayment.filter(contract_id=made.id, status__in=[s.value for s in LIVE])
            requested = sum(p.amount_fen for p in live)
            TABLE.fire(
                None, "request", by="tenderer", amount_fen=amount, limit_fen=made.amount_fen, requested_fen=requested
            )
            fields = {
                "lot_id": lot.id,
                "contract_id": made.id,
                "payer_org_id": project.tenderer_id,
                "payee_org_id": made.organisation_id,
            }
        else:
            fee = await ServiceFee.get_or_none(id=fee_id) if fee_id is not None else None
            if fee is None or fee.organisation_id != actor.org_id:
                raise NotFound()
            if await TreasuryPayment.exists(fee_id=fee.id, status__in=[s.value for s in LIVE]):
                raise PaymentExceedsContract(available_fen=0, available_text="0.00")
            if amount != fee.amount_fen:
                raise InvalidInput(field="amountFen")
            creator = await User.get(id=fee.created_by)
            TABLE.fire(None, "request", by="tenderer", amount_fen=amount, limit_fen=None, requested_fen=0)
            fields = {
                "lot_id": fee.lot_id,
                "fee_id": fee.id,
                "payer_org_id": fee.organisation_id,
                "payee_org_id": creator.organisation_id,
            }
        p = await TreasuryPayment.create(
            request_no=_request_no(now),
            kind=kind,
            payee_account=account,
            amount_fen=amount,
            purpose=what,
            status=S.REQUESTED.value,
            next_attempt_at=now,
            requested_by=actor.user_id or 0,
            requested_at=now,
            updated_at=now,
            **fields,
        )
        await _event(p, "requested", actor)
        return {"id": p.id}

    result, replayed = await run_once(actor, idempotency_key, "treasury.request", request, change)
    if not replayed:
        await submit(int(result["id"]))
    return await TreasuryPayment.get(id=result["id"])


async def submit(payment_id: int) -> TreasuryPayment:
    """Sends a queued request once (the treasury keys it by its request number, so a resend pays nothing twice);
    received: submitted; refused: rejected with its code; unreachable: kept queued until next_attempt_at."""
    p = await TreasuryPayment.get(id=payment_id)
    if p.status != S.REQUESTED.value:
        return p
    message = await message_of(p)
    now = clock.now()
    try:
        answer = await adapters.send_payment(message)
    except (adapters.TreasuryUnavailable, SignatureInvalid) as err:
        async with in_transaction():
            row = await lock(TreasuryPayment.filter(id=payment_id)).get()
            row.attempts += 1
            row.last_error = str(err)[:200] or type(err).__name__
            row.next_attempt_at = now + RETRY_AFTER
            row.updated_at = now
            await row.save()
        return row
    async with in_transaction():
        row = await lock(TreasuryPayment.filter(id=payment_id)).get()
        if row.status != S.REQUESTED.value or answer.get("requestNo", row.request_no) != row.request_no:
            return row
        row.attempts += 1
        row.next_attempt_at, row.updated_at, row.last_error = None, now, None
        if answer.get("status") == "received":
            row.status = TABLE.fire(row.status, "submit", by=SYSTEM).value
            row.treasury_ref, row.submitted_at = str(answer.get("treasuryRef") or "")[:64] or None, now
            step = "submitted"
        else:
            row.status = TABLE.fire(row.status, "reject", by=SYSTEM).value
            row.reason = f"{answer.get('code', '')} {answer.get('reason', '')}".strip()[:500]
            row.rejected_at, step = now, "rejected"
        await row.save()
        await _event(row, step, SYSTEM)
    return row


async def send_queued(now: datetime | None = None, limit: int = 50) -> int:
    """Sends the queued requests that are due; how many were tried."""
    when = now or clock.now()
    due = await TreasuryPayment.filter(status=S.REQUESTED.value, next_attempt_at__lte=when).order_by("id").limit(limit)
    for p in due:
        await submit(p.id)
    return len(due)


async def step() -> None:
    """The treasury worker's step: the queued requests that are due, then yesterday's reconciliation (Beijing days),
    once, as soon as the treasury serves its statement."""
    if not adapters.deps.treasury_url:
        return
    await send_queued()
    yesterday = clock.today() - timedelta(days=1)
    if await OutboxEvent.exists(type=TreasuryReconciled.type, object_id=yesterday.isoformat()):
        return
    try:
        await reconcile(yesterday)
    except TreasuryUnreachable:
        return


# ---------------------------------------------------------------- callbacks


def _text(payload: dict[str, Any], name: str, max_len: int = 64) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise InvalidTreasuryCallback(field=name)
    return value


# the table's request guard is never fired here; named so that the static check sees the table's every error
@raises(SignatureInvalid, InvalidTreasuryCallback, UnknownPaymentRequest, PaymentExceedsContract)
async def receive_callback(token: str) -> str:
    """Applies one signed treasury callback: 'applied', or 'replayed' for a callback id seen before (nothing
    changes); a refusal raises after it is recorded. Every callback is kept in treasury_callback."""
    sha = hashlib.sha256(token.encode()).hexdigest()
    now = clock.now()
    try:
        payload = adapters.verify_treasury(token)
        callback_id = _text(payload, "callbackId")
        request_no = _text(payload, "requestNo", 32)
        status = _text(payload, "status", 16)
        if status not in BY_CALLBACK:
            raise InvalidTreasuryCallback(field="status")
    except (SignatureInvalid, InvalidTreasuryCallback) as err:
        await TreasuryCallback.create(outcome="rejected", code=err.code, jws_sha256=sha, received_at=now)
        raise
    if await TreasuryCallback.exists(callback_id=callback_id):
        return "replayed"
    try:
        async with in_transaction():
            row = await lock(TreasuryPayment.filter(request_no=request_no)).first()
            if row is None:
                raise UnknownPaymentRequest()
            amount = payload.get("amountFen")
            if amount is not None and amount != row.amount_fen:
                raise InvalidTreasuryCallback(field="amountFen")
            row.status = TABLE.fire(row.status, BY_CALLBACK[status], by=TREASURY).value
            setattr(row, f"{status}_at", now)
            if status in ("rejected", "returned"):
                row.reason = str(payload.get("reason") or "")[:500] or None
            row.treasury_ref = row.treasury_ref or (str(payload.get("treasuryRef") or "")[:64] or None)
            row.next_attempt_at, row.updated_at = None, now
            await row.save()
            await TreasuryCallback.create(
                callback_id=callback_id,
                request_no=request_no,
                status=status,
                outcome="applied",
                jws_sha256=sha,
                payload=payload,
                received_at=now,
            )
            await _event(row, status, SYSTEM)
    except IntegrityError:
        return "replayed"
    except (UnknownPaymentRequest, InvalidTreasuryCallback, InvalidTransition) as err:
        await TreasuryCallback.create(
            request_no=request_no,
            status=status,
            outcome="rejected",
            code=err.code,
            jws_sha256=sha,
            payload=payload,
            received_at=now,
        )
        raise
    return "applied"


# ---------------------------------------------------------------- reading and reconciliation


async def may_read(actor: Actor, p: TreasuryPayment) -> bool:
    """The contract's parties (tenderer, agency, supplier), the payer and payee, operators and the supervisors of
    the lot's category."""
    if actor.org_id is not None and actor.org_id in (p.payer_org_id, p.payee_org_id):
        return True
    if p.lot_id is None:
        return scope.keeps(actor, None)
    lot = await Lot.get(id=p.lot_id)
    project = await Project.get(id=lot.project_id)
    return (actor.org_id is not None and actor.org_id in _managers(project)) or scope.keeps_project(actor, project)


async def payments_of_lot(actor: Actor, lot_id: int) -> list[TreasuryPayment]:
    """The lot's payment requests the caller may see (none for anyone else), oldest first."""
    rows = await TreasuryPayment.filter(lot_id=lot_id).order_by("id")
    return [p for p in rows if await may_read(actor, p)]


async def payment(actor: Actor, payment_id: int) -> TreasuryPayment:
    p = await TreasuryPayment.get_or_none(id=payment_id)
    if p is None or not await may_read(actor, p):
        raise NotFound()
    return p


STATEMENT_STATUS = {
    "received": S.SUBMITTED,
    "accepted": S.ACCEPTED,
    "paid": S.PAID,
    "rejected": S.REJECTED,
    "returned": S.RETURNED,
}


@raises(TreasuryUnreachable)
async def reconcile(day: date) -> list[TreasuryMismatch]:
    """Compares the treasury's statement of `day` (Beijing) with the requests it received that day and records each
    difference once: missing (we sent it, the treasury lists none), unknown (listed, not ours), amount, status.
    TreasuryUnreachable when the statement cannot be had."""
    try:
        statement = await adapters.fetch_statement(day.isoformat())
    except (adapters.TreasuryUnavailable, SignatureInvalid):
        raise TreasuryUnreachable() from None
    entries = statement.get("entries") if statement.get("date") == day.isoformat() else None
    if not isinstance(entries, list):
        raise TreasuryUnreachable()
    theirs = {str(e.get("requestNo")): e for e in entries if isinstance(e, dict)}
    start = datetime.combine(day, datetime.min.time(), tzinfo=clock.SHANGHAI)
    ours = {
        p.request_no: p
        for p in await TreasuryPayment.filter(
            submitted_at__isnull=False, requested_at__gte=start, requested_at__lt=start + timedelta(days=1)
        )
    }
    found: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for no, p in ours.items():
        mine = {"amountFen": p.amount_fen, "status": p.status}
        entry = theirs.get(no)
        if entry is None:
            found.append((no, "missing", mine, None))
            continue
        if entry.get("amountFen") != p.amount_fen:
            found.append((no, "amount", mine, entry))
        if STATEMENT_STATUS.get(str(entry.get("status"))) != S(p.status):
            found.append((no, "status", mine, entry))
    found += [(no, "unknown", None, entry) for no, entry in theirs.items() if no not in ours]
    now = clock.now()
    async with in_transaction():
        for no, kind, held, listed in found:
            await TreasuryMismatch.get_or_create(
                statement_day=day,
                request_no=no,
                kind=kind,
                defaults={"ours": held, "theirs": listed, "found_at": now},
            )
        await events.record(
            TreasuryReconciled(
                object_id=day.isoformat(), day=day.isoformat(), entries=len(theirs), mismatches=len(found)
            ),
            SYSTEM,
        )
    return list(await TreasuryMismatch.filter(statement_day=day).order_by("id"))
