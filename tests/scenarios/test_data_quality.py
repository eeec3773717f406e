"""The data-quality report over HTTP: a contract whose amount was changed behind the award's back (planted) is named
by the nightly check with its rule, its explanation and a link to the contract; the category's supervisor reads it,
another category's does not; the lot's notices are held from the provincial platform until it is put right."""

from __future__ import annotations

from typing import Any

from api.provincial import HttpProvincialPlatform, Signer
from domain.common import clock
from domain.common.events import digest
from domain.provincial import exchange
from domain.provincial.models import ProvincialMessage
from domain.publication.models import Lot
from domain.results import services as results
from domain.results.models import Contract
from schema.relay import int_id, to_global_id
from tests import factories as f
from tests.scenarios.test_deposits import supervisor_phone
from tests.support.provincial_platform import PUBLICITY_SETTINGS, ProvincialPlatformStub
from tests.support.results import evaluated_lot

REPORT = """query($rule: String, $category: CatalogueCategory, $lotId: ID) {
  dataQualityReport(rule: $rule, category: $category, lotId: $lotId) {
    rule ruleTitle blocking explanation explanationEn category lotId objectType objectId link } }"""
MESSAGES = """query($lotId: ID) { provincialMessages(lotId: $lotId) { kind status lastError receiptId } }"""
PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]


async def report(api: Any, token: str, **filters: Any) -> list[dict[str, Any]]:
    return list((await api.gql(REPORT, filters, token=token))["data"]["dataQualityReport"])


async def test_a_planted_amount_fault_is_reported_with_its_link_and_holds_the_lot(api, manual_clock):
    # given a lot awarded and contracted, whose contract amount is then altered without a change (planted)
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    await results.record_contract(t.tenderer, t.lot.id, "HT-2026-031", made.price_fen, clock.today())
    await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen + 500_000)
    contract = await Contract.get(lot_id=t.lot.id)
    operator = await f.operator_token(api)
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    lot_gid = to_global_id("Lot", t.lot.id)

    # when the nightly check runs (the scheduler's data_quality.nightly job)
    await exchange.nightly(clock.now())

    # then the report names the fault, explained in both languages and linked to the contract
    [finding] = await report(api, operator, lotId=lot_gid)
    assert finding["rule"] == "DQ-AMT-001"
    assert finding["blocking"] is True
    assert finding["ruleTitle"] == "合同金额与中标金额不一致且无合同变更记录"
    assert "合同金额 960000.00 元与中标金额 955000.00 元不一致" in finding["explanation"]
    assert "differs from the awarded 955000.00 yuan" in finding["explanationEn"]
    assert (finding["objectType"], finding["objectId"]) == ("Contract", to_global_id("Contract", contract.id))
    assert (finding["lotId"], finding["category"]) == (lot_gid, "ENGINEERING_CONSTRUCTION")
    assert finding["link"] == f"palmtrade://lot/{lot_gid}/data-quality?Contract={finding['objectId']}"
    # and the category's supervisor reads it, filtered by rule and category; other rules find nothing
    assert [
        x["rule"] for x in await report(api, supervisor, rule="DQ-AMT-001", category="ENGINEERING_CONSTRUCTION")
    ] == ["DQ-AMT-001"]
    assert await report(api, operator, rule="DQ-CODE-001") == []
    assert await report(api, operator, category="GOVERNMENT_PROCUREMENT") == []
    assert await report(api, operator, lotId="not-a-lot") == []
    # and a bidder may not read the report
    _, _, bidder = await f.approved_org(api, operator, kinds=["BIDDER"])
    assert (await api.gql(REPORT, {}, token=bidder, expect_errors=True))["data"] is None

    # when the lot's notices are sent to the province
    province = ProvincialPlatformStub()
    await province.start()
    platform = HttpProvincialPlatform(province.base_url, province.platform_code, Signer(hmac_key=province.hmac_key))
    exchange.configure(platform, province.platform_code, **PUBLICITY_SETTINGS)
    try:
        await api.dispatch()
        await exchange.send_due(api.services.holder)
        # then every one of them is held, visible to the operator with the rule, and none reached the province
        held = await api.gql(MESSAGES, {"lotId": lot_gid}, token=operator)
        kinds = {m["kind"]: m for m in held["data"]["provincialMessages"]}
        assert set(kinds) >= {"tender", "candidate_publicity", "result", "contract"}
        assert {m["status"] for m in kinds.values()} == {"held"}
        assert kinds["contract"]["lastError"] == "data quality: DQ-AMT-001"
        assert province.held == {}
        assert province.requests == 0

        # when the contract is put right and the nightly check runs again
        await Contract.filter(id=contract.id).update(amount_fen=made.price_fen)
        await exchange.nightly(clock.now())
        await exchange.send_due(api.services.holder)
        # then the report is clean and the lot's notices are at the province with their receipts
        assert await report(api, operator, lotId=lot_gid) == []
        sent = (await api.gql(MESSAGES, {"lotId": lot_gid}, token=operator))["data"]["provincialMessages"]
        assert {m["status"] for m in sent} == {"sent"}
        assert all(m["receiptId"] for m in sent)
        assert len(province.held) == len(sent)
    finally:
        exchange.configure(None)
        await platform.close()
        await province.stop()


RECHECK = """mutation($input: DataQualityRecheckInput!) { dataQualityRecheck(input: $input) {
  __typename ... on DataQualityRechecked { lotId blocking newlyBlocked cleared releasedMessageIds findings { rule } }
  ... on Error { code message } } }"""
