"""AliyunVoice: the official SDK talking HTTP to the local Aliyun voice stub, which checks signatures; no database."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn

from notifications.voice.aliyun import REPORT_ACK_BODY, AliyunVoice, out_id_for, parse_reports
from notifications.voice.base import Answer, VoiceCall, VoiceOutcome, VoiceProvider
from tests.support.aliyun_voice_stub import (
    BYE_TTS,
    CONFIRMED_TTS,
    DECLINED_TTS,
    DEFAULT_SHOW_NUMBER,
    EXPERT_DRAWN,
    AliyunVoiceStub,
    running_stub,
)


@pytest.fixture
async def stub() -> AsyncIterator[AliyunVoiceStub]:
    async with running_stub() as served:
        yield served


def provider_for(stub: AliyunVoiceStub, secret: str | None = None, timeout_ms: int = 2000) -> AliyunVoice:
    return AliyunVoice(
        stub.access_key_id,
        secret or stub.access_key_secret,
        DEFAULT_SHOW_NUMBER,
        {"expert_drawn": EXPERT_DRAWN, "unregistered": "TTS_999999999"},
        confirm_code=CONFIRMED_TTS,
        decline_code=DECLINED_TTS,
        bye_code=BYE_TTS,
        play_times=2,
        key_timeout_ms=8000,
        endpoint=stub.endpoint,
        protocol="http",
        timeout_ms=timeout_ms,
    )


@pytest.fixture
async def voice(stub: AliyunVoiceStub) -> AsyncIterator[AliyunVoice]:
    provider = provider_for(stub)
    yield provider
    await provider.close()


def expert_drawn(phone: str = "13800000001", call_id: str = "call-1") -> VoiceCall:
    params = {"project": "滇中引水工程监理", "time": "3月5日9时"}
    return VoiceCall(call_id=call_id, phone=phone, template="expert_drawn", params=params)


async def test_a_call_is_placed_with_its_template_params_out_id_and_key_menu(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    provider: VoiceProvider = voice

    # when
    result = await provider.call(expert_drawn())

    # then
    assert (result.outcome, result.provider, result.code) == (VoiceOutcome.PLACED, "aliyun", "OK")
    [placed] = stub.calls_to("13800000001")
    assert result.provider_id == placed.call_id
    assert (placed.show_number, placed.start_code, placed.params, placed.out_id) == (
        DEFAULT_SHOW_NUMBER,
        EXPERT_DRAWN,
        {"project": "滇中引水工程监理", "time": "3月5日9时"},
        "call-1",
    )
    assert placed.menu == {"1": CONFIRMED_TTS, "2": DECLINED_TTS}
    assert (placed.bye_code, placed.play_times, placed.timeout_ms) == (BYE_TTS, 2, 8000)


async def test_a_call_id_longer_than_aliyuns_out_id_is_sent_as_its_digest(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    call_id = "9b7a6f0e-2c55-4d1e-8a43-0c1f3e5d7b21"

    # when
    result = await voice.call(expert_drawn(call_id=call_id))

    # then
    assert result.outcome is VoiceOutcome.PLACED
    [placed] = stub.calls
    assert placed.out_id == out_id_for(call_id)
    assert len(placed.out_id or "") == 15


async def test_a_wrong_secret_fails_on_the_stubs_signature_check(stub: AliyunVoiceStub) -> None:
    # given
    forged = provider_for(stub, secret="not-the-secret")

    # when
    result = await forged.call(expert_drawn())

    # then
    assert (result.outcome, result.code) == (VoiceOutcome.FAILED, "SignatureDoesNotMatch")
    assert "string to sign" not in (result.message or "")
    assert stub.calls == []
    assert stub.failures["SignatureDoesNotMatch"] == 1


async def test_a_number_that_is_not_a_mainland_mobile_is_invalid(stub: AliyunVoiceStub, voice: AliyunVoice) -> None:
    # given
    short_number = expert_drawn(phone="1380000000")

    # when
    result = await voice.call(short_number)

    # then
    assert (result.outcome, result.code) == (VoiceOutcome.INVALID_NUMBER, "isv.MOBILE_NUMBER_ILLEGAL")
    assert stub.calls == []


async def test_a_second_call_to_a_number_within_a_minute_is_rate_limited(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    first = await voice.call(expert_drawn(call_id="call-1"))

    # when
    second = await voice.call(expert_drawn(call_id="call-2"))
    other_number = await voice.call(expert_drawn(phone="13900000002", call_id="call-3"))

    # then
    assert first.outcome is VoiceOutcome.PLACED
    assert (second.outcome, second.code) == (VoiceOutcome.RATE_LIMITED, "isv.BUSINESS_LIMIT_CONTROL")
    assert other_number.outcome is VoiceOutcome.PLACED
    assert [c.out_id for c in stub.calls_to("13800000001")] == ["call-1"]


async def test_a_stub_that_is_down_is_retried(stub: AliyunVoiceStub, voice: AliyunVoice) -> None:
    # given
    stub.down = True

    # when
    result = await voice.call(expert_drawn())

    # then
    assert (result.outcome, result.code) == (VoiceOutcome.RETRY, "ServiceUnavailable")
    assert stub.stats()["failures"] == {"ServiceUnavailable": 1}


async def test_a_closed_port_is_retried(stub: AliyunVoiceStub, voice: AliyunVoice) -> None:
    # given
    await stub.stop()

    # when
    result = await voice.call(expert_drawn())

    # then
    assert (result.outcome, result.code) == (VoiceOutcome.RETRY, None)


async def test_an_answer_slower_than_the_timeout_is_retried(stub: AliyunVoiceStub) -> None:
    # given
    stub.delay = 0.5
    impatient = provider_for(stub, timeout_ms=100)

    # when
    result = await impatient.call(expert_drawn())

    # then
    assert (result.outcome, result.message) == (VoiceOutcome.RETRY, "timed out")


async def test_an_unregistered_tts_template_fails(stub: AliyunVoiceStub, voice: AliyunVoice) -> None:
    # given
    call = VoiceCall(call_id="call-1", phone="13800000001", template="unregistered", params={})

    # when
    result = await voice.call(call)

    # then
    assert (result.outcome, result.code) == (VoiceOutcome.FAILED, "isv.TTS_TEMPLATE_ILLEGAL")


async def test_a_template_key_without_an_aliyun_template_fails_without_a_request(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    call = VoiceCall(call_id="call-1", phone="13800000001", template="award_notice", params={})

    # when
    result = await voice.call(call)

    # then
    assert result.outcome is VoiceOutcome.FAILED
    assert stub.requests == 0


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("isp.SYSTEM_ERROR", VoiceOutcome.RETRY),
        ("isp.GATEWAY_ERROR", VoiceOutcome.RETRY),
        ("Throttling.User", VoiceOutcome.RETRY),
        ("InternalError", VoiceOutcome.RETRY),
        ("isv.DISPLAY_NUMBER_ILLEGAL", VoiceOutcome.FAILED),
        ("isv.TEMPLATE_MISSING_PARAMETERS", VoiceOutcome.FAILED),
        ("isv.AMOUNT_NOT_ENOUGH", VoiceOutcome.FAILED),
        ("isv.COMPLAINT_REJECT", VoiceOutcome.FAILED),
        ("InvalidAccessKeyId.NotFound", VoiceOutcome.FAILED),
    ],
)
async def test_the_providers_answers_map_to_outcomes(
    stub: AliyunVoiceStub, voice: AliyunVoice, code: str, outcome: VoiceOutcome
) -> None:
    # given
    stub.fail_next(code)

    # when
    result = await voice.call(expert_drawn())

    # then
    assert (result.outcome, result.code) == (outcome, code)


async def test_failures_are_logged_with_the_number_masked(
    stub: AliyunVoiceStub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    forged = provider_for(stub, secret="not-the-secret")
    caplog.set_level(logging.DEBUG, logger="palmtrade.voice.aliyun")

    # when
    result = await forged.call(expert_drawn(phone="13812345678"))

    # then
    assert result.outcome is VoiceOutcome.FAILED
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text
    assert "滇中引水" not in caplog.text


async def test_the_call_records_give_the_callees_answer(stub: AliyunVoiceStub, voice: AliyunVoice) -> None:
    # given
    phones = ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005"]
    results = [await voice.call(expert_drawn(phone=p, call_id=f"call-{i}")) for i, p in enumerate(phones, 1)]
    stub.answer("13800000001", key="1")
    stub.answer(results[1].provider_id or "", key="2")
    stub.no_answer("13800000003")
    stub.answer("13800000004", key="")  # heard it to the end, pressed nothing
    stub.fail("13800000005", status="200011")

    # when
    reports = parse_reports(stub.report_body())

    # then
    assert [(r.provider_id, r.out_id, r.phone, r.answer, r.key) for r in reports] == [
        (results[0].provider_id, "call-1", "13800000001", Answer.CONFIRMED, "1"),
        (results[1].provider_id, "call-2", "13800000002", Answer.DECLINED, "2"),
        (results[2].provider_id, "call-3", "13800000003", Answer.NO_ANSWER, None),
        (results[3].provider_id, "call-4", "13800000004", Answer.NO_ANSWER, None),
        (results[4].provider_id, "call-5", "13800000005", Answer.FAILED, None),
    ]
    assert [r.code for r in reports] == ["200000", "200000", "200003", "200000", "200011"]
    assert all(r.provider == "aliyun" and r.ended_at for r in reports)


async def test_a_key_message_decides_only_with_a_confirm_or_decline_key(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    confirmed = await voice.call(expert_drawn(phone="13800000001", call_id="call-1"))
    await voice.call(expert_drawn(phone="13800000002", call_id="call-2"))
    stub.answer("13800000001", key="1")
    stray = stub.answer("13800000002", key="9")
    ringing = {"call_id": stray.call_id, "status_code": "200201", "status_time": "2026-03-05 09:00:00", "out_id": ""}
    body = stub.report_body([stub.key_report(stub.find("13800000001")), stub.key_report(stray), ringing])

    # when
    reports = parse_reports(body)

    # then
    [report] = reports
    assert (report.provider_id, report.out_id, report.phone, report.answer, report.key, report.code) == (
        confirmed.provider_id,
        "call-1",
        "",
        Answer.CONFIRMED,
        "1",
        "300000",
    )


async def test_a_key_that_is_neither_confirm_nor_decline_is_no_answer_in_the_call_record(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    await voice.call(expert_drawn())
    stub.answer("13800000001", key="39")

    # when
    [report] = voice.parse_reports(stub.report_body())

    # then
    assert (report.answer, report.key) == (Answer.NO_ANSWER, "39")


async def test_the_keys_are_the_providers_own(stub: AliyunVoiceStub) -> None:
    # given
    swapped = AliyunVoice(
        stub.access_key_id, stub.access_key_secret, DEFAULT_SHOW_NUMBER, {}, confirm_key="2", decline_key="1"
    )
    body = json.dumps([{"call_id": "1^1", "status_code": "200000", "dtmf": "2", "end_time": ""}]).encode()

    # when
    [report] = swapped.parse_reports(body)

    # then
    assert (report.answer, report.ended_at) == (Answer.CONFIRMED, None)


@asynccontextmanager
async def receipts_url() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A receipts endpoint that keeps every body pushed to it and acknowledges as the platform will."""
    received: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            event = await receive()
            body, more = body + event.get("body", b""), event.get("more_body", False)
        received.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": REPORT_ACK_BODY})

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/voice/receipts", received
    finally:
        server.should_exit = True
        await task


async def test_a_pushed_call_record_reaches_the_receipts_url_and_is_acknowledged(
    stub: AliyunVoiceStub, voice: AliyunVoice
) -> None:
    # given
    placed = await voice.call(expert_drawn())
    stub.answer("13800000001", key="2")

    async with receipts_url() as (url, received):
        # when
        response = await stub.push_reports(url)

    # then
    assert (response.status_code, response.json()) == (200, {"code": 0, "msg": "接收成功"})
    [body] = received
    [report] = voice.parse_reports(body)
    assert (report.provider_id, report.out_id, report.answer) == (placed.provider_id, "call-1", Answer.DECLINED)


def test_a_push_that_is_not_a_json_array_is_refused() -> None:
    # given
    single_object = b'{"call_id": "1^1", "status_code": "200000", "dtmf": "1"}'

    # when
    with pytest.raises(ValueError, match="JSON array") as refused:
        parse_reports(single_object)

    # then
    assert refused.type is ValueError
    assert REPORT_ACK_BODY.decode() == '{"code": 0, "msg": "接收成功"}'
