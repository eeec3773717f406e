"""A cancellation over HTTP (终止招标, 招标投标法实施条例 第三十一条): the tenderer ends an open tender with its
reason and documents; the termination announcement lists them, the paid deposits fall due for refund at once, a
bidder objects within the window (an objection outside any window refused), and the cancellation becomes effective
only once the window is over and the objection answered."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.common import chronograph
from tests import factories as f
from tests.scenarios.test_contract_lifecycle import pdf, upload
from tests.scenarios.test_deposits import AMOUNT, my_deposit, operator_phone, registered
from tests.scenarios.test_registration import open_lot
from tests.scenarios.test_results import status_of
from tests.support.bank import Bank
from tests.support.complaints import OBJECTION_ANSWER, OBJECTION_RAISE

CANCEL = """mutation($input: CancellationPublishInput!) { cancellationPublish(input: $input) {
  __typename ... on CancellationPublished { cancellation { ground basis status objectionEndsAt announcementIds
  documentIds wholeProject } }
  ... on Error { code message } ... on FieldError { field } } }"""
CANCELLATIONS = """query($lotId: ID!) { lotResult(lotId: $lotId) {
  cancellations { ground status objectionEndsAt effectiveAt } } }"""
ANNOUNCEMENT = """query($id: ID!) { node(id: $id) { ... on Announcement {
  type title bodyHtml attachments { name sha256 } } } }"""


async def test_an_open_tender_cancelled_with_its_documents_objection_window_and_deposits_released(
    api, manual_clock, tmp_path
):
    # given an open tender asking 2% security and two bidders that paid it
    operator = await f.login(api, await operator_phone())
    bank = await Bank.open(api, operator)
    project, _, tenderer_phone = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    bidders = [await registered(api, operator, lot_id) for _ in range(2)]
    for _, _, reference in bidders:
        assert (await bank.pay(reference, AMOUNT)).json()["status"] == "accepted"
    tokens = [await f.login(api, phone) for _, phone, _ in bidders]
    tenderer = await f.login(api, tenderer_phone)
    decision = await upload(
        api, tenderer, lot_id, pdf(tmp_path / "终止招标决定.pdf", "terminate"), "CANCELLATION_DOCUMENT"
    )

    # when a bidder objects to a cancellation that was never made
    objection = {"lotId": lot_id, "stage": "CANCELLATION", "reasons": "终止理由不成立", "evidence": []}
    early = (await api.gql(OBJECTION_RAISE, {"input": objection}, token=tokens[0]))["data"]["objectionRaise"]
    # then it is refused: no window is open
    assert early["code"] == "OBJECTION_WINDOW_CLOSED", early

    # when the tenderer terminates the tender with its documents
    form = {
        "projectId": project["id"],
        "lotId": lot_id,
        "ground": "TENDER_TERMINATED",
        "explanation": "项目建设计划调整，终止本次招标。",
        "documentIds": [decision],
        "idempotencyKey": "cancel-1",
    }
    cancelled = (await api.gql(CANCEL, {"input": form}, token=tenderer))["data"]["cancellationPublish"]
    again = (await api.gql(CANCEL, {"input": form}, token=tenderer))["data"]["cancellationPublish"]
    await api.dispatch()

    # then the lot is terminated by an announcement listing the documents, with the basis and a 10-day window
    assert cancelled["__typename"] == "CancellationPublished", cancelled
    assert again == cancelled
    made = cancelled["cancellation"]
    assert (made["ground"], made["status"], made["wholeProject"]) == ("TENDER_TERMINATED", "OBJECTION_WINDOW", False)
    assert made["basis"] == "《招标投标法实施条例》第三十一条"
    ends = datetime.fromisoformat(made["objectionEndsAt"])
    assert timedelta(days=10) <= ends - manual_clock.now() <= timedelta(days=11)
    assert await status_of(api, lot_id) == "TERMINATED"
    [announcement_id] = made["announcementIds"]
    notice = (await api.gql(ANNOUNCEMENT, {"id": announcement_id}))["data"]["node"]
    assert notice["type"] == "TERMINATION"
    assert "第三十一条" in notice["bodyHtml"]
    assert [a["name"] for a in notice["attachments"]] == ["终止招标决定.pdf"]
    # and every paid deposit is due back at once (第三十一条: 及时退还)
    for token in tokens:
        assert (await my_deposit(api, token))["status"] == "refund_due"

    # when a bidder objects within the window
    raised = (await api.gql(OBJECTION_RAISE, {"input": objection}, token=tokens[0]))["data"]["objectionRaise"]
    assert raised["__typename"] == "ObjectionRaised", raised
    # and the window ends with the objection unanswered
    manual_clock.set(ends + timedelta(minutes=1))
    await chronograph.fire_due()
    # then the cancellation is not effective yet
    [waiting] = (await api.gql(CANCELLATIONS, {"lotId": lot_id}))["data"]["lotResult"]["cancellations"]
    assert (waiting["status"], waiting["effectiveAt"]) == ("OBJECTION_WINDOW", None)

    # when the tenderer answers and the chronograph looks again
    tenderer = await f.login(api, tenderer_phone)
    answer = {"objectionId": raised["objection"]["id"], "answer": "终止理由已在公告中说明，依法终止。"}
    answered = (await api.gql(OBJECTION_ANSWER, {"input": answer}, token=tenderer))["data"]["objectionAnswer"]
    assert answered["objection"]["status"] == "ANSWERED", answered
    manual_clock.advance(timedelta(hours=1, minutes=1))
    await chronograph.fire_due()
    # then it is effective
    [effective] = (await api.gql(CANCELLATIONS, {"lotId": lot_id}))["data"]["lotResult"]["cancellations"]
    assert effective["status"] == "EFFECTIVE"
    assert datetime.fromisoformat(effective["effectiveAt"]) > ends
