"""A tenderer publishes over HTTP and the provincial platform (its stub, signature checked) receives each notice with
a receipt; an outage is retried with backoff and succeeds; a receipt lost on the way is never a second item at the
province; each goes under the data set of its trade with the project's 招标项目类型 (a code outside the table refused
when the project is made); an operator's reconciliation finds a notice the province lost and sends it again;
operators follow it all in provincialMessages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from api.provincial import HttpProvincialPlatform, Signer
from domain.common import clock
from domain.provincial import exchange
from tests import factories as f
from tests.scenarios.test_deposits import AMOUNT, operator_phone, registered
from tests.scenarios.test_publication import publish, road_project
from tests.scenarios.test_registration import open_lot
from tests.scenarios.test_results import AWARD, CONTRACT, PUBLISH, bid, opened, today
from tests.scenarios.test_results import PRICES as RESULT_PRICES
from tests.support.bank import Bank
from tests.support.provincial_platform import PUBLICITY_SETTINGS, ProvincialPlatformStub

PROJECT_CREATE = """
mutation($input: ProjectCreateInput!) { projectCreate(input: $input) {
  __typename
  ... on ProjectCreated { project { id tradeCode industry lots { id tradeCode } } }
  ... on Error { code message }
  ... on FieldError { field }
} }"""

MESSAGES = """query($status: String, $lotId: ID) { provincialMessages(status: $status, lotId: $lotId) {
  id messageId kind dataType status attempts lastError receiptId sentAt } }"""
RETRY = """mutation($input: ProvincialMessageRetryInput!) { provincialMessageRetry(input: $input) {
  __typename ... on ProvincialMessageQueued { provincialMessage { status } } ... on Error { code message } } }"""
RECONCILE = """mutation($input: ProvincialReconcileInput!) { provincialReconcile(input: $input) {
  __typename ... on ProvincialReconciled { day missing differing unknown } ... on Error { code message } } }"""


@pytest.fixture
async def province() -> AsyncIterator[ProvincialPlatformStub]:
    """The provincial platform's stub, PalmTrade configured to send to it (HMAC-signed)."""
    stub = ProvincialPlatformStub()
    await stub.start()
    platform = HttpProvincialPlatform(stub.base_url, stub.platform_code, Signer(hmac_key=stub.hmac_key))
    exchange.configure(platform, stub.platform_code, max_attempts=5, **PUBLICITY_SETTINGS)
    try:
        yield stub
    finally:
        exchange.configure(None)
        await platform.close()
        await stub.stop()


async def messages(api: Any, token: str, **filters: Any) -> list[dict[str, Any]]:
    body = await api.gql(MESSAGES, filters, token=token)
    return list(body["data"]["provincialMessages"])


