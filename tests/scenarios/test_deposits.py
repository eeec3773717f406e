"""Bid deposits over HTTP: a bank confirms payments with signed callbacks, forged or repeated ones
change nothing but are recorded, refunds fall due after the result and late ones are flagged."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api.seed import create_operator
from domain.common.chronograph import fire_due
from domain.common.models import OutboxEvent
from domain.deposits.models import BankCallback, DepositAccount
from tests import factories as f
from tests.scenarios.test_publication import publish
from tests.scenarios.test_registration import open_lot, register
from tests.support.bank import Bank, new_key

AMOUNT = 25_600_000  # 2% of the road works' estimate of 12.8 million yuan

MINE = """query { myRegistrations { edges { node { securityInPlace
  deposit { id reference amountDueFen paidFen status paidAt refundDueAt refundedAt } } } } }"""
LOT_DEPOSITS = """query($lotId: ID!) { lotDeposits(lotId: $lotId) { edges { node {
  organisation { name } payerName payerAccount overdueFlaggedAt
  deposit { id reference paidFen status paidAt refundDueAt refundedAt } } } } }"""
OVERDUE = """query { overdueRefunds { edges { node { overdueFlaggedAt organisation { id }
  deposit { reference status refundDueAt } } } } }"""
KEEP = """mutation($input: DepositKeepInput!) { depositKeep(input: $input) {
  __typename ... on DepositKept { deposit { id status } } ... on Error { code message } } }"""


async def my_deposit(api: Any, token: str) -> dict[str, Any]:
    body = await api.gql(MINE, token=token)
    [edge] = body["data"]["myRegistrations"]["edges"]
    return {**edge["node"]["deposit"], "securityInPlace": edge["node"]["securityInPlace"]}


async def registered(api: Any, operator: str, lot_id: str) -> tuple[str, str, str]:
    """(organisation id, phone, token) of a bidder registered for the lot, and its deposit reference."""
    org_id, phone, token = await f.approved_org(api, operator)
    reg = await register(api, token, lot_id)
    assert reg["__typename"] == "LotRegistered", reg
    return org_id, phone, reg["registration"]["deposit"]["reference"]


async def operator_phone() -> str:
    """An operator's phone, to sign in again after the clock has moved past its token."""
    phone = f.new_phone()
    await create_operator(phone=phone, name="运营管理员", password=f.PASSWORD)
    return phone


async def supervisor_phone(api: Any, operator: str) -> str:
    """The phone of a supervisor of engineering construction, opened and approved by the operator."""
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=["ENGINEERING_CONSTRUCTION"])
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    return str(form["phone"])


async def callbacks() -> list[tuple[str, str | None]]:
    return [(c.outcome, c.code) for c in await BankCallback.all().order_by("id")]


async def test_a_bidder_pays_its_deposit_and_the_bank_callback_puts_its_security_in_place(api, manual_clock):
    # given a bank, an open tender asking 2% security and a registered bidder
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, _, bidder = await f.approved_org(api, operator)
    reference = (await register(api, bidder, lot_id))["registration"]["deposit"]["reference"]
    paid_at = manual_clock.now() - timedelta(minutes=3)

    # when the bank confirms the payment, as text/plain this time
    token = bank.sign(bank.callback("payment", reference, AMOUNT, occurred_at=paid_at))
    response = await bank.post(token, content_type="text/plain")

    # then it is accepted, the deposit is paid at the bank's time and the security is in place
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    deposit = await my_deposit(api, bidder)
    assert deposit["status"] == "paid"
    assert deposit["paidFen"] == AMOUNT
    assert datetime.fromisoformat(deposit["paidAt"]) == paid_at
    assert deposit["securityInPlace"] is True
    assert await callbacks() == [("accepted", None)]
    [event] = await OutboxEvent.filter(type="deposit.paid")
    assert event.payload["reference"] == reference
    assert event.payload["amount_fen"] == AMOUNT
    assert event.audience["roles"] == ["operator"]
    assert len(event.audience["orgs"]) == 2  # the bidder and the bank


