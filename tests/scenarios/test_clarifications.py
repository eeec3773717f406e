"""A bidder asks, the tenderer clarifies ten days before the deadline: the deadline and the opening move to fifteen
days out by law, every registrant is told, the sealed bids from before the change wait for their bidders' word, and a
bid nobody confirmed is not opened."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_publication import DRAFT, LIST
from tests.scenarios.test_results import inbox
from tests.scenarios.test_sealed_bids import MINE, registered_bidder, sealed_lot, submit

ASK = """mutation($input: QuestionAskInput!) { questionAsk(input: $input) {
  __typename ... on QuestionAsked { question { id text status mine asker } }
  ... on QuestionsClosed { deadline } ... on Error { code message } } }"""
QUESTIONS = """query($lotId: ID!) { lotQuestions(lotId: $lotId) { closesAt
  questions { id text status answer mine asker } } }"""
CLARIFY = """mutation($input: ClarificationPublishInput!) { clarificationPublish(input: $input) {
  __typename ... on ClarificationPublished { clarification { id changesDocuments deadlineBefore deadlineAfter
    deadlineMoved legalBasis minimumDays announcement { id type bodyHtml corrects { id } } } }
  ... on Error { code message } } }"""
CONFIRM = """mutation($input: BidConfirmInput!) { bidConfirm(input: $input) {
  __typename ... on BidConfirmed { receipt { status } } ... on Error { code message } } }"""
LOT = """query($id: ID!) { node(id: $id) { ... on Lot { status config { bidDeadline openingAt } } } }"""
RECORD = """query($lotId: ID!) { openingRecord(lotId: $lotId) { status deadline bids } }"""
CLARIFICATIONS = """query($lotId: ID!) { lotClarifications(lotId: $lotId) { deadlineAfter deadlineMoved } }"""


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_change_ten_days_before_the_deadline_moves_it_and_the_opening_and_flags_the_bids(api, manual_clock):
    # given a sealed tender due in 25 days, three registrants with sealed bids and a fourth without one
    operator = await f.operator_token(api)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    deadline = _at(lot["config"]["bidDeadline"])
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(4)]
    keys = [new_key() for _ in bidders]
    for (_, token), key, price in zip(bidders[:3], keys[:3], (1_200_000_00, 1_210_000_00, 1_220_000_00), strict=True):
        assert (await submit(api, token, lot["id"], seal(key, lot["tradeCode"], price, {})))["__typename"] == (
            "BidSubmitted"
        )
    # and the first bidder asks a question, which the second does not see while it is open
    asked = (await api.gql(ASK, {"input": {"lotId": lot["id"], "text": "工期能否调整？"}}, token=bidders[0][1]))[
        "data"
    ]["questionAsk"]
    assert asked["__typename"] == "QuestionAsked", asked
    assert asked["question"]["mine"] is True
    seen_by_other = (await api.gql(QUESTIONS, {"lotId": lot["id"]}, token=bidders[1][1]))["data"]["lotQuestions"]
    assert seen_by_other["questions"] == []
    assert _at(seen_by_other["closesAt"]) == deadline - timedelta(days=10)
    # and the tenderer sees it, but not who asked (the registrants of a sealed tender stay secret until the opening)
    tenderer = await f.login(api, tenderer_phone)
    managed = (await api.gql(QUESTIONS, {"lotId": lot["id"]}, token=tenderer))["data"]["lotQuestions"]["questions"]
    assert [(q["text"], q["asker"]) for q in managed] == [("工期能否调整？", None)]
    # while the operator sees the asker
    listed = (await api.gql(QUESTIONS, {"lotId": lot["id"]}, token=operator))["data"]["lotQuestions"]["questions"]
    assert listed[0]["asker"]
    # and the tenderer is told a question waits for its answer
    await api.dispatch()
    assert [n["kind"] for n in await inbox(api, tenderer)].count("QUESTION_ASKED") == 1

    # when ten days before the deadline a question comes too late
    manual_clock.advance(timedelta(days=15))
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    late = await api.gql(ASK, {"input": {"lotId": lot["id"], "text": "还能提问吗？"}}, token=tokens[1])
    late = late["data"]["questionAsk"]
    # then it is refused, typed, with the question deadline
    assert late["__typename"] == "QuestionsClosed"
    assert late["code"] == "QUESTIONS_CLOSED"
    assert _at(late["deadline"]) == deadline - timedelta(days=10)

    # when the tenderer publishes a change of the documents then, answering the question
    tenderer = await f.login(api, tenderer_phone)
    now = manual_clock.now()
    published = await api.gql(
        CLARIFY,
        {
            "input": {
                "lotId": lot["id"],
                "changesDocuments": True,
                "title": "关于第一标段招标文件的澄清与修改（第1号）",
                "bodyHtml": "<p>工程量清单第3章修改如附件。</p>",
                "answers": [{"questionId": asked["question"]["id"], "text": "工期不变，为180日历天。"}],
            }
        },
        token=tenderer,
    )
    clarification = published["data"]["clarificationPublish"]
    assert clarification["__typename"] == "ClarificationPublished", clarification
    moved = clarification["clarification"]
    # then the deadline moves to fifteen days out by law (招标投标法 第二十三条), and the opening with it
    assert moved["deadlineMoved"] is True
    assert _at(moved["deadlineBefore"]) == deadline
    assert _at(moved["deadlineAfter"]) == now + timedelta(days=15)
    assert "第二十三条" in moved["legalBasis"]
    assert moved["minimumDays"] == 15
    config = (await api.gql(LOT, {"id": lot["id"]}))["data"]["node"]["config"]
    assert _at(config["bidDeadline"]) == now + timedelta(days=15)
    # and the change notice corrects the tender notice and publishes the answer, without the asker
    notice = moved["announcement"]
    assert notice["type"] == "CHANGE"
    assert notice["corrects"] is not None
    assert "工期不变" in notice["bodyHtml"]
    assert "工期能否调整" in notice["bodyHtml"]
    public = (await api.gql(CLARIFICATIONS, {"lotId": lot["id"]}))["data"]["lotClarifications"]
    assert [c["deadlineMoved"] for c in public] == [True]
    answered = (await api.gql(QUESTIONS, {"lotId": lot["id"]}, token=tokens[1]))["data"]["lotQuestions"]["questions"]
    assert [(q["status"], q["answer"], q["asker"]) for q in answered] == [("ANSWERED", "工期不变，为180日历天。", None)]

    # and every registrant is told once, with the new deadline; each of the three sealed bidders must confirm
    await api.dispatch()
    notices = [await inbox(api, token) for token in tokens]
    assert [sum(n["kind"] == "LOT_CHANGED" for n in mine) for mine in notices] == [1, 1, 1, 1]
    assert all("顺延" in next(n for n in mine if n["kind"] == "LOT_CHANGED")["body"] for mine in notices)
    assert [sum(n["kind"] == "BID_CONFIRMATION_REQUIRED" for n in mine) for mine in notices] == [1, 1, 1, 0]
    flagged = [(await api.gql(MINE, {"lotId": lot["id"]}, token=t))["data"]["mySealedBids"] for t in tokens[:3]]
    assert [bids[0]["status"] for bids in flagged] == ["UNCONFIRMED"] * 3

    # when the first bidder confirms its bid, the second replaces it, the third does nothing
    confirmed = (await api.gql(CONFIRM, {"input": {"lotId": lot["id"]}}, token=tokens[0]))["data"]["bidConfirm"]
    replaced = await submit(api, tokens[1], lot["id"], seal(keys[1], lot["tradeCode"], 1_190_000_00, {}))
    assert confirmed["__typename"] == "BidConfirmed", confirmed
    assert confirmed["receipt"]["status"] == "SUBMITTED"
    assert replaced["receipt"]["status"] == "SUBMITTED"
    # and the old deadline passes: nothing is opened, and the fourth registrant may still bid
    manual_clock.advance(timedelta(days=10, minutes=1))
    await chronograph.fire_due()
    assert (await api.gql(LOT, {"id": lot["id"]}))["data"]["node"]["status"] == "OPEN"
    fourth = await f.login(api, bidders[3][0])
    assert (await submit(api, fourth, lot["id"], seal(keys[3], lot["tradeCode"], 1_230_000_00, {})))[
        "__typename"
    ] == "BidSubmitted"

    # when the new deadline passes
    manual_clock.advance(timedelta(days=5))
    await chronograph.fire_due()
    await api.dispatch()
    # then the opening starts at the new deadline with the three bids standing; the unconfirmed one lapsed
    first = await f.login(api, bidders[0][0])
    record = (await api.gql(RECORD, {"lotId": lot["id"]}, token=first))["data"]["openingRecord"]
    assert record["status"] == "decrypting"
    assert _at(record["deadline"]) == now + timedelta(days=15)
    assert record["bids"] == 3
    third = await f.login(api, bidders[2][0])
    mine = (await api.gql(MINE, {"lotId": lot["id"]}, token=third))["data"]["mySealedBids"]
    assert [b["status"] for b in mine] == ["LAPSED"]


async def test_a_clarification_that_changes_nothing_bidders_prepare_moves_no_deadline(api, manual_clock):
    # given a sealed tender due in 25 days with a sealed bid, ten days before its deadline
    operator = await f.operator_token(api)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    phone, token = await registered_bidder(api, operator, lot["id"])
    assert (await submit(api, token, lot["id"], seal(new_key(), lot["tradeCode"], 1_000_000_00, {})))[
        "__typename"
    ] == "BidSubmitted"
    manual_clock.advance(timedelta(days=15))
    tenderer = await f.login(api, tenderer_phone)
    # when the tenderer drafts a change notice with its file, and publishes it as a clarification that changes nothing
    # bidders prepare
    listed = await api.gql(LIST, {"filter": {"tradeCode": lot["tradeCode"], "types": ["TENDER"]}})
    tender_id = listed["data"]["announcements"]["edges"][0]["node"]["id"]
    drafted = await api.gql(
        DRAFT,
        {
            "input": {
                "projectId": project["id"],
                "lotId": lot["id"],
                "type": "CHANGE",
                "title": "澄清（第2号）",
                "bodyHtml": "<p>说明。</p>",
                "correctsId": tender_id,
                "attachments": [{"name": "澄清文件.pdf", "size": 2048, "sha256": "b" * 64}],
            }
        },
        token=tenderer,
    )
    draft_id = drafted["data"]["announcementDraft"]["announcement"]["id"]
    body = await api.gql(
        CLARIFY,
        {"input": {"lotId": lot["id"], "changesDocuments": False, "announcementId": draft_id}},
        token=tenderer,
    )
    made = body["data"]["clarificationPublish"]["clarification"]
    # then its notice is the draft, published with its file; the deadline stays, the sealed bid stands unflagged
    assert made["announcement"]["id"] == draft_id
    notice = (await api.gql(LIST, {"filter": {"tradeCode": lot["tradeCode"], "types": ["CHANGE"]}}))["data"]
    assert notice["announcements"]["edges"][0]["node"]["attachments"] == [{"name": "澄清文件.pdf", "sha256": "b" * 64}]
    assert made["deadlineMoved"] is False
    assert made["deadlineAfter"] == made["deadlineBefore"]
    bidder = await f.login(api, phone)
    assert [b["status"] for b in (await api.gql(MINE, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"]] == [
        "SUBMITTED"
    ]
    # and a deadline earlier than the law allows for a real change is a typed error, nothing changed
    too_early = await api.gql(
        CLARIFY,
        {
            "input": {
                "lotId": lot["id"],
                "changesDocuments": True,
                "title": "修改（第3号）",
                "bodyHtml": "<p>修改。</p>",
                "bidDeadline": (manual_clock.now() + timedelta(days=12)).isoformat(),
            }
        },
        token=tenderer,
    )
    refused = too_early["data"]["clarificationPublish"]
    assert refused["code"] == "DEADLINE_TOO_EARLY", refused
    assert [
        c["deadlineMoved"] for c in (await api.gql(CLARIFICATIONS, {"lotId": lot["id"]}))["data"]["lotClarifications"]
    ] == [False]
