"""Treasury settlement (国库集中支付) over HTTP against the local treasury: the tenderer of a signed contract asks for
an instalment (more than the contract refused), the treasury acknowledges the signed request, accepts and pays it by
signed callbacks to /callbacks/treasury (a duplicate changes nothing, a forged one is refused), the payee is told; the
parties and the category's supervisor see it, a losing bidder does not; a second request is rejected with a reason;
the day's reconciliation flags a planted difference."""

from __future__ import annotations

import json
from typing import Any

from domain.common.clock import to_shanghai
from domain.settlement import adapters
from tests import factories as f
from tests.scenarios.test_contract_lifecycle import PRICE, awarded_lot
from tests.scenarios.test_results import inbox
from tests.scenarios.test_supervision import category_supervisor_phone
from tests.support import contract_flow as cf
from tests.support.treasury import TreasuryStub, new_key, public

REQUEST = """mutation($input: TreasuryPaymentRequestInput!) { treasuryPaymentRequest(input: $input) {
  __typename ... on TreasuryPaymentRequested { payment { id requestNo status amountFen reason } }
  ... on Error { code message } ... on PaymentExceedsContract { availableFen } } }"""
PAYMENTS = "query($lotId: ID!) { treasuryPayments(lotId: $lotId) { requestNo status amountFen reason paidAt } }"
RECONCILE = """mutation($input: TreasuryReconcileInput!) { treasuryReconcile(input: $input) {
  __typename ... on TreasuryReconciled { mismatches { requestNo kind } } ... on Error { code } } }"""


async def _post(api: Any, token: str) -> Any:
    return await api.http.post(
        "/callbacks/treasury", content=token.encode(), headers={"content-type": "application/jose"}
    )


async def test_a_contract_instalment_paid_through_the_treasury(api, manual_clock, tmp_path):
    # given a signed contract and a treasury that knows the platform's key
    t = await awarded_lot(api, manual_clock)
    lot_id = t["lot"]["id"]
    parties = await cf.contract_parties(api, manual_clock, t["tenderer_phone"], t["phones"][1])
    await cf.signed_contract(api, parties, tmp_path, lot_id, t["lot"]["tradeCode"], PRICE)
    platform = new_key()
    stub = TreasuryStub(platform_public=public(platform))
    await stub.start()
    try:
        adapters.configure(
            {
                "TREASURY_URL": stub.base_url,
                "TREASURY_PLATFORM_JWK": json.dumps(platform),
                "TREASURY_PUBLIC_JWK": json.dumps(stub.public_jwk),
            }
        )
        tenderer = await parties.token("tenderer")
        form = {
            "kind": "CONTRACT",
            "lotId": lot_id,
            "payeeAccount": "6222 0200 0000 0000 002",
            "purpose": "第一期进度款",
        }

        # when the tenderer asks for more than the contract, then for 30% (retried with the same key)
        too_much = await api.gql(REQUEST, {"input": {**form, "amountFen": PRICE + 1}}, token=tenderer)
        first = {**form, "amountFen": PRICE * 3 // 10, "idempotencyKey": "pay-1"}
        asked = (await api.gql(REQUEST, {"input": first}, token=tenderer))["data"]["treasuryPaymentRequest"]
        again = (await api.gql(REQUEST, {"input": first}, token=tenderer))["data"]["treasuryPaymentRequest"]

        # then the first is refused with what is left, the second sent once and acknowledged
        refused = too_much["data"]["treasuryPaymentRequest"]
        assert (refused["code"], refused["availableFen"]) == ("PAYMENT_EXCEEDS_CONTRACT", PRICE), refused
        assert asked["__typename"] == "TreasuryPaymentRequested", asked
        payment = asked["payment"]
        assert payment["status"] == "SUBMITTED"
        assert again["payment"]["requestNo"] == payment["requestNo"]
        assert stub.posts == 1

        # when the treasury accepts and pays it, the paid callback delivered twice, and a forger tries a return
        assert (await _post(api, stub.callback(payment["requestNo"], "accepted"))).json()["status"] == "applied"
        paid = stub.callback(payment["requestNo"], "paid")
        assert (await _post(api, paid)).json()["status"] == "applied"
        assert (await _post(api, paid)).json()["status"] == "replayed"
        forged = await _post(api, TreasuryStub().callback(payment["requestNo"], "returned"))
        assert (forged.status_code, forged.json()["code"]) == (400, "SIGNATURE_INVALID")
        await api.dispatch()

        # then the parties and the category's supervisor see it paid, a losing bidder sees nothing
        operator = await f.login(api, t["operator_phone"])
        supervisor = await f.login(api, await category_supervisor_phone(api, operator, "ENGINEERING_CONSTRUCTION"))
        loser = await f.login(api, t["phones"][0])
        for token in (tenderer, await parties.token("winner"), supervisor):
            seen = (await api.gql(PAYMENTS, {"lotId": lot_id}, token=token))["data"]["treasuryPayments"]
            assert [(p["requestNo"], p["status"]) for p in seen] == [(payment["requestNo"], "PAID")], seen
        assert (await api.gql(PAYMENTS, {"lotId": lot_id}, token=loser))["data"]["treasuryPayments"] == []
        assert "国库已支付" in [n["title"] for n in await inbox(api, await parties.token("winner"))]

        # when a second instalment is rejected by the treasury with a reason
        second = {**form, "amountFen": PRICE // 10, "idempotencyKey": "pay-2"}
        other = (await api.gql(REQUEST, {"input": second}, token=tenderer))["data"]["treasuryPaymentRequest"]
        rejected = stub.callback(other["payment"]["requestNo"], "rejected", reason="收款账户户名不符")
        assert (await _post(api, rejected)).json()["status"] == "applied"
        seen = (await api.gql(PAYMENTS, {"lotId": lot_id}, token=tenderer))["data"]["treasuryPayments"]
        assert [(p["status"], p["reason"]) for p in seen][1] == ("REJECTED", "收款账户户名不符")

        # and the treasury's statement differs from ours on the paid one
        stub.amounts[payment["requestNo"]] = 1
        day = to_shanghai(manual_clock.now()).date().isoformat()
        done = (await api.gql(RECONCILE, {"input": {"day": day}}, token=operator))["data"]["treasuryReconcile"]
        assert done["mismatches"] == [{"requestNo": payment["requestNo"], "kind": "amount"}], done
    finally:
        adapters.configure({})
        await stub.stop()