async def test_a_replay_a_wrong_amount_an_unknown_reference_and_a_foreign_key_change_nothing(api, manual_clock):
    # given a bidder that paid, one that has not, and a bank whose key is registered
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, _, paid_ref = await registered(api, operator, lot_id)
    _, _, unpaid_ref = await registered(api, operator, lot_id)
    first = bank.sign(bank.callback("payment", paid_ref, AMOUNT, transaction_id="ICBC-0001"))
    assert (await bank.post(first)).json()["status"] == "accepted"
    stranger = new_key()
    stranger_kid = "unregistered-" + bank.kid[:20]

    # when the bank's message is delivered again, then a second payment into the paid reference,
    # a wrong amount, an unknown reference, a forged signature under the bank's kid, an unregistered
    # key, a payload without an amount, and garbage arrive
    replay = await bank.post(first)
    second = await bank.pay(paid_ref, AMOUNT)
    wrong = await bank.pay(unpaid_ref, AMOUNT - 1)
    unknown = await bank.pay("8000000000000000000", AMOUNT)
    forged = await bank.post(bank.sign(bank.callback("payment", unpaid_ref, AMOUNT), stranger, bank.kid))
    foreign = await bank.post(bank.sign(bank.callback("payment", unpaid_ref, AMOUNT), stranger, stranger_kid))
    no_amount = await bank.post(bank.sign(bank.callback("payment", unpaid_ref, AMOUNT, amountFen=None)))
    garbage = await bank.post("not a JWS at all")

    # then each is a typed rejection: business ones 200 so the bank stops retrying, broken ones 400
    answers = [(r.status_code, r.json()["status"], r.json()["code"]) for r in (replay, second, wrong, unknown)]
    assert answers == [
        (200, "rejected", "CALLBACK_REPLAYED"),
        (200, "rejected", "DEPOSIT_ALREADY_PAID"),
        (200, "rejected", "DEPOSIT_AMOUNT_MISMATCH"),
        (200, "rejected", "UNKNOWN_REFERENCE"),
    ]
    broken = [(r.status_code, r.json()["code"]) for r in (forged, foreign, no_amount, garbage)]
    assert broken == [
        (400, "SIGNATURE_INVALID"),
        (400, "SIGNATURE_INVALID"),
        (400, "INVALID_CALLBACK"),
        (400, "SIGNATURE_INVALID"),
    ]
    assert "255,999.99" in wrong.json()["message_zh"]
    assert "256,000.00" in wrong.json()["message_en"]
    assert no_amount.json()["message_en"] == "Malformed bank callback: amountFen"

    # and nothing was credited twice or wrongly
    accounts = {a.reference: a for a in await DepositAccount.all()}
    assert (accounts[paid_ref].status, accounts[paid_ref].paid_fen) == ("paid", AMOUNT)
    assert (accounts[unpaid_ref].status, accounts[unpaid_ref].paid_fen) == ("awaiting", 0)
    assert await OutboxEvent.filter(type="deposit.paid").count() == 1

    # and every rejection is recorded with its code, once each
    assert await callbacks() == [
        ("accepted", None),
        ("rejected", "CALLBACK_REPLAYED"),
        ("rejected", "DEPOSIT_ALREADY_PAID"),
        ("rejected", "DEPOSIT_AMOUNT_MISMATCH"),
        ("rejected", "UNKNOWN_REFERENCE"),
        ("rejected", "SIGNATURE_INVALID"),
        ("rejected", "SIGNATURE_INVALID"),
        ("rejected", "INVALID_CALLBACK"),
        ("rejected", "SIGNATURE_INVALID"),
    ]
    rejected = await OutboxEvent.filter(type="deposit.callback_rejected").order_by("id")
    assert [e.payload["code"] for e in rejected] == [c for _, c in (await callbacks())[1:]]
    mismatch = rejected[2]
    assert mismatch.payload["reference"] == unpaid_ref
    assert mismatch.payload["amount_fen"] == AMOUNT - 1
    assert mismatch.audience["orgs"][-1] == accounts[unpaid_ref].organisation_id  # the bidder is told
    assert rejected[4].payload["bank_organisation_id"] is None  # a forgery names no bank


