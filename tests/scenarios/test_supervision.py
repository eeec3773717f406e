"""Supervision from phones: collusion alerts to the category's supervisors, trading statistics, and a lot's
evidence package."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.common import chronograph
from domain.common.events import canonical_json
from domain.publication.models import Announcement, Lot, Project
from domain.results.models import Award
from domain.supervision import evidence
from domain.tendering.models import Opening
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.domain.factories import organisation
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_sealed_bids import SUBMIT, registered_bidder, sealed_lot

DECRYPT = """mutation($input: BidDecryptInput!) { bidDecrypt(input: $input) {
  __typename ... on Error { code message } } }"""
ALERTS = """query($status: CollusionAlertStatus) { collusionAlerts(status: $status, first: 20) { edges { node {
  id lotId signal status category organisations { id name } evidenceJson history { fromStatus toStatus note } } } } }"""
UPDATE = """mutation($input: CollusionAlertUpdateInput!) { collusionAlertUpdate(input: $input) {
  __typename ... on CollusionAlertUpdated { alert { status history { note } } } ... on Error { code message } } }"""
INBOX = "query { myNotifications(first: 20) { edges { node { kind title body objectType objectId } } } }"
ORG = "query { me { organisation { id } } }"


async def other_supervisor_phone(api: Any, operator: str) -> str:
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=["GOVERNMENT_PROCUREMENT"])
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    return str(form["phone"])


async def opened_lot_with_one_phone_for_two_bidders(api: Any, manual_clock: Any) -> dict[str, Any]:
    """A sealed tender whose first two bidders submit and decrypt from one device, at near-identical prices."""
    operator = await f.operator_token(api)
    watching = await supervisor_phone(api, operator)
    elsewhere = await other_supervisor_phone(api, operator)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(3)]
    devices = ["phone-7f3a", "phone-7f3a", "phone-0c41"]
    prices = [1_250_000_000, 1_250_800_000, 1_120_000_000]
    keys = [new_key() for _ in bidders]
    for (_, token), device, price, key in zip(bidders, devices, prices, keys, strict=True):
        sealed = seal(key, lot["tradeCode"], price, {"商务标.pdf": device.encode() + str(price).encode()})
        body = await api.gql(
            SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed}}, token=token, headers={"X-Device-Id": device}
        )
        assert body["data"]["bidSubmit"]["__typename"] == "BidSubmitted", body
    await api.dispatch()
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    orgs = []
    for (phone, _), device, key in zip(bidders, devices, keys, strict=True):
        token = await f.login(api, phone)
        orgs.append((await api.gql(ORG, token=token))["data"]["me"]["organisation"]["id"])
        sent = await api.gql(
            DECRYPT, {"input": {"lotId": lot["id"], "key": key}}, token=token, headers={"X-Device-Id": device}
        )
        assert sent["data"]["bidDecrypt"]["__typename"] == "BidDecrypted", sent
    manual_clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()
    await api.dispatch()
    return {
        "lot": lot,
        "orgs": orgs,
        "prices": prices,
        "bidders": bidders,
        "watching": watching,
        "elsewhere": elsewhere,
    }


async def test_two_bidders_on_one_phone_raise_an_alert_to_the_categorys_supervisor_only(api, manual_clock):
    # given a closed opening where two bidders used one phone and bid within 0.1% of each other
    seen = await opened_lot_with_one_phone_for_two_bidders(api, manual_clock)
    lot, orgs, prices = seen["lot"], seen["orgs"], seen["prices"]
    # when the supervisors of engineering construction and of government procurement look
    supervisor = await f.login(api, seen["watching"])
    other = await f.login(api, seen["elsewhere"])
    queue = (await api.gql(ALERTS, {"status": "NEW"}, token=supervisor))["data"]["collusionAlerts"]["edges"]
    others = (await api.gql(ALERTS, token=other))["data"]["collusionAlerts"]["edges"]
    inbox = (await api.gql(INBOX, token=supervisor))["data"]["myNotifications"]["edges"]
    other_inbox = (await api.gql(INBOX, token=other))["data"]["myNotifications"]["edges"]
    bidder = await f.login(api, seen["bidders"][2][0])
    refused = await api.gql(ALERTS, token=bidder, expect_errors=True)
    # then the right supervisor has an alert for one device, with the two bidders and their prices as evidence
    alerts = {a["node"]["signal"]: a["node"] for a in queue}
    assert "SAME_DEVICE" in alerts, alerts
    device = alerts["SAME_DEVICE"]
    assert device["lotId"] == lot["id"]
    assert device["category"] == "engineering_construction"
    assert sorted(o["id"] for o in device["organisations"]) == sorted(orgs[:2])
    (finding,) = json.loads(device["evidenceJson"])
    assert finding["device_id"] == "phone-7f3a"
    assert sorted(finding["pricesFen"].values()) == prices[:2]
    assert {act["action"] for act in finding["acts"]} == {"sealed_bid.submit", "opening.decrypt"}
    assert (prices[1] - prices[0]) / prices[1] < 0.001
    kinds = [n["node"]["kind"] for n in inbox]
    assert "COLLUSION_ALERT" in kinds
    notice = next(n["node"] for n in inbox if n["node"]["kind"] == "COLLUSION_ALERT")
    assert lot["tradeCode"] in notice["body"]
    # and not the other category's supervisor, nor a bidder
    assert others == []
    assert "COLLUSION_ALERT" not in [n["node"]["kind"] for n in other_inbox]
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # when the supervisor takes it up, then refers it; a dismissal after that is refused
    step = {
        "alertId": device["id"],
        "status": "INVESTIGATING",
        "note": "调取两家投标人的设备登记信息",
        "idempotencyKey": "a-1",
    }
    taken = (await api.gql(UPDATE, {"input": step}, token=supervisor))["data"]["collusionAlertUpdate"]
    replay = (await api.gql(UPDATE, {"input": step}, token=supervisor))["data"]["collusionAlertUpdate"]
    referred = {"alertId": device["id"], "status": "REFERRED", "note": "移送公安机关"}
    done = (await api.gql(UPDATE, {"input": referred}, token=supervisor))["data"]["collusionAlertUpdate"]
    late = {"alertId": device["id"], "status": "DISMISSED", "note": "撤销"}
    refused_move = (await api.gql(UPDATE, {"input": late}, token=supervisor))["data"]["collusionAlertUpdate"]
    foreign = (await api.gql(UPDATE, {"input": referred}, token=other))["data"]["collusionAlertUpdate"]
    # then
    assert taken["alert"]["status"] == "INVESTIGATING"
    assert replay == taken
    assert done["alert"]["history"] == [{"note": "调取两家投标人的设备登记信息"}, {"note": "移送公安机关"}]
    assert refused_move["code"] == "ALERT_TRANSITION_NOT_ALLOWED"
    assert foreign["code"] == "NOT_FOUND"


# ---------------------------------------------------------------- statistics

STATS = """query($period: StatisticsPeriod!, $from: Date!, $to: Date!) {
  tradingStatistics(period: $period, startsOn: $from, endsOn: $to) {
    period category regionCode lots awarded failed failureRate amountFen averageBidders estimateFen savingsFen
    savingsRate averageDaysToAward } }"""
STATS_CSV = (
    """query($from: Date!, $to: Date!) { tradingStatisticsCsv(period: QUARTER, startsOn: $from, endsOn: $to) }"""
)
BJ = ZoneInfo("Asia/Shanghai")
EC, GP = "engineering_construction", "government_procurement"
# (category, region, tender published, concluded, outcome, estimate, price, bids), Beijing time
SEEDED = [
    (
        EC,
        "370211",
        datetime(2026, 1, 5, 10, tzinfo=BJ),
        datetime(2026, 2, 10, 9, tzinfo=BJ),
        "result",
        100_000_000,
        95_000_000,
        4,
    ),
    (
        EC,
        "370211",
        datetime(2026, 1, 20, 9, tzinfo=BJ),
        datetime(2026, 3, 15, 16, tzinfo=BJ),
        "result",
        200_000_000,
        190_000_000,
        3,
    ),
    (
        EC,
        "370211",
        datetime(2026, 2, 1, 9, tzinfo=BJ),
        datetime(2026, 2, 25, 9, tzinfo=BJ),
        "termination",
        80_000_000,
        0,
        2,
    ),
    (
        EC,
        "370202",
        datetime(2025, 12, 20, 9, tzinfo=BJ),
        datetime(2026, 1, 8, 8, 30, tzinfo=BJ),
        "result",
        50_000_000,
        51_000_000,
        5,
    ),
    (
        GP,
        "370211",
        datetime(2026, 1, 2, 9, tzinfo=BJ),
        datetime(2026, 3, 1, 9, tzinfo=BJ),
        "result",
        30_000_000,
        27_000_000,
        6,
    ),
    (
        EC,
        "370211",
        datetime(2026, 2, 2, 9, tzinfo=BJ),
        datetime(2026, 4, 2, 9, tzinfo=BJ),
        "result",
        70_000_000,
        60_000_000,
        3,
    ),
    (
        EC,
        "370211",
        datetime(2025, 11, 2, 9, tzinfo=BJ),
        datetime(2025, 12, 31, 23, 30, tzinfo=BJ),
        "result",
        10_000_000,
        9_000_000,
        3,
    ),
]


async def seed_concluded_lots() -> None:
    """Lots with their tender and result (or termination) announcements, awards and openings, as stored."""
    tenderer = await organisation(kinds=["tenderer"])
    for n, (category, region, announced, concluded, outcome, estimate, price, bids) in enumerate(SEEDED):
        code = f"SEED{n:04d}{secrets.token_hex(4)}"
        project = await Project.create(
            trade_code=code,
            name=f"统计项目{n}",
            category=category,
            region_code=region,
            tenderer_id=tenderer.id,
            created_at=announced,
        )
        lot = await Lot.create(
            project=project,
            lot_no=1,
            trade_code=code + "L1",
            name="第1标段",
            procedure="open_tender",
            estimated_price_fen=estimate,
            config={},
            status="awarded" if outcome == "result" else "terminated",
            created_at=announced,
            updated_at=concluded,
        )
        for kind, at in (("tender", announced), (outcome, concluded)):
            await Announcement.create(
                project=project,
                lot=lot,
                trade_code=lot.trade_code,
                type=kind,
                status="published",
                title=kind,
                body_html="<p>-</p>",
                body_text="-",
                search_text="-",
                category=category,
                region_code=region,
                published_at=at,
                created_at=at,
            )
        await Opening.create(
            lot=lot, status="closed", deadline=announced, bids=bids, created_at=announced, updated_at=announced
        )
        if outcome == "result":
            await Award.create(
                lot=lot,
                candidate_id=0,
                organisation_id=tenderer.id,
                price_fen=price,
                confirmation_no=code,
                status="awarded",
                awarded_at=concluded,
                contract_due_at=concluded,
                updated_at=concluded,
            )


def expected_quarter(categories: set[str]) -> list[dict[str, Any]]:
    """The figures of 2026-Q1 worked out from SEEDED by hand's rules, without the service."""
    groups: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for seed in SEEDED:
        category, region, _, concluded, *_ = seed
        if category in categories and datetime(2026, 1, 1, tzinfo=BJ) <= concluded < datetime(2026, 4, 1, tzinfo=BJ):
            groups.setdefault((category, region), []).append(seed)
    rows = []
    for (category, region), seeds in sorted(groups.items()):
        won = [s for s in seeds if s[4] == "result"]
        estimate = sum(s[5] for s in won)
        savings = sum(s[5] - s[6] for s in won)
        days = [(s[3] - s[2]).total_seconds() / 86400 for s in won]
        rows.append(
            {
                "period": "2026-Q1",
                "category": category.upper(),
                "regionCode": region,
                "lots": len(seeds),
                "awarded": len(won),
                "failed": len(seeds) - len(won),
                "failureRate": round((len(seeds) - len(won)) / len(seeds), 4),
                "amountFen": sum(s[6] for s in won),
                "averageBidders": round(sum(s[7] for s in seeds) / len(seeds), 2),
                "estimateFen": estimate,
                "savingsFen": savings,
                "savingsRate": round(savings / estimate, 4),
                "averageDaysToAward": round(sum(days) / len(days), 2),
            }
        )
    return rows


