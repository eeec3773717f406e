"""A supervisor (行政监督部门) reads the lots of the categories it supervises and nothing of any other lot:
registrants, deposits and their virtual accounts, sealed bids and their audit trail, and every other query."""

from __future__ import annotations

from typing import Any

from mobile_contract.sealed_bid import new_key, seal
from schema.relay import int_id
from tests import factories as f
from tests.scenarios.test_registration import REGISTER, open_lot
from tests.scenarios.test_sealed_bids import SUBMIT
from tests.scenarios.test_supervision import category_supervisor_phone
from tests.support.results import pay_deposits

REGISTRANTS = """query($lotId: ID!) { lotRegistrations(lotId: $lotId) { edges { node { id organisation { name }
  deposit { reference } } } } }"""
DEPOSITS = """query($lotId: ID!) { lotDeposits(lotId: $lotId) { edges { node { payerAccount
  deposit { reference status } } } } }"""
TRAIL = """query($type: String) { auditTrail(objectType: $type, first: 100) { edges { node { action objectType
  objectId } } } }"""
LOT_BOUND_TYPES = {"Registration", "DepositAccount", "SealedBid", "Lot", "Project", "Announcement", "Opening"}


async def engineering_lot_with_a_sealed_bid(api: Any, manual_clock: Any) -> dict[str, Any]:
    """An engineering lot asking 2% security, a registered bidder whose deposit is paid and whose bid is sealed."""
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, _, bidder = await f.approved_org(api, operator)
    registered = (await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=bidder))["data"]["lotRegister"]
    assert registered["__typename"] == "LotRegistered", registered
    await pay_deposits(int_id(lot["id"], "Lot"))
    sealed = seal(new_key(), lot["tradeCode"], 1_234_567_00, {"商务标.pdf": b"%PDF-1.7 scope"})
    submitted = (await api.gql(SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed}}, token=bidder))["data"]
    assert submitted["bidSubmit"]["__typename"] == "BidSubmitted", submitted
    await api.dispatch()
    return {
        "operator": operator,
        "lot": lot,
        "reference": registered["registration"]["deposit"]["reference"],
        "engineering": await f.login(api, await category_supervisor_phone(api, operator, "ENGINEERING_CONSTRUCTION")),
        "procurement": await f.login(api, await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT")),
    }


async def test_a_supervisor_of_another_category_reads_no_registrant_deposit_or_sealed_bid_of_the_lot(api, manual_clock):
    # given an engineering lot with a registrant, its paid deposit and a sealed bid
    seen = await engineering_lot_with_a_sealed_bid(api, manual_clock)
    lot_id = seen["lot"]["id"]
    # when the supervisor of government procurement reads the lot's registrants, deposits and audit trail
    other = seen["procurement"]
    registrants = (await api.gql(REGISTRANTS, {"lotId": lot_id}, token=other))["data"]["lotRegistrations"]
    deposits = (await api.gql(DEPOSITS, {"lotId": lot_id}, token=other))["data"]["lotDeposits"]
    sealed_trail = (await api.gql(TRAIL, {"type": "SealedBid"}, token=other))["data"]["auditTrail"]["edges"]
    whole_trail = (await api.gql(TRAIL, token=other))["data"]["auditTrail"]["edges"]
    # then nothing of the lot comes back: no registrant, no virtual account, no sealed-bid entry
    assert registrants is None
    assert deposits is None
    assert sealed_trail == []
    assert {e["node"]["objectType"] for e in whole_trail} & LOT_BOUND_TYPES == set()

    # and the supervisor of engineering construction reads all three
    mine = seen["engineering"]
    registrants = (await api.gql(REGISTRANTS, {"lotId": lot_id}, token=mine))["data"]["lotRegistrations"]["edges"]
    deposits = (await api.gql(DEPOSITS, {"lotId": lot_id}, token=mine))["data"]["lotDeposits"]["edges"]
    sealed_trail = (await api.gql(TRAIL, {"type": "SealedBid"}, token=mine))["data"]["auditTrail"]["edges"]
    assert [r["node"]["deposit"]["reference"] for r in registrants] == [seen["reference"]]
    assert [d["node"]["deposit"]["reference"] for d in deposits] == [seen["reference"]]
    assert [e["node"]["action"] for e in sealed_trail] == ["sealed_bid.submitted"]