TRAIL = """query($type: String, $id: String) { auditTrail(objectType: $type, objectId: $id, first: 50) {
  edges { node { action actor objectType objectId digest at } } } }"""


async def trail(api: Any, token: str, object_type: str, object_id: str | None = None) -> list[dict[str, Any]]:
    await api.dispatch()
    found = await api.gql(TRAIL, {"type": object_type, "id": object_id}, token=token)
    return [e["node"] for e in found["data"]["auditTrail"]["edges"]]


async def test_an_operator_rechecks_a_lot_now_audited_and_its_held_messages_go(api, manual_clock):
    # given a lot whose contract amount was altered (planted), its notices held from the province by the pre-send check
    t, _ = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    await results.record_contract(t.tenderer, t.lot.id, "HT-2026-032", made.price_fen, clock.today())
    await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen + 500_000)
    operator = await f.operator_token(api)
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    lot_gid = to_global_id("Lot", t.lot.id)
    province = ProvincialPlatformStub()
    await province.start()
    platform = HttpProvincialPlatform(province.base_url, province.platform_code, Signer(hmac_key=province.hmac_key))
    exchange.configure(platform, province.platform_code, **PUBLICITY_SETTINGS)
    try:
        await api.dispatch()
        await exchange.send_due(api.services.holder)
        held = (await api.gql(MESSAGES, {"lotId": lot_gid}, token=operator))["data"]["provincialMessages"]
        assert {m["status"] for m in held} == {"held"}

        # when the operator rechecks the lot before it is put right
        still = (await api.gql(RECHECK, {"input": {"lotId": lot_gid}}, token=operator))["data"]["dataQualityRecheck"]
        # then the finding stands, nothing is released
        assert (still["__typename"], still["blocking"], still["cleared"], still["releasedMessageIds"]) == (
            "DataQualityRechecked",
            1,
            False,
            [],
        )
        assert [x["rule"] for x in still["findings"]] == ["DQ-AMT-001"]

        # when the contract is put right and the operator rechecks the lot now, without waiting for the night
        await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen)
        done = (await api.gql(RECHECK, {"input": {"lotId": lot_gid}}, token=operator))["data"]["dataQualityRecheck"]
        # then the lot is clean, its blocking finding cleared, and every held message released and then sent
        assert (done["lotId"], done["findings"], done["blocking"], done["newlyBlocked"], done["cleared"]) == (
            lot_gid,
            [],
            0,
            False,
            True,
        )
        ours = await ProvincialMessage.filter(lot_id=t.lot.id).values_list("message_id", flat=True)
        assert sorted(done["releasedMessageIds"]) == sorted(str(m) for m in ours)
        assert await report(api, operator, lotId=lot_gid) == []
        await exchange.send_due(api.services.holder)
        sent = (await api.gql(MESSAGES, {"lotId": lot_gid}, token=operator))["data"]["provincialMessages"]
        assert {m["status"] for m in sent} == {"sent"}

        # and both checks are on the audit trail of the lot: who, when, and a digest of the result summary
        me = (await api.gql("{ me { user { id } } }", token=operator))["data"]["me"]["user"]["id"]
        entries = [
            e for e in await trail(api, operator, "Lot", str(t.lot.id)) if e["action"] == "data_quality.rechecked"
        ]
        assert len(entries) == 2
        assert {e["actor"] for e in entries} == {f"user:{int_id(me, 'User', 'id')}"}
        summary = {
            "findings": 0,
            "blocking": 0,
            "rules": [],
            "newly_blocked": False,
            "cleared": True,
            "released": sorted(done["releasedMessageIds"]),
        }
        assert entries[0]["digest"] == digest(summary)
        # and the category's supervisor reads the lot's entries, but may not recheck
        assert [e["action"] for e in await trail(api, supervisor, "Lot", str(t.lot.id))].count(
            "data_quality.rechecked"
        ) == 2
        refused = await api.gql(RECHECK, {"input": {"lotId": lot_gid}}, token=supervisor, expect_errors=True)
        assert refused["data"] is None
        # and a lot that does not exist is NOT_FOUND
        missing = await api.gql(RECHECK, {"input": {"lotId": to_global_id("Lot", 999_999)}}, token=operator)
        assert missing["data"]["dataQualityRecheck"]["code"] == "NOT_FOUND"

        # when the contract is altered again and the nightly run finds it, then put right and found clean
        await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen + 1)
        await exchange.nightly(clock.now())
        await Contract.filter(lot_id=t.lot.id).update(amount_fen=made.price_fen)
        await exchange.nightly(clock.now())
        # then each run is one audit entry naming the lot newly blocked, then cleared; operators only
        runs = await trail(api, operator, "DataQualityRun")
        assert [e["action"] for e in runs] == ["data_quality.run", "data_quality.run"]
        checked = await Lot.exclude(status="draft").count()
        blocked_then_cleared = [
            {"lots_checked": checked, "findings": 1, "newly_blocked": [t.lot.id], "cleared": [], "released": 0},
            {"lots_checked": checked, "findings": 0, "newly_blocked": [], "cleared": [t.lot.id], "released": 0},
        ]
        assert [e["digest"] for e in reversed(runs)] == [digest(p) for p in blocked_then_cleared]
        assert all(e["actor"] == "client:system" for e in runs)
        assert await trail(api, supervisor, "DataQualityRun") == []
    finally:
        exchange.configure(None)
        await platform.close()
        await province.stop()
