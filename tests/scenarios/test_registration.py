"""Bidders register for a lot from their phones: automatic approval, the window, secrecy, withdrawal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.support.commitments import commit_over_api

REGISTER = """mutation($input: LotRegisterInput!) { lotRegister(input: $input) {
  __typename
  ... on LotRegistered { registration { id status securityInPlace organisation { name }
      deposit { reference amountDueFen paidFen status } } }
  ... on NotEligible { rule }
  ... on RegistrationClosed { opensAt closesAt }
  ... on Error { code message }
} }"""
WITHDRAW = """mutation($input: LotWithdrawInput!) { lotWithdraw(input: $input) {
  __typename ... on LotWithdrawn { registration { status withdrawnAt } } ... on Error { code message } } }"""
REGISTRANTS = (
    """query($lotId: ID!) { lotRegistrations(lotId: $lotId) { edges { node { organisation { name } status } } } }"""
)
MINE = "query { myRegistrations { edges { node { status lot { tradeCode } deposit { reference } } } } }"
PUNISH = """mutation($input: JointPunishmentAddInput!) { jointPunishmentAdd(input: $input) { __typename } }"""
ME_PUNISHED = "query { me { organisation { underPunishment } } }"


async def open_lot(api: Any, clock: Any, operator: str, **lot: Any) -> tuple[dict[str, Any], str, str]:
    """A published open tender (deadline in 25 days), its tenderer's token and phone."""
    _, phone, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    created = await api.gql(
        PROJECT_CREATE, {"input": road_project(clock.now() + timedelta(days=25), **lot)}, token=tenderer
    )
    project = created["data"]["projectCreate"]["project"]
    await publish(api, tenderer, project, "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>黄岛区。</p>")
    return project, tenderer, phone


async def register(api: Any, token: str, lot_id: str, key: str | None = None) -> dict[str, Any]:
    """lotRegister after signing the registration-stage credit commitment (open tenders ask for it by default)."""
    await commit_over_api(api, token, lot_id, "registration", strict=False)
    body = await api.gql(REGISTER, {"input": {"lotId": lot_id, "idempotencyKey": key}}, token=token)
    return body["data"]["lotRegister"]  # type: ignore[no-any-return]


async def test_two_bidders_register_and_each_gets_its_own_deposit_reference(api, manual_clock):
    # given an open tender that asks for 2% security
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, _, first = await f.approved_org(api, operator)
    _, _, second = await f.approved_org(api, operator)
    # when both register, the first twice with one idempotency key (a retry from a flaky network)
    a = await register(api, first, lot_id, key="reg-1")
    again = await register(api, first, lot_id, key="reg-1")
    b = await register(api, second, lot_id)
    # then both are registered with distinct 19-digit references for 2% of the estimate
    assert a["__typename"] == b["__typename"] == "LotRegistered"
    assert again["registration"]["id"] == a["registration"]["id"]
    refs = {r["registration"]["deposit"]["reference"] for r in (a, b)}
    assert len(refs) == 2
    assert all(len(ref) == 19 and ref.isdigit() for ref in refs)
    assert a["registration"]["deposit"]["amountDueFen"] == 25_600_000
    assert a["registration"]["deposit"]["status"] == "awaiting"
    assert a["registration"]["securityInPlace"] is False
    mine = await api.gql(MINE, token=first)
    assert len(mine["data"]["myRegistrations"]["edges"]) == 1


async def test_a_punished_entity_is_refused_with_the_rule_and_nothing_is_created(api, manual_clock):
    # given a bidder on the joint-punishment list
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    org_id, _, bidder = await f.approved_org(api, operator)
    assert (await api.gql(ME_PUNISHED, token=bidder))["data"]["me"]["organisation"]["underPunishment"] is False
    listed = await api.gql(
        PUNISH,
        {
            "input": {
                "organisationId": org_id,
                "reason": "串通投标",
                "authority": "青岛市发展和改革委员会",
                "documentNo": "青发改罚〔2026〕7号",
                "startsAt": manual_clock.now().isoformat(),
            }
        },
        token=operator,
    )
    assert listed["data"]["jointPunishmentAdd"]["__typename"] == "JointPunishmentChanged"
    # (its `query Me` says so, read with the user in one statement)
    assert (await api.gql(ME_PUNISHED, token=bidder))["data"]["me"]["organisation"]["underPunishment"] is True
    # when it registers, in English
    body = await api.gql(
        REGISTER, {"input": {"lotId": project["lots"][0]["id"]}}, token=bidder, headers={"accept-language": "en"}
    )
    # then
    refused = body["data"]["lotRegister"]
    assert refused["__typename"] == "NotEligible"
    assert refused["code"] == "NOT_ELIGIBLE"
    assert "joint punishment" in refused["rule"]
    assert (await api.gql(MINE, token=bidder))["data"]["myRegistrations"]["edges"] == []


