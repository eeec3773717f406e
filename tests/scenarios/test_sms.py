"""SMS through the providers a Chinese deployment uses, over HTTP the way the app signs in: the official Aliyun
and Tencent SDKs against local servers speaking their protocols (signatures checked), failover, delivery
receipts, and nothing lost or sent twice when providers fail."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from api.settings import Settings, SettingsError
from domain.accounts import adapters
from domain.sms.models import SmsAttempt, SmsMessage
from notifications.sms.aliyun import AliyunSms
from notifications.sms.dispatch import SmsDispatcher
from notifications.sms.tencent import TencentSms
from tests import factories as f
from tests.scenarios.test_onboarding import SMS_LOGIN, SMS_REQUEST
from tests.support import aliyun_sms_stub, tencent_sms_stub

ALIYUN_TEMPLATES = {"login_code": "SMS_465000001", "expert_login_code": "SMS_465000002"}
TENCENT_TEMPLATES = {"login_code": "2000101", "expert_login_code": "2000102"}
PARAMS_ORDER = {"login_code": ("code",), "expert_login_code": ("code",)}


@dataclasses.dataclass
class Providers:
    aliyun: aliyun_sms_stub.AliyunSmsStub
    tencent: tencent_sms_stub.TencentSmsStub
    dispatcher: SmsDispatcher


@pytest.fixture
async def providers(api: Any) -> AsyncIterator[Providers]:
    """Aliyun first, Tencent as failover, both real SDK clients against their stubs, wired as the server's SMS
    outbox for the duration of the test (then the development sender again)."""
    templates = {"SMS_465000001": ("code",), "SMS_465000002": ("code",)}
    tencent_templates = {"2000101": "您的登录验证码为{1}，5 分钟内有效。", "2000102": "您的评标专家登录验证码为{1}。"}
    async with (
        aliyun_sms_stub.running_stub(templates=templates) as ali,
        tencent_sms_stub.running_stub(templates=tencent_templates) as ten,
    ):
        dispatcher = SmsDispatcher(
            [
                AliyunSms(
                    ali.access_key_id,
                    ali.access_key_secret,
                    "掌上交易",
                    ALIYUN_TEMPLATES,
                    endpoint=ali.endpoint,
                    protocol="http",
                ),
                TencentSms(
                    ten.secret_id,
                    ten.secret_key,
                    ten.sdk_app_id,
                    "掌上交易",
                    TENCENT_TEMPLATES,
                    PARAMS_ORDER,
                    endpoint=ten.endpoint,
                    scheme="http",
                ),
            ],
            api.services.settings.secret_key,
            "test-sms",
        )
        before = adapters.deps.sms
        adapters.configure(adapters.deps.keyring, dispatcher, adapters.deps.code_secret)
        settings = api.services.settings
        api.services.settings = dataclasses.replace(settings, sms_callback_token="receipt-token-1")
        try:
            yield Providers(ali, ten, dispatcher)
        finally:
            api.services.settings = settings
            adapters.configure(adapters.deps.keyring, before, adapters.deps.code_secret)
            await dispatcher.close()


async def attempts(phone: str) -> list[tuple[str, str, str | None]]:
    rows = await SmsAttempt.filter(message__phone=phone).order_by("id")
    return [(a.provider, a.outcome, a.code) for a in rows]


async def test_a_sign_in_code_goes_by_aliyun_and_its_delivery_receipt_is_recorded(api, providers):
    # given an approved bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)

    # when it asks for a sign-in code
    sent = (await api.gql(SMS_REQUEST, {"input": {"phone": phone}}))["data"]["authSmsCodeRequest"]

    # then Aliyun accepted exactly one message for it, through its registered template, and the code signs in
    assert sent["__typename"] == "SmsCodeSent", sent
    [message] = providers.aliyun.sent_to(phone)
    assert (message.template_code, message.sign_name) == ("SMS_465000001", "掌上交易")
    assert providers.tencent.messages == []
    signed = await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": message.params["code"]}})
    assert signed["data"]["authSmsLogin"]["__typename"] == "SignedIn"
    stored = await SmsMessage.get(phone=phone)
    assert (stored.status, stored.provider, stored.provider_id) == ("sent", "aliyun", message.biz_id)
    assert stored.params_sealed is None  # the code is not kept once the message is final

    # when Aliyun pushes its delivery receipt to the callback URL registered in its console
    answer = await providers.aliyun.push_reports(f"{api.base_url}/callbacks/sms/aliyun?token=receipt-token-1")
    forged = await providers.aliyun.push_reports(f"{api.base_url}/callbacks/sms/aliyun?token=guess")

    # then the message is delivered, Aliyun is answered as it expects, and a wrong token changes nothing
    assert answer.json()["code"] == 0
    assert forged.status_code == 404
    assert (await SmsMessage.get(phone=phone)).status == "delivered"


async def test_when_aliyun_fails_the_code_goes_by_tencent_once(api, providers):
    # given an approved bidder, and Aliyun answering 503
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    providers.aliyun.down = True

    # when it asks for a code
    await api.gql(SMS_REQUEST, {"input": {"phone": phone}})

    # then Tencent delivered it (one message, SerialNo recorded), after Aliyun's failure was recorded
    assert providers.aliyun.sent_to(phone) == []
    [message] = [m for m in providers.tencent.messages if m.phone.endswith(phone)]
    assert await attempts(phone) == [("aliyun", "retry", "ServiceUnavailable"), ("tencent", "sent", "Ok")]
    stored = await SmsMessage.get(phone=phone)
    assert (stored.status, stored.provider, stored.provider_id) == ("sent", "tencent", message.serial_no)
    code = message.params[0]
    assert re.fullmatch(r"\d{6}", code)

    # when Tencent's status callback arrives
    answer = await providers.tencent.post_callback(f"{api.base_url}/callbacks/sms/tencent?token=receipt-token-1")
    # then it is recorded too
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    assert (await SmsMessage.get(phone=phone)).status == "delivered"


async def test_with_both_providers_down_the_code_waits_and_is_sent_once_when_one_is_back(api, providers, manual_clock):
    # given both providers down
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    providers.aliyun.down = True
    providers.tencent.down = True

    # when a code is asked for, and the workers run again (twice) once Aliyun is back
    sent = (await api.gql(SMS_REQUEST, {"input": {"phone": phone}}))["data"]["authSmsCodeRequest"]
    waiting = await SmsMessage.get(phone=phone)
    providers.aliyun.down = False
    manual_clock.advance(timedelta(seconds=3))  # past the first backoff
    first = await providers.dispatcher.run_once()
    second = await providers.dispatcher.run_once()

    # then the request was answered at once, the message waited queued, and went out exactly once
    assert sent["__typename"] == "SmsCodeSent"
    assert waiting.status == "queued"
    assert (first, second) == (1, 0)
    assert len(providers.aliyun.sent_to(phone)) == 1
    assert [a[:2] for a in await attempts(phone)] == [("aliyun", "retry"), ("tencent", "retry"), ("aliyun", "sent")]


async def test_an_invalid_number_at_the_provider_fails_the_message_without_failover(api, providers):
    # given Aliyun refusing the number as illegal
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    providers.aliyun.fail_next("isv.MOBILE_NUMBER_ILLEGAL")

    # when a code is asked for
    await api.gql(SMS_REQUEST, {"input": {"phone": phone}})

    # then the message failed with Aliyun's code, and Tencent was not asked (the number is not valid anywhere)
    stored = await SmsMessage.get(phone=phone)
    assert (stored.status, stored.last_code) == ("failed", "aliyun:isv.MOBILE_NUMBER_ILLEGAL")
    assert providers.tencent.messages == []


def test_production_refuses_the_log_sender(monkeypatch):
    # given production settings without an SMS provider
    monkeypatch.setenv("PALMTRADE_PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
    monkeypatch.delenv("SMS_PROVIDERS", raising=False)
    # then the server refuses to start, saying why
    with pytest.raises(SettingsError, match="SMS_PROVIDERS is required in production"):
        Settings.from_env()
