"""Tencent Cloud SMS (API 3.0, SendSms 2021-01-11) through the official tencentcloud-sdk-python-sms.

The SDK is synchronous (requests): each send runs in a worker thread, each thread with its own SmsClient.
The SDK's retryer and region breaker are off, so a send is exactly one HTTP request; retrying is the caller's.
The SDK logs whole requests and answers (number, parameters) at DEBUG on "tencentcloud_sdk_common": a
TencentSms sets that logger to INFO, so numbers and codes never reach a log unmasked.

Outcomes, by Tencent's code, whether it comes per number (SendStatusSet[].Code, HTTP 200) or for the whole
request (Response.Error, which the SDK raises as TencentCloudSDKException):
- SENT: "Ok"; provider_id is the SerialNo, which the status callback reports as `sid`.
- INVALID_NUMBER: InvalidParameterValue.IncorrectPhoneNumber, FailedOperation.PhoneNumberParseFail.
- RATE_LIMITED: LimitExceeded.PhoneNumber* (30 s, hour, day, same content a day; not PhoneNumberCountLimit,
  over 200 numbers in one request) and LimitExceeded.DeliveryFrequencyLimit (the console's frequency policy).
- RETRY: InternalError*, RequestLimitExceeded*, the account's daily caps (LimitExceeded.AppDailyLimit,
  DailyLimit, AppMainlandChinaDailyLimit, AppGlobalDailyLimit, GlobalSmsSendingRateLimit), and the SDK's
  ClientNetworkError (connection refused or reset, timeout) and ServerNetworkError (any HTTP status but 200).
- FAILED: everything else: AuthFailure.*, FailedOperation.* (template, signature, blacklist, balance),
  UnauthorizedOperation.*, InvalidParameter*, and a template this provider has no id for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.retry import NoopRetryer
from tencentcloud.sms.v20210111 import models, sms_client

from notifications.sms.base import Receipt, SmsMessage, SmsOutcome, SmsResult

PROVIDER: Final = "tencent"
CALLBACK_ANSWER: Final = b'{"result": 0, "errmsg": "OK"}'
"""The body Tencent expects in answer to a status callback; anything else makes it push the reports again."""

_OK: Final = "Ok"
_INVALID_NUMBER: Final = frozenset(
    {"InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberParseFail"}
)
_RATE_LIMITED_PREFIX: Final = "LimitExceeded.PhoneNumber"
_RATE_LIMITED: Final = frozenset({"LimitExceeded.DeliveryFrequencyLimit"})
_NOT_RATE_LIMITED: Final = frozenset({"LimitExceeded.PhoneNumberCountLimit"})
_RETRY_PREFIXES: Final = ("InternalError", "RequestLimitExceeded")
_RETRY: Final = frozenset(
    {
        "ClientNetworkError",
        "ServerNetworkError",
        "LimitExceeded.AppDailyLimit",
        "LimitExceeded.DailyLimit",
        "LimitExceeded.AppMainlandChinaDailyLimit",
        "LimitExceeded.AppGlobalDailyLimit",
        "LimitExceeded.GlobalSmsSendingRateLimit",
    }
)
_PHONE_IN_TEXT: Final = re.compile(r"(?<!\d)(?:\+?86)?(1\d{2})\d{4}(\d{4})(?!\d)")
_MESSAGE_LIMIT: Final = 300

_SDK_LOGGER: Final = "tencentcloud_sdk_common"

_log = logging.getLogger(__name__)


def outcome_of(code: str) -> SmsOutcome:
    """The outcome of one Tencent code (per number or per request), as the module docstring lists them."""
    if code == _OK:
        return SmsOutcome.SENT
    if code in _INVALID_NUMBER:
        return SmsOutcome.INVALID_NUMBER
    if (code.startswith(_RATE_LIMITED_PREFIX) and code not in _NOT_RATE_LIMITED) or code in _RATE_LIMITED:
        return SmsOutcome.RATE_LIMITED
    if code in _RETRY or code.startswith(_RETRY_PREFIXES):
        return SmsOutcome.RETRY
    return SmsOutcome.FAILED


def mask_phone(phone: str) -> str:
    """138****0001 for an 11-digit number (after any +86); never more than its first 3 and last 4 digits."""
    digits = phone.removeprefix("+86")
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 11 else "****"


def _safe_text(text: object) -> str | None:
    """Provider text fit for logs and records: decoded, phone numbers masked, at most 300 characters."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    masked = _PHONE_IN_TEXT.sub(r"\1****\2", str(text))
    return masked[:_MESSAGE_LIMIT]


