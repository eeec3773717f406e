"""BidSubmit answers from the rows the submission holds (the bid it inserted, the lot read under its lock): the same
answer, field for field, as a replay of its idempotency key (the rows read again) and as mySealedBids; the receipts
attest the same content."""

from __future__ import annotations

import json
from typing import Any

from joserfc import jws
from joserfc.jwk import KeySet

from domain.common import ecdsa
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot

SUBMIT = """mutation($input: BidSubmitInput!) { bidSubmit(input: $input) { __typename
  ... on BidSubmitted { receipt {
    __typename id sha256 submittedAt size status signedReceipt securityShortfall { code } } }
  ... on Error { code } } }"""
MINE = """query($lotId: ID!) { mySealedBids(lotId: $lotId) {
  __typename id sha256 submittedAt size status signedReceipt securityShortfall { code } } }"""


async def test_bid_submit_answers_as_its_replay_and_my_sealed_bids(api, manual_clock):
    # given a registered bidder
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, bidder = await registered_bidder(api, operator, lot["id"])
    sealed = seal(new_key(), lot["tradeCode"], 123_456_00, {"商务标.pdf": b"%PDF-1.7 answer"})
    variables = {"input": {"lotId": lot["id"], "sealedBid": sealed, "idempotencyKey": "bid-answer-1"}}
    # when it submits, sends the same request again, and lists its bids
    first = (await api.gql(SUBMIT, variables, token=bidder))["data"]["bidSubmit"]
    replay = (await api.gql(SUBMIT, variables, token=bidder))["data"]["bidSubmit"]
    mine = (await api.gql(MINE, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"]
    # then the three answers are the same bid, field for field, and their receipts attest the same content
    assert first["__typename"] == replay["__typename"] == "BidSubmitted", (first, replay)
    assert len(mine) == 1
    keys = KeySet.import_key_set((await api.http.get("/.well-known/jwks.json")).json())

    def content(receipt: dict[str, Any]) -> Any:
        return json.loads(jws.deserialize_compact(receipt["signedReceipt"], keys, registry=ecdsa.ES256).payload)

    answers = [first["receipt"], replay["receipt"], mine[0]]
    assert len({json.dumps({k: v for k, v in a.items() if k != "signedReceipt"}) for a in answers}) == 1, answers
    assert content(answers[0]) == content(answers[1]) == content(answers[2])
