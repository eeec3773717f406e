"""Issue 22's inquiry (询价) over HTTP: three suppliers each seal one quotation they cannot change afterwards
(政府采购法 第四十条), the quotations are opened at the remote opening, the drawn panel judges compliance, and the
lowest compliant price is awarded through the same candidates, publicity and award as a tender; the purchaser and the
supplier sign the contract with their certificates, it is accepted and its performance published."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f
from tests.scenarios.test_publication import LIST
from tests.scenarios.test_results import AWARD, PUBLISH, RESULT, status_of
from tests.schema.test_scoring import BIDS, START, SUBMIT
from tests.support import contract_flow
from tests.support.negotiation import opened_lot

PRICES = [86_000_000, 79_500_000, 81_200_000]


async def test_an_inquiry_from_its_announcement_to_the_contract(api, manual_clock, tmp_path):
    # given an inquiry whose three quotations were sealed, opened at the opening, and whose panel is drawn
    lot = await opened_lot(api, manual_clock, "INQUIRY", PRICES)
    operator = await f.login(api, lot.operator_at)

    # when the operator starts the evaluation and every expert finds every quotation compliant except that the
    # first expert rejects the cheapest (a minority: it stays compliant)
    started = (await api.gql(START, {"input": {"lotId": lot.lot_id}}, token=operator))["data"]["evaluationStart"]
    sheets, tokens = [], []
    for member, expert in enumerate(lot.committee):
        token = await f.expert_token(api, expert)
        tokens.append(token)
        bids = (await api.gql(BIDS, {"lotId": lot.lot_id}, token=token))["data"]["evaluationBids"]
        entries = [
            {"sealedBidId": b["sealedBidId"], "compliant": not (member == 0 and b["priceFen"] == min(PRICES))}
            | ({"reason": "技术参数偏离"} if member == 0 and b["priceFen"] == min(PRICES) else {})
            for b in bids
        ]
        body = await api.gql(SUBMIT, {"input": {"lotId": lot.lot_id, "entries": entries}}, token=token)
        sheets.append(body["data"]["evaluationSheetSubmit"])

    # then the inquiry is judged by the lowest price alone (no points), and the candidates go by price
    assert started["__typename"] == "EvaluationStarted", started
    assert started["evaluation"]["method"] == "LOWEST_PRICE"
    report = sheets[-1]["evaluation"]
    assert (report["status"], report["submitted"]) == ("REPORTED", 5)
    assert [(c["rank"], c["priceFen"], c["scoreCenti"]) for c in report["candidates"]] == [
        (n, p, None) for n, p in enumerate(sorted(PRICES), start=1)
    ]
    # and the panel read every quotation as it was sealed, nothing changed since
    bids = (await api.gql(BIDS, {"lotId": lot.lot_id}, token=tokens[0]))["data"]["evaluationBids"]
    assert sorted(b["priceFen"] for b in bids) == sorted(PRICES)

    # when the purchaser publishes the candidates, waits out the 1-day publicity and awards
    tenderer = await f.login(api, lot.tenderer_at)
    published = (await api.gql(PUBLISH, {"input": {"lotId": lot.lot_id}}, token=tenderer))["data"]
    manual_clock.advance(timedelta(days=1, seconds=1))
    tenderer = await f.login(api, lot.tenderer_at)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot.lot_id}}, token=tenderer))["data"]["resultAward"]
    await api.dispatch()

    # then the lowest quotation wins, and the result is public
    assert published["candidatesPublish"]["__typename"] == "CandidatesPublished", published
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == min(PRICES)
    assert await status_of(api, lot.lot_id) == "AWARDED"
    result = (await api.gql(RESULT, {"lotId": lot.lot_id}))["data"]["lotResult"]
    assert result["award"]["priceFen"] == min(PRICES)
    announced = await api.gql(LIST, {"filter": {"tradeCode": lot.code, "types": ["RESULT"]}})
    assert len(announced["data"]["announcements"]["edges"]) == 1

    # when the purchaser drafts the contract at the winning price and both parties sign it, then accept it
    winner_phone = lot.suppliers[PRICES.index(min(PRICES))][1]
    parties = await contract_flow.contract_parties(api, manual_clock, lot.tenderer_at, winner_phone)
    contract = await contract_flow.signed_contract(api, parties, tmp_path, lot.lot_id, lot.code, min(PRICES))
    done = await contract_flow.accepted_and_performed(api, manual_clock, parties, tmp_path, lot.lot_id)

    # then the contract is in force at the quotation, announced; then completed with its performance published
    assert (contract["originalFen"], contract["signedOn"] is not None) == (min(PRICES), True)
    assert done["status"] == "COMPLETED"
    kinds = await api.gql(LIST, {"filter": {"tradeCode": lot.code, "types": ["CONTRACT", "PERFORMANCE"]}})
    assert len(kinds["data"]["announcements"]["edges"]) == 2
