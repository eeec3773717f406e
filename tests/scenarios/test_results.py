"""From the candidate publicity to the performance record, over HTTP: refusals before the window ends and
while an objection waits, the award and its notices, deposits coming back, the confirmation, the
contract, and a contract that is overdue flagged to the supervisors."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.common import chronograph
from domain.common.clock import to_shanghai
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import int_id
from tests import factories as f
from tests.scenarios.test_deposits import AMOUNT, my_deposit, operator_phone, registered, supervisor_phone
from tests.scenarios.test_opening import ANSWER, LOT, OBJECT, decrypt
from tests.scenarios.test_registration import open_lot
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit
from tests.support.bank import Bank
from tests.support.commitments import commit_over_api
from tests.support.results import make_candidates

PUBLISH = """mutation($input: CandidatesPublishInput!) { candidatesPublish(input: $input) {
  __typename ... on CandidatesPublished { result { publicity { endsAt } candidates { rank bidder priceFen } } }
  ... on Error { code message } } }"""
AWARD = """mutation($input: ResultAwardInput!) { resultAward(input: $input) {
  __typename ... on LotAwarded { result { award { status confirmationNo winner priceFen contractDueAt } } }
  ... on PublicityNotOver { endsAt } ... on LotPaused { reason }
  ... on Error { code message } } }"""
CONFIRM = """mutation($input: ResultConfirmInput!) { resultConfirm(input: $input) {
  __typename ... on ResultConfirmed { result { confirmation { confirmationNo confirmedAt } } }
  ... on Error { code message } } }"""
CONTRACT = """mutation($input: ContractRecordInput!) { contractRecord(input: $input) {
  __typename ... on ContractRecorded { result { award { status contractNo contractAmountFen contractSignedOn } } }
  ... on Error { code message } ... on FieldError { field } } }"""
PERFORMANCE = """mutation($input: PerformanceRecordInput!) { performanceRecord(input: $input) {
  __typename ... on PerformanceRecorded { result { award { status performanceRecordedAt } } }
  ... on Error { code message } } }"""
RESULT = """query($lotId: ID!) { lotResult(lotId: $lotId) {
  publicity { startsAt endsAt } candidates { rank bidder priceFen scoreCenti }
  award { status confirmationNo winner priceFen }
  confirmation { confirmationNo winner tenderer priceFen confirmedAt contractDueAt contractOverdueAt } } }"""
INBOX = "query { myNotifications(first: 50) { edges { node { kind title body } } } }"
PRICES = [1_250_000_000, 1_188_000_000, 1_230_000_000, 1_260_000_000]  # the second is the lowest


async def inbox(api: Any, token: str) -> list[dict[str, Any]]:
    body = await api.gql(INBOX, token=token)
    return [e["node"] for e in body["data"]["myNotifications"]["edges"]]


async def status_of(api: Any, lot_id: str) -> str:
    return str((await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"])


def today(clock: Any) -> str:
    return to_shanghai(clock.now()).date().isoformat()


KEYS: dict[str, list[dict[str, Any]]] = {}  # each lot's bid keys, in the order its bidders bid


async def bid(api: Any, token: str, lot_id: str, code: str, price: int) -> None:
    key = new_key()
    await commit_over_api(api, token, lot_id, "bid")  # an open tender: 信用承诺制 by default
    KEYS.setdefault(lot_id, []).append(key)
    receipt = await submit(api, token, lot_id, seal(key, code, price, {"商务标.pdf": b"%PDF-1.7"}))
    assert receipt["__typename"] == "BidSubmitted", receipt


async def opened(api: Any, clock: Any, lot_id: str, phones: list[str], objection: bool = False) -> str | None:
    """Past the deadline: every bidder decrypts, the first may object on the spot (left unanswered), the
    window closes and the committee's candidates are written as its report would write them."""
    await api.dispatch()  # the tender's publication scheduled the opening
    clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone in phones]
    objection_id = None
    for token, key in zip(tokens, KEYS.pop(lot_id), strict=True):
        assert (await decrypt(api, token, lot_id, key))["__typename"] == "BidDecrypted"
    if objection:
        raised = await api.gql(OBJECT, {"input": {"lotId": lot_id, "text": "第二名报价明显低于成本"}}, token=tokens[0])
        objection_id = raised["data"]["openingObject"]["objectionId"]
    clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await make_candidates(int_id(lot_id, "Lot"), scores=[9_312, 8_805, 8_500])
    return objection_id