async def test_a_bad_credit_rule_refuses_a_bidder_with_a_recent_bad_record(api, manual_clock):
    # given a lot whose eligibility asks for no bad credit in three years, and a bidder with one
    operator = await f.operator_token(api)
    rule = {"kind": "credit", "text": "近三年无不良信用记录"}
    project, _, _ = await open_lot(api, manual_clock, operator, eligibility=[rule])
    org_id, _, bidder = await f.approved_org(api, operator)
    await api.gql(f.CREDIT_RECORD, {"input": f.credit_record(org_id)}, token=operator)
    _, _, clean = await f.approved_org(api, operator)
    # when both register
    refused = await register(api, bidder, project["lots"][0]["id"])
    accepted = await register(api, clean, project["lots"][0]["id"])
    # then the rule that failed is named
    assert refused["__typename"] == "NotEligible"
    assert refused["rule"] == "近三年无不良信用记录"
    assert accepted["__typename"] == "LotRegistered"


async def test_the_tenderer_cannot_see_who_registered_for_a_sealed_tender_but_operators_can(api, manual_clock):
    # given one registration
    operator = await f.operator_token(api)
    project, tenderer, tenderer_phone = await open_lot(api, manual_clock, operator)
    _, _, bidder = await f.approved_org(api, operator)
    await register(api, bidder, project["lots"][0]["id"])
    lot_id = project["lots"][0]["id"]
    # when the tenderer and the operator ask before the opening, and the tenderer after it
    hidden = await api.gql(REGISTRANTS, {"lotId": lot_id}, token=tenderer)
    shown = await api.gql(REGISTRANTS, {"lotId": lot_id}, token=operator)
    manual_clock.advance(timedelta(days=26))
    after = await api.gql(REGISTRANTS, {"lotId": lot_id}, token=await f.login(api, tenderer_phone))
    # then
    assert hidden["data"]["lotRegistrations"] is None
    assert len(shown["data"]["lotRegistrations"]["edges"]) == 1
    assert len(after["data"]["lotRegistrations"]["edges"]) == 1


async def test_withdrawal_until_the_deadline_then_locked_and_no_registration_outside_the_window(api, manual_clock):
    # given a registered bidder
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, bidder_phone, bidder = await f.approved_org(api, operator)
    _, late_phone, _ = await f.approved_org(api, operator)
    await register(api, bidder, lot_id)
    # when it withdraws, registers again, and tries to withdraw after the deadline
    withdrawn = (await api.gql(WITHDRAW, {"input": {"lotId": lot_id}}, token=bidder))["data"]["lotWithdraw"]
    back = await register(api, bidder, lot_id)
    manual_clock.advance(timedelta(days=25, minutes=1))
    bidder, late = await f.login(api, bidder_phone), await f.login(api, late_phone)
    locked = (await api.gql(WITHDRAW, {"input": {"lotId": lot_id}}, token=bidder))["data"]["lotWithdraw"]
    closed = await register(api, late, lot_id)
    # then
    assert withdrawn["registration"]["status"] == "WITHDRAWN"
    assert back["registration"]["status"] == "REGISTERED"
    assert back["registration"]["deposit"]["reference"]  # the same account comes back
    assert locked["code"] == "REGISTRATION_LOCKED"
    assert closed["__typename"] == "RegistrationClosed"
    assert closed["code"] == "REGISTRATION_CLOSED"


async def test_the_bidder_is_told_where_to_pay_the_deposit(api, manual_clock):
    # given
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    _, _, bidder = await f.approved_org(api, operator)
    reg = await register(api, bidder, project["lots"][0]["id"])
    # when
    await api.dispatch()
    inbox = await api.gql("query { myNotifications { edges { node { kind title body } } } }", token=bidder)
    # then
    [note] = [
        e["node"] for e in inbox["data"]["myNotifications"]["edges"] if e["node"]["kind"] == "REGISTRATION_RESULT"
    ]
    assert note["title"] == "报名成功"
    assert reg["registration"]["deposit"]["reference"] in note["body"]
    assert "256,000.00" in note["body"]


