"""A tenderer publishes; anonymous phones, kiosks and bidders find it; rules hold on the way."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.common.models import OutboxEvent
from domain.publication.identifiers import is_valid_trade_code
from tests import factories as f

PROJECT_CREATE = """
mutation($input: ProjectCreateInput!) { projectCreate(input: $input) {
  __typename
  ... on ProjectCreated { project { id tradeCode name lots { id tradeCode status procedure
      config { minBids depositCapFen bidDeadline candidatePublicityDays } eligibility { kind text } } } }
  ... on Error { code message }
  ... on FieldError { field }
} }"""
DRAFT = """
mutation($input: AnnouncementDraftInput!) { announcementDraft(input: $input) {
  __typename ... on AnnouncementDrafted { announcement { id status bodyHtml tradeCode } }
  ... on Error { code message } } }"""
PUBLISH = """
mutation($input: AnnouncementPublishInput!) { announcementPublish(input: $input) {
  __typename ... on AnnouncementPublished { announcement { id status publishedAt lotStatus } }
  ... on Error { code message } } }"""
SEARCH = """
query($query: String!, $filter: AnnouncementFilter) { searchAnnouncements(query: $query, filter: $filter) {
  total terms hits { score titleHtml snippetHtml announcement { id title } } } }"""
LIST = """
query($filter: AnnouncementFilter, $first: Int, $after: String) {
  announcements(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id title type typeName tradeCode region { name } lotStatus
      attachments { name sha256 } corrects { id } corrections { id } } }
    pageInfo { hasNextPage endCursor } } }"""


def road_project(bid_deadline: datetime, **lot_overrides: Any) -> dict[str, Any]:
    lot = {
        "name": "第一标段：胶州湾大道维修施工",
        "procedure": "OPEN_TENDER",
        "estimatedPriceFen": 1_280_000_000,
        "config": {"bidDeadline": bid_deadline.isoformat()},
        "eligibility": [{"kind": "qualification", "text": "具有市政公用工程施工总承包二级及以上资质"}],
    }
    lot.update(lot_overrides)
    return {
        "name": "2026年青岛市道路维修工程",
        "category": "ENGINEERING_CONSTRUCTION",
        "regionCode": "370211",
        "lots": [lot],
    }


async def publish(
    api: Any, token: str, project: dict[str, Any], kind: str, title: str, body: str, **extra: Any
) -> dict[str, Any]:
    draft = await api.gql(
        DRAFT,
        {
            "input": {
                "projectId": project["id"],
                "lotId": project["lots"][0]["id"],
                "type": kind,
                "title": title,
                "bodyHtml": body,
                **extra,
            }
        },
        token=token,
    )
    drafted = draft["data"]["announcementDraft"]
    assert drafted["__typename"] == "AnnouncementDrafted", drafted
    done = await api.gql(PUBLISH, {"input": {"announcementId": drafted["announcement"]["id"]}}, token=token)
    published = done["data"]["announcementPublish"]
    assert published["__typename"] == "AnnouncementPublished", published
    return published["announcement"]  # type: ignore[no-any-return]


async def test_a_tender_and_its_change_reach_anyone(api, manual_clock):
    # given an approved tenderer and a bidder with a saved search for road works in Qingdao
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    _, _, bidder = await f.approved_org(api, operator, kinds=["BIDDER"])
    saved = await api.gql(
        """mutation($input: SavedSearchCreateInput!) { savedSearchCreate(input: $input) {
           __typename ... on SavedSearchCreated { savedSearch { id keywords } } } }""",
        {"input": {"name": "青岛道路", "keywords": "道路 维修", "regions": ["370200"]}},
        token=bidder,
    )
    assert saved["data"]["savedSearchCreate"]["__typename"] == "SavedSearchCreated"

    # when the tenderer creates the project
    deadline = manual_clock.now() + timedelta(days=25)
    created = (await api.gql(PROJECT_CREATE, {"input": road_project(deadline)}, token=tenderer))["data"][
        "projectCreate"
    ]

    # then it has a valid lifelong trade identifier, legal defaults and a 2% security cap
    assert created["__typename"] == "ProjectCreated", created
    project = created["project"]
    lot = project["lots"][0]
    assert is_valid_trade_code(project["tradeCode"])
    assert is_valid_trade_code(lot["tradeCode"])
    assert lot["tradeCode"][:18] == project["tradeCode"][:18]
    assert lot["config"]["minBids"] == 3
    assert lot["config"]["candidatePublicityDays"] == 3
    assert lot["config"]["depositCapFen"] == 25_600_000
    assert lot["status"] == "DRAFT"

    # when it drafts the tender announcement with a script in the body and an attachment
    body = "<p>本项目位于黄岛区。<script>alert(1)</script><a href='javascript:evil()'>点此</a></p>"
    draft = await api.gql(
        DRAFT,
        {
            "input": {
                "projectId": project["id"],
                "lotId": lot["id"],
                "type": "TENDER",
                "title": "2026年青岛市道路维修工程施工招标公告",
                "bodyHtml": body,
                "attachments": [{"name": "招标文件.pdf", "size": 1048576, "sha256": "a" * 64}],
            }
        },
        token=tenderer,
    )
    drafted = draft["data"]["announcementDraft"]["announcement"]

    # then the draft is stored safely and is invisible to the public
    assert "<script>" not in drafted["bodyHtml"]
    assert "javascript:" not in drafted["bodyHtml"]
    anonymous = await api.gql("query($id: ID!) { announcement(id: $id) { id } }", {"id": drafted["id"]})
    assert anonymous["data"]["announcement"] is None
    assert (await api.gql(LIST))["data"]["announcements"]["edges"] == []

    # when it is published
    published = await api.gql(PUBLISH, {"input": {"announcementId": drafted["id"]}}, token=tenderer)
    tender = published["data"]["announcementPublish"]["announcement"]

    # then the lot is open, and the announcement can never be published or changed again
    assert tender["status"] == "PUBLISHED"
    assert tender["lotStatus"] == "OPEN"
    again = await api.gql(PUBLISH, {"input": {"announcementId": drafted["id"]}}, token=tenderer)
    assert again["data"]["announcementPublish"]["code"] == "ANNOUNCEMENT_IMMUTABLE"

    # when a correction follows as a change announcement
    manual_clock.advance(minutes=5)
    change = await publish(
        api,
        tenderer,
        project,
        "CHANGE",
        "2026年青岛市道路维修工程施工招标变更公告",
        "<p>开标时间顺延。</p>",
        correctsId=tender["id"],
    )

    # then anyone, e.g. a kiosk without a token, finds both, newest first, linked to each other
    kiosk = await api.gql(LIST, {"filter": {"regions": ["370200"], "categories": ["ENGINEERING_CONSTRUCTION"]}})
    nodes = [e["node"] for e in kiosk["data"]["announcements"]["edges"]]
    assert [n["id"] for n in nodes] == [change["id"], tender["id"]]
    assert nodes[0]["corrects"] == {"id": tender["id"]}
    assert nodes[1]["corrections"] == [{"id": change["id"]}]
    assert nodes[1]["attachments"] == [{"name": "招标文件.pdf", "sha256": "a" * 64}]
    assert nodes[1]["region"] == {"name": "黄岛区"}
    assert nodes[1]["typeName"] == "招标（采购、出让）公告"
    assert {n["tradeCode"] for n in nodes} == {lot["tradeCode"]}

    # and filters exclude what does not match, and pages do not overlap
    other = await api.gql(LIST, {"filter": {"regions": ["370100"]}})
    assert other["data"]["announcements"]["edges"] == []
    only_changes = await api.gql(LIST, {"filter": {"types": ["CHANGE"]}})
    assert [e["node"]["id"] for e in only_changes["data"]["announcements"]["edges"]] == [change["id"]]
    page1 = (await api.gql(LIST, {"first": 1}))["data"]["announcements"]
    page2 = (await api.gql(LIST, {"first": 1, "after": page1["pageInfo"]["endCursor"]}))["data"]["announcements"]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert page2["pageInfo"]["hasNextPage"] is False
    assert [page1["edges"][0]["node"]["id"], page2["edges"][0]["node"]["id"]] == [change["id"], tender["id"]]

    # and an anonymous phone finds them by Chinese keywords, most relevant first, highlighted
    found = await api.gql(SEARCH, {"query": "道路 维修 招标", "filter": {"regions": ["370200"]}})
    result = found["data"]["searchAnnouncements"]
    assert result["total"] == 2
    assert {h["announcement"]["id"] for h in result["hits"]} == {tender["id"], change["id"]}
    assert all("<em>道路</em>" in h["titleHtml"] for h in result["hits"])
    only_tender = (await api.gql(SEARCH, {"query": "黄岛区 道路"}))["data"]["searchAnnouncements"]
    assert [h["announcement"]["id"] for h in only_tender["hits"]] == [tender["id"]]
    assert "<em>黄岛区</em>" in only_tender["hits"][0]["snippetHtml"]
    nothing = await api.gql(SEARCH, {"query": "道路 维修", "filter": {"categories": ["LAND_USE_RIGHTS"]}})
    assert nothing["data"]["searchAnnouncements"]["total"] == 0

    # and an open-data portal reads the lot as an OCDS record: a tender and its amendment
    record = (await api.gql("query($id: ID!) { ocdsRecord(lotId: $id) }", {"id": lot["id"]}))["data"]["ocdsRecord"]
    assert record["ocid"].endswith(lot["tradeCode"])
    assert [r["tag"] for r in record["releases"]] == [["tender"], ["tenderAmendment"]]
    assert record["compiledRelease"]["tender"]["value"] == {"amount": 12_800_000, "currency": "CNY"}

    # and the bidder's saved search matched both announcements once the outbox was dispatched
    await api.dispatch()
    await api.dispatch()
    matched = await OutboxEvent.filter(type="saved_search.matched").order_by("id")
    assert [m.payload["title"] for m in matched] == [
        "2026年青岛市道路维修工程施工招标公告",
        "2026年青岛市道路维修工程施工招标变更公告",
    ]


async def test_locality_restrictions_and_illegal_settings_are_refused(api, manual_clock):
    # given an approved tenderer
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = manual_clock.now() + timedelta(days=25)

    # when a lot demands a local branch, or fewer than 3 bids, or a 3% deposit
    local = road_project(deadline, eligibility=[{"kind": "qualification", "text": "投标人须在青岛市设立分公司"}])
    few = road_project(deadline, config={"minBids": 2})
    deposit = road_project(deadline, config={"depositCapBasisPoints": 300})
    results = [
        (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
        for form in (local, few, deposit)
    ]

    # then each is refused with a typed error citing the rule, and nothing was created
    assert results[0]["code"] == "LOCAL_PROTECTION_BANNED"
    assert "青政办字〔2020〕50号" in results[0]["message"]
    assert results[1]["code"] == "CONFIG_OUT_OF_BOUNDS"
    assert results[1]["field"] == "minBids"
    assert results[2]["code"] == "CONFIG_OUT_OF_BOUNDS"
    assert results[2]["field"] == "depositCapBasisPoints"
    assert await OutboxEvent.filter(type="project.created").count() == 0


async def test_a_tender_needs_twenty_days_and_a_bidder_may_not_publish(api, manual_clock):
    # given a lot whose bid deadline is only 10 days away
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    _, _, bidder = await f.approved_org(api, operator, kinds=["BIDDER"])
    soon = manual_clock.now() + timedelta(days=10)
    project = (await api.gql(PROJECT_CREATE, {"input": road_project(soon)}, token=tenderer))["data"]["projectCreate"]
    lot = project["project"]["lots"][0]
    draft = (
        await api.gql(
            DRAFT,
            {
                "input": {
                    "projectId": project["project"]["id"],
                    "lotId": lot["id"],
                    "type": "TENDER",
                    "title": "招标公告",
                    "bodyHtml": "<p>正文</p>",
                }
            },
            token=tenderer,
        )
    )["data"]["announcementDraft"]["announcement"]

    # when a bidder tries to publish it, then the tenderer does
    denied = await api.gql(PUBLISH, {"input": {"announcementId": draft["id"]}}, token=bidder, expect_errors=True)
    refused = await api.gql(PUBLISH, {"input": {"announcementId": draft["id"]}}, token=tenderer)

    # then the bidder is stopped at the gate and the tender is refused for its short deadline
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["data"]["announcementPublish"]["code"] == "CONFIG_OUT_OF_BOUNDS"
    assert (await api.gql(LIST))["data"]["announcements"]["edges"] == []


GRACE = """mutation($input: ProjectCreateInput!) { projectCreate(input: $input) { __typename
  ... on ProjectCreated { project { lots { config { contractGraceDays } } } }
  ... on Error { code message } ... on FieldError { field } } }"""


async def test_a_lot_keeps_its_contract_grace_days_and_refuses_more_than_sixty(api, manual_clock):
    # given a tenderer
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = (manual_clock.now() + timedelta(days=25)).isoformat()

    # when it creates a lot whose award the platform withdraws 5 days past the contract-overdue flag, one of 61 days,
    # and one that says nothing
    def lot(**grace: int) -> dict[str, Any]:
        return road_project(manual_clock.now(), config={"bidDeadline": deadline, **grace})

    kept = (await api.gql(GRACE, {"input": lot(contractGraceDays=5)}, token=tenderer))["data"]["projectCreate"]
    refused = (await api.gql(GRACE, {"input": lot(contractGraceDays=61)}, token=tenderer))["data"]["projectCreate"]
    default = (await api.gql(GRACE, {"input": lot()}, token=tenderer))["data"]["projectCreate"]

    # then the lot keeps its 5 days, 61 is refused naming the field, and a lot that says nothing never withdraws
    assert kept["project"]["lots"][0]["config"] == {"contractGraceDays": 5}, kept
    assert (refused["code"], refused["field"]) == ("CONFIG_OUT_OF_BOUNDS", "contractGraceDays"), refused
    assert default["project"]["lots"][0]["config"] == {"contractGraceDays": 0}, default
