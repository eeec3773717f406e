"""The data-quality report over HTTP: a contract whose amount was changed behind the award's back (planted) is named
by the nightly check with its rule, its explanation and a link to the contract; the category's supervisor reads it,
another category's does not; the lot's notices are held from the provincial platform until it is put right."""

from __future__ import annotations

from typing import Any

from api.provincial import HttpProvincialPlatform, Signer
from domain.common import clock
from domain.provincial import exchange
from domain.results import services as results
from domain.results.models import Contract
from schema.relay import to_global_id
from tests import factories as f
from tests.scenarios.test_deposits import supervisor_phone
from tests.support.provincial_platform import ProvincialPlatformStub
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
    await results.record_contract(
        t.tenderer, t.lot.id, "HT-2026-031", made.price_fen, clock.to_shanghai(clock.now()).date()
    )
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
    exchange.configure(platform, province.platform_code)
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
