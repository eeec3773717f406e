"""Abnormal evaluation alerts (专家评审异常行为, Wuhan 二(四)4) over HTTP: one member scores every bid far from the
rest of the committee; the report raises an EXPERT_OUTLIER alert with the evidence naming that member, in the
supervisors' alert queue, seen by the supervisor of the lot's category and by no other supervisor, bidder or
expert. The committee took its time (twenty minutes from opening the bids), so nothing is raised for speed; a
committee that hands its sheets in as soon as it opened the bids is flagged EXPERT_TOO_FAST. One member who puts the
same bidder first in three lots where the committee ranked another first is flagged EXPERT_FAVOURITISM at the third
lot's report, naming the member, the bidder and the three lots, to the supervisor of the category only."""

from __future__ import annotations

import json
from typing import Any

from domain.common.actors import Actor, Role
from domain.common.clock import ManualClock
from schema.relay import to_global_id
from tests.schema.test_scoring import BIDS, START, expert, sheet, token
from tests.support.tendering import OPERATOR, Tender, evaluating_tender

ALERTS = """query($lotId: ID) { collusionAlerts(lotId: $lotId, first: 20) { edges { node {
  signal status category evidenceJson } } } }"""


def supervisor_of(api: Any, user: int, category: str) -> str:
    actor = Actor(
        user_id=user, org_id=user, roles=frozenset({Role.SUPERVISOR}), supervised_categories=frozenset({category})
    )
    return token(api, actor)


def points(bids: list[dict[str, Any]], technical: list[int]) -> list[dict[str, Any]]:
    return [
        {"sealedBidId": b["sealedBidId"], "compliant": True, "technicalCenti": t, "commercialCenti": 1500}
        for b, t in zip(bids, technical, strict=True)
    ]


async def alerts_seen(api: Any, who: str, lot_id: str) -> list[dict[str, Any]]:
    body = await api.gql(ALERTS, {"lotId": lot_id}, token=who, expect_errors=True)
    if body.get("errors"):
        return [{"refused": body["errors"][0]["extensions"]["code"]}]
    return [e["node"] for e in body["data"]["collusionAlerts"]["edges"]]


async def evaluate(api: Any, t: Tender, clock: ManualClock, sheets: list[list[int]], minutes: int) -> str:
    lot_id = to_global_id("Lot", t.lot.id)
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=token(api, OPERATOR)))["data"]
    assert started["evaluationStart"]["__typename"] == "EvaluationStarted", started
    members = [expert(api, e) for e in t.committee]
    bids = []
    for who in members:  # every member opens the bids
        bids = (await api.gql(BIDS, {"lotId": lot_id}, token=who))["data"]["evaluationBids"]
    clock.advance(minutes=minutes)
    members = [expert(api, e) for e in t.committee]  # access tokens last 15 minutes
    for who, technical in zip(members, sheets, strict=True):
        done = await sheet(api, who, lot_id, points(bids, technical))
        assert done["__typename"] == "ScoreSheetSubmitted", done
    await api.dispatch()
    return lot_id


async def test_an_expert_scoring_far_from_the_committee_is_flagged_to_the_supervisor_of_the_category(api, manual_clock):
    # given a tender of the engineering category with three valid bids and its committee
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 765_000_00])

    # when four members score close together and the fifth far below them, twenty minutes after opening the bids
    close = [[4000, 3600, 3800], [4100, 3700, 3900], [3900, 3500, 3700], [4050, 3650, 3850]]
    lot_id = await evaluate(api, t, manual_clock, [*close, [1000, 900, 950]], minutes=20)
    right = supervisor_of(api, 7, "engineering_construction")
    other = supervisor_of(api, 8, "government_procurement")
    bidder = token(api, t.bidders[0].actor)
    member = expert(api, t.committee[0])
    seen = await alerts_seen(api, right, lot_id)
    elsewhere = await alerts_seen(api, other, lot_id)
    by_bidder = await alerts_seen(api, bidder, lot_id)
    by_expert = await alerts_seen(api, member, lot_id)

    # then the supervisor of the category sees one outlier alert naming the fifth member, with the figures
    assert [a["signal"] for a in seen] == ["EXPERT_OUTLIER"], seen
    assert (seen[0]["status"], seen[0]["category"]) == ("NEW", "engineering_construction")
    evidence = json.loads(seen[0]["evidenceJson"])
    [flagged] = evidence["experts"]
    assert flagged["expertId"] == t.committee[4]
    assert (len(flagged["bids"]), flagged["ofBids"]) == (3, 3)
    assert all(abs(b["points"] - b["median"]) > 1000 for b in flagged["bids"])
    assert evidence["thresholds"]["outlier_min_centi"] == 1000
    # and no one else does
    assert elsewhere == []
    assert by_bidder == [{"refused": "FORBIDDEN"}]
    assert by_expert == [{"refused": "FORBIDDEN"}]