async def test_the_bidder_is_told_when_its_deposit_arrives(api, manual_clock):
    # given a registered bidder and a bank
    from tests.support.bank import Bank

    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    project, _, _ = await open_lot(api, manual_clock, operator)
    _, _, bidder = await f.approved_org(api, operator)
    deposit = (await register(api, bidder, project["lots"][0]["id"]))["registration"]["deposit"]
    # when the bank confirms the payment and the dispatcher runs
    response = await bank.pay(deposit["reference"], deposit["amountDueFen"])
    await api.dispatch()
    # then the phone's inbox says so
    assert response.json() == {"status": "accepted"}
    inbox = await api.gql("query { myNotifications { edges { node { kind body } } } }", token=bidder)
    received = [e["node"] for e in inbox["data"]["myNotifications"]["edges"] if e["node"]["kind"] == "DEPOSIT_RECEIVED"]
    assert len(received) == 1
    assert deposit["reference"] in received[0]["body"]


async def test_a_bidder_that_withdraws_gets_its_deposit_back(api, manual_clock):
    # given a registered bidder whose deposit arrived
    from tests.support.bank import Bank

    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, _, bidder = await f.approved_org(api, operator)
    deposit = (await register(api, bidder, lot_id))["registration"]["deposit"]
    await bank.pay(deposit["reference"], deposit["amountDueFen"])
    # when it withdraws before the deadline and the dispatcher runs
    await api.gql(WITHDRAW, {"input": {"lotId": lot_id}}, token=bidder)
    await api.dispatch()
    # then its deposit is due back, and no longer counts as security
    mine = await api.gql(
        "query { myRegistrations { edges { node { securityInPlace deposit { status refundDueAt } } } } }",
        token=bidder,
    )
    [node] = [e["node"] for e in mine["data"]["myRegistrations"]["edges"]]
    assert node["deposit"]["status"] == "refund_due"
    assert node["deposit"]["refundDueAt"]
    assert node["securityInPlace"] is False


async def test_an_open_tender_takes_a_registration_and_a_bid_only_after_the_credit_commitment(api, manual_clock):
    # given an open tender (信用承诺制 on by default), another that turned it off, and a bidder
    from mobile_contract.sealed_bid import new_key, seal
    from tests.scenarios.test_sealed_bids import MINE as MINE_BIDS

    submit = """mutation($input: BidSubmitInput!) { bidSubmit(input: $input) { __typename
      ... on CreditCommitmentRequired { stage } ... on Error { code message } } }"""

    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    deadline = (manual_clock.now() + timedelta(days=25)).isoformat()
    free, _, _ = await open_lot(
        api, manual_clock, operator, config={"bidDeadline": deadline, "creditCommitmentRequired": False}
    )
    _, _, bidder = await f.approved_org(api, operator)
    config = "query($id: ID!) { node(id: $id) { ... on Lot { config { creditCommitmentRequired } } } }"
    # when it registers before signing, signs and registers, then bids before signing the bid-stage commitment
    unsigned = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=bidder))["data"]["lotRegister"]
    nothing = (await api.gql(MINE, token=bidder))["data"]["myRegistrations"]["edges"]
    await commit_over_api(api, bidder, lot["id"], "registration")
    signed = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=bidder))["data"]["lotRegister"]
    sealed = seal(new_key(), lot["tradeCode"], 1_000_000, {"商务标.pdf": b"%PDF-1.7"})
    bid = {"input": {"lotId": lot["id"], "sealedBid": sealed}}
    early = (await api.gql(submit, bid, token=bidder, headers={"accept-language": "en"}))["data"]["bidSubmit"]
    # then the first registration and the bid are refused, typed, and nothing is stored
    assert (unsigned["__typename"], unsigned["code"]) == ("CreditCommitmentRequired", "CREDIT_COMMITMENT_REQUIRED")
    assert "信用承诺书" in unsigned["message"]
    assert nothing == []
    assert signed["__typename"] == "LotRegistered"
    assert (early["code"], early["stage"]) == ("CREDIT_COMMITMENT_REQUIRED", "bid"), early
    assert "credit commitment" in early["message"]
    assert (await api.gql(MINE_BIDS, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"] == []
    # and the lot says so, while the lot without the rule registers without a commitment
    shown = (await api.gql(config, {"id": lot["id"]}, token=bidder))["data"]["node"]["config"]
    assert shown == {"creditCommitmentRequired": True}
    other = (await api.gql(REGISTER, {"input": {"lotId": free["lots"][0]["id"]}}, token=bidder))["data"]
    assert other["lotRegister"]["__typename"] == "LotRegistered", other
