"""ApnsChannel: httpx over HTTP/2 and TLS to the local APNs stub, which verifies the provider JWT; no database."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from notifications.channels.apns import ApnsChannel, collapse_id
from notifications.channels.base import Channel, Outcome, Push
from tests.support.apns_stub import ApnsStub, running_stub


@pytest.fixture
async def stub() -> AsyncIterator[ApnsStub]:
    async with running_stub() as served:
        yield served


def channel_for(stub: ApnsStub, key_pem: str | None = None, **options: Any) -> ApnsChannel:
    return ApnsChannel(
        key_pem or stub.key_pem,
        stub.key_id,
        stub.team_id,
        stub.bundle_id,
        endpoint=stub.base_url,
        ca_file=stub.ca_file,
        **options,
    )


@pytest.fixture
async def channel(stub: ApnsStub) -> AsyncIterator[ApnsChannel]:
    apns = channel_for(stub)
    yield apns
    await apns.close()


def push(token: str = "token-1", message_id: str = "msg-1", **fields: Any) -> Push:
    return Push(message_id=message_id, token=token, title="开标提醒", body="项目 A 将于 10:00 开标", **fields)


def p8() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def offset_clock(seconds: list[float]) -> Callable[[], float]:
    return lambda: time.time() + seconds[0]


async def test_a_push_is_accepted_and_carries_the_apns_id(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    sender: Channel = channel

    # when
    results = await sender.send([push()])

    # then
    [delivered] = stub.delivered_to("token-1")
    assert [r.outcome for r in results] == [Outcome.SENT]
    assert results[0].provider_id == delivered.apns_id
    assert delivered.aps["alert"] == {"title": "开标提醒", "body": "项目 A 将于 10:00 开标"}
    assert (stub.connections, stub.without_alpn) == (1, 0)  # HTTP/2 negotiated by ALPN


async def test_a_time_critical_push_is_priority_10_time_sensitive_and_expires(
    stub: ApnsStub, channel: ApnsChannel
) -> None:
    # given
    data = {"kind": "bid_opening", "objectType": "project", "objectId": "42"}
    critical = push(message_id="msg-7", data=data, time_critical=True, ttl_seconds=600)

    # when
    await channel.send([critical])

    # then
    [delivered] = stub.delivered_to("token-1")
    headers = delivered.headers
    assert headers["apns-topic"] == stub.bundle_id
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "10"
    assert headers["apns-collapse-id"] == "msg-7"
    assert 590 <= int(headers["apns-expiration"]) - time.time() <= 600
    assert delivered.payload == {
        "aps": {
            "alert": {"title": "开标提醒", "body": "项目 A 将于 10:00 开标"},
            "sound": "default",
            "thread-id": "project:42",
            "interruption-level": "time-sensitive",
        },
        "kind": "bid_opening",
        "objectType": "project",
        "objectId": "42",
        "messageId": "msg-7",
    }


async def test_an_ordinary_push_is_priority_5_without_expiry(stub: ApnsStub, channel: ApnsChannel) -> None:
    # when
    await channel.send([push(), push("token-2", "msg-2", ttl_seconds=0)])

    # then
    [ordinary] = stub.delivered_to("token-1")
    assert ordinary.headers["apns-priority"] == "5"
    assert "apns-expiration" not in ordinary.headers
    assert ordinary.aps == {"alert": {"title": "开标提醒", "body": "项目 A 将于 10:00 开标"}, "sound": "default"}
    [now_or_never] = stub.delivered_to("token-2")
    assert now_or_never.headers["apns-expiration"] == "0"


async def test_a_message_id_over_64_bytes_collapses_by_its_digest(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    long_id = "通知-" * 20

    # when
    results = await channel.send([push(message_id=long_id), push("token-2", message_id=long_id)])

    # then
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    digest = hashlib.sha256(long_id.encode()).hexdigest()
    assert [d.headers["apns-collapse-id"] for d in stub.deliveries] == [digest, digest]
    assert collapse_id("m" * 64) == "m" * 64
    assert stub.deliveries[0].payload["messageId"] == long_id


async def test_dead_tokens_are_invalid_in_a_batch_that_keeps_its_order(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    tokens = ["token-1", "unregistered-2", "bad-3", "other-topic-4", "expired-5", "token-6"]

    # when
    results = await channel.send([push(t, f"msg-{i}") for i, t in enumerate(tokens)])

    # then
    assert [(r.outcome, r.error) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.INVALID_TOKEN, "Unregistered"),
        (Outcome.INVALID_TOKEN, "BadDeviceToken"),
        (Outcome.INVALID_TOKEN, "DeviceTokenNotForTopic"),
        (Outcome.INVALID_TOKEN, "ExpiredToken"),
        (Outcome.SENT, None),
    ]
    assert [d.device_token for d in stub.deliveries] == ["token-1", "token-6"]


async def test_the_provider_token_is_reused_across_sends(stub: ApnsStub, channel: ApnsChannel) -> None:
    # when
    for i in range(3):
        await channel.send([push(f"token-{i}-{j}", f"msg-{i}-{j}") for j in range(5)])

    # then
    assert stub.accepted == 15
    assert stub.distinct_tokens == 1
    assert channel.token.signed == 1
    assert stub.connections == 1


async def test_the_provider_token_is_signed_anew_after_50_minutes_not_before(stub: ApnsStub) -> None:
    # given
    offset = [0.0]
    apns = channel_for(stub, clock=offset_clock(offset))

    # when
    try:
        first = await apns.send([push(message_id="msg-1")])
        offset[0] = stub.clock_offset = 49 * 60
        second = await apns.send([push(message_id="msg-2")])
        offset[0] = stub.clock_offset = 51 * 60
        third = await apns.send([push(message_id="msg-3")])
    finally:
        await apns.close()

    # then
    assert [r.outcome for r in first + second + third] == [Outcome.SENT] * 3
    assert list(stub.tokens.values()) == [2, 1]
    assert apns.token.signed == 2


async def test_a_wrong_signing_key_is_retried_after_one_refresh(stub: ApnsStub) -> None:
    # given
    stranger = channel_for(stub, key_pem=p8())

    # when
    try:
        first = await stranger.send([push(f"token-{i}", f"msg-{i}") for i in range(3)])
        signed_after_first = stranger.token.signed
        second = await stranger.send([push(f"token-{i}", f"msg-{i}") for i in range(3)])
    finally:
        await stranger.close()

    # then
    assert [(r.outcome, r.error) for r in first + second] == [(Outcome.RETRY, "InvalidProviderToken")] * 6
    assert signed_after_first == 2  # the three refusals of one token made one new token
    assert stranger.token.signed == 2  # and the refusal of the new one, within 20 minutes, none
    assert list(stub.tokens.values()) == [3, 3]
    assert stub.failures == {"InvalidProviderToken": 6}
    assert stub.deliveries == []


async def test_a_provider_token_over_an_hour_old_is_retried(stub: ApnsStub) -> None:
    # given
    slow = channel_for(stub, clock=offset_clock([-2 * 3600.0]))

    # when
    try:
        results = await slow.send([push()])
    finally:
        await slow.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "ExpiredProviderToken")]
    assert slow.token.signed == 2


async def test_a_third_token_of_a_team_within_20_minutes_is_too_many_updates(stub: ApnsStub) -> None:
    # given: three processes, each signing its own token
    channels = [channel_for(stub) for _ in range(3)]

    # when
    try:
        results = [await c.send([push()]) for c in channels]
    finally:
        await asyncio.gather(*(c.close() for c in channels))

    # then
    assert [[(r.outcome, r.error) for r in rs] for rs in results] == [
        [(Outcome.SENT, None)],
        [(Outcome.SENT, None)],
        [(Outcome.RETRY, "TooManyProviderTokenUpdates")],
    ]
    assert channels[2].token.signed == 1


async def test_apns_down_is_retried(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    stub.down = True

    # when
    results = await channel.send([push("token-1", "msg-1"), push("token-2", "msg-2")])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "ServiceUnavailable")] * 2
    assert stub.requests == 2
    assert stub.deliveries == []


@pytest.mark.parametrize(
    ("reason", "retry_after"),
    [("TooManyRequests", 30.0), ("InternalServerError", None), ("ServiceUnavailable", 30.0)],
)
async def test_throttling_and_server_errors_are_retried(
    stub: ApnsStub, channel: ApnsChannel, reason: str, retry_after: float | None
) -> None:
    # given
    stub.retry_after = 30
    stub.fail_next(reason)

    # when
    results = await channel.send([push()])
    again = await channel.send([push()])

    # then
    assert [(r.outcome, r.error, r.retry_after) for r in results] == [(Outcome.RETRY, reason, retry_after)]
    assert [r.outcome for r in again] == [Outcome.SENT]


async def test_a_shutdown_is_retried_and_the_next_send_takes_a_new_connection(
    stub: ApnsStub, channel: ApnsChannel
) -> None:
    # given
    stub.fail_next("Shutdown")

    # when
    results = await channel.send([push()])
    again = await channel.send([push()])

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "Shutdown")]
    assert [r.outcome for r in again] == [Outcome.SENT]
    assert stub.connections == 2


async def test_a_connection_closed_while_idle_is_replaced(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    stub.idle_timeout = 0.2
    await channel.send([push()])
    await asyncio.sleep(0.5)

    # when
    results = await channel.send([push()])

    # then
    assert [r.outcome for r in results] == [Outcome.SENT]
    assert stub.connections == 2


async def test_an_oversize_payload_fails_and_the_rest_are_sent(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    oversize = push("token-2", "msg-2", data={"detail": "x" * 4000})

    # when
    results = await channel.send([push("token-1", "msg-1"), oversize, push("token-3", "msg-3")])

    # then
    assert [(r.outcome, r.error) for r in results] == [
        (Outcome.SENT, None),
        (Outcome.FAILED, "PayloadTooLarge"),
        (Outcome.SENT, None),
    ]


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("BadCollapseId", Outcome.FAILED),
        ("BadExpirationDate", Outcome.FAILED),
        ("TopicDisallowed", Outcome.FAILED),
        ("UnrelatedKeyIdInToken", Outcome.RETRY),
        ("BadEnvironmentKeyIdInToken", Outcome.RETRY),
    ],
)
async def test_other_client_errors_fail_but_credential_errors_are_retried(
    stub: ApnsStub, channel: ApnsChannel, reason: str, outcome: Outcome
) -> None:
    # given
    stub.fail_next(reason)

    # when
    results = await channel.send([push()])

    # then
    assert [(r.outcome, r.error) for r in results] == [(outcome, reason)]
    assert channel.token.signed == 1


async def test_a_refused_connection_is_retried(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    await channel.send([push()])
    await stub.stop()

    # when
    results = await channel.send([push()])
    await stub.start()
    again = await channel.send([push()])

    # then
    assert [r.outcome for r in results] == [Outcome.RETRY]
    assert results[0].error is not None
    assert results[0].error.startswith("TransportError")
    assert [r.outcome for r in again] == [Outcome.SENT]


async def test_a_timeout_is_retried(stub: ApnsStub) -> None:
    # given
    stub.delay = 0.3
    impatient = channel_for(stub, timeout=0.1)

    # when
    try:
        results = await impatient.send([push()])
    finally:
        await impatient.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "Timeout: ReadTimeout")]


async def test_an_untrusted_certificate_is_not_sent_to(stub: ApnsStub) -> None:
    # given
    trusting_only_public_cas = ApnsChannel(
        stub.key_pem, stub.key_id, stub.team_id, stub.bundle_id, endpoint=stub.base_url
    )

    # when
    try:
        results = await trusting_only_public_cas.send([push()])
    finally:
        await trusting_only_public_cas.close()

    # then
    assert [(r.outcome, r.error) for r in results] == [(Outcome.RETRY, "TransportError: ConnectError")]
    assert stub.requests == 0


async def test_streams_share_one_connection_up_to_max_concurrent(stub: ApnsStub) -> None:
    # given
    stub.delay = 0.05
    narrow = channel_for(stub, max_concurrent=3)

    # when
    try:
        results = await narrow.send([push(f"token-{i}", f"msg-{i}") for i in range(12)])
    finally:
        await narrow.close()

    # then
    assert [r.outcome for r in results] == [Outcome.SENT] * 12
    assert [r.provider_id for r in results] == [stub.delivered_to(f"token-{i}")[0].apns_id for i in range(12)]
    assert stub.peak_in_flight == 3
    assert stub.connections == 1


async def test_a_closed_channel_refuses_to_send(stub: ApnsStub) -> None:
    # given
    apns = channel_for(stub)

    # when
    await apns.close()
    await apns.close()

    # then
    with pytest.raises(RuntimeError, match="closed"):
        await apns.send([push()])


def test_the_key_must_be_a_p256_private_key() -> None:
    # given
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    # then
    for bad in (rsa_pem, public_pem, "not a key"):
        with pytest.raises(ValueError, match="key"):
            ApnsChannel(bad, "KEY", "TEAM", "cn.palmtrade.app")


async def test_a_stream_lost_with_its_connection_is_sent_once_more(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    stub.drop_next(1)

    # when
    results = await channel.send([push()])

    # then
    assert [r.outcome for r in results] == [Outcome.SENT]
    assert stub.requests == 2
    assert stub.connections == 2


async def test_a_stream_lost_twice_is_retried_later(stub: ApnsStub, channel: ApnsChannel) -> None:
    # given
    stub.drop_next(2)

    # when
    results = await channel.send([push()])
    again = await channel.send([push()])

    # then
    assert [r.outcome for r in results] == [Outcome.RETRY]
    assert results[0].error is not None
    assert results[0].error.startswith("TransportError")
    assert stub.requests == 3
    assert [r.outcome for r in again] == [Outcome.SENT]
