"""Credit rating and incentives over HTTP: the public rule table, an entity's rating and why, the supervisors' history,
and a good-credit entity registering without a deposit under the lot's incentive while a lower grade still pays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_registration import REGISTER
from tests.scenarios.test_supervision import category_supervisor_phone
from tests.support.commitments import commit_over_api

RULES = """query($version: Int) { creditRatingRules(version: $version) { version base halfLifeDays maxAgeDays
  goodDefaultWeight badDefaultWeight punishmentInForceWeight weights { kind category weight } grades { grade minScore }
} }"""
MY_RATING = """query { myCreditRating { score grade rulesVersion contributions { recordId source kind category weight
  factor points sourcePlatform } } }"""
ORG_RATING = """query($id: ID!) { organisationCreditRating(organisationId: $id) { score grade } }"""
HISTORY = """query($id: ID!) { creditRatingHistory(organisationId: $id) { score grade rulesVersion trigger } }"""
INCENTIVES_SET = """mutation($input: LotCreditIncentivesSetInput!) { lotCreditIncentivesSet(input: $input) {
  __typename ... on LotCreditIncentivesSet { rules { grade kind percent } }
  ... on TieBreakNotAllowed { basis } ... on Error { code message } } }"""
INCENTIVES = """query($lotId: ID!) { lotCreditIncentives(lotId: $lotId) { grade kind percent } }"""
RELIEF = (
    """query($lotId: ID!) { mySecurityRelief(lotId: $lotId) { grade kind percent baseFenn: baseFen amountDueFen } }"""
)
PUBLISH_RULES = """mutation($input: CreditRatingRulesPublishInput!) { creditRatingRulesPublish(input: $input) {
  __typename ... on CreditRatingRulesPublished { rules { version base } } ... on Error { code message }
  ... on FieldError { field } } }"""


async def draft_lot(api: Any, clock: Any, operator: str) -> tuple[dict[str, Any], str]:
    """A draft open tender asking 2% security (25 600 000 fen) and its tenderer's token."""
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    created = await api.gql(PROJECT_CREATE, {"input": road_project(clock.now() + timedelta(days=25))}, token=tenderer)
    return created["data"]["projectCreate"]["project"], tenderer


async def commended(api: Any, operator: str, org_id: str) -> None:
    record = {**f.credit_record(org_id, kind="good"), "category": "表彰", "description": "年度诚信示范企业"}
    body = await api.gql(f.CREDIT_RECORD, {"input": record}, token=operator)
    assert body["data"]["creditRecordAdd"]["__typename"] == "CreditRecordAdded", body
    await api.dispatch()  # the rating follows the record (a reaction of the outbox)


async def test_the_rule_table_is_public_and_versioned(api):
    # when anyone reads the rules in force, and version 1 by number
    current = (await api.gql(RULES))["data"]["creditRatingRules"]
    first = (await api.gql(RULES, {"version": 1}))["data"]["creditRatingRules"]
    missing = (await api.gql(RULES, {"version": 99}))["data"]["creditRatingRules"]
    # then the built-in table is there with its weights and grades, and an unknown version is null
    assert current == first
    assert current["base"] == 80
    assert {"kind": "good", "category": "表彰", "weight": 10} in current["weights"]
    assert [g["grade"] for g in current["grades"]] == ["A", "B", "C", "D"]
    assert missing is None