async def test_a_payment_at_the_bid_deadline_is_too_late_and_goes_back(api, manual_clock):
    # given a registered bidder and a bank
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, phone, reference = await registered(api, operator, lot_id)
    deadline = manual_clock.now() + timedelta(days=25)

    # when the money arrives exactly at the bid deadline (the bank reports it a minute later)
    manual_clock.advance(timedelta(days=25, minutes=1))
    late = await bank.pay(reference, AMOUNT, occurred_at=deadline)

    # then it is refused, the deposit still awaits and no security is in place
    assert late.status_code == 200
    assert late.json()["code"] == "DEPOSIT_TOO_LATE"
    assert "goes back" in late.json()["message_en"]
    deposit = await my_deposit(api, await f.login(api, phone))
    assert deposit["status"] == "awaiting"
    assert deposit["securityInPlace"] is False
    assert await callbacks() == [("rejected", "DEPOSIT_TOO_LATE")]


async def test_refunds_fall_due_after_the_contract_and_the_late_one_is_flagged_to_supervisors(api, manual_clock):
    # given two bidders that paid and one that did not
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    supervisor_at = await supervisor_phone(api, operator)
    bank = await Bank.open(api, operator)
    project, _, tenderer_phone = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, first_phone, first_ref = await registered(api, operator, lot_id)
    _, _, second_ref = await registered(api, operator, lot_id)
    _, _, unpaid_ref = await registered(api, operator, lot_id)
    for reference in (first_ref, second_ref):
        assert (await bank.pay(reference, AMOUNT)).json()["status"] == "accepted"

    # when the bids close, the result and then the contract are published and the events delivered
    manual_clock.advance(timedelta(days=26))
    tenderer = await f.login(api, tenderer_phone)
    await publish(api, tenderer, project, "RESULT", "道路维修工程中标结果公告", "<p>中标人：甲公司。</p>")
    await api.dispatch()
    assert {a.status for a in await DepositAccount.all()} == {"paid", "awaiting"}  # not yet: no contract
    manual_clock.advance(timedelta(days=3))
    contracted_at = manual_clock.now()
    await publish(api, await f.login(api, tenderer_phone), project, "CONTRACT", "道路维修工程合同公告", "<p>合同。</p>")
    await api.dispatch()

    # then both paid deposits are due back within 5 days of the contract; the unpaid one is untouched
    operator = await f.login(api, operator_at)
    shown = await api.gql(LOT_DEPOSITS, {"lotId": lot_id}, token=operator)
    nodes = {n["deposit"]["reference"]: n for n in (e["node"] for e in shown["data"]["lotDeposits"]["edges"])}
    for reference in (first_ref, second_ref):
        assert nodes[reference]["deposit"]["status"] == "refund_due"
        assert datetime.fromisoformat(nodes[reference]["deposit"]["refundDueAt"]) == contracted_at + timedelta(days=5)
        assert nodes[reference]["payerAccount"] == bank.payer_account
    assert nodes[unpaid_ref]["deposit"]["status"] == "awaiting"
    scheduled = await OutboxEvent.filter(type="deposit.refund_scheduled")
    assert sorted(e.payload["reference"] for e in scheduled) == sorted([first_ref, second_ref])

    # when the bank refunds the first (with interest) on day 4, and the second is still owed after day 5
    manual_clock.advance(timedelta(days=4))
    refunded = await bank.refund(first_ref, AMOUNT + 1_234)
    manual_clock.advance(timedelta(days=1, seconds=1))
    await fire_due()
    await fire_due()

    # then the first is refunded, the second is flagged overdue once, to supervisors too
    assert refunded.json() == {"status": "accepted"}
    supervisor = await f.login(api, supervisor_at)
    overdue = await api.gql(OVERDUE, token=supervisor)
    [late] = [e["node"] for e in overdue["data"]["overdueRefunds"]["edges"]]
    assert late["deposit"]["reference"] == second_ref
    assert late["deposit"]["status"] == "refund_due"
    assert late["overdueFlaggedAt"] is not None
    [flag] = await OutboxEvent.filter(type="deposit.refund_overdue")
    assert flag.payload["reference"] == second_ref
    assert set(flag.audience["roles"]) == {"supervisor", "operator"}
    first = await my_deposit(api, await f.login(api, first_phone))
    assert first["status"] == "refunded"

    # and a bidder may not ask for the overdue list, while the tenderer now sees the lot's deposits
    bidder = await f.login(api, first_phone)
    forbidden = await api.gql(OVERDUE, token=bidder, expect_errors=True)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    seen = await api.gql(LOT_DEPOSITS, {"lotId": lot_id}, token=await f.login(api, tenderer_phone))
    assert len(seen["data"]["lotDeposits"]["edges"]) == 3
    assert {e["node"]["payerAccount"] for e in seen["data"]["lotDeposits"]["edges"]} == {None}

    # and the late refund, once made, clears the flag from the list
    assert (await bank.refund(second_ref, AMOUNT)).json()["status"] == "accepted"
    assert (await api.gql(OVERDUE, token=supervisor))["data"]["overdueRefunds"]["edges"] == []
    [done] = [e for e in await OutboxEvent.filter(type="deposit.refunded") if e.payload["reference"] == second_ref]
    assert done.payload["was_overdue"] is True


