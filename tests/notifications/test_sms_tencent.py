"""TencentSms: the official tencentcloud-sdk-python-sms talking API 3.0 to the local stub; no mocks, no database."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest

from notifications.sms.base import SmsMessage, SmsOutcome, SmsProvider
from notifications.sms.tencent import CALLBACK_ANSWER, TencentSms, parse_receipts
from tests.support.tencent_sms_stub import TencentSmsStub, running_stub

SIGN_NAME = "掌上交易"
TEMPLATES = {"login_code": "2000001", "bid_opening": "2000002"}
PARAMS_ORDER = {"login_code": ["code", "minutes"], "bid_opening": ["project", "time"]}


@pytest.fixture
async def stub() -> AsyncIterator[TencentSmsStub]:
    async with running_stub() as served:
        yield served


def provider_for(
    stub: TencentSmsStub,
    *,
    secret_id: str | None = None,
    secret_key: str | None = None,
    endpoint: str | None = None,
    templates: dict[str, str] | None = None,
    timeout: int = 5,
) -> TencentSms:
    return TencentSms(
        secret_id or stub.secret_id,
        secret_key or stub.secret_key,
        stub.sdk_app_id,
        SIGN_NAME,
        templates or TEMPLATES,
        PARAMS_ORDER,
        endpoint=endpoint or stub.endpoint,
        scheme="http",
        timeout=timeout,
    )


@pytest.fixture
async def sms(stub: TencentSmsStub) -> AsyncIterator[TencentSms]:
    provider = provider_for(stub)
    yield provider
    await provider.close()


def login_code(phone: str = "13800000001", message_id: str = "msg-1", code: str = "123456") -> SmsMessage:
    return SmsMessage(message_id=message_id, phone=phone, template="login_code", params={"minutes": "5", "code": code})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_message_is_accepted_with_its_serial_no(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    provider: SmsProvider = sms

    # when
    result = await provider.send(login_code())

    # then
    assert result.outcome is SmsOutcome.SENT
    assert result.provider == "tencent"
    assert result.code == "Ok"
    [sent] = stub.sent_to("13800000001")
    assert result.provider_id == sent.serial_no
    assert sent.phone == "+8613800000001"
    assert sent.template_id == "2000001"
    assert sent.params == ("123456", "5")
    assert sent.session_context == "msg-1"
    assert sent.sign_name == SIGN_NAME
    assert sent.content == "【掌上交易】您的验证码为123456，5分钟内有效，请勿泄露。"


async def test_the_sdk_signs_an_api_3_request_that_the_stub_verifies(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    message = login_code()

    # when
    await sms.send(message)

    # then
    headers = stub.last_headers
    assert headers["x-tc-action"] == "SendSms"
    assert headers["x-tc-version"] == "2021-01-11"
    assert headers["x-tc-region"] == "ap-guangzhou"
    assert headers["content-type"] == "application/json"
    assert headers["host"] == stub.endpoint
    assert abs(int(headers["x-tc-timestamp"]) - time.time()) < 60
    assert headers["authorization"].startswith(f"TC3-HMAC-SHA256 Credential={stub.secret_id}/")
    assert "/sms/tc3_request, SignedHeaders=content-type;host, Signature=" in headers["authorization"]
    assert stub.last_body == {
        "PhoneNumberSet": ["+8613800000001"],
        "SmsSdkAppId": stub.sdk_app_id,
        "TemplateId": "2000001",
        "SignName": SIGN_NAME,
        "TemplateParamSet": ["123456", "5"],
        "SessionContext": "msg-1",
    }


async def test_a_wrong_secret_key_fails_on_the_signature(stub: TencentSmsStub) -> None:
    # given
    provider = provider_for(stub, secret_key="not-the-secret-key")

    # when
    result = await provider.send(login_code())
    await provider.close()

    # then
    assert result.outcome is SmsOutcome.FAILED
    assert result.code == "AuthFailure.SignatureFailure"
    assert "请求签名验证失败" in str(result.message)
    assert stub.accepted == 0


async def test_an_unknown_secret_id_fails(stub: TencentSmsStub) -> None:
    # given
    provider = provider_for(stub, secret_id="AKIDunknown")

    # when
    result = await provider.send(login_code())
    await provider.close()

    # then
    assert (result.outcome, result.code) == (SmsOutcome.FAILED, "AuthFailure.SecretIdNotFound")


async def test_a_signature_from_a_skewed_clock_has_expired(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    stub.clock = lambda: time.time() + 600

    # when
    result = await sms.send(login_code())

    # then
    assert (result.outcome, result.code) == (SmsOutcome.FAILED, "AuthFailure.SignatureExpire")


async def test_an_invalid_number_is_reported_as_such(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    message = login_code(phone="1380000")

    # when
    result = await sms.send(message)

    # then
    assert result.outcome is SmsOutcome.INVALID_NUMBER
    assert result.code == "InvalidParameterValue.IncorrectPhoneNumber"
    assert result.provider_id is None
    assert stub.accepted == 0


async def test_a_second_message_to_a_number_within_30_seconds_is_rate_limited(
    stub: TencentSmsStub, sms: TencentSms
) -> None:
    # given
    first = await sms.send(login_code(message_id="msg-1"))

    # when
    second = await sms.send(login_code(message_id="msg-2"))

    # then
    assert first.outcome is SmsOutcome.SENT
    assert second.outcome is SmsOutcome.RATE_LIMITED
    assert second.code == "LimitExceeded.PhoneNumberThirtySecondLimit"
    assert [m.session_context for m in stub.sent_to("13800000001")] == ["msg-1"]


@pytest.mark.parametrize(
    ("settings", "start", "allowed", "code"),
    [
        ({}, None, 5, "LimitExceeded.PhoneNumberOneHourLimit"),
        ({"limit_hour": None, "max_skew": 10**10}, 1_767_240_000.0, 10, "LimitExceeded.PhoneNumberDailyLimit"),
    ],
    ids=["hour", "day"],
)
async def test_the_hourly_and_daily_limits_per_number(
    stub: TencentSmsStub, sms: TencentSms, settings: dict[str, Any], start: float | None, allowed: int, code: str
) -> None:
    # given
    for name, value in settings.items():
        setattr(stub, name, value)
    began = start or time.time()
    sends = 0
    stub.clock = lambda: began + 31 * sends
    outcomes = []

    # when
    for n in range(allowed + 1):
        outcomes.append(await sms.send(login_code(message_id=f"msg-{n}")))
        sends += 1

    # then
    assert [r.outcome for r in outcomes] == [SmsOutcome.SENT] * allowed + [SmsOutcome.RATE_LIMITED]
    assert outcomes[-1].code == code


@pytest.mark.parametrize(("down_answer", "code"), [("http", "ServerNetworkError"), ("error", "InternalError")])
async def test_a_provider_that_is_down_is_retried(
    stub: TencentSmsStub, sms: TencentSms, down_answer: str, code: str
) -> None:
    # given
    stub.down, stub.down_answer = True, down_answer

    # when
    result = await sms.send(login_code())

    # then
    assert (result.outcome, result.code) == (SmsOutcome.RETRY, code)
    assert stub.requests == 1


async def test_a_closed_port_is_retried(stub: TencentSmsStub) -> None:
    # given
    provider = provider_for(stub, endpoint=f"127.0.0.1:{closed_port()}")

    # when
    result = await provider.send(login_code())
    await provider.close()

    # then
    assert (result.outcome, result.code) == (SmsOutcome.RETRY, "ClientNetworkError")


async def test_an_answer_slower_than_the_timeout_is_retried(stub: TencentSmsStub) -> None:
    # given
    stub.delay = 1.5
    provider = provider_for(stub, timeout=1)

    # when
    result = await provider.send(login_code())
    await provider.close()

    # then
    assert (result.outcome, result.code) == (SmsOutcome.RETRY, "ClientNetworkError")
    assert stub.requests == 1


async def test_a_template_tencent_does_not_know_fails(stub: TencentSmsStub) -> None:
    # given
    provider = provider_for(stub, templates={"login_code": "9999999", "bid_opening": "2000002"})

    # when
    result = await provider.send(login_code())
    await provider.close()

    # then
    assert (result.outcome, result.code) == (SmsOutcome.FAILED, "FailedOperation.TemplateIncorrectOrUnapproved")
    assert stub.accepted == 0


async def test_a_template_without_a_tencent_id_fails_without_a_request(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    message = SmsMessage(message_id="msg-1", phone="13800000001", template="award_notice", params={})

    # when
    result = await sms.send(message)

    # then
    assert (result.outcome, result.code) == (SmsOutcome.FAILED, "UnknownTemplate")
    assert stub.requests == 0


@pytest.mark.parametrize(
    ("code", "request_level", "outcome"),
    [
        ("FailedOperation.PhoneNumberInBlacklist", None, SmsOutcome.FAILED),
        ("FailedOperation.SignatureIncorrectOrUnapproved", None, SmsOutcome.FAILED),
        ("FailedOperation.InsufficientBalanceInSmsPackage", None, SmsOutcome.FAILED),
        ("FailedOperation.TemplateIncorrectOrUnapproved", True, SmsOutcome.FAILED),
        ("LimitExceeded.PhoneNumberDailyLimit", None, SmsOutcome.RATE_LIMITED),
        ("LimitExceeded.PhoneNumberSameContentDailyLimit", None, SmsOutcome.RATE_LIMITED),
        ("LimitExceeded.PhoneNumberCountLimit", True, SmsOutcome.FAILED),
        ("LimitExceeded.AppDailyLimit", None, SmsOutcome.RETRY),
        ("InternalError.Timeout", None, SmsOutcome.RETRY),
        ("RequestLimitExceeded", None, SmsOutcome.RETRY),
        ("AuthFailure.SecretIdNotFound", None, SmsOutcome.FAILED),
        ("UnauthorizedOperation.ServiceSuspendDueToArrears", None, SmsOutcome.FAILED),
    ],
)
async def test_each_tencent_code_has_its_outcome(
    stub: TencentSmsStub, sms: TencentSms, code: str, request_level: bool | None, outcome: SmsOutcome
) -> None:
    # given
    stub.fail_next(code, request_level=request_level)

    # when
    result = await sms.send(login_code())

    # then
    assert (result.outcome, result.code) == (outcome, code)
    assert result.provider_id is None


async def test_logs_mask_the_number_and_never_show_the_code(
    stub: TencentSmsStub, sms: TencentSms, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    caplog.set_level(logging.DEBUG)

    # when
    await sms.send(login_code(code="987654"))
    await sms.send(login_code(code="987654"))

    # then
    assert "138****0001" in caplog.text
    assert "13800000001" not in caplog.text
    assert "987654" not in caplog.text


async def test_a_closed_provider_refuses_to_send(stub: TencentSmsStub) -> None:
    # given
    provider = provider_for(stub)
    await provider.send(login_code())
    await provider.close()

    # when
    with pytest.raises(RuntimeError):
        await provider.send(login_code(message_id="msg-2"))

    # then
    assert stub.accepted == 1


async def test_receipts_from_the_status_callback(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    sent = await sms.send(login_code(phone="13800000001", message_id="msg-1"))
    await sms.send(login_code(phone="13900000002", message_id="msg-2"))
    [first, second] = stub.messages
    body = stub.callback_body([first])
    failed = stub.callback_body([second], delivered=False, errmsg="MK:0012", received_at=1_767_225_600)
    both = json.dumps(json.loads(body) + json.loads(failed)).encode()

    # when
    receipts = parse_receipts(both)

    # then
    delivered, undelivered = receipts
    assert delivered.provider == "tencent"
    assert delivered.provider_id == sent.provider_id
    assert (delivered.phone, delivered.delivered, delivered.code, delivered.out_id) == (
        "13800000001",
        True,
        "DELIVRD",
        "msg-1",
    )
    assert (undelivered.phone, undelivered.delivered, undelivered.code, undelivered.out_id) == (
        "13900000002",
        False,
        "MK:0012",
        "msg-2",
    )
    assert undelivered.reported_at == "2026-01-01 08:00:00"


async def test_a_callback_receiver_answers_what_tencent_expects(stub: TencentSmsStub, sms: TencentSms) -> None:
    # given
    await sms.send(login_code())
    received: list[Any] = []

    async def receiver(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        event = await receive()
        received.extend(parse_receipts(event["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": CALLBACK_ANSWER})

    # when
    answer = await stub.post_callback("http://palmtrade.test/sms/tencent", transport=httpx.ASGITransport(receiver))

    # then
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    assert [(r.provider_id, r.out_id) for r in received] == [(stub.messages[0].serial_no, "msg-1")]


async def test_a_body_that_is_not_a_json_array_is_refused() -> None:
    # given
    bodies = [b"", b"{}", b"[1]", b"\xff"]

    # when
    errors = []
    for body in bodies:
        with pytest.raises(ValueError, match="JSON") as caught:
            parse_receipts(body)
        errors.append(caught.value)

    # then
    assert len(errors) == len(bodies)
