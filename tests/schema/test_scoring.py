"""Evaluation over HTTP: the operator starts it, experts read the bids and hand in sheets (refusals as
typed errors), the last sheet makes the report; who sees what of it."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from domain.common.actors import Actor, Role
from domain.evaluation.models import Score
from schema.relay import to_global_id
from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE, road_project
from tests.support.tendering import OPERATOR, Tender, evaluating_tender

EVALUATION = """lotId method weights { price technical commercial } status members submitted reportedAt
  report { sha256 lowestCompliantPriceFen canonicalJson bids { sealedBidId bidder priceFen compliant compliantVotes
    priceScoreCenti technicalCenti commercialCenti totalCenti rank
    judgements { member expertId compliant reason technicalCenti commercialCenti } } }
  candidates { rank sealedBidId bidder priceFen scoreCenti }"""
START = f"""mutation($input: EvaluationStartInput!) {{ evaluationStart(input: $input) {{
  __typename ... on EvaluationStarted {{ evaluation {{ {EVALUATION} }} }} ... on Error {{ code message }} }} }}"""
SUBMIT = f"""mutation($input: EvaluationSheetSubmitInput!) {{ evaluationSheetSubmit(input: $input) {{
  __typename ... on ScoreSheetSubmitted {{ evaluation {{ {EVALUATION} }} sheet {{ entries {{ sealedBidId }} }} }}
  ... on Error {{ code message }} ... on FieldError {{ field }} ... on PointsOutOfRange {{ maxCenti }}
  ... on ScoreSheetMismatch {{ missing unexpected }} }} }}"""
QUERY = f"query($lotId: ID!) {{ evaluation(lotId: $lotId) {{ {EVALUATION} }} }}"
BIDS = """query($lotId: ID!) { evaluationBids(lotId: $lotId) {
  sealedBidId organisationId bidder priceFen documents { name sha256 } submittedAt } }"""
MINE = """query($lotId: ID!) { myScoreSheet(lotId: $lotId) { submittedAt
  entries { sealedBidId compliant reason technicalCenti commercialCenti } } }"""
LOT = "query($id: ID!) { node(id: $id) { ... on Lot { config { evaluationMethod priceWeight technicalWeight } } } }"


def token(api: Any, actor: Actor) -> str:
    if actor.expert_id is not None:
        return api.services.keyring.issue(f"expert:{actor.expert_id}", {"roles": ["expert"]})[0]  # type: ignore[no-any-return]
    claims = {"org": actor.org_id, "roles": [r.value for r in actor.roles], "cats": sorted(actor.supervised_categories)}
    return api.services.keyring.issue(f"user:{actor.user_id}", claims)[0]  # type: ignore[no-any-return]


def expert(api: Any, expert_id: int) -> str:
    return token(api, Actor(expert_id=expert_id))


def entries(bids: list[dict[str, Any]], technical: int = 4000, **changes: Any) -> list[dict[str, Any]]:
    sheet = [
        {"sealedBidId": b["sealedBidId"], "compliant": True, "technicalCenti": technical, "commercialCenti": 1500}
        for b in bids
    ]
    for key, value in changes.items():
        index, _, name = key.partition("_")
        sheet[int(index.removeprefix("e"))][name] = value
    return sheet


async def sheet(api: Any, who: str, lot_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    body = await api.gql(SUBMIT, {"input": {"lotId": lot_id, "entries": items}}, token=who)
    return body["data"]["evaluationSheetSubmit"]  # type: ignore[no-any-return]


async def test_the_committee_evaluates_over_http_and_the_report_is_shown_as_each_may_see_it(api, manual_clock):
    # given a closed opening with three valid bids and a drawn committee (two more experts not on it)
    t: Tender = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00], pool=7)
    lot_id = to_global_id("Lot", t.lot.id)
    operator = token(api, OPERATOR)
    tenderer = token(api, t.tenderer)
    bidder = token(api, t.bidders[0].actor)
    supervisor = token(
        api,
        Actor(
            user_id=7,
            org_id=7,
            roles=frozenset({Role.SUPERVISOR}),
            supervised_categories=frozenset({"engineering_construction"}),
        ),
    )
    elsewhere = token(
        api,
        Actor(
            user_id=6,
            org_id=6,
            roles=frozenset({Role.SUPERVISOR}),
            supervised_categories=frozenset({"land_use_rights"}),
        ),
    )
    members = [expert(api, e) for e in t.committee]
    outsider = expert(api, next(e for e in t.pool if e not in t.committee))

    # when the tenderer tries to start it, then the operator does
    forbidden = await api.gql(START, {"input": {"lotId": lot_id}}, token=tenderer, expect_errors=True)
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    config = (await api.gql(LOT, {"id": lot_id}))["data"]["node"]["config"]

    # then
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert started["__typename"] == "EvaluationStarted", started
    assert (started["evaluation"]["method"], started["evaluation"]["status"]) == ("COMPREHENSIVE", "SCORING")
    assert started["evaluation"]["weights"] == {"price": 30, "technical": 50, "commercial": 20}
    assert (started["evaluation"]["members"], started["evaluation"]["submitted"]) == (5, 0)
    assert config == {"evaluationMethod": "COMPREHENSIVE", "priceWeight": 30, "technicalWeight": 50}

    # when the committee reads the bids, and others try
    bids = (await api.gql(BIDS, {"lotId": lot_id}, token=members[0]))["data"]["evaluationBids"]
    hidden = [
        (await api.gql(BIDS, {"lotId": lot_id}, token=who))["data"]["evaluationBids"]
        for who in (bidder, outsider, elsewhere)
    ]
    # then
    assert [b["priceFen"] for b in bids] == [800_000_00, 700_000_00, 750_000_00]
    assert all(len(b["documents"]) == 2 for b in bids)
    assert hidden == [[], [], []]

    # when sheets that are wrong are handed in
    missing = await sheet(api, members[0], lot_id, entries(bids)[:2])
    too_high = await sheet(api, members[0], lot_id, entries(bids, technical=5001))
    no_reason = await sheet(api, members[0], lot_id, entries(bids, e1_compliant=False))
    not_member = await sheet(api, outsider, lot_id, entries(bids))
    by_bidder = await api.gql(
        SUBMIT, {"input": {"lotId": lot_id, "entries": entries(bids)}}, token=bidder, expect_errors=True
    )
    # then each is its own error and nothing is stored
    assert (missing["code"], missing["missing"], missing["unexpected"]) == ("SCORE_SHEET_MISMATCH", 1, 0)
    assert (too_high["code"], too_high["field"], too_high["maxCenti"]) == (
        "POINTS_OUT_OF_RANGE",
        "entries.0.technicalCenti",
        5000,
    )
    assert (no_reason["code"], no_reason["field"]) == ("REASON_REQUIRED", "entries.1.reason")
    assert not_member["code"] == "NOT_COMMITTEE_MEMBER"
    assert by_bidder["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await Score.all().count() == 0

    # when every member hands in a sheet; the first rejects the cheapest bid, which the majority accepts
    rejecting = entries(bids, e1_compliant=False, e1_reason="报价偏低")
    first = await sheet(api, members[0], lot_id, rejecting)
    for who in members[1:-1]:
        await sheet(api, who, lot_id, entries(bids))
    mine = (await api.gql(MINE, {"lotId": lot_id}, token=members[0]))["data"]["myScoreSheet"]
    last = await sheet(api, members[-1], lot_id, entries(bids))

    # then the last answer carries the report and three candidates, the cheapest first
    assert first["__typename"] == "ScoreSheetSubmitted", first
    assert first["evaluation"]["submitted"] == 1
    assert first["evaluation"]["report"] is None
    assert [e["reason"] for e in mine["entries"]] == [None, "报价偏低", None]
    done = last["evaluation"]
    assert (done["status"], done["submitted"]) == ("REPORTED", 5)
    assert [(c["rank"], c["priceFen"]) for c in done["candidates"]] == [
        (1, 700_000_00),
        (2, 750_000_00),
        (3, 800_000_00),
    ]
    assert done["candidates"][0]["scoreCenti"] == 3000 + 4000 + 1500
    cheapest = next(b for b in done["report"]["bids"] if b["priceFen"] == 700_000_00)
    assert (cheapest["compliant"], cheapest["compliantVotes"]) == (True, 4)
    assert [j["member"] for j in cheapest["judgements"]] == [1, 2, 3, 4, 5]
    assert all(j["expertId"] is None for j in cheapest["judgements"])  # an expert's answer names nobody
    assert done["report"]["canonicalJson"] is None

    # and each caller sees what it may
    seen = {
        name: (await api.gql(QUERY, {"lotId": lot_id}, token=who))["data"]["evaluation"]
        for name, who in {
            "operator": operator,
            "supervisor": supervisor,
            "tenderer": tenderer,
            "elsewhere": elsewhere,
            "bidder": bidder,
            "outsider": outsider,
        }.items()
    }
    anonymous = (await api.gql(QUERY, {"lotId": lot_id}))["data"]["evaluation"]
    assert [seen["elsewhere"], seen["bidder"], seen["outsider"], anonymous] == [None] * 4
    assert seen["tenderer"]["candidates"] == done["candidates"]
    assert seen["tenderer"]["report"]["canonicalJson"] is None
    canonical = seen["operator"]["report"]["canonicalJson"]
    assert hashlib.sha256(canonical.encode()).hexdigest() == seen["operator"]["report"]["sha256"]
    assert seen["supervisor"]["report"]["bids"][0]["judgements"][0]["expertId"] == to_global_id(
        "Expert", t.committee[0]
    )

    # and after the report no sheet is taken
    late = await sheet(api, members[0], lot_id, entries(bids))
    assert late["code"] == "EVALUATION_FINISHED"


CONFIGURE = """mutation($input: LotConfigureInput!) { lotConfigure(input: $input) {
  __typename ... on LotConfigured { lot { config { evaluationMethod priceWeight technicalWeight commercialWeight } } }
  ... on Error { code message } ... on EvaluationWeightsNot100 { field total } } }"""


async def test_a_lot_is_created_and_configured_with_its_evaluation_settings(api, manual_clock):
    # given a tenderer creating a tender evaluated at the lowest price
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = manual_clock.now() + timedelta(days=25)
    form = road_project(deadline, config={"bidDeadline": deadline.isoformat(), "evaluationMethod": "LOWEST_PRICE"})
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    lot_id = created["project"]["lots"][0]["id"]
    # when the weights change, wrongly then rightly
    wrong = {"lotId": lot_id, "config": {"priceWeight": 60}}
    right = {"lotId": lot_id, "config": {"evaluationMethod": "COMPREHENSIVE", "priceWeight": 60, "technicalWeight": 20}}
    refused = (await api.gql(CONFIGURE, {"input": wrong}, token=tenderer))["data"]["lotConfigure"]
    done = (await api.gql(CONFIGURE, {"input": right}, token=tenderer))["data"]["lotConfigure"]
    # then
    assert (refused["code"], refused["field"], refused["total"]) == ("EVALUATION_WEIGHTS_NOT_100", "priceWeight", 130)
    assert done["lot"]["config"] == {
        "evaluationMethod": "COMPREHENSIVE",
        "priceWeight": 60,
        "technicalWeight": 20,
        "commercialWeight": 20,
    }