async def test_publications_reach_the_province_with_receipts_retried_once_each_and_reconciled(
    api, manual_clock, province
):
    # given the provincial platform's stub and PalmTrade configured to send to it (HMAC-signed)
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    road = road_project(clock.now() + timedelta(days=25))
    # a 招标项目类型 outside the specification's table is refused, as is one on a project of another trade
    unknown = await api.gql(PROJECT_CREATE, {"input": {**road, "industry": "A50"}}, token=tenderer)
    assert unknown["data"]["projectCreate"] == {
        "__typename": "IndustryUnknown",
        "code": "INDUSTRY_UNKNOWN",
        "message": unknown["data"]["projectCreate"]["message"],
        "field": "industry",
    }
    assert "A50" in unknown["data"]["projectCreate"]["message"]
    procurement = {**road, "category": "GOVERNMENT_PROCUREMENT", "industry": "A03"}
    other = (await api.gql(PROJECT_CREATE, {"input": procurement}, token=tenderer))["data"]["projectCreate"]
    assert (other["__typename"], other["field"]) == ("InvalidInput", "industry")
    # the road project is made with its 招标项目类型, A03 公路
    created = await api.gql(PROJECT_CREATE, {"input": {**road, "industry": "A03"}}, token=tenderer)
    project = created["data"]["projectCreate"]["project"]
    assert project["industry"] == "A03"

    # when the tenderer publishes the tender notice and the worker runs
    notice = await publish(api, tenderer, project, "TENDER", "道路维修工程施工招标公告", "<p>招标</p>")
    await api.dispatch()
    await exchange.send_due(api.services.holder)

    # then the province holds it, and the operator sees it sent with the province's receipt
    [tender] = await messages(api, operator)
    assert (tender["kind"], tender["dataType"], tender["status"], tender["attempts"]) == (
        "tender",
        "NOTICE",
        "sent",
        1,
    )
    assert tender["receiptId"] == province.held[tender["messageId"]].receipt_id
    data = province.held[tender["messageId"]].message["data"]
    assert data["BID_SECTION_CODES"] == data["UNIFIED_DEAL_CODES"] == project["lots"][0]["tradeCode"]
    assert (data["BULLETIN_TYPE"], data["NOTICE_NATURE"], data["PLATFORM_CODE"]) == (
        "1",
        "1",
        province.platform_code,
    )
    # under the engineering trade's notice data set, with the project's industry; no item of PalmTrade's own
    envelope = province.held[tender["messageId"]].message
    assert (envelope["dataNo"], envelope["dataType"]) == ("503", "TENDER_ANN_QUA_INQUERY_ANN")
    assert data["TENDER_PROJECT_TYPE"] == "A03"
    assert "TRADE_CATEGORY" not in data
    # and nobody else reads the exchange
    denied = await api.gql(MESSAGES, {}, token=tenderer, expect_errors=True)
    assert denied["data"] is None
    assert denied["errors"]

    # when a change notice goes out while the province answers 503, then stores it but its answer is lost
    province.fail_next, province.drop_answers = 1, 1
    await publish(api, tenderer, project, "CHANGE", "道路维修工程变更公告", "<p>变更</p>", correctsId=notice["id"])
    await api.dispatch()
    await exchange.send_due(api.services.holder)
    # then it waits with its error, and is sent once the backoff has passed
    [change] = await messages(api, operator, status="queued")
    assert (change["attempts"], change["lastError"]) == (1, "unavailable: HTTP 503")
    assert change["messageId"] not in province.held
    manual_clock.advance(seconds=31)
    await exchange.send_due(api.services.holder)
    assert change["messageId"] in province.held
    changed = province.held[change["messageId"]].message["data"]
    # a correction of the tender notice: 公告性质 2 with the tender notice's 公告类型 1, naming the notice it
    # corrects (原公告编号) by its message id
    assert (changed["NOTICE_NATURE"], changed["BULLETIN_TYPE"]) == ("2", "1")
    assert changed["ORIGINAL_BULLETIN_CODE"] == tender["messageId"]
    [lost] = await messages(api, operator, status="queued")
    assert lost["attempts"] == 2
    manual_clock.advance(minutes=1, seconds=1)
    await exchange.send_due(api.services.holder)
    # and the province answers the third try with the receipt of the copy it stored on the second: one item
    assert {m["status"] for m in await messages(api, operator)} == {"sent"}
    [sent] = [m for m in await messages(api, operator) if m["id"] == change["id"]]
    assert sent["receiptId"] == province.held[change["messageId"]].receipt_id
    assert province.stored == 2

    # when the province loses the change notice and the operator reconciles the day
    province.lose(change["messageId"])
    day = clock.today().isoformat()
    reconciled = (await api.gql(RECONCILE, {"input": {"day": day}}, token=operator))["data"]["provincialReconcile"]
    # then the lost one is found and queued again, sent again under the same message id, once
    assert (reconciled["__typename"], reconciled["missing"], reconciled["unknown"]) == (
        "ProvincialReconciled",
        [change["messageId"]],
        [],
    )
    await exchange.send_due(api.services.holder)
    assert sorted(province.held) == sorted([tender["messageId"], change["messageId"]])
    assert province.stored == 3  # stored again after it was lost, under the same id
    again = (await api.gql(RECONCILE, {"input": {"day": day}}, token=operator))["data"]["provincialReconcile"]
    assert again["missing"] == []
    assert again["differing"] == []

    # when the operator asks to send a delivered message again
    retried = await api.gql(RETRY, {"input": {"messageId": tender["id"]}}, token=operator)
    # then it is refused: the province has it already
    assert retried["data"]["provincialMessageRetry"]["code"] == "PROVINCIAL_MESSAGE_SENT"
    # and the province holds each notice once, though it was sent more often
    assert len(province.held) == 2
    assert province.requests > province.stored


INDUSTRY_SET = """mutation($input: ProjectIndustrySetInput!) { projectIndustrySet(input: $input) {
  __typename ... on ProjectIndustrySet { project { id industry } }
  ... on Error { code message } ... on FieldError { field } } }"""
RECHECK = """mutation($input: DataQualityRecheckInput!) { dataQualityRecheck(input: $input) {
  __typename ... on DataQualityRechecked { blocking findings { rule blocking objectType explanationEn } }
  ... on Error { code message } } }"""