class TencentSms:
    """An SmsProvider on Tencent Cloud SMS; send() never raises for a message's failure, only once closed."""

    name = PROVIDER

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        templates: Mapping[str, str],
        params_order: Mapping[str, Sequence[str]],
        endpoint: str = "sms.tencentcloudapi.com",
        region: str = "ap-guangzhou",
        scheme: str = "https",
        timeout: int = 5,
    ) -> None:
        if scheme not in ("https", "http"):
            raise ValueError(f"scheme must be https or http, not {scheme!r}")
        unordered = sorted(key for key in params_order if key not in templates)
        if unordered:
            raise ValueError(f"params_order names templates without a Tencent TemplateId: {unordered}")
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.params_order = {key: tuple(names) for key, names in params_order.items()}
        self.endpoint = endpoint
        self.region = region
        logging.getLogger(_SDK_LOGGER).setLevel(logging.INFO)
        self._credential = credential.Credential(secret_id, secret_key)
        self._scheme = scheme
        self._timeout = timeout
        self._local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False

    async def send(self, message: SmsMessage) -> SmsResult:
        """One SendSms request to +86<phone>, SessionContext = message_id; the outcome, never an exception."""
        if self._closed:
            raise RuntimeError("TencentSms is closed")
        template_id = self.templates.get(message.template)
        if template_id is None:
            return self._done(message, SmsResult(SmsOutcome.FAILED, PROVIDER, code="UnknownTemplate"))
        names = self.params_order.get(message.template, ())
        missing = [name for name in names if name not in message.params]
        if missing:
            text = f"missing template parameters: {', '.join(missing)}"
            return self._done(message, SmsResult(SmsOutcome.FAILED, PROVIDER, code="MissingParameter", message=text))
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + message.phone]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = [message.params[name] for name in names]
        request.SessionContext = message.message_id
        try:
            response = await asyncio.to_thread(self._send_sync, request)
        except TencentCloudSDKException as error:
            code = str(error.get_code())
            return self._done(message, SmsResult(outcome_of(code), PROVIDER, code=code, message=_error_text(error)))
        return self._done(message, _result_of(response))

    async def close(self) -> None:
        """Closes every thread's HTTP session; idempotent; send() raises afterwards."""
        self._closed = True
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.request.conn._session.close()

    def _send_sync(self, request: Any) -> Any:
        return self._client().SendSms(request)

    def _client(self) -> Any:
        """This thread's SmsClient: requests.Session is not documented as safe to share between threads."""
        client = getattr(self._local, "client", None)
        if client is None:
            http = HttpProfile(
                protocol=self._scheme, endpoint=self.endpoint, reqMethod="POST", reqTimeout=self._timeout
            )
            profile = ClientProfile(
                signMethod="TC3-HMAC-SHA256", httpProfile=http, disable_region_breaker=True, retryer=NoopRetryer()
            )
            client = sms_client.SmsClient(self._credential, self.region, profile)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _done(self, message: SmsMessage, result: SmsResult) -> SmsResult:
        level = logging.INFO if result.outcome is SmsOutcome.SENT else logging.WARNING
        _log.log(
            level,
            "tencent sms %s to %s (%s): %s %s",
            message.message_id,
            mask_phone(message.phone),
            message.template,
            result.outcome,
            result.code or "",
        )
        return result


def _result_of(response: Any) -> SmsResult:
    statuses = response.SendStatusSet or []
    if len(statuses) != 1:
        text = f"SendStatusSet has {len(statuses)} entries for one number (RequestId {response.RequestId})"
        return SmsResult(SmsOutcome.FAILED, PROVIDER, code="UnexpectedResponse", message=text)
    status = statuses[0]
    code = str(status.Code)
    outcome = outcome_of(code)
    serial = status.SerialNo or None
    return SmsResult(
        outcome,
        PROVIDER,
        provider_id=serial if outcome is SmsOutcome.SENT else None,
        code=code,
        message=_safe_text(status.Message),
    )


def _error_text(error: TencentCloudSDKException) -> str | None:
    text = _safe_text(error.get_message())
    request_id = error.get_request_id()
    return f"{text} (RequestId {request_id})" if request_id else text


def parse_receipts(body: bytes) -> list[Receipt]:
    """The reports of one status callback (a JSON array, one object per message), in order.

    Raises ValueError when the body is not a JSON array of objects; a report without `sid` keeps
    provider_id None. `ext`, when present, carries the SessionContext sent with the message (our message_id).
    """
    try:
        reports = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"a Tencent status callback is JSON: {error}") from error
    if not isinstance(reports, list) or not all(isinstance(report, dict) for report in reports):
        raise ValueError("a Tencent status callback is a JSON array of objects")
    return [_receipt(report) for report in reports]


def _receipt(report: Mapping[str, Any]) -> Receipt:
    nationcode = str(report.get("nationcode") or "86").lstrip("+")
    mobile = str(report.get("mobile") or "")
    return Receipt(
        provider=PROVIDER,
        provider_id=_text(report.get("sid")),
        phone=mobile if nationcode == "86" else f"+{nationcode}{mobile}",
        delivered=report.get("report_status") == "SUCCESS",
        code=_text(report.get("errmsg")),
        reported_at=_text(report.get("user_receive_time")),
        out_id=_text(report.get("ext")),
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
