"""Deposit services on the real database: callback checks, concurrent deliveries, refunds scheduled
once however often the lot's event arrives, and the overdue flag."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.accounts import keys
from domain.accounts.models import Organisation
from domain.accounts.states import OrgStatus
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.chronograph import fire_due
from domain.common.errors import InvalidTransition
from domain.common.models import OutboxEvent
from domain.deposits import services as deposits
from domain.deposits.models import BankCallback, DepositAccount
from domain.publication import announcements, projects
from domain.publication.models import Lot
from domain.registration import services as registration
from tests.domain.factories import organisation
from tests.support import commitments as committed
from tests.support.bank import new_key

AMOUNT = 2_000_000  # 2% of 1,000,000 yuan
_users = itertools.count(1000)
_txn = itertools.count(1)


@dataclass
class World:
    lot: Lot
    tenderer: Actor
    project_id: int
    bank: Organisation
    bank_actor: Actor
    private_jwk: dict[str, Any]
    kid: str
    deadline: datetime

    def sign(self, kind: str, reference: str, amount_fen: int, **extra: Any) -> str:
        payload = {
            "type": kind,
            "transactionId": f"T{next(_txn):010d}",
            "reference": reference,
            "amountFen": amount_fen,
            "payerAccount": "6222020000000000002",
            "payerName": "青岛测试建设有限公司",
            "occurredAt": clock.now().isoformat(),
        }
        payload.update(extra)
        return keys.sign(payload, self.private_jwk, self.kid)


def actor_of(org: Organisation, role: Role) -> Actor:
    return Actor(user_id=next(_users), org_id=org.id, roles=frozenset({role}))


async def world() -> World:
    """An open tender of 1,000,000 yuan (bids due in 20 days) and a bank with a registered key."""
    tenderer = actor_of(await organisation(kinds=["tenderer"]), Role.TENDERER)
    deadline = clock.now() + timedelta(days=20)
    form = projects.ProjectForm(
        name="青岛市市北区管网改造工程",
        category="engineering_construction",
        region_code="370200",
        lots=[
            projects.LotForm(
                name="第1标段",
                procedure="open_tender",
                estimated_price_fen=100_000_000,
                config={"bid_deadline": deadline},
            )
        ],
    )
    project = await projects.create_project(tenderer, form)
    lot = await Lot.get(project_id=project.id)
    tender = announcements.AnnouncementForm(
        project_id=project.id, type="tender", title="招标公告", body_html="<p>招标</p>", lot_id=lot.id
    )
    draft = await announcements.draft_announcement(tenderer, tender)
    await announcements.publish_announcement(tenderer, draft.id)
    bank = await organisation(kinds=["guarantor"])
    bank_actor = actor_of(bank, Role.GUARANTOR)
    private = new_key()
    key = await keys.register_key(bank_actor, "bank_callback", {k: v for k, v in private.items() if k != "d"})
    return World(await Lot.get(id=lot.id), tenderer, project.id, bank, bank_actor, private, key.kid, deadline)


async def bidder(w: World) -> DepositAccount:
    """A registered bidder's deposit account."""
    actor = actor_of(await organisation(kinds=["bidder"]), Role.BIDDER)
    reg = await committed.register(actor, w.lot.id)
    return await DepositAccount.get(registration_id=reg.id)


async def move_lot(w: World, *kinds: str) -> None:
    for kind in kinds:
        form = announcements.AnnouncementForm(
            project_id=w.project_id, type=kind, title=kind, body_html="<p>x</p>", lot_id=w.lot.id
        )
        await announcements.publish_announcement(
            w.tenderer, (await announcements.draft_announcement(w.tenderer, form)).id
        )


# ---------------------------------------------------------------- parsing


def payload(**changes: Any) -> dict[str, Any]:
    base = {
        "type": "payment",
        "transactionId": "T1",
        "reference": "8000000001000000018",
        "amountFen": 100,
        "payerAccount": "6222",
        "payerName": "某公司",
        "occurredAt": "2026-03-01T10:00:00+08:00",
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not ...}