async def test_an_operator_publishes_a_new_version_and_bad_tables_are_refused(api):
    # given an operator and a table whose grades do not end at 0
    operator = await f.operator_token(api)
    table = {
        "base": 70,
        "halfLifeDays": 730,
        "maxAgeDays": 1825,
        "goodDefaultWeight": 5,
        "badDefaultWeight": -10,
        "punishmentInForceWeight": -70,
        "punishmentEndedWeight": -20,
        "weights": [{"kind": "bad", "category": "串通投标", "weight": -50}],
        "grades": [{"grade": "A", "minScore": 85}, {"grade": "B", "minScore": 70}, {"grade": "C", "minScore": 10}],
        "note": "2027年版：串通投标加重",
    }
    # when it publishes the bad table, then the good one
    bad = (await api.gql(PUBLISH_RULES, {"input": table}, token=operator))["data"]["creditRatingRulesPublish"]
    table["grades"] = [*table["grades"], {"grade": "D", "minScore": 0}]
    good = (await api.gql(PUBLISH_RULES, {"input": table}, token=operator))["data"]["creditRatingRulesPublish"]
    # then the first is a typed error naming the grades and the second is version 2, now in force
    assert bad["__typename"] == "InvalidInput"
    assert bad["field"] == "grades"
    assert good["__typename"] == "CreditRatingRulesPublished"
    assert good["rules"] == {"version": 2, "base": 70}
    assert (await api.gql(RULES))["data"]["creditRatingRules"]["base"] == 70
    assert (await api.gql(RULES, {"version": 1}))["data"]["creditRatingRules"]["base"] == 80


async def test_an_entity_sees_why_and_supervisors_see_the_history(api):
    # given a bidder commended, then found in breach of contract
    operator = await f.operator_token(api)
    org_id, _, bidder = await f.approved_org(api, operator)
    await commended(api, operator, org_id)
    breach = {**f.credit_record(org_id), "category": "违约", "description": "中标后拒签合同"}
    await api.gql(f.CREDIT_RECORD, {"input": breach}, token=operator)
    await api.dispatch()
    # when it reads its rating
    mine = (await api.gql(MY_RATING, token=bidder))["data"]["myCreditRating"]
    # then 80 + 10 - 15 = 75 (grade B), each record with its weight and decay
    assert (mine["score"], mine["grade"], mine["rulesVersion"]) == (75, "B", 1)
    assert sorted((c["category"], c["weight"], c["factor"]) for c in mine["contributions"]) == [
        ("表彰", 10, 1.0),
        ("违约", -15, 1.0),
    ]
    assert all(c["sourcePlatform"] is None for c in mine["contributions"])
    # and a supervisor sees both changes, another bidder sees nothing
    supervisor = await f.login(api, await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT"))
    history = (await api.gql(HISTORY, {"id": org_id}, token=supervisor))["data"]["creditRatingHistory"]
    assert [(h["score"], h["grade"], h["trigger"]) for h in history] == [
        (75, "B", "credit.recorded"),
        (90, "A", "credit.recorded"),
    ]
    _, _, other = await f.approved_org(api, operator)
    assert (await api.gql(ORG_RATING, {"id": org_id}, token=other))["data"]["organisationCreditRating"] is None
    refused = await api.gql(HISTORY, {"id": org_id}, token=other, expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_good_credit_entity_registers_without_a_deposit_and_a_lower_grade_still_pays(api, manual_clock):
    # given a draft lot asking 2% security whose tenderer waives it for grade A and halves it for grade B
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    rules = [
        {"grade": "A", "kind": "SECURITY_WAIVER"},
        {"grade": "B", "kind": "SECURITY_REDUCTION", "percent": 50},
    ]
    set_ = (await api.gql(INCENTIVES_SET, {"input": {"lotId": lot_id, "rules": rules}}, token=tenderer))["data"]
    assert set_["lotCreditIncentivesSet"]["__typename"] == "LotCreditIncentivesSet", set_
    await publish(api, tenderer, project, "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>守信激励。</p>")
    # and a commended bidder (grade A), a clean one (grade B) and one with a breach (grade C)
    good_id, _, good = await f.approved_org(api, operator)
    await commended(api, operator, good_id)
    _, _, clean = await f.approved_org(api, operator)
    bad_id, _, bad = await f.approved_org(api, operator)
    await api.gql(f.CREDIT_RECORD, {"input": {**f.credit_record(bad_id), "category": "违约"}}, token=operator)
    # when all three register
    for token in (good, clean, bad):
        await commit_over_api(api, token, lot_id, "registration")
    a = await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=good)
    b = await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=clean)
    c = await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=bad)
    a, b, c = (r["data"]["lotRegister"] for r in (a, b, c))
    # then the grade-A entity owes nothing: no deposit account, its security in place
    assert a["__typename"] == "LotRegistered", a
    assert a["registration"]["deposit"] is None
    assert a["registration"]["securityInPlace"] is True
    relief = (await api.gql(RELIEF, {"lotId": lot_id}, token=good))["data"]["mySecurityRelief"]
    assert relief == {
        "grade": "A",
        "kind": "SECURITY_WAIVER",
        "percent": 100,
        "baseFenn": 25_600_000,
        "amountDueFen": 0,
    }
    # the grade-B entity owes half, the grade-C entity the whole security, neither in place yet
    assert b["registration"]["deposit"]["amountDueFen"] == 12_800_000
    assert c["registration"]["deposit"]["amountDueFen"] == 25_600_000
    assert b["registration"]["securityInPlace"] is c["registration"]["securityInPlace"] is False
    assert (await api.gql(RELIEF, {"lotId": lot_id}, token=bad))["data"]["mySecurityRelief"] is None
    # and the incentives are public with the published lot
    public = (await api.gql(INCENTIVES, {"lotId": lot_id}))["data"]["lotCreditIncentives"]
    assert public == [
        {"grade": "A", "kind": "SECURITY_WAIVER", "percent": 100},
        {"grade": "B", "kind": "SECURITY_REDUCTION", "percent": 50},
    ]


