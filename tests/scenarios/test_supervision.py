"""Supervision from phones: collusion alerts to the category's supervisors (after an opening and after an
auction), trading statistics, and a lot's evidence package."""

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
from schema.relay import from_global_id
from tests import factories as f
from tests.domain.factories import organisation
from tests.scenarios import test_auction as auctions
from tests.scenarios.test_auction import RESYNC, START_PRICE, STATE, STEP
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_sealed_bids import SUBMIT, registered_bidder, sealed_lot
from tests.support.bank import Bank
from tests.support.guarantor import MINE as MY_GUARANTEES
from tests.support.guarantor import Guarantor
from tests.support.guarantor import apply as apply_guarantee

DECRYPT = """mutation($input: BidDecryptInput!) { bidDecrypt(input: $input) {
  __typename ... on Error { code message } } }"""
ALERTS = """query($status: CollusionAlertStatus) { collusionAlerts(status: $status, first: 20) { edges { node {
  id lotId signal status category organisations { id name } evidenceJson history { fromStatus toStatus note } } } } }"""
UPDATE = """mutation($input: CollusionAlertUpdateInput!) { collusionAlertUpdate(input: $input) {
  __typename ... on CollusionAlertUpdated { alert { status history { note } } } ... on Error { code message } } }"""
INBOX = "query { myNotifications(first: 20) { edges { node { kind title body objectType objectId } } } }"
ORG = "query { me { organisation { id } } }"


async def category_supervisor_phone(api: Any, operator: str, category: str) -> str:
    """The phone of a supervisor of `category` (as GraphQL names it), opened and approved by the operator."""
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=[category])
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    return str(form["phone"])


async def other_supervisor_phone(api: Any, operator: str) -> str:
    return await category_supervisor_phone(api, operator, "GOVERNMENT_PROCUREMENT")


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


# ---------------------------------------------------------------- an auction bid on from one phone

LOT_ALERTS = """query($lotId: ID!) { collusionAlerts(lotId: $lotId, first: 20) { edges { node {
  id signal status category organisations { id name } evidenceJson } } } }"""
ONE_ALERT = "query($id: ID!) { collusionAlert(id: $id) { id signal evidenceJson } }"


async def test_two_bidders_bidding_from_one_phone_in_a_live_auction_alert_its_supervisor_when_it_ends(
    api, manual_clock
):
    # given a land-use auction, its category's supervisor, and three bidders registered from phones of their own
    operator = await f.operator_token(api)
    watching = await category_supervisor_phone(api, operator, "LAND_USE_RIGHTS")
    elsewhere = await supervisor_phone(api, operator)
    lot_id, starts, timed = await auctions.auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    a, b, c = await auctions.bidders(api, operator, lot_id, 3)
    shared, own = "phone-5d21", "phone-9e07"
    orgs = [(await api.gql(ORG, token=x.token))["data"]["me"]["organisation"]["id"] for x in (a, b, c)]

    # when bidding opens and A and B take turns from one phone while C bids from its own
    await auctions.at(manual_clock, starts)
    for bidder in (a, b, c):
        await bidder.fresh()
    placed = [
        await a.bid(lot_id, START_PRICE, device=shared),
        await c.bid(lot_id, START_PRICE + STEP, device=own),
        await b.bid(lot_id, START_PRICE + 2 * STEP, device=shared),
        await a.bid(lot_id, START_PRICE + 3 * STEP, device=shared),
    ]
    await auctions.at(manual_clock, timed)
    await auctions.at(manual_clock, timed + timedelta(seconds=100))
    for bidder in (a, b, c):
        await bidder.fresh()
    placed.append(await b.bid(lot_id, START_PRICE + 4 * STEP, device=shared))
    await api.dispatch()
    supervisor = await f.login(api, watching)
    while_live = (await api.gql(LOT_ALERTS, {"lotId": lot_id}, token=supervisor))["data"]["collusionAlerts"]["edges"]
    # and the auction ends with B's bid standing
    ends = datetime.fromisoformat(placed[-1]["bid"]["endsAt"])
    await auctions.at(manual_clock, ends)
    await api.dispatch()
    await api.dispatch()

    # then nothing was raised while bidding went on, and at the end the supervisor has the device alert
    assert [p["__typename"] for p in placed] == ["BidPlaced"] * 5
    assert while_live == []
    supervisor = await f.login(api, watching)
    queue = (await api.gql(LOT_ALERTS, {"lotId": lot_id}, token=supervisor))["data"]["collusionAlerts"]["edges"]
    raised = {e["node"]["signal"]: e["node"] for e in queue}
    assert "SAME_DEVICE" in raised, raised
    device = raised["SAME_DEVICE"]
    assert (device["status"], device["category"]) == ("NEW", "land_use_rights")
    assert sorted(o["id"] for o in device["organisations"]) == sorted(orgs[:2])
    (finding,) = json.loads(device["evidenceJson"])
    assert finding["device_id"] == shared
    assert {(act["organisationId"], act["action"]) for act in finding["acts"]} == {
        (int(from_global_id(orgs[0])[1]), "auction.bid"),
        (int(from_global_id(orgs[1])[1]), "auction.bid"),
    }
    assert len(finding["acts"]) == 2  # one fact per bidder and phone, however often it bid
    assert sorted(finding["pricesFen"].values()) == [START_PRICE + 3 * STEP, START_PRICE + 4 * STEP]
    inbox = (await api.gql(INBOX, token=supervisor))["data"]["myNotifications"]["edges"]
    notices = [n["node"] for n in inbox if n["node"]["kind"] == "COLLUSION_ALERT"]
    assert any("同一设备" in n["body"] for n in notices), notices
    # and not the other category's supervisor
    other = await f.login(api, elsewhere)
    assert (await api.gql(LOT_ALERTS, {"lotId": lot_id}, token=other))["data"]["collusionAlerts"]["edges"] == []

    # and no bidder, of the two or the third, learns of the alert or sees a device id anywhere it may look
    for bidder in (a, b, c):
        await bidder.fresh()
        refused = [
            await api.gql(LOT_ALERTS, {"lotId": lot_id}, token=bidder.token, expect_errors=True),
            await api.gql(ONE_ALERT, {"id": device["id"]}, token=bidder.token, expect_errors=True),
        ]
        assert [r["errors"][0]["extensions"]["code"] for r in refused] == ["FORBIDDEN", "FORBIDDEN"]
        seen = [
            await api.gql(INBOX, token=bidder.token),
            await api.gql(STATE, {"lotId": lot_id}, token=bidder.token),
            await api.gql(RESYNC, {"lotId": lot_id, "after": 0}, token=bidder.token),
        ]
        assert "COLLUSION_ALERT" not in await auctions.inbox_kinds(api, bidder.token)
        assert all(shared not in json.dumps(body) and own not in json.dumps(body) for body in seen)
    state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]
    assert state["phase"] == "SOLD"