NOW = datetime.fromisoformat("2026-03-01T12:00:00+08:00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "transfer"}, "type"),
        ({"type": ...}, "type"),
        ({"transactionId": ""}, "transactionId"),
        ({"transactionId": "x" * 65}, "transactionId"),
        ({"reference": 8000000001000000018}, "reference"),
        ({"amountFen": 0}, "amountFen"),
        ({"amountFen": 1.5}, "amountFen"),
        ({"amountFen": True}, "amountFen"),
        ({"amountFen": "100"}, "amountFen"),
        ({"amountFen": 2**63}, "amountFen"),
        ({"payerAccount": ...}, "payerAccount"),
        ({"payerName": " "}, "payerName"),
        ({"occurredAt": "2026-03-01T10:00:00"}, "occurredAt"),
        ({"occurredAt": "yesterday"}, "occurredAt"),
        ({"occurredAt": 1772330400}, "occurredAt"),
        ({"occurredAt": "2026-03-01T12:02:01+08:00"}, "occurredAt"),
    ],
)
def test_a_malformed_callback_names_its_field(changes, field):
    # when / then
    with pytest.raises(deposits.InvalidCallback) as caught:
        deposits.parse_callback(payload(**changes), NOW)
    assert caught.value.field == field
    assert caught.value.code == "INVALID_CALLBACK"


def test_a_refund_needs_no_payer_and_a_bank_clock_slightly_ahead_is_taken_as_now():
    # when
    refund = deposits.parse_callback(payload(type="refund", payerAccount=..., payerName=...), NOW)
    ahead = deposits.parse_callback(payload(occurredAt="2026-03-01T12:01:00+08:00"), NOW)
    # then
    assert refund.kind is deposits.CallbackKind.REFUND
    assert refund.payer_account is None
    assert ahead.occurred_at == NOW


# ---------------------------------------------------------------- callbacks


async def test_two_deliveries_of_one_payment_at_once_credit_it_once(db, manual_clock):
    # given
    w = await world()
    account = await bidder(w)
    token = w.sign("payment", account.reference, AMOUNT)
    # when the bank delivers the same message twice at the same moment
    results = await asyncio.gather(*(deposits.receive_callback(token) for _ in range(2)), return_exceptions=True)
    # then one is accepted and the other is a replay; the deposit is paid once
    assert sorted(type(r).__name__ for r in results) == ["CallbackReceipt", "CallbackReplayed"]
    paid = await DepositAccount.get(id=account.id)
    assert (paid.status, paid.paid_fen) == ("paid", AMOUNT)
    outcomes = sorted((c.outcome, c.code or "") for c in await BankCallback.all())
    assert outcomes == [("accepted", ""), ("rejected", "CALLBACK_REPLAYED")]
    assert await OutboxEvent.filter(type="deposit.paid").count() == 1
    assert await registration.security_in_place(w.lot.id, paid.organisation_id)


async def test_a_bank_transaction_id_reused_for_another_reference_is_a_replay(db, manual_clock):
    # given a payment accepted under transaction T-9
    w = await world()
    first, second = await bidder(w), await bidder(w)
    await deposits.receive_callback(w.sign("payment", first.reference, AMOUNT, transactionId="T-9"))
    # when the bank sends another payment under the same transaction id
    with pytest.raises(deposits.CallbackReplayed):
        await deposits.receive_callback(w.sign("payment", second.reference, AMOUNT, transactionId="T-9"))
    # then
    assert (await DepositAccount.get(id=second.id)).status == "awaiting"


async def test_one_bank_transaction_racing_into_two_references_is_credited_once(db, manual_clock):
    # given two deposits awaiting payment (different rows: no lock orders the two deliveries)
    w = await world()
    accounts = [await bidder(w), await bidder(w)]
    tokens = [w.sign("payment", a.reference, AMOUNT, transactionId="T-RACE") for a in accounts]
    # when both arrive at once; the unique accepted key refuses the second commit
    results = await asyncio.gather(*(deposits.receive_callback(t) for t in tokens), return_exceptions=True)
    # then
    assert sorted(type(r).__name__ for r in results) == ["CallbackReceipt", "CallbackReplayed"]
    assert sorted(a.status for a in await DepositAccount.all()) == ["awaiting", "paid"]
    assert await BankCallback.filter(outcome="accepted").count() == 1


