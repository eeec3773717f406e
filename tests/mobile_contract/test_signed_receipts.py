"""The app's sealed-bid documents carry the platform-signed receipt (投标回执): what BidSubmit, BidSubmitLots,
BidConfirm and MySealedBids answer, sent exactly as the manifest hashes them, verifies offline against the published
key set and through bidReceiptVerify, and attests the digest of exactly what was sent."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from joserfc import jws
from joserfc.jwk import KeySet

from domain.common import ecdsa
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.mobile_contract.test_operations_run import DOCUMENTS, send
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot

VERIFY = """query($receipt: String!) { bidReceiptVerify(receipt: $receipt) {
  ok reason lotTradeCode sha256 size } }"""
CLARIFY = """mutation($input: ClarificationPublishInput!) { clarificationPublish(input: $input) {
  __typename ... on Error { code message } } }"""


async def verified(api: Any, keys: KeySet, receipt: dict[str, Any]) -> dict[str, Any]:
    """The receipt's signed content, checked offline against the key set and online by bidReceiptVerify."""
    offline = json.loads(jws.deserialize_compact(receipt["signedReceipt"], keys, registry=ecdsa.ES256).payload)
    online = (await api.gql(VERIFY, {"receipt": receipt["signedReceipt"]}))["data"]["bidReceiptVerify"]
    assert online["ok"] is True, online
    assert (online["sha256"], online["lotTradeCode"], online["size"]) == (
        offline["sha256"],
        offline["lotTradeCode"],
        offline["size"],
    )
    return offline  # type: ignore[no-any-return]


async def test_the_apps_sealed_bid_documents_answer_a_receipt_that_verifies(api, manual_clock):
    # given the app's documents select the signed receipt
    for name in ("BidSubmit", "BidSubmitLots", "BidConfirm", "MySealedBids"):
        assert "signedReceipt" in DOCUMENTS[name].text, name
    # and a registered bidder of a sealed tender, its tenderer and the published key set
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, bidder = await registered_bidder(api, operator, lot["id"])
    keys = KeySet.import_key_set((await api.http.get("/.well-known/jwks.json")).json())
    key = new_key()
    first = seal(key, lot["tradeCode"], 123_456_00, {"商务标.pdf": b"%PDF-1.7 app"})
    second = seal(key, lot["tradeCode"], 123_400_00, {"商务标.pdf": b"%PDF-1.7 app v2"})

    # when the app submits a bid, then replaces it through the multi-lot document, then lists its bids
    submitted = await send(api, "BidSubmit", {"input": {"lotId": lot["id"], "sealedBid": first}}, bidder)
    lots = await send(api, "BidSubmitLots", {"input": {"bids": [{"lotId": lot["id"], "sealedBid": second}]}}, bidder)
    mine = await send(api, "MySealedBids", {"lotId": lot["id"]}, bidder)

    # then each receipt verifies and attests the digest and size of exactly the sealed bid sent
    receipt = submitted["data"]["bidSubmit"]["receipt"]
    [replaced] = lots["data"]["bidSubmitLots"]["receipts"]
    for got, sent in ((receipt, first), (replaced, second)):
        content = await verified(api, keys, got)
        assert content["sha256"] == got["sha256"] == hashlib.sha256(sent.encode()).hexdigest()
        assert (content["lotTradeCode"], content["size"]) == (lot["tradeCode"], len(sent))
    listed = mine["data"]["mySealedBids"]
    assert [(b["sha256"], b["status"]) for b in listed] == [
        (replaced["sha256"], "SUBMITTED"),
        (receipt["sha256"], "SUPERSEDED"),
    ]
    assert [(await verified(api, keys, b))["sha256"] for b in listed] == [b["sha256"] for b in listed]

    # when the tenderer changes the documents (the standing bid is flagged) and the app confirms it
    changed = await api.gql(
        CLARIFY,
        {
            "input": {
                "lotId": lot["id"],
                "changesDocuments": True,
                "title": "关于招标文件的修改（第1号）",
                "bodyHtml": "<p>工程量清单修改如附件。</p>",
            }
        },
        token=tenderer,
    )
    assert changed["data"]["clarificationPublish"]["__typename"] == "ClarificationPublished", changed
    confirmed = await send(api, "BidConfirm", {"input": {"lotId": lot["id"]}}, bidder)

    # then the confirmed bid's receipt verifies too, for the same sealed bid
    receipt = confirmed["data"]["bidConfirm"]["receipt"]
    assert (receipt["status"], receipt["sha256"]) == ("SUBMITTED", replaced["sha256"])
    assert (await verified(api, keys, receipt))["sha256"] == replaced["sha256"]