async def test_sheets_handed_in_as_soon_as_the_bids_were_opened_are_flagged_too_fast(api, manual_clock):
    # given a committee that hands its sheets in one minute after opening three bids (under 5 minutes a bid)
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 765_000_00])
    right = supervisor_of(api, 7, "engineering_construction")

    # when
    close = [[4000, 3600, 3800], [4100, 3700, 3900], [3900, 3500, 3700], [4050, 3650, 3850], [4000, 3650, 3800]]
    lot_id = await evaluate(api, t, manual_clock, close, minutes=1)
    seen = await alerts_seen(api, right, lot_id)

    # then
    assert [a["signal"] for a in seen] == ["EXPERT_TOO_FAST"], seen
    evidence = json.loads(seen[0]["evidenceJson"])
    assert sorted(e["expertId"] for e in evidence["experts"]) == sorted(t.committee)
    assert {(e["seconds"], e["minimumSeconds"], e["openedBids"]) for e in evidence["experts"]} == {(60, 900, True)}


async def test_an_expert_favouring_the_same_bidder_against_the_committee_in_three_lots_is_flagged_at_the_third(
    api, manual_clock
):
    # given a pool of five experts (every lot's committee) and three bidders who bid on each of three tenders; the
    # first bidder's price is the highest, so the committee ranks the cheapest (the second) first
    prices = [800_000_00, 700_000_00, 765_000_00]
    first = await evaluating_tender(manual_clock, prices, pool=5)
    favouring = first.committee[0]
    bidders = [b.org for b in first.bidders]
    favoured = bidders[0].id
    lots: list[str] = []
    lot_ids: list[int] = []
    raised: list[list[str]] = []
    t = first
    for n in range(3):
        if n:
            t = await evaluating_tender(manual_clock, prices, pool=0, bidders=bidders)
        assert sorted(t.committee) == sorted(first.committee)
        # when the member puts the first bidder ahead, a little (no outlier), and the others put the second ahead
        sheets = [[4000, 3800, 3900] if m == favouring else [3800, 4000, 3900] for m in t.committee]
        lots.append(await evaluate(api, t, manual_clock, sheets, minutes=20))
        lot_ids.append(t.lot.id)
        right = supervisor_of(api, 7, "engineering_construction")
        raised.append([a["signal"] for a in await alerts_seen(api, right, lots[-1])])

    right = supervisor_of(api, 7, "engineering_construction")
    other = supervisor_of(api, 8, "government_procurement")
    seen = await alerts_seen(api, right, lots[2])
    elsewhere = [await alerts_seen(api, other, lot) for lot in lots]

    # then nothing at the first two lots; at the third one alert naming the member, the bidder and the three lots
    assert raised == [[], [], ["EXPERT_FAVOURITISM"]], raised
    assert (seen[0]["status"], seen[0]["category"]) == ("NEW", "engineering_construction")
    evidence = json.loads(seen[0]["evidenceJson"])
    assert evidence["experts"] == [{"expertId": favouring, "organisationId": favoured, "lots": sorted(lot_ids)}]
    assert evidence["thresholds"]["favour_min_lots"] == 3
    # and the supervisor of another category sees none of it
    assert elsewhere == [[], [], []]