async def test_the_database_refuses_a_second_credit_when_the_replay_check_is_outrun(db, manual_clock, monkeypatch):
    # given the replay check blind, as when a second delivery reads before the first commits
    w = await world()
    first, second = await bidder(w), await bidder(w)
    await deposits.receive_callback(w.sign("payment", first.reference, AMOUNT, transactionId="T-7"))

    async def blind(**_: Any) -> bool:
        return False

    monkeypatch.setattr(BankCallback, "exists", blind)
    # when the same bank transaction arrives for another reference
    with pytest.raises(deposits.CallbackReplayed):
        await deposits.receive_callback(w.sign("payment", second.reference, AMOUNT, transactionId="T-7"))
    # then the unique accepted key refused it: the account is untouched, the rejection recorded
    monkeypatch.undo()
    assert (await DepositAccount.get(id=second.id)).status == "awaiting"
    assert [(c.outcome, c.code) for c in await BankCallback.all().order_by("id")] == [
        ("accepted", None),
        ("rejected", "CALLBACK_REPLAYED"),
    ]


async def test_a_revoked_key_or_a_suspended_bank_is_not_believed(db, manual_clock):
    # given a bank whose key works
    w = await world()
    account = await bidder(w)
    # when the bank is suspended, and later its key is revoked
    await Organisation.filter(id=w.bank.id).update(status=OrgStatus.SUSPENDED.value)
    with pytest.raises(keys.SignatureInvalid):
        await deposits.receive_callback(w.sign("payment", account.reference, AMOUNT))
    await Organisation.filter(id=w.bank.id).update(status=OrgStatus.APPROVED.value)
    key = await keys.PartnerKey.get(kid=w.kid)
    await keys.revoke_key(w.bank_actor, key.id)
    with pytest.raises(keys.SignatureInvalid):
        await deposits.receive_callback(w.sign("payment", account.reference, AMOUNT))
    # then nothing was credited and both are on record
    assert (await DepositAccount.get(id=account.id)).status == "awaiting"
    assert [c.code for c in await BankCallback.all().order_by("id")] == ["SIGNATURE_INVALID"] * 2


async def test_a_refund_must_be_due_and_at_least_the_deposit(db, manual_clock):
    # given one deposit awaiting payment and one paid
    w = await world()
    awaiting, paid = await bidder(w), await bidder(w)
    await deposits.receive_callback(w.sign("payment", paid.reference, AMOUNT))
    # when the bank confirms refunds of the unpaid one and of less than was paid
    with pytest.raises(deposits.RefundNotDue) as not_due:
        await deposits.receive_callback(w.sign("refund", awaiting.reference, AMOUNT))
    with pytest.raises(deposits.DepositAmountMismatch) as short:
        await deposits.receive_callback(w.sign("refund", paid.reference, AMOUNT - 100))
    # then
    assert not_due.value.params["state"] == "awaiting"
    assert short.value.params == {
        "amount_fen": AMOUNT - 100,
        "expected_fen": AMOUNT,
        "amount_text": "19,999.00",
        "expected_text": "20,000.00",
    }
    assert (await DepositAccount.get(id=paid.id)).status == "paid"


async def test_a_payment_made_in_time_but_confirmed_after_the_contract_falls_due_at_once(db, manual_clock):
    # given a payment made a day before the deadline whose confirmation is held up at the bank
    w = await world()
    account = await bidder(w)
    made_at = w.deadline - timedelta(days=1)
    token = w.sign("payment", account.reference, AMOUNT, occurredAt=made_at.isoformat())
    # when the lot is contracted (refunds scheduled) before the bank's callback arrives
    manual_clock.advance(timedelta(days=22))
    await move_lot(w, "result", "contract")
    await deposits.on_lot_status_changed(w.lot.id, "contracted")
    await deposits.receive_callback(token)
    # then the deposit was paid in time and is due back like the others
    paid = await DepositAccount.get(id=account.id)
    assert paid.paid_at == made_at
    assert paid.status == "refund_due"
    assert paid.refund_due_at == manual_clock.now() + timedelta(days=5)


# ---------------------------------------------------------------- refunds


