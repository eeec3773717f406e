"""FcmChannel: the real firebase-admin talking HTTP to the local FCM stub; no database."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import firebase_admin
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import messaging

from notifications.channels.base import Channel, Outcome, Push
from notifications.channels.fcm import FcmChannel, channel_from_settings
from tests.support.fcm_stub import FcmStub, running_stub


@pytest.fixture
async def stub() -> AsyncIterator[FcmStub]:
    async with running_stub() as served:
        yield served


def channel_for(stub: FcmStub, access_token: str | None = None, timeout: float = 5.0) -> FcmChannel:
    return FcmChannel(
        stub.project, access_token=access_token or stub.access_token, endpoint=stub.base_url, timeout=timeout
    )


@pytest.fixture
async def channel(stub: FcmStub) -> AsyncIterator[FcmChannel]:
    fcm = channel_for(stub)
    yield fcm
    await fcm.close()


def push(token: str = "token-1", message_id: str = "msg-1", **fields: Any) -> Push:
    return Push(message_id=message_id, token=token, title="开标提醒", body="项目 A 将于 10:00 开标", **fields)


async def test_a_push_is_sent_and_carries_fcms_message_name(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    sender: Channel = channel

    # when
    results = await sender.send([push()])

    # then
    assert [r.outcome for r in results] == [Outcome.SENT]
    assert results[0].provider_id == f"projects/{stub.project}/messages/1"
    assert [d.title for d in stub.delivered_to("token-1")] == ["开标提醒"]


async def test_the_message_id_is_the_data_field_tag_and_collapse_keys(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    critical = push(message_id="msg-7", data={"kind": "bid_opening"}, time_critical=True, ttl_seconds=600)

    # when
    await channel.send([critical])

    # then
    [delivered] = stub.delivered_to("token-1")
    assert delivered.data == {"kind": "bid_opening", "messageId": "msg-7"}
    assert (delivered.title, delivered.body) == ("开标提醒", "项目 A 将于 10:00 开标")
    assert (delivered.collapse_key, delivered.tag) == ("msg-7", "msg-7")
    assert (delivered.android_priority, delivered.android_ttl) == ("high", "600s")
    assert delivered.apns_headers["apns-collapse-id"] == "msg-7"
    assert delivered.apns_headers["apns-priority"] == "10"
    assert 590 <= int(delivered.apns_headers["apns-expiration"]) - time.time() <= 600
    assert delivered.apns_payload["aps"]["interruption-level"] == "time-sensitive"
    assert stub.count_by("msg-7", "token-1") == 1


async def test_an_ordinary_push_is_normal_priority_without_expiry(stub: FcmStub, channel: FcmChannel) -> None:
    # when
    await channel.send([push()])

    # then
    [delivered] = stub.delivered_to("token-1")
    assert delivered.android_priority == "normal"
    assert delivered.android_ttl is None
    assert delivered.apns_headers == {"apns-collapse-id": "msg-1", "apns-priority": "5"}
    assert "interruption-level" not in delivered.apns_payload["aps"]


async def test_an_unregistered_token_is_invalid(channel: FcmChannel) -> None:
    # when
    results = await channel.send([push("unregistered-1")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.INVALID_TOKEN, "UNREGISTERED")]


async def test_a_malformed_token_is_invalid(channel: FcmChannel) -> None:
    # when
    results = await channel.send([push("invalid-1")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.INVALID_TOKEN, "INVALID_ARGUMENT")]


async def test_a_token_of_another_sender_is_invalid(channel: FcmChannel) -> None:
    # when
    results = await channel.send([push("mismatch-1")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.INVALID_TOKEN, "SENDER_ID_MISMATCH")]


async def test_a_payload_fcm_rejects_fails_and_keeps_the_token(channel: FcmChannel) -> None:
    # when
    results = await channel.send([push(data={"from": "palmtrade"})])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.FAILED, "INVALID_ARGUMENT")]


async def test_a_message_the_sdk_cannot_encode_fails_alone(stub: FcmStub, channel: FcmChannel) -> None:
    # when
    results = await channel.send([push("token-1", "msg-1"), push("", "msg-2"), push("token-3", "msg-3")])

    # then
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.FAILED, Outcome.SENT]
    assert results[1].error is not None
    assert results[1].error.startswith("INVALID_MESSAGE")
    assert stub.count_by("msg-1") == stub.count_by("msg-3") == 1


async def test_an_exceeded_quota_is_retried_after_fcms_delay(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    stub.quota_exceeded_for(requests=1, retry_after=42)

    # when
    results = await channel.send([push()])

    # then
    assert [(r.outcome, r.retry_after, r.error) for r in results] == [(Outcome.RETRY, 42.0, "QUOTA_EXCEEDED")]
    assert stub.requests == 1


async def test_unavailable_is_retried_by_the_caller_not_inside_the_sdk(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    stub.failure_rate = 1.0
    started = time.monotonic()

    # when
    results = await channel.send([push()])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "UNAVAILABLE")]
    assert stub.requests == 1
    assert time.monotonic() - started < 1


async def test_fcm_down_is_retried(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    stub.down = True

    # when
    results = await channel.send([push("token-1", "msg-1"), push("token-2", "msg-2")])

    # then
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY]
    assert stub.requests == 2
    assert stub.messages == []


async def test_a_refused_connection_is_retried(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    await channel.send([push()])
    await stub.stop()

    # when
    results = await channel.send([push()])
    await stub.start()
    again = await channel.send([push()])

    # then
    assert [r.outcome for r in results] == [Outcome.RETRY]
    assert [r.outcome for r in again] == [Outcome.SENT]


async def test_a_timeout_is_retried(stub: FcmStub) -> None:
    # given
    stub.delay = 0.3
    impatient = channel_for(stub, timeout=0.1)

    # when
    try:
        results = await impatient.send([push()])
    finally:
        await impatient.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "DEADLINE_EXCEEDED")]


async def test_600_pushes_go_100_at_a_time_and_results_keep_their_order(
    stub: FcmStub, channel: FcmChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    calls: list[int] = []
    send_each_async = messaging.send_each_async

    async def counted(messages: list[messaging.Message], *args: Any, **kwargs: Any) -> messaging.BatchResponse:
        calls.append(len(messages))
        return await send_each_async(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each_async", counted)
    kinds = ["token", "unregistered", "invalid"]
    pushes = [push(f"{kinds[i % 3]}-{i}", f"msg-{i}") for i in range(600)]

    # when
    results = await channel.send(pushes)

    # then
    assert calls == [100] * 6
    expected = {"token": Outcome.SENT, "unregistered": Outcome.INVALID_TOKEN, "invalid": Outcome.INVALID_TOKEN}
    assert [r.outcome for r in results] == [expected[kinds[i % 3]] for i in range(600)]
    assert all(stub.count_by(f"msg-{i}", f"token-{i}") == 1 for i in range(0, 600, 3))
    assert stub.accepted == 200


async def test_a_wrong_access_token_is_not_sent(stub: FcmStub) -> None:
    # given
    stranger = channel_for(stub, access_token="not-the-token")

    # when
    try:
        results = await stranger.send([push()])
    finally:
        await stranger.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "UNAUTHENTICATED")]
    assert stub.messages == []


async def test_closing_deletes_the_app_and_leaves_other_channels_working(stub: FcmStub, channel: FcmChannel) -> None:
    # given
    other = channel_for(stub)
    name = other.app.name

    # when
    await other.close()
    await other.close()

    # then
    with pytest.raises(ValueError, match="does not exist"):
        firebase_admin.get_app(name)
    with pytest.raises(RuntimeError, match="closed"):
        await other.send([push()])
    assert [r.outcome for r in await channel.send([push()])] == [Outcome.SENT]


async def test_the_factory_builds_a_channel_only_when_fcm_is_configured(stub: FcmStub) -> None:
    # when
    unconfigured = [
        channel_from_settings(None, access_token="t"),
        channel_from_settings(stub.project),
        channel_from_settings("", credentials_path="/nowhere.json"),
    ]
    configured = channel_from_settings(stub.project, access_token=stub.access_token, endpoint=stub.base_url)

    # then
    assert unconfigured == [None, None, None]
    assert configured is not None
    try:
        assert [r.outcome for r in await configured.send([push()])] == [Outcome.SENT]
    finally:
        await configured.close()


async def test_a_service_account_file_builds_a_channel_without_a_network_call(tmp_path: Path) -> None:
    # given
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = {
        "type": "service_account",
        "project_id": "palmtrade-test",
        "private_key_id": "key-1",
        "private_key": pem.decode(),
        "client_email": "push@palmtrade-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(account))

    # when
    fcm = FcmChannel("palmtrade-test", credentials_path=path)
    try:
        email = fcm.app.credential.service_account_email
    finally:
        await fcm.close()

    # then
    assert email == "push@palmtrade-test.iam.gserviceaccount.com"
