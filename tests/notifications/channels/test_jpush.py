"""JPushChannel: JPush's official SDK `jpush` talking HTTP to the local JPush stub; no database."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from jpush import common

from notifications.channels.base import Channel, Outcome, Push
from notifications.channels.jpush import TIME_CRITICAL, JPushChannel, channel_from_settings
from tests.support.jpush_stub import JPushStub, running_stub

# A deployment's own vendor channels: the ids the app registered at Xiaomi and OPPO for service notices.
CRITICAL = dataclasses.replace(TIME_CRITICAL, xiaomi_channel_id="palmtrade_reminder", oppo_channel_id="palmtrade_todo")
PHONES = {"hw-1": "huawei", "xm-1": "xiaomi", "op-1": "oppo", "vi-1": "vivo", "ho-1": "honor"}


@pytest.fixture
async def stub() -> AsyncIterator[JPushStub]:
    async with running_stub() as served:
        for registration_id, vendor in PHONES.items():
            served.register(registration_id, vendor)
        yield served


def channel_for(stub: JPushStub, master_secret: str | None = None, **settings: Any) -> JPushChannel:
    settings.setdefault("timeout", 5.0)
    return JPushChannel(
        stub.app_key, master_secret or stub.master_secret, endpoint=stub.base_url, time_critical=CRITICAL, **settings
    )


@pytest.fixture
async def channel(stub: JPushStub) -> AsyncIterator[JPushChannel]:
    jpush = channel_for(stub)
    yield jpush
    await jpush.close()


def push(token: str = "hw-1", message_id: str = "msg-1", **fields: Any) -> Push:
    fields.setdefault("title", "开标提醒")
    fields.setdefault("body", "项目 A 将于 10:00 开标")
    return Push(message_id=message_id, token=token, **fields)


async def test_huawei_xiaomi_and_oppo_phones_get_a_time_critical_notice_on_their_vendor_channel(
    stub: JPushStub, channel: JPushChannel
) -> None:
    # given
    sender: Channel = channel
    pushes = [push(token, f"msg-{token}", time_critical=True, ttl_seconds=3600) for token in PHONES]

    # when
    results = await sender.send(pushes)

    # then
    assert [r.outcome for r in results] == [Outcome.SENT] * len(PHONES)
    expected = {
        "huawei": {"distribution": "secondary_push", "importance": "NORMAL", "category": "WORK"},
        "xiaomi": {"distribution": "secondary_push", "channel_id": "palmtrade_reminder"},
        "oppo": {
            "distribution": "secondary_push",
            "channel_id": "palmtrade_todo",
            "category": "TODO",
            "notify_level": 16,
        },
        "vivo": {"distribution": "secondary_push", "classification": 1, "category": "TODO"},
        "honor": {"distribution": "secondary_push", "importance": "NORMAL"},
    }
    for (token, vendor), result in zip(PHONES.items(), results, strict=True):
        [delivered] = stub.delivered_to(vendor)
        assert (delivered.registration_id, delivered.route) == (token, vendor)  # the app is offline: vendor channel
        assert result.provider_id == delivered.msg_id
        assert (delivered.title, delivered.body) == ("开标提醒", "项目 A 将于 10:00 开标")
        assert (delivered.priority, delivered.category, delivered.alert_type) == (2, "reminder", -1)
        assert (delivered.classification, delivered.time_to_live) == (1, 3600)
        assert delivered.vendor_options == expected[vendor]
        assert delivered.message_id == f"msg-{token}"


async def test_an_ordinary_notice_is_normal_priority_and_left_to_the_vendors_classification(
    stub: JPushStub, channel: JPushChannel
) -> None:
    # when
    await channel.send([push("hw-1"), push("op-1")])

    # then
    [huawei] = stub.delivered_to("huawei")
    [oppo] = stub.delivered_to("oppo")
    assert (huawei.priority, huawei.category, huawei.alert_type, huawei.classification) == (0, None, None, 0)
    assert huawei.vendor_options == oppo.vendor_options == {"distribution": "secondary_push"}
    assert huawei.time_to_live is None


async def test_an_online_app_gets_the_push_over_jpushs_own_connection(stub: JPushStub, channel: JPushChannel) -> None:
    # given
    stub.register("hw-2", "huawei", online=True)

    # when
    await channel.send([push("hw-2", time_critical=True)])

    # then
    assert [d.route for d in stub.to_device("hw-2")] == ["jpush"]


async def test_the_message_id_travels_in_extras_and_as_the_apns_collapse_id(stub: JPushStub) -> None:
    # given
    production = channel_for(stub, production=True)
    stub.register("ios-1", "apns")

    # when
    try:
        results = await production.send([push("ios-1", "msg-7", data={"kind": "bid_opening"}, time_critical=True)])
    finally:
        await production.close()

    # then
    assert [r.outcome for r in results] == [Outcome.SENT]
    [delivered] = stub.to_device("ios-1")
    assert delivered.extras == {"kind": "bid_opening", "messageId": "msg-7"}
    assert (delivered.title, delivered.body) == ("开标提醒", "项目 A 将于 10:00 开标")
    assert delivered.options["apns_production"] is True
    assert delivered.options["apns_collapse_id"] == "msg-7"
    assert delivered.request["notification"]["ios"]["interruption-level"] == "time-sensitive"
    assert delivered.request["audience"] == {"registration_id": ["ios-1"]}


async def test_an_unknown_registration_id_is_invalid_in_its_place_in_the_batch(
    stub: JPushStub, channel: JPushChannel
) -> None:
    # when
    results = await channel.send([push("hw-1", "msg-1"), push("gone-1", "msg-2"), push("xm-1", "msg-3")])

    # then
    assert [(r.outcome, r.error) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.INVALID_TOKEN, "1011"),
        (Outcome.SENT, None),
    ]
    assert stub.count_by("msg-1") == stub.count_by("msg-3") == 1
    assert stub.count_by("msg-2") == 0


@pytest.mark.parametrize("deduplicate", [True, False])
async def test_a_wrong_master_secret_is_refused_by_jpush_and_retried(stub: JPushStub, deduplicate: bool) -> None:
    # given
    stranger = channel_for(stub, master_secret="not-the-secret", deduplicate=deduplicate)

    # when
    try:
        results = await stranger.send([push()])
    finally:
        await stranger.close()

    # then: the cid request, or the push itself, got 401 / 1004
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "1004")]
    assert stub.failures == {"1004": 1}
    assert (stub.cid_requests, stub.requests) == ((1, 0) if deduplicate else (0, 1))
    assert stub.messages == []


async def test_jpush_down_is_retried(stub: JPushStub, channel: JPushChannel) -> None:
    # given
    stub.down = True

    # when
    results = await channel.send([push("hw-1", "msg-1"), push("xm-1", "msg-2")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "1030")] * 2
    assert stub.messages == []


@pytest.mark.parametrize(
    ("code", "status", "error"), [(1030, 503, "1030"), (1000, 500, "1000"), (None, 502, "HTTP_502")]
)
async def test_a_server_error_on_one_push_is_retried_and_the_others_are_sent(
    stub: JPushStub, code: int | None, status: int, error: str
) -> None:
    # given
    one_at_a_time = channel_for(stub, in_flight=1)
    stub.fail_next(code, status)

    # when
    try:
        results = await one_at_a_time.send([push("hw-1", "msg-1"), push("xm-1", "msg-2")])
    finally:
        await one_at_a_time.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, error), (Outcome.SENT, None)]
    assert stub.count_by("msg-1") == 0


async def test_a_closed_port_is_retried(stub: JPushStub, channel: JPushChannel) -> None:
    # given
    await channel.send([push()])
    await stub.stop()

    # when
    results = await channel.send([push("hw-1", "msg-2")])
    await stub.start()
    again = await channel.send([push("hw-1", "msg-2")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "CONNECTION_ERROR")]
    assert [r.outcome for r in again] == [Outcome.SENT]


async def test_a_timeout_is_retried(stub: JPushStub) -> None:
    # given
    stub.delay = 0.5
    impatient = channel_for(stub, timeout=0.2)

    # when
    try:
        results = await impatient.send([push()])
    finally:
        await impatient.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "TIMEOUT")]


@pytest.mark.parametrize("deduplicate", [True, False])
async def test_a_rate_limit_is_retried_after_jpushs_reset(stub: JPushStub, deduplicate: bool) -> None:
    # given
    limited = channel_for(stub, deduplicate=deduplicate)
    stub.rate_limit_next(1, reset=42)

    # when
    try:
        results = await limited.send([push()])
    finally:
        await limited.close()

    # then
    assert [(r.outcome, r.retry_after, r.error) for r in results] == [(Outcome.RETRY, 42.0, "2002")]
    assert stub.failures == {"2002": 1}


async def test_after_a_rate_limit_the_rest_waits_without_a_request(stub: JPushStub) -> None:
    # given: a quota of 2 calls a minute: the cid request and the first push
    stub.quota = 2
    one_at_a_time = channel_for(stub, in_flight=1)

    # when
    try:
        results = await one_at_a_time.send([push("hw-1", "msg-1"), push("xm-1", "msg-2"), push("op-1", "msg-3")])
        later = await one_at_a_time.send([push("op-1", "msg-3"), push("vi-1", "msg-4")])
    finally:
        await one_at_a_time.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.RETRY, "2002"),
        (Outcome.RETRY, "2002"),
    ]
    assert all(r.retry_after is not None and 50 <= r.retry_after <= 60 for r in results[1:])
    assert [(r.outcome, r.error) for r in later] == [(Outcome.RETRY, "2002")] * 2
    assert (stub.cid_requests, stub.requests) == (1, 2)  # the rest waited, and no new cid was asked for
    assert stub.failures == {"2002": 1}


async def test_an_oversize_payload_fails_alone(stub: JPushStub, channel: JPushChannel) -> None:
    # when
    results = await channel.send([push("hw-1", "msg-1", body="标" * 1500), push("xm-1", "msg-2")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.FAILED, "1005"), (Outcome.SENT, None)]
    assert stub.count_by("msg-1") == 0


async def test_a_payload_jpush_rejects_fails_and_keeps_the_device(stub: JPushStub, channel: JPushChannel) -> None:
    # given
    stub.fail_next(1003, 400)

    # when
    results = await channel.send([push()])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.FAILED, "1003")]


async def test_a_push_retried_after_a_timeout_reaches_the_phone_once(stub: JPushStub) -> None:
    # given: JPush takes the push but answers too late
    impatient = channel_for(stub, timeout=0.2)
    stub.delay = 0.5
    try:
        first = await impatient.send([push("hw-1", "msg-1", time_critical=True)])
        stub.delay = 0.0

        # when
        again = await impatient.send([push("hw-1", "msg-1", time_critical=True)])
    finally:
        await impatient.close()

    # then: the retry carried the same cid and JPush answered the first push's msg_id
    assert [(r.outcome, r.error) for r in first] == [(Outcome.RETRY, "TIMEOUT")]
    assert [r.outcome for r in again] == [Outcome.SENT]
    [delivered] = stub.to_device("hw-1")
    assert again[0].provider_id == delivered.msg_id
    assert (stub.replayed, stub.cid_requests, stub.stats()["duplicates"]) == (1, 1, 0)


async def test_without_cids_a_retry_after_a_timeout_is_delivered_twice(stub: JPushStub) -> None:
    # given
    impatient = channel_for(stub, timeout=0.2, deduplicate=False)
    stub.delay = 0.5
    try:
        await impatient.send([push()])
        stub.delay = 0.0

        # when
        again = await impatient.send([push()])
    finally:
        await impatient.close()

    # then
    assert [r.outcome for r in again] == [Outcome.SENT]
    assert stub.stats()["duplicates"] == 1


async def test_a_cid_is_forgotten_once_its_push_is_sent(stub: JPushStub, channel: JPushChannel) -> None:
    # when: the same message id pushed again later (a new notification) is a new push
    await channel.send([push()])
    await channel.send([push()])

    # then
    assert stub.count_by("msg-1") == 2
    assert stub.cid_requests == 2


async def test_requests_in_flight_are_bounded_and_results_keep_their_order(stub: JPushStub) -> None:
    # given
    stub.delay = 0.05
    narrow = channel_for(stub, in_flight=3)
    tokens = ["hw-1" if i % 4 else "gone" for i in range(24)]

    # when
    started = time.monotonic()
    try:
        results = await narrow.send([push(token, f"msg-{i}") for i, token in enumerate(tokens)])
    finally:
        await narrow.close()

    # then
    expected = [Outcome.SENT if token == "hw-1" else Outcome.INVALID_TOKEN for token in tokens]
    assert [r.outcome for r in results] == expected
    assert 2 <= stub.max_in_flight <= 3
    assert time.monotonic() - started >= 24 / 3 * 0.05


async def test_the_sdk_is_pointed_at_the_endpoint_through_a_zone_of_its_own(stub: JPushStub) -> None:
    # given
    local = channel_for(stub)
    default = JPushChannel("key", "secret")

    # when
    urls = (local.push_url, default.push_url)
    await local.close()
    await default.close()
    await local.close()

    # then
    assert urls == (f"{stub.base_url}/v3/push", "https://api.jpush.cn/v3/push")
    assert local.zone not in common.ZONES
    assert "DEFAULT" in common.ZONES
    with pytest.raises(RuntimeError, match="closed"):
        await local.send([push()])


def test_jpush_is_off_without_an_app_key_and_secret() -> None:
    assert channel_from_settings(None, "secret") is None
    assert channel_from_settings("key", "") is None