async def test_from_the_publicity_to_the_performance_record(api, manual_clock):
    # given a tender asking 2% security, four bidders that paid through the bank and bid
    operator = await f.login(api, await operator_phone())
    bank = await Bank.open(api, operator)
    project, tenderer, tenderer_phone = await open_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    bidders = [await registered(api, operator, lot_id) for _ in PRICES]
    for (_, phone, reference), price in zip(bidders, PRICES, strict=True):
        assert (await bank.pay(reference, AMOUNT)).json()["status"] == "accepted"
        await bid(api, await f.login(api, phone), lot_id, code, price)
    phones = [phone for _, phone, _ in bidders]
    objection_id = await opened(api, manual_clock, lot_id, phones, objection=True)
    tenderer = await f.login(api, tenderer_phone)
    assert await status_of(api, lot_id) == "EVALUATING"
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["lotResult"]["candidates"] == []  # not public yet

    # when the tenderer publishes the candidates (twice: a retry)
    published = (await api.gql(PUBLISH, {"input": {"lotId": lot_id, "idempotencyKey": "pub-1"}}, token=tenderer))[
        "data"
    ]["candidatesPublish"]
    retried = (await api.gql(PUBLISH, {"input": {"lotId": lot_id, "idempotencyKey": "pub-1"}}, token=tenderer))["data"][
        "candidatesPublish"
    ]
    await api.dispatch()

    # then they are public for 3 days, lowest price first, and every bidder is told
    assert published["__typename"] == "CandidatesPublished", published
    assert retried == published
    public = (await api.gql(RESULT, {"lotId": lot_id}))["data"]["lotResult"]
    assert [(c["rank"], c["priceFen"], c["scoreCenti"]) for c in public["candidates"]] == [
        (1, 1_188_000_000, 9_312),
        (2, 1_230_000_000, 8_805),
        (3, 1_250_000_000, 8_500),
    ]
    ends = datetime.fromisoformat(public["publicity"]["endsAt"])
    assert ends - datetime.fromisoformat(public["publicity"]["startsAt"]) == timedelta(days=3)
    assert await status_of(api, lot_id) == "PUBLICITY"
    tokens = [await f.login(api, phone) for phone in phones]
    for token in tokens:
        assert "CANDIDATE_PUBLICITY" in {n["kind"] for n in await inbox(api, token)}

    # when the tenderer awards before the window ends
    early = (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"]
    # then it is refused with the end of the window, and nothing changed
    assert early["__typename"] == "PublicityNotOver"
    assert early["code"] == "PUBLICITY_NOT_OVER"
    assert datetime.fromisoformat(early["endsAt"]) == ends
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["lotResult"]["award"] is None
    assert await status_of(api, lot_id) == "PUBLICITY"

    # when the window has ended but the objection raised at the opening is still unanswered
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    paused = (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"]
    # then the lot is paused, and says why
    assert paused["__typename"] == "LotPaused"
    assert paused["reason"] == "opening_objection_unanswered"
    assert "开标异议" in paused["message"]
    assert await status_of(api, lot_id) == "PUBLICITY"

    # when the objection is answered and the tenderer awards
    answer = {"objectionId": objection_id, "answer": "经复核，报价不低于成本"}
    assert (await api.gql(ANSWER, {"input": answer}, token=tenderer))["data"]["openingAnswer"]["__typename"] == (
        "OpeningAnswered"
    )
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot_id, "idempotencyKey": "award-1"}}, token=tenderer))["data"][
        "resultAward"
    ]
    await api.dispatch()

    # then the lowest bidder wins with a confirmation number, publicly
    assert awarded["__typename"] == "LotAwarded", awarded
    award = awarded["result"]["award"]
    assert award["confirmationNo"] == f"CJ{code}"
    assert award["priceFen"] == 1_188_000_000
    assert await status_of(api, lot_id) == "AWARDED"
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["lotResult"]["award"]["winner"] == award["winner"]
    # and the winner has its award notice, the others their result notices
    tokens = [await f.login(api, phone) for phone in phones]
    winner, losers = tokens[1], [tokens[0], tokens[2], tokens[3]]
    mine = await inbox(api, winner)
    assert [n["title"] for n in mine if n["kind"] == "AWARD_NOTICE"] == ["中标通知书"]
    assert award["confirmationNo"] in next(n["body"] for n in mine if n["kind"] == "AWARD_NOTICE")
    for token in losers:
        kinds = [n["kind"] for n in await inbox(api, token)]
        assert kinds.count("RESULT_NOTICE") == 1
        assert "AWARD_NOTICE" not in kinds
    # and the deposit of the bidder that is no candidate is due back now; the winner's and the other candidates'
    # (who may still be awarded in turn) stay until the contract
    assert (await my_deposit(api, tokens[3]))["status"] == "refund_due"
    for token in (winner, tokens[0], tokens[2]):
        assert (await my_deposit(api, token))["status"] == "paid"

    # when the winner acknowledges the result confirmation, twice, and a loser tries to
    confirmed = (await api.gql(CONFIRM, {"input": {"lotId": lot_id}}, token=winner))["data"]["resultConfirm"]
    again = (await api.gql(CONFIRM, {"input": {"lotId": lot_id}}, token=winner))["data"]["resultConfirm"]
    foreign = (await api.gql(CONFIRM, {"input": {"lotId": lot_id}}, token=losers[0]))["data"]["resultConfirm"]
    # then it is confirmed once, and the document is the winner's and the tenderer's, not the losers'
    assert confirmed["__typename"] == "ResultConfirmed", confirmed
    assert confirmed["result"]["confirmation"]["confirmedAt"]
    assert again["code"] == "ALREADY_CONFIRMED"
    assert foreign["code"] == "PERMISSION_DENIED"
    for token in (winner, tenderer):
        document = (await api.gql(RESULT, {"lotId": lot_id}, token=token))["data"]["lotResult"]["confirmation"]
        assert document["confirmationNo"] == award["confirmationNo"]
        assert document["priceFen"] == 1_188_000_000
    assert (await api.gql(RESULT, {"lotId": lot_id}, token=losers[0]))["data"]["lotResult"]["confirmation"] is None

    # when the tenderer records the contract: first with a wrong amount, then properly
    contract = {"lotId": lot_id, "contractNo": "HT-2026-0088", "signedOn": today(manual_clock)}
    wrong = (await api.gql(CONTRACT, {"input": {**contract, "amountFen": 1_188_000_001}}, token=tenderer))["data"][
        "contractRecord"
    ]
    recorded = (
        await api.gql(
            CONTRACT, {"input": {**contract, "amountFen": 1_188_000_000, "idempotencyKey": "ht-1"}}, token=tenderer
        )
    )["data"]["contractRecord"]
    await api.dispatch()
    # then the lot is contracted and the winner's and the other candidates' deposits are due back within 5 days
    assert wrong["code"] == "CONTRACT_AMOUNT_MISMATCH"
    assert wrong["field"] == "amountFen"
    assert recorded["__typename"] == "ContractRecorded", recorded
    assert recorded["result"]["award"]["contractAmountFen"] == 1_188_000_000
    assert await status_of(api, lot_id) == "CONTRACTED"
    for token in (winner, tokens[0], tokens[2]):
        deposit = await my_deposit(api, token)
        assert deposit["status"] == "refund_due"
        assert datetime.fromisoformat(deposit["refundDueAt"]) == manual_clock.now() + timedelta(days=5)

    # when the performance is recorded
    manual_clock.advance(timedelta(days=60))
    tenderer = await f.login(api, tenderer_phone)
    done = {"lotId": lot_id, "summary": "工程按期完工，验收合格。", "completedOn": today(manual_clock)}
    performed = (await api.gql(PERFORMANCE, {"input": done}, token=tenderer))["data"]["performanceRecord"]
    # then the lot is completed
    assert performed["__typename"] == "PerformanceRecorded", performed
    assert performed["result"]["award"]["status"] == "COMPLETED"
    assert await status_of(api, lot_id) == "COMPLETED"


