"""AliyunSms: the official SDK talking HTTP to the local Aliyun SMS stub, which checks its signatures; no database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from notifications.sms.aliyun import RECEIPT_ACK_BODY, AliyunSms, parse_receipts
from notifications.sms.base import SmsMessage, SmsOutcome, SmsProvider
from tests.support.aliyun_sms_stub import DEFAULT_SIGN, AliyunSmsStub, running_stub

LOGIN_TEMPLATE = "SMS_465000001"


@pytest.fixture
async def stub() -> AsyncIterator[AliyunSmsStub]:
    async with running_stub() as served:
        yield served


def provider_for(stub: AliyunSmsStub, secret: str | None = None, timeout_ms: int = 2000) -> AliyunSms:
    return AliyunSms(
        stub.access_key_id,
        secret or stub.access_key_secret,
        DEFAULT_SIGN,
        {"login_code": LOGIN_TEMPLATE, "unregistered": "SMS_999999999"},
        endpoint=stub.endpoint,
        protocol="http",
        timeout_ms=timeout_ms,
    )


@pytest.fixture
async def sms(stub: AliyunSmsStub) -> AsyncIterator[AliyunSms]:
    provider = provider_for(stub)
    yield provider
    await provider.close()


def login_code(phone: str = "13800000001", message_id: str = "msg-1", code: str = "123456") -> SmsMessage:
    return SmsMessage(message_id=message_id, phone=phone, template="login_code", params={"code": code})


async def test_a_message_is_accepted_with_its_biz_id(stub: AliyunSmsStub, sms: AliyunSms) -> None:
    # given
    provider: SmsProvider = sms

    # when
    result = await provider.send(login_code())

    # then
    assert (result.outcome, result.provider, result.code) == (SmsOutcome.SENT, "aliyun", "OK")
    [sent] = stub.sent_to("13800000001")
    assert result.provider_id == sent.biz_id
    assert (sent.sign_name, sent.template_code, sent.params, sent.out_id) == (
        DEFAULT_SIGN,
        LOGIN_TEMPLATE,
        {"code": "123456"},
        "msg-1",
    )


async def test_a_wrong_secret_fails_on_the_stubs_signature_check(stub: AliyunSmsStub) -> None:
    # given
    forged = provider_for(stub, secret="not-the-secret")

    # when
    result = await forged.send(login_code())

    # then
    assert (result.outcome, result.code) == (SmsOutcome.FAILED, "SignatureDoesNotMatch")
    assert stub.messages == []
    assert stub.failures["SignatureDoesNotMatch"] == 1


async def test_a_number_that_is_not_a_mainland_mobile_is_invalid(stub: AliyunSmsStub, sms: AliyunSms) -> None:
    # given
    landline = login_code(phone="02112345678")

    # when
    result = await sms.send(landline)

    # then
    assert (result.outcome, result.code) == (SmsOutcome.INVALID_NUMBER, "isv.MOBILE_NUMBER_ILLEGAL")
    assert stub.messages == []


async def test_a_second_message_to_a_number_within_a_minute_is_rate_limited(
    stub: AliyunSmsStub, sms: AliyunSms
) -> None:
    # given
    first = await sms.send(login_code(message_id="msg-1"))

    # when
    second = await sms.send(login_code(message_id="msg-2"))
    other_number = await sms.send(login_code(phone="13900000002", message_id="msg-3"))

    # then
    assert first.outcome is SmsOutcome.SENT
    assert (second.outcome, second.code) == (SmsOutcome.RATE_LIMITED, "isv.BUSINESS_LIMIT_CONTROL")
    assert other_number.outcome is SmsOutcome.SENT
    assert [m.out_id for m in stub.sent_to("13800000001")] == ["msg-1"]


async def test_a_stub_that_is_down_is_retried(stub: AliyunSmsStub, sms: AliyunSms) -> None:
    # given
    stub.down = True

    # when
    result = await sms.send(login_code())

    # then
    assert (result.outcome, result.code) == (SmsOutcome.RETRY, "ServiceUnavailable")
    assert stub.stats()["failures"] == {"ServiceUnavailable": 1}


async def test_a_closed_port_is_retried(stub: AliyunSmsStub, sms: AliyunSms) -> None:
    # given
    await stub.stop()

    # when
    result = await sms.send(login_code())

    # then
    assert (result.outcome, result.code) == (SmsOutcome.RETRY, None)


async def test_an_answer_slower_than_the_timeout_is_retried(stub: AliyunSmsStub) -> None:
    # given
    stub.delay = 0.5
    impatient = provider_for(stub, timeout_ms=100)

    # when
    result = await impatient.send(login_code())

    # then
    assert (result.outcome, result.message) == (SmsOutcome.RETRY, "timed out")


async def test_an_unregistered_template_fails(stub: AliyunSmsStub, sms: AliyunSms) -> None:
    # given
    message = SmsMessage(message_id="msg-1", phone="13800000001", template="unregistered", params={"code": "1"})

    # when
    result = await sms.send(message)

    # then
    assert (result.outcome, result.code) == (SmsOutcome.FAILED, "isv.SMS_TEMPLATE_ILLEGAL")


async def test_a_template_key_without_an_aliyun_template_fails_without_a_request(
    stub: AliyunSmsStub, sms: AliyunSms
) -> None:
    # given
    message = SmsMessage(message_id="msg-1", phone="13800000001", template="award_notice")

    # when
    result = await sms.send(message)

    # then
    assert result.outcome is SmsOutcome.FAILED
    assert stub.requests == 0


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("isp.SYSTEM_ERROR", SmsOutcome.RETRY),
        ("Throttling.User", SmsOutcome.RETRY),
        ("InternalError", SmsOutcome.RETRY),
        ("isv.DAY_LIMIT_CONTROL", SmsOutcome.RETRY),
        ("isv.MOBILE_COUNT_OVER_LIMIT", SmsOutcome.INVALID_NUMBER),
        ("isv.SMS_SIGNATURE_ILLEGAL", SmsOutcome.FAILED),
        ("isv.TEMPLATE_MISSING_PARAMETERS", SmsOutcome.FAILED),
        ("isv.AMOUNT_NOT_ENOUGH", SmsOutcome.FAILED),
        ("InvalidAccessKeyId.NotFound", SmsOutcome.FAILED),
    ],
)
async def test_the_providers_answers_map_to_outcomes(
    stub: AliyunSmsStub, sms: AliyunSms, code: str, outcome: SmsOutcome
) -> None:
    # given
    stub.fail_next(code)

    # when
    result = await sms.send(login_code())

    # then
    assert (result.outcome, result.code) == (outcome, code)


async def test_failures_are_logged_without_the_number_or_the_code(
    stub: AliyunSmsStub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    forged = provider_for(stub, secret="not-the-secret")
    caplog.set_level(logging.DEBUG, logger="palmtrade.sms.aliyun")

    # when
    result = await forged.send(login_code(phone="13812345678", code="975310"))

    # then
    assert result.outcome is SmsOutcome.FAILED
    logged = caplog.text
    assert "138****5678" in logged
    assert "13812345678" not in logged
    assert "975310" not in logged


async def test_the_stubs_sms_report_gives_delivered_and_failed_receipts(stub: AliyunSmsStub, sms: AliyunSms) -> None:
    # given
    delivered = await sms.send(login_code(phone="13800000001", message_id="msg-1"))
    undelivered = await sms.send(login_code(phone="13900000002", message_id="msg-2"))
    [first] = stub.sent_to("13800000001")
    [second] = stub.sent_to("13900000002")
    body = stub.report_body([stub.report(first), stub.report(second, delivered=False, code="MK:0001")])

    # when
    receipts = parse_receipts(body)

    # then
    assert [(r.provider_id, r.out_id, r.phone, r.delivered, r.code) for r in receipts] == [
        (delivered.provider_id, "msg-1", "13800000001", True, "DELIVERED"),
        (undelivered.provider_id, "msg-2", "13900000002", False, "MK:0001"),
    ]
    assert all(r.provider == "aliyun" and r.reported_at for r in receipts)


async def test_a_push_that_is_not_a_json_array_is_refused_and_a_good_one_is_acknowledged() -> None:
    # given
    single_object = b'{"phone_number": "13800000001", "success": true}'

    # when
    with pytest.raises(ValueError, match="JSON array") as refused:
        parse_receipts(single_object)

    # then
    assert refused.type is ValueError
    assert RECEIPT_ACK_BODY.decode() == '{"code": 0, "msg": "接收成功"}'
