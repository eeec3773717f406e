"""Platform evaluation (第三方评价): once a lot's trading has ended, its tenderer, its agency and its bidders rate
the platform's service (and the agency's), once each and changeable for 15 days; operators and supervisors read
averages by period, category and agency, and nobody but the rater sees who rated what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import clock
from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_registration import register
from tests.scenarios.test_supervision import category_supervisor_phone

RATE = """mutation($input: PlatformRateInput!) { platformRate(input: $input) {
  __typename ... on PlatformRated { rating { id raterRole comment platform { convenience support }
      agency { professionalism conduct } editableUntil } }
  ... on FieldError { field } ... on Error { code message } } }"""
REPORT = """query($from: Date!, $to: Date!) { platformRatingReport(period: MONTH, startsOn: $from, endsOn: $to) {
  category agencyId ratings agencyRatings platform { convenience efficiency transparency support }
  agency { professionalism efficiency conduct } } }"""
SUMMARY = "query { myAgencyRatingSummary { ratings averages { professionalism efficiency conduct } } }"
MINE = "query($lotId: ID!) { myPlatformRating(lotId: $lotId) { raterRole comment } }"


def scores(stars: int) -> dict[str, int]:
    return {"convenience": stars, "efficiency": stars, "transparency": stars, "support": stars}


def agency_scores(stars: int) -> dict[str, int]:
    return {"professionalism": stars, "efficiency": stars, "conduct": stars}


async def rate(api: Any, token: str, lot_id: str, platform: int, agency: int | None, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"lotId": lot_id, "platform": scores(platform), **extra}
    if agency is not None:
        form["agency"] = agency_scores(agency)
    return (await api.gql(RATE, {"input": form}, token=token))["data"]["platformRate"]  # type: ignore[no-any-return]


async def test_participants_rate_an_ended_lot_and_only_aggregates_are_read(api, manual_clock):
    # given a lot an agency published for a tenderer, with two registered bidders and a bystander
    operator = await f.operator_token(api)
    tenderer_org, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    agency_org, agency_phone, agency = await f.approved_org(api, operator, kinds=["AGENCY"])
    form = {**road_project(manual_clock.now() + timedelta(days=25)), "tendererId": tenderer_org}
    project = (await api.gql(PROJECT_CREATE, {"input": form}, token=agency))["data"]["projectCreate"]["project"]
    await publish(api, agency, project, "TENDER", "道路维修工程施工招标公告", "<p>招标。</p>")
    lot_id = project["lots"][0]["id"]
    orgs = [await f.approved_org(api, operator) for _ in range(3)]
    bidders = [token for _, _, token in orgs]
    for token in bidders[:2]:
        assert (await register(api, token, lot_id))["__typename"] == "LotRegistered"

    # when a bidder rates while the lot is still open
    early = await rate(api, bidders[0], lot_id, 5, 5)

    # then it is too early
    assert early["code"] == "INVALID_TRANSITION", early

    # when the lot is terminated and its participants rate it, the first bidder with a hostile comment
    await publish(api, agency, project, "TERMINATION", "道路维修工程终止公告", "<p>终止。</p>")
    first = await rate(
        api, bidders[0], lot_id, 2, 3, comment="<script>alert(1)</script><b>客服</b>不接电话，我的手机13712345678"
    )
    second = await rate(api, bidders[1], lot_id, 4, 5)
    by_tenderer = await rate(api, tenderer, lot_id, 5, 4)
    by_agency = await rate(api, agency, lot_id, 3, None)

    # then each is stored once per organisation, the comment as plain text with the number masked
    assert [r["__typename"] for r in (first, second, by_tenderer, by_agency)] == ["PlatformRated"] * 4
    assert first["rating"]["comment"] == "客服不接电话，我的手机137****5678"
    assert [r["rating"]["raterRole"] for r in (first, by_tenderer, by_agency)] == ["bidder", "tenderer", "agency"]
    assert by_agency["rating"]["agency"] is None

    # and wrong forms, strangers and the agency rating itself are refused
    assert (await rate(api, bidders[1], lot_id, 4, None))["field"] == "agency"
    assert (await rate(api, agency, lot_id, 4, 5))["field"] == "agency"
    assert (await rate(api, bidders[1], lot_id, 6, 5))["field"] == "platform"
    assert (await rate(api, bidders[2], lot_id, 5, 5))["code"] == "PERMISSION_DENIED"

    # when the first bidder changes its mind within the window
    changed = await rate(api, bidders[0], lot_id, 3, 3)

    # then the change replaced the rating
    assert changed["rating"]["id"] == first["rating"]["id"]
    assert changed["rating"]["comment"] is None

    # and operators and the category's supervisor read averages only, without raters
    supervisor = await f.login(api, await category_supervisor_phone(api, operator, "ENGINEERING_CONSTRUCTION"))
    elsewhere = await f.login(api, await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT"))
    today = clock.today()
    month = {"from": (today - timedelta(days=40)).isoformat(), "to": (today + timedelta(days=40)).isoformat()}
    seen = (await api.gql(REPORT, month, token=operator))["data"]["platformRatingReport"]
    assert seen == [
        {
            "category": "ENGINEERING_CONSTRUCTION",
            "agencyId": agency_org,
            "ratings": 4,
            "agencyRatings": 3,
            "platform": {"convenience": 3.75, "efficiency": 3.75, "transparency": 3.75, "support": 3.75},
            "agency": {"professionalism": 4.0, "efficiency": 4.0, "conduct": 4.0},
        }
    ]
    assert (await api.gql(REPORT, month, token=supervisor))["data"]["platformRatingReport"] == seen
    assert (await api.gql(REPORT, month, token=elsewhere))["data"]["platformRatingReport"] == []
    for outsider in (bidders[2], None):
        refused = await api.gql(REPORT, month, token=outsider, expect_errors=True)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}

    # and the agency reads its own averages (three ratings, none traceable), not any single rating of it
    agency = await f.login(api, agency_phone)
    summary = (await api.gql(SUMMARY, token=agency))["data"]["myAgencyRatingSummary"]
    assert summary == {"ratings": 3, "averages": {"professionalism": 4.0, "efficiency": 4.0, "conduct": 4.0}}
    assert (await api.gql(MINE, {"lotId": lot_id}, token=agency))["data"]["myPlatformRating"] == {
        "raterRole": "agency",
        "comment": None,
    }

    # when it tries again after the 15 days
    manual_clock.advance(timedelta(days=16))
    late = await rate(api, await f.login(api, orgs[0][1]), lot_id, 1, 1)  # signed in again: old tokens expired

    # then the rating is locked
    assert late["code"] == "RATING_LOCKED", late