async def test_a_terminated_tender_refunds_deposits_and_the_operator_keeps_one_where_the_rules_say_so(
    api, manual_clock
):
    # given two paid deposits and a tenderer that cannot see them before the opening
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    project, tenderer, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, _, kept_ref = await registered(api, operator, lot_id)
    _, _, other_ref = await registered(api, operator, lot_id)
    for reference in (kept_ref, other_ref):
        await bank.pay(reference, AMOUNT)
    hidden = await api.gql(LOT_DEPOSITS, {"lotId": lot_id}, token=tenderer)
    shown = await api.gql(LOT_DEPOSITS, {"lotId": lot_id}, token=operator)
    ids = {e["node"]["deposit"]["reference"]: e["node"]["deposit"]["id"] for e in shown["data"]["lotDeposits"]["edges"]}

    # when the operator keeps one deposit (retried with the same key), then the tender is terminated
    keep = {
        "depositId": ids[kept_ref],
        "reason": "投标截止后撤销投标文件（实施条例第三十五条）",
        "idempotencyKey": "keep-1",
    }
    kept = (await api.gql(KEEP, {"input": keep}, token=operator))["data"]["depositKeep"]
    retry = (await api.gql(KEEP, {"input": keep}, token=operator))["data"]["depositKeep"]
    reused = (await api.gql(KEEP, {"input": {**keep, "reason": "别的理由"}}, token=operator))["data"]["depositKeep"]
    by_tenderer = await api.gql(KEEP, {"input": keep}, token=tenderer, expect_errors=True)
    await publish(api, tenderer, project, "TERMINATION", "道路维修工程终止公告", "<p>项目取消。</p>")
    await api.dispatch()
    await api.dispatch()

    # then the kept one stays kept, the other is due back, and each fact was recorded once
    assert hidden["data"]["lotDeposits"] is None
    assert kept == {"__typename": "DepositKept", "deposit": {"id": ids[kept_ref], "status": "kept"}}
    assert retry == kept
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert by_tenderer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    statuses = {a.reference: a.status for a in await DepositAccount.all()}
    assert statuses == {kept_ref: "kept", other_ref: "refund_due"}
    assert await OutboxEvent.filter(type="deposit.kept").count() == 1
    assert await OutboxEvent.filter(type="deposit.refund_scheduled").count() == 1

    # and a kept deposit cannot be refunded by the bank
    refused = await bank.refund(kept_ref, AMOUNT)
    assert refused.json()["code"] == "REFUND_NOT_DUE"