async def test_a_contract_not_recorded_in_30_days_is_flagged_to_the_supervisors(api, manual_clock):
    # given an awarded lot without security and a supervisor of engineering construction
    operator = await f.operator_token(api)
    supervisor_at = await supervisor_phone(api, operator)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    phones = []
    for price in PRICES[:3]:
        phone, token = await registered_bidder(api, operator, lot_id)
        await bid(api, token, lot_id, code, price)
        phones.append(phone)
    await opened(api, manual_clock, lot_id, phones)
    tenderer = await f.login(api, tenderer_phone)
    assert (await api.gql(PUBLISH, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["candidatesPublish"][
        "__typename"
    ] == "CandidatesPublished"
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    assert (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"][
        "__typename"
    ] == "LotAwarded"

    # when 30 days pass without a contract
    manual_clock.advance(timedelta(days=30, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()

    # then the supervisor and the tenderer are told, and the confirmation shows it overdue
    supervisor = await f.login(api, supervisor_at)
    tenderer = await f.login(api, tenderer_phone)
    for token in (supervisor, tenderer):
        overdue = [n for n in await inbox(api, token) if n["kind"] == "CONTRACT_OVERDUE"]
        assert [n["title"] for n in overdue] == ["合同逾期未签订"]
    document = (await api.gql(RESULT, {"lotId": lot_id}, token=supervisor))["data"]["lotResult"]["confirmation"]
    assert document["contractOverdueAt"] is not None
    winner = await f.login(api, phones[1])
    mine = (await api.gql(RESULT, {"lotId": lot_id}, token=winner))["data"]["lotResult"]["confirmation"]
    assert mine["contractOverdueAt"] is None  # a supervisory fact
    assert "CONTRACT_OVERDUE" not in {n["kind"] for n in await inbox(api, winner)}