async def test_statistics_of_a_seeded_quarter_match_figures_worked_out_by_hand(api):
    # given lots concluded in and around the first quarter of 2026, in two categories and two regions
    await seed_concluded_lots()
    operator = await f.operator_token(api)
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    bidder = (await f.approved_org(api, operator))[2]
    quarter = {"period": "QUARTER", "from": "2026-01-01", "to": "2026-04-01"}
    # when the supervisor of engineering construction and an operator ask for the quarter
    mine = (await api.gql(STATS, quarter, token=supervisor))["data"]["tradingStatistics"]
    everything = (await api.gql(STATS, quarter, token=operator))["data"]["tradingStatistics"]
    months = (await api.gql(STATS, {**quarter, "period": "MONTH"}, token=supervisor))["data"]["tradingStatistics"]
    text = (await api.gql(STATS_CSV, {"from": "2026-01-01", "to": "2026-04-01"}, token=supervisor))["data"]
    refused = await api.gql(STATS, quarter, token=bidder, expect_errors=True)
    anonymous = await api.gql(STATS, quarter, expect_errors=True)
    # then the figures are those worked out independently: the supervisor's category only, the operator all
    assert mine == expected_quarter({EC})
    assert everything == expected_quarter({EC, GP})
    assert mine[1]["failureRate"] == round(1 / 3, 4)
    assert mine[1]["averageDaysToAward"] == round(((36 * 24 - 1) / 24 + (54 * 24 + 7) / 24) / 2, 2)
    assert [(m["period"], m["regionCode"], m["lots"]) for m in months] == [
        ("2026-01", "370202", 1),
        ("2026-02", "370211", 2),
        ("2026-03", "370211", 1),
    ]
    lines = text["tradingStatisticsCsv"].splitlines()
    assert lines[0].startswith("period,category,region_code,lots,awarded,failed,failure_rate,amount_fen")
    assert lines[1:] == [
        ",".join(str(v) for v in ["2026-Q1", EC, r["regionCode"], *list(r.values())[3:]]) for r in mine
    ]
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# ---------------------------------------------------------------- audit and evidence

