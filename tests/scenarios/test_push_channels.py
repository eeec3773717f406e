"""The decryption window reaches phones in China on their own channels: a Huawei, a Xiaomi and an OPPO phone
through JPush (routed to each vendor's channel) and an iPhone straight through APNs, each against a local server
speaking that provider's protocol; time-critical, so high priority and a time-sensitive interruption level."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from notifications.channels.apns import ApnsChannel
from notifications.channels.jpush import JPushChannel
from notifications.push import PushSender
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_push import push_all
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit
from tests.schema.test_notifications import REGISTER_DEVICE, a_device
from tests.support import apns_stub, jpush_stub

PHONES = [("huawei", "JPUSH", "ANDROID"), ("xiaomi", "JPUSH", "ANDROID"), ("oppo", "JPUSH", "ANDROID")]


@pytest.fixture
async def channels() -> AsyncIterator[tuple[Any, Any, PushSender]]:
    async with jpush_stub.running_stub() as jp, apns_stub.running_stub() as ap:
        jpush = JPushChannel(jp.app_key, jp.master_secret, endpoint=jp.base_url, timeout=5)
        apns = ApnsChannel(ap.key_pem, ap.key_id, ap.team_id, ap.bundle_id, endpoint=ap.base_url, ca_file=ap.ca_file)
        try:
            yield jp, ap, PushSender({"jpush": jpush, "apns": apns}, owner="sender-cn", batch_size=100)
        finally:
            await jpush.close()
            await apns.close()


async def test_huawei_xiaomi_oppo_and_iphone_bidders_are_told_the_decryption_window_opened(api, manual_clock, channels):
    # given a sealed tender and four bidders, each with a phone: three mainland Android vendors and an iPhone
    jp, ap, sender = channels
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    tokens = {}
    for vendor, provider, platform in [*PHONES, ("iphone", "APNS", "IOS")]:
        _, token = await registered_bidder(api, operator, lot["id"])
        device_token = f"{vendor}-rid-{lot['id']}" if provider == "JPUSH" else "a1" * 32
        if provider == "JPUSH":
            jp.register(device_token, vendor)
        device = a_device(device_token, provider=provider, platform=platform)
        registered = await api.gql(REGISTER_DEVICE, {"input": device}, token=token)
        assert registered["data"]["deviceRegister"]["__typename"] == "DeviceRegistered", registered
        sealed = seal(new_key(), lot["tradeCode"], 1_200_000_000 + len(tokens), {})
        assert (await submit(api, token, lot["id"], sealed))["__typename"] == "BidSubmitted"
        tokens[vendor] = device_token
    await api.dispatch()
    await push_all([sender], manual_clock)
    before = {vendor: len(jp.delivered_to(vendor)) for vendor, _, _ in PHONES}

    # when the deadline passes and the opening begins
    manual_clock.advance(timedelta(days=25, seconds=1))
    operator = await f.login(api, operator_at)
    await chronograph.fire_due()
    await api.dispatch()
    await push_all([sender], manual_clock)

    # then each Android phone got the notice on its vendor's channel, high priority, exactly once
    for vendor, _, _ in PHONES:
        got = jp.delivered_to(vendor)[before[vendor] :]
        assert [d.registration_id for d in got] == [tokens[vendor]], vendor
        assert got[0].priority == 2
        assert got[0].title == "开标解密已开始"
        assert got[0].extras["kind"] == "decryption_window"
    # and the iPhone through APNs, time-sensitive with priority 10
    [notice] = [d for d in ap.delivered_to(tokens["iphone"]) if d.aps["alert"]["title"] == "开标解密已开始"]
    assert notice.aps["interruption-level"] == "time-sensitive"
    assert notice.headers["apns-priority"] == "10"
    assert notice.headers["apns-push-type"] == "alert"
    # and the operator sees who was told and when each vendor accepted it
    records = await api.gql(
        """query($lotId: ID!) { lotNotices(lotId: $lotId, kind: "decryption_window") {
          userName timeCritical pushes { provider status sentAt } } }""",
        {"lotId": lot["id"]},
        token=operator,
    )
    told = records["data"]["lotNotices"]
    assert len(told) == 4
    assert all(n["timeCritical"] for n in told)
    assert sorted(p["provider"] for n in told for p in n["pushes"]) == ["apns", "jpush", "jpush", "jpush"]
    assert all(p["status"] == "sent" and p["sentAt"] for n in told for p in n["pushes"])
