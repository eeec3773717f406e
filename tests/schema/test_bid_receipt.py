"""The platform-signed bid receipt (投标回执): a bidder's receipt verifies offline against the published key set and
through bidReceiptVerify without a sign-in; an altered receipt or another token does not verify, with the reason."""

from __future__ import annotations

import base64
import hashlib
import json

from joserfc import jws
from joserfc.jwk import KeySet

from domain.common import ecdsa
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot

SUBMIT = """mutation($input: BidSubmitInput!) { bidSubmit(input: $input) {
  __typename ... on BidSubmitted { receipt { sha256 submittedAt size signedReceipt } } ... on Error { code } } }"""
MINE = "query($lotId: ID!) { mySealedBids(lotId: $lotId) { sha256 signedReceipt } }"
VERIFY = """query($receipt: String!) { bidReceiptVerify(receipt: $receipt) {
  ok reason lotTradeCode bidderCreditCode sha256 size submittedAt keyId } }"""


async def test_a_signed_receipt_proves_the_submission_offline_and_online(api, manual_clock):
    # given a bidder that sealed a bid
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, bidder = await registered_bidder(api, operator, lot["id"])
    sealed = seal(new_key(), lot["tradeCode"], 123_456_00, {"商务标.pdf": b"%PDF-1.7 receipt"})
    submitted = (await api.gql(SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed}}, token=bidder))["data"]
    receipt = submitted["bidSubmit"]["receipt"]
    # when it verifies the receipt offline with the published keys, and anyone asks the platform without a sign-in
    keys = KeySet.import_key_set((await api.http.get("/.well-known/jwks.json")).json())
    offline = json.loads(jws.deserialize_compact(receipt["signedReceipt"], keys, registry=ecdsa.ES256).payload)
    online = (await api.gql(VERIFY, {"receipt": receipt["signedReceipt"]}))["data"]["bidReceiptVerify"]
    # then both say what the platform received: this lot, this bidder, the digest of exactly what was sent; no price
    assert offline["sha256"] == receipt["sha256"] == hashlib.sha256(sealed.encode()).hexdigest()
    assert (offline["lotTradeCode"], offline["size"]) == (lot["tradeCode"], len(sealed))
    assert "12345600" not in json.dumps(offline)
    assert "price" not in json.dumps(offline).lower()
    assert online["ok"] is True, online
    assert (online["sha256"], online["lotTradeCode"]) == (receipt["sha256"], lot["tradeCode"])
    assert online["bidderCreditCode"] == offline["bidder"]["creditCode"]
    assert online["keyId"] in {k["kid"] for k in (await api.http.get("/.well-known/jwks.json")).json()["keys"]}
    mine = (await api.gql(MINE, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"]
    assert [m["sha256"] for m in mine] == [receipt["sha256"]]

    # when the receipt's content is altered (another digest), and when a JWT is passed off as a receipt
    head, _, signature = receipt["signedReceipt"].split(".")
    forged_content = {**offline, "sha256": "0" * 64}
    forged_body = base64.urlsafe_b64encode(json.dumps(forged_content).encode()).decode().rstrip("=")
    forged = (await api.gql(VERIFY, {"receipt": f"{head}.{forged_body}.{signature}"}))["data"]["bidReceiptVerify"]
    token = (await api.gql(VERIFY, {"receipt": bidder}))["data"]["bidReceiptVerify"]
    # then neither verifies, each with the reason, and attests nothing
    assert (forged["ok"], token["ok"]) == (False, False)
    assert forged["reason"].startswith("投标回执校验失败：signature")
    assert token["reason"] == "投标回执校验失败：not a bid receipt"
    assert (forged["sha256"], token["lotTradeCode"]) == (None, None)