TRAIL = """query($lotId: ID!, $after: String) { lotAuditTrail(lotId: $lotId, first: 5, after: $after) {
  edges { node { seq action objectType hash } } pageInfo { hasNextPage endCursor } } }"""
PACKAGE = "query($lotId: ID!) { evidencePackage(lotId: $lotId) { jws sha256 kid auditEntries } }"
VERIFY = """query($jws: String!) { evidencePackageVerify(jws: $jws) {
  ok reason lotId auditEntries firstEntryOffChain } }"""


async def test_a_supervisor_pages_a_lots_trail_and_takes_an_evidence_package_that_verifies(api, manual_clock):
    # given a closed opening, its events on the audit trail
    seen = await opened_lot_with_one_phone_for_two_bidders(api, manual_clock)
    lot_id = seen["lot"]["id"]
    supervisor = await f.login(api, seen["watching"])
    other = await f.login(api, seen["elsewhere"])
    # when the supervisor pages through the lot's trail and takes its evidence
    trail, after = [], None
    while True:
        page = (await api.gql(TRAIL, {"lotId": lot_id, "after": after}, token=supervisor))["data"]["lotAuditTrail"]
        trail += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    made = (await api.gql(PACKAGE, {"lotId": lot_id}, token=supervisor))["data"]["evidencePackage"]
    checked = (await api.gql(VERIFY, {"jws": made["jws"]}, token=supervisor))["data"]["evidencePackageVerify"]
    header, payload, signature = made["jws"].split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    content["bidReceipts"][0]["sha256"] = "0" * 64
    forged = ".".join([header, base64.urlsafe_b64encode(canonical_json(content)).decode().rstrip("="), signature])
    tampered = (await api.gql(VERIFY, {"jws": forged}, token=supervisor))["data"]["evidencePackageVerify"]
    jwks = (await api.http.get("/.well-known/jwks.json")).json()
    hidden = (await api.gql(PACKAGE, {"lotId": lot_id}, token=other))["data"]["evidencePackage"]
    # then the trail holds the lot's story newest first, the package verifies online and offline, a forgery does not
    actions = [e["action"] for e in trail]
    assert {"registration.created", "sealed_bid.submitted", "opening.started", "opening.closed"} <= set(actions)
    assert [e["seq"] for e in trail] == sorted((e["seq"] for e in trail), reverse=True)
    assert checked == {
        "ok": True,
        "reason": None,
        "lotId": lot_id,
        "auditEntries": made["auditEntries"],
        "firstEntryOffChain": None,
    }
    offline = evidence.verify_package(made["jws"], jwks)
    assert sorted(e["hash"] for e in offline["auditTrail"]) == sorted(e["hash"] for e in trail)
    assert made["kid"] in {k["kid"] for k in jwks["keys"]}
    assert tampered["ok"] is False
    assert "signature" in tampered["reason"]
    assert hidden is None