async def test_a_deposit_and_another_bidders_guarantee_premium_from_one_account_alert_the_supervisor(api, manual_clock):
    # given an auction asking security: A pays its deposit from an account, B has a guarantee whose premium it
    # pays from the same account (typed with spaces), C pays its deposit from an account of its own
    operator = await f.operator_token(api)
    watching = await category_supervisor_phone(api, operator, "LAND_USE_RIGHTS")
    bank = await Bank.open(api, operator)
    guarantor = await Guarantor.open(api, operator)
    lot_id, starts, timed = await auctions.auction_lot(api, manual_clock, operator, reserve=START_PRICE, security=True)
    bank.payer_account = "6222021600012345678"
    [a] = await auctions.bidders(api, operator, lot_id, 1, bank=bank)
    [b] = await auctions.bidders(api, operator, lot_id, 1)
    valid_until = starts - timedelta(hours=1) + timedelta(days=90)
    amount = START_PRICE * 2 // 100
    applied = await apply_guarantee(
        api, b.token, lot_id, guarantor.org_id, amount, valid_until, payer_account="6222 0216 0001 2345 678"
    )
    assert applied["__typename"] == "GuaranteeApplied", applied
    assert (await guarantor.issue_for(applied["guarantee"]))["__typename"] == "GuaranteeIssued"
    bank.payer_account = "6217000000000000042"
    [c] = await auctions.bidders(api, operator, lot_id, 1, bank=bank)
    orgs = [(await api.gql(ORG, token=x.token))["data"]["me"]["organisation"]["id"] for x in (a, b, c)]

    # when all three bid and the auction ends
    await auctions.at(manual_clock, starts)
    for bidder in (a, b, c):
        await bidder.fresh()
    placed = [
        await a.bid(lot_id, START_PRICE),
        await b.bid(lot_id, START_PRICE + STEP),
        await c.bid(lot_id, START_PRICE + 2 * STEP),
    ]
    await auctions.at(manual_clock, timed)
    await auctions.at(manual_clock, timed + timedelta(seconds=300))
    await api.dispatch()
    await api.dispatch()

    # then the supervisor has one account alert naming A and B, with the deposit and the guarantee paid from it
    assert [p["__typename"] for p in placed] == ["BidPlaced"] * 3
    supervisor = await f.login(api, watching)
    queue = (await api.gql(LOT_ALERTS, {"lotId": lot_id}, token=supervisor))["data"]["collusionAlerts"]["edges"]
    raised = {e["node"]["signal"]: e["node"] for e in queue}
    assert "SHARED_PAYMENT_ACCOUNT" in raised, raised
    shared = raised["SHARED_PAYMENT_ACCOUNT"]
    assert sorted(o["id"] for o in shared["organisations"]) == sorted(orgs[:2])
    (finding,) = json.loads(shared["evidenceJson"])
    assert finding["payerAccount"] == "6222021600012345678"
    assert finding["instruments"] == ["deposit", "guarantee"]
    pks = [int(from_global_id(o)[1]) for o in orgs]
    assert [(p["instrument"], p["organisationId"]) for p in finding["payments"]] == [
        ("deposit", pks[0]),
        ("guarantee", pks[1]),
    ]
    assert finding["payments"][1]["applicationNo"] == applied["guarantee"]["applicationNo"]
    # and the account is B's own to read back, while no bidder sees the alert
    for bidder in (a, b, c):
        await bidder.fresh()
    mine = (await api.gql(MY_GUARANTEES, {"lotId": lot_id}, token=b.token))["data"]["myGuarantees"]["edges"]
    assert [e["node"]["payerAccount"] for e in mine] == ["6222021600012345678"]
    for bidder in (a, c):
        assert (await api.gql(MY_GUARANTEES, {"lotId": lot_id}, token=bidder.token))["data"]["myGuarantees"][
            "edges"
        ] == []
        refused = await api.gql(LOT_ALERTS, {"lotId": lot_id}, token=bidder.token, expect_errors=True)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


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
