"""Aliyun SMS (Dysmsapi 2017-05-25, SendSms) through the official SDK, and its SmsReport delivery receipts.

The SDK signs with ACS3-HMAC-SHA256 and sends `POST /?PhoneNumbers=..&SignName=..&TemplateCode=..&TemplateParam=..
&OutId=..` with an empty body; the SDK's own retries are off (the outbox retries). Outcomes, from Aliyun's `Code`
(business errors come with HTTP 200, gateway errors as 4xx/5xx that the SDK raises):
- SENT: "OK"; provider_id is the BizId.
- INVALID_NUMBER: isv.MOBILE_NUMBER_ILLEGAL, isv.MOBILE_COUNT_OVER_LIMIT (more than one number in the field),
  MissingPhoneNumbers.
- RATE_LIMITED: isv.BUSINESS_LIMIT_CONTROL, the per-number flow control (by default 1 a minute, 5 an hour and
  10 a day for one number and sign).
- RETRY: isp.SYSTEM_ERROR and other isp.* system errors, Throttling*, ServiceUnavailable, InternalError, any HTTP
  5xx or 429, timeouts and transport errors; isv.DAY_LIMIT_CONTROL and isv.MONTH_LIMIT_CONTROL (the daily and
  monthly totals set for the whole account in the console); SignatureNonceUsed and InvalidTimeStamp.Expired (the
  request, not the message, was at fault: a fresh nonce, or a corrected clock, sends it).
- FAILED: everything else, e.g. isv.SMS_TEMPLATE_ILLEGAL, isv.SMS_SIGNATURE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS,
  isv.INVALID_JSON_PARAM, isv.AMOUNT_NOT_ENOUGH, isv.OUT_OF_SERVICE, InvalidAccessKeyId.NotFound,
  SignatureDoesNotMatch, isp.RAM_PERMISSION_DENY, and a template key with no Aliyun template configured.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_dysmsapi20170525.models import SendSmsRequest
from darabonba.exceptions import ResponseException, UnretryableException

from notifications import aliyun_openapi as openapi
from notifications.aliyun_openapi import cause_of, mask_phone, scrub, status_of, text_of
from notifications.sms.base import Receipt, SmsMessage, SmsOutcome, SmsResult

PROVIDER = "aliyun"
ENDPOINT = "dysmsapi.aliyuncs.com"
# the answer to an SmsReport push, with HTTP 200; any other answer makes Aliyun push it again (up to 3 times)
RECEIPT_ACK: Final[Mapping[str, Any]] = {"code": 0, "msg": "接收成功"}
RECEIPT_ACK_BODY: Final[bytes] = json.dumps(RECEIPT_ACK, ensure_ascii=False).encode()

INVALID_NUMBER_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "MissingPhoneNumbers"})
RATE_LIMITED_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL"})
RETRY_CODES = frozenset(
    {
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",
        "InvalidTimeStamp.Expired",
    }
)

log = logging.getLogger("palmtrade.sms.aliyun")


def outcome_for(code: str | None, status: int | None = None) -> SmsOutcome:
    """The outcome of an answer with Aliyun's `code` and HTTP `status` (see the module's docstring)."""
    if code == "OK":
        return SmsOutcome.SENT
    if code in INVALID_NUMBER_CODES:
        return SmsOutcome.INVALID_NUMBER
    if code in RATE_LIMITED_CODES:
        return SmsOutcome.RATE_LIMITED
    if code is not None and (code in RETRY_CODES or code.startswith(("isp.SYSTEM", "isp.GATEWAY", "Throttling"))):
        return SmsOutcome.RETRY
    if status is not None and (status >= 500 or status == 429):
        return SmsOutcome.RETRY
    return SmsOutcome.FAILED


class AliyunSms:
    """One SendSms call per message; every provider or transport failure comes back as an SmsResult in timeout_ms."""

    name = PROVIDER

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[str, str],
        endpoint: str = ENDPOINT,
        region: str = "cn-hangzhou",
        protocol: str = "https",
        timeout_ms: int = 5000,
    ) -> None:
        self._sign_name = sign_name
        self._templates = dict(templates)
        self._timeout = timeout_ms / 1000
        self._client = Client(openapi.config(access_key_id, access_key_secret, endpoint, region, protocol, timeout_ms))
        self._runtime = openapi.runtime(timeout_ms)

    async def send(self, message: SmsMessage) -> SmsResult:
        """Sends `message` once (OutId = its message_id) and says what Aliyun answered; never retries."""
        template_code = self._templates.get(message.template)
        if template_code is None:
            result = SmsResult(SmsOutcome.FAILED, PROVIDER, message=f"no Aliyun template for {message.template!r}")
            return self._logged(message, result)
        request = SendSmsRequest(
            phone_numbers=message.phone,
            sign_name=self._sign_name,
            template_code=template_code,
            template_param=json.dumps(dict(message.params), ensure_ascii=False, separators=(",", ":")),
            out_id=message.message_id,
        )
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.send_sms_with_options_async(request, self._runtime)
        except ResponseException as err:
            data = err.data if isinstance(err.data, dict) else {}
            code = text_of(data.get("Code") or data.get("code")) or text_of(err.code)
            status = err.status_code if isinstance(err.status_code, int) else None
            text = scrub(text_of(data.get("Message") or data.get("message")))
            return self._logged(message, SmsResult(outcome_for(code, status), PROVIDER, None, code, text))
        except (UnretryableException, TimeoutError, OSError) as err:
            reason = "timed out" if isinstance(err, TimeoutError) else type(cause_of(err)).__name__
            return self._logged(message, SmsResult(SmsOutcome.RETRY, PROVIDER, message=reason))
        body = response.body
        code = text_of(body.code)
        biz_id = text_of(body.biz_id) if code == "OK" else None
        result = SmsResult(outcome_for(code, status_of(response)), PROVIDER, biz_id, code, scrub(text_of(body.message)))
        return self._logged(message, result)

    async def close(self) -> None:
        """Nothing to release: the SDK opens and closes an HTTP session for every call."""

    def _logged(self, message: SmsMessage, result: SmsResult) -> SmsResult:
        level = logging.DEBUG if result.outcome is SmsOutcome.SENT else logging.WARNING
        log.log(
            level,
            "sms %s to %s via aliyun: %s %s %s",
            message.message_id,
            mask_phone(message.phone),
            result.outcome,
            result.code or "-",
            result.message or "",
        )
        return result


def parse_receipts(body: bytes) -> list[Receipt]:
    """The delivery receipts of one SmsReport push (a JSON array), in its order; ValueError when the body is not one."""
    items = json.loads(body)
    if not isinstance(items, list):
        raise ValueError("an SmsReport push is a JSON array")
    receipts: list[Receipt] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("phone_number"), str):
            raise ValueError("an SmsReport entry is an object with a phone_number")
        success = item.get("success")
        receipts.append(
            Receipt(
                provider=PROVIDER,
                provider_id=text_of(item.get("biz_id")),
                phone=item["phone_number"],
                delivered=success is True or (isinstance(success, str) and success.lower() == "true"),
                code=text_of(item.get("err_code")),
                reported_at=text_of(item.get("report_time")),
                out_id=text_of(item.get("out_id")),
            )
        )
    return receipts