async def test_incentives_are_locked_once_published_and_tie_breaks_only_where_documents_decide(api, manual_clock):
    # given a published lot and a draft listing
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    await publish(api, tenderer, project, "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>已发布。</p>")
    waiver = [{"grade": "A", "kind": "SECURITY_WAIVER"}]
    # when the tenderer sets incentives on the published lot
    late = (await api.gql(INCENTIVES_SET, {"input": {"lotId": lot_id, "rules": waiver}}, token=tenderer))["data"]
    # then it is refused and nothing is set
    assert late["lotCreditIncentivesSet"]["code"] == "CREDIT_INCENTIVES_LOCKED"
    assert (await api.gql(INCENTIVES, {"lotId": lot_id}))["data"]["lotCreditIncentives"] == []
    # and a tie-break priority on a listing is refused with the reason, on a tender accepted
    ends = (manual_clock.now() + timedelta(days=31)).isoformat()
    listing = {
        "name": "青岛市某国有企业闲置厂房产权转让",
        "category": "STATE_OWNED_PROPERTY",
        "regionCode": "370211",
        "lots": [
            {
                "name": "1号厂房",
                "procedure": "LISTING",
                "estimatedPriceFen": 500_000_000,
                "config": {"bidDeadline": ends},
            }
        ],
    }
    made = (await api.gql(PROJECT_CREATE, {"input": listing}, token=tenderer))["data"]["projectCreate"]
    tie = [{"grade": "A", "kind": "TIE_BREAK_PRIORITY"}]
    refused = (
        await api.gql(
            INCENTIVES_SET, {"input": {"lotId": made["project"]["lots"][0]["id"], "rules": tie}}, token=tenderer
        )
    )["data"]["lotCreditIncentivesSet"]
    assert refused["__typename"] == "TieBreakNotAllowed", refused
    assert "price" in refused["basis"] or "报价" in refused["basis"]
    other, tenderer2 = await draft_lot(api, manual_clock, operator)
    accepted = (
        await api.gql(INCENTIVES_SET, {"input": {"lotId": other["lots"][0]["id"], "rules": tie}}, token=tenderer2)
    )["data"]["lotCreditIncentivesSet"]
    assert accepted["rules"] == [{"grade": "A", "kind": "TIE_BREAK_PRIORITY", "percent": 0}]