async def test_refunds_are_scheduled_once_however_often_the_event_is_delivered(db, manual_clock):
    # given two paid deposits
    w = await world()
    accounts = [await bidder(w) for _ in range(2)]
    for account in accounts:
        await deposits.receive_callback(w.sign("payment", account.reference, AMOUNT))
    # when statuses that bring no result arrive, then the failure (流标) three times, an hour apart
    await deposits.on_lot_status_changed(w.lot.id, "evaluating")
    await deposits.on_lot_status_changed(w.lot.id, "awarded")
    await deposits.on_lot_status_changed(w.lot.id, "no-such-status")
    assert {a.status for a in await DepositAccount.all()} == {"paid"}
    failed_at = manual_clock.now()
    for _ in range(3):
        await deposits.on_lot_status_changed(w.lot.id, "failed")
        manual_clock.advance(hours=1)
    # then each is due 5 days after the first delivery, with one event each
    for account in await DepositAccount.all():
        assert account.status == "refund_due"
        assert account.refund_due_at == account.next_check_at == failed_at + timedelta(days=5)
    events = await OutboxEvent.filter(type="deposit.refund_scheduled")
    assert sorted(int(e.object_id) for e in events) == sorted(a.id for a in accounts)
    assert {e.payload["lot_status"] for e in events} == {"failed"}


async def test_an_overdue_refund_is_flagged_once_and_a_timely_one_never(db, manual_clock):
    # given two deposits due back
    w = await world()
    late, timely = await bidder(w), await bidder(w)
    for account in (late, timely):
        await deposits.receive_callback(w.sign("payment", account.reference, AMOUNT))
    await deposits.on_lot_status_changed(w.lot.id, "terminated")
    # when one is refunded on day 5 and the clock passes the due date
    manual_clock.advance(timedelta(days=5) - timedelta(seconds=1))
    await deposits.receive_callback(w.sign("refund", timely.reference, AMOUNT))
    await fire_due()
    assert await DepositAccount.filter(overdue_flagged_at__isnull=False).count() == 0
    manual_clock.advance(seconds=1)
    await fire_due()
    manual_clock.advance(days=1)
    await fire_due()
    # then only the late one is flagged, once, and leaves the chronograph
    now_late = await DepositAccount.get(id=late.id)
    assert now_late.overdue_flagged_at is not None
    assert now_late.next_check_at is None
    assert (await DepositAccount.get(id=timely.id)).overdue_flagged_at is None
    [event] = await OutboxEvent.filter(type="deposit.refund_overdue")
    assert event.object_id == str(late.id)
    assert event.audience["roles"] == ["supervisor", "operator"]
    assert event.audience["orgs"] == [late.organisation_id]


async def test_only_an_operator_keeps_only_a_paid_deposit(db, manual_clock):
    # given a paid deposit and one still awaiting payment
    w = await world()
    paid, awaiting = await bidder(w), await bidder(w)
    await deposits.receive_callback(w.sign("payment", paid.reference, AMOUNT))
    operator = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))
    # when
    with pytest.raises(deposits.PermissionDenied):
        await deposits.keep_deposit(w.tenderer, paid.id, "拒签合同")
    with pytest.raises(InvalidTransition):
        await deposits.keep_deposit(operator, awaiting.id, "拒签合同")
    with pytest.raises(deposits.InvalidInput):
        await deposits.keep_deposit(operator, paid.id, "  ")
    kept = await deposits.keep_deposit(operator, paid.id, "中标人无正当理由不与招标人订立合同")
    again = await deposits.keep_deposit(operator, paid.id, "中标人无正当理由不与招标人订立合同")
    await deposits.on_lot_status_changed(w.lot.id, "terminated")
    # then it is kept, once, and never falls due
    assert kept.status == again.status == "kept"
    assert (await DepositAccount.get(id=paid.id)).status == "kept"
    [event] = await OutboxEvent.filter(type="deposit.kept")
    assert event.payload["reason"] == "中标人无正当理由不与招标人订立合同"
    failures = await OutboxEvent.filter(type="deposit.keep", outcome="failure").values_list("payload", flat=True)
    assert sorted(p["code"] for p in failures) == ["INVALID_INPUT", "INVALID_TRANSITION", "PERMISSION_DENIED"]