async def test_a_project_made_without_its_industry_is_reported_until_its_manager_gives_it(api, manual_clock, province):
    # given a road project made without its 招标项目类型 (as every project made before it was asked), its tender out
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    _, _, stranger = await f.approved_org(api, operator, kinds=["TENDERER"])
    road = road_project(clock.now() + timedelta(days=25))
    project = (await api.gql(PROJECT_CREATE, {"input": road}, token=tenderer))["data"]["projectCreate"]["project"]
    assert project["industry"] is None
    notice = await publish(api, tenderer, project, "TENDER", "道路维修工程施工招标公告", "<p>招标</p>")
    await api.dispatch()
    await exchange.send_due(api.services.holder)
    # then its notice reaches the province without the item, and data quality names the project, not holding it
    [tender] = await messages(api, operator)
    assert tender["status"] == "sent"
    assert "TENDER_PROJECT_TYPE" not in province.held[tender["messageId"]].message["data"]
    lot = {"lotId": project["lots"][0]["id"]}
    checked = (await api.gql(RECHECK, {"input": lot}, token=operator))["data"]["dataQualityRecheck"]
    assert checked["blocking"] == 0
    [finding] = checked["findings"]
    assert (finding["rule"], finding["blocking"], finding["objectType"]) == ("DQ-REQ-002", False, "Project")
    # when another tenderer tries to give it one, and its own tenderer gives a code outside the table
    given = {"projectId": project["id"], "industry": "A03"}
    foreign = (await api.gql(INDUSTRY_SET, {"input": given}, token=stranger))["data"]["projectIndustrySet"]
    assert foreign["code"] == "NOT_FOUND"
    bad = {**given, "industry": "B01"}
    refused = (await api.gql(INDUSTRY_SET, {"input": bad}, token=tenderer))["data"]["projectIndustrySet"]
    assert (refused["code"], refused["field"]) == ("INDUSTRY_UNKNOWN", "industry")
    # then nothing changed; when it gives A03 公路, the project has it and the finding is gone
    done = (await api.gql(INDUSTRY_SET, {"input": given}, token=tenderer))["data"]["projectIndustrySet"]
    assert done == {"__typename": "ProjectIndustrySet", "project": {"id": project["id"], "industry": "A03"}}
    checked = (await api.gql(RECHECK, {"input": lot}, token=operator))["data"]["dataQualityRecheck"]
    assert checked["findings"] == []
    # and the next notice to the province carries it
    await publish(api, tenderer, project, "CHANGE", "道路维修工程变更公告", "<p>变更</p>", correctsId=notice["id"])
    await api.dispatch()
    await exchange.send_due(api.services.holder)
    [change] = [m for m in await messages(api, operator) if m["kind"] == "change"]
    assert province.held[change["messageId"]].message["data"]["TENDER_PROJECT_TYPE"] == "A03"


async def test_an_engineering_publicity_and_contract_reach_the_province_in_their_own_data_sets(
    api, manual_clock, province
):
    # given an engineering tender bid by four bidders (paid through the bank), opened and evaluated
    staff_phone = await operator_phone()
    operator = await f.login(api, staff_phone)
    bank = await Bank.open(api, operator)
    project, _, tenderer_phone = await open_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    bidders = [await registered(api, operator, lot_id) for _ in RESULT_PRICES]
    for (_, phone, reference), price in zip(bidders, RESULT_PRICES, strict=True):
        assert (await bank.pay(reference, AMOUNT)).json()["status"] == "accepted"
        await bid(api, await f.login(api, phone), lot_id, code, price)
    await opened(api, manual_clock, lot_id, [phone for _, phone, _ in bidders])
    # when the tenderer publishes the candidates, awards after the publicity and records the contract over HTTP
    tenderer = await f.login(api, tenderer_phone)
    published = (await api.gql(PUBLISH, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["candidatesPublish"]
    assert published["__typename"] == "CandidatesPublished", published
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"]
    assert awarded["__typename"] == "LotAwarded", awarded
    contract = {
        "lotId": lot_id,
        "contractNo": "HT-2026-0511",
        "signedOn": today(manual_clock),
        "amountFen": 1_188_000_000,
    }
    recorded = (await api.gql(CONTRACT, {"input": contract}, token=tenderer))["data"]["contractRecord"]
    assert recorded["__typename"] == "ContractRecorded", recorded
    await api.dispatch()
    await exchange.send_due(api.services.holder)
    # then the province holds the candidates' publicity as 511 and the contract as 512, each with its items
    staff = await f.login(api, staff_phone)
    sent = {m["kind"]: m for m in await messages(api, staff, lotId=lot_id)}
    assert {sent[k]["status"] for k in ("candidate_publicity", "contract")} == {"sent"}
    assert (sent["candidate_publicity"]["dataType"], sent["contract"]["dataType"]) == ("PUBLICITY", "WORKS_CONTRACT")
    publicity = province.held[sent["candidate_publicity"]["messageId"]].message
    held = province.held[sent["contract"]["messageId"]].message
    assert (publicity["dataNo"], publicity["dataType"]) == ("511", "TENDER_CANDIDATE_ANNOUNCE")
    assert publicity["data"]["PUBLICITY_TYPE"] == "1"
    assert all(publicity["data"][k] for k in ("FIRST_BIDDER_NAME", "THIRD_BIDDER_CODE"))
    assert (held["dataNo"], held["dataType"]) == ("512", "CONTRACT_PERFORMANCE")
    assert (held["data"]["CONTRACT_CODE"], held["data"]["CONTRACT_PRICE"]) == (
        "HT-2026-0511",
        "1188.000000",
    )  # 1 188 000 000 fen = 1188 万元
    assert held["data"]["PRICE_FORM_CODE"] == "1"
    assert held["data"]["CONTRACT_NAME"].endswith("合同")
