"""A local Tencent Cloud SMS server (API 3.0, SendSms 2021-01-11) for tests: the real SDK talks HTTP to it.

`POST /` takes what tencentcloud-sdk-python sends: a JSON body (Content-Type: application/json) with
the headers X-TC-Action, X-TC-Version, X-TC-Timestamp, X-TC-Region and Authorization: TC3-HMAC-SHA256
Credential=<SecretId>/<date>/sms/tc3_request, SignedHeaders=content-type;host, Signature=<hex>. It checks
them as Tencent does and answers HTTP 200 with `{"Response": {...}}`:
- request errors as `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`, which the SDK raises as
  TencentCloudSDKException: AuthFailure.InvalidAuthorization / SecretIdNotFound / SignatureExpire (more than
  5 minutes of skew) / SignatureFailure (the TC3 signature is verified with the stub's secret key),
  InvalidAction, NoSuchVersion, UnsupportedRegion, UnauthorizedOperation.SmsSdkAppIdVerifyFail (an
  SmsSdkAppId other than the stub's), MissingParameter.EmptyPhoneNumberSet, LimitExceeded.PhoneNumberCountLimit;
- otherwise one SendStatus per number, Code "Ok" with a SerialNo, or FailedOperation.TemplateIncorrectOrUnapproved
  (a TemplateId not registered), FailedOperation.SignatureIncorrectOrUnapproved (a SignName not registered),
  FailedOperation.TemplateParamSetNotMatchApprovedTemplate (a wrong number of parameters),
  InvalidParameterValue.IncorrectPhoneNumber (not a mainland mobile number: +86, 86, 0086 or nothing before
  1[3-9] and 9 digits), FailedOperation.PhoneNumberInBlacklist, and the per-number limits
  LimitExceeded.PhoneNumberThirtySecondLimit / OneHourLimit / DailyLimit (by default 1 per 30 s, 5 per hour,
  10 per natural day in Beijing time; only accepted messages count).

Knobs settable at run time: `down` (with `down_answer` "http": HTTP 503 from the gateway, or "error": the
InternalError answer), `fail_next(code)`, `delay`, the limits, `blacklist`, `stop()` / `start()`.
Accepted messages are kept in `messages`; `receipts()` / `callback_body()` build the status callback
Tencent POSTs, and `post_callback(url)` POSTs it. `GET /_stub/stats` reports the counters; `POST
/_stub/control` with `{"down": bool, "downAnswer": "http"|"error", "delay": s, "failNext": code}` sets
those knobs of a standalone stub.

In process: `async with running_stub() as stub: ...` serves it from the running event loop.
Standalone: `python -m tests.support.tencent_sms_stub --port N` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import math
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx
import uvicorn

from tests.support.serving import LoopbackServed
from tests.support.tencent_tc3 import tc3_signature

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]

SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
REGIONS = frozenset({"ap-guangzhou", "ap-beijing", "ap-nanjing"})
BEIJING = timezone(timedelta(hours=8))
# exactly this value: the SDK looks for Response.Error only when Content-Type is "application/json" or "text/plain"
JSON_HEADERS = [(b"content-type", b"application/json")]
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request,"
    r" ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})"
)
MAINLAND = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
REQUEST_LEVEL = ("AuthFailure", "InternalError", "RequestLimitExceeded", "UnauthorizedOperation", "MissingParameter")

DEFAULT_TEMPLATES = {
    "2000001": "您的验证码为{1}，{2}分钟内有效，请勿泄露。",
    "2000002": "您关注的项目{1}将于{2}开标。",
}
DEFAULT_SIGN_NAMES = frozenset({"掌上交易"})

# (English, Chinese) as Tencent words them; X-TC-Language (the SDK sends zh-CN by default) picks one
ERRORS: dict[str, tuple[str, str]] = {
    "AuthFailure.InvalidAuthorization": (
        "Authorization header is invalid, please check your request.",
        "请求头部的 Authorization 不符合腾讯云标准。",
    ),
    "AuthFailure.SecretIdNotFound": (
        "The SecretId is not found, please ensure that your SecretId is correct.",
        "密钥不存在，请在控制台检查密钥是否已被删除或者禁用，如状态正常，请检查密钥是否填写正确，注意前后不得有空格。",
    ),
    "AuthFailure.SignatureExpire": (
        "Signature expired. Timestamp and server time cannot differ by more than 5 minutes.",
        "签名过期。Timestamp 和服务器时间相差不得超过五分钟，请检查本地时间是否和标准时间同步。",
    ),
    "AuthFailure.SignatureFailure": (
        "The provided credentials could not be validated. Please check your signature is correct.",
        "请求签名验证失败，请检查您的签名计算是否正确。",
    ),
    "InternalError": (
        "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
        "内部错误。",
    ),
    "RequestLimitExceeded": (
        "Your current request times exceeds the frequency limit. Please reduce the frequency of calls.",
        "请求的次数超过了频率限制。",
    ),
    "InvalidAction": ("The requested action does not exist.", "接口不存在。"),
    "NoSuchVersion": ("The requested version of service `sms` does not exist.", "接口版本不存在。"),
    "UnsupportedRegion": ("The action does not support this region.", "接口不支持所传地域。"),
    "InvalidParameter": ("The stub speaks POST with application/json only.", "参数错误。"),
    "MissingParameter": ("The request is missing a required parameter.", "缺少参数错误。"),
    "FailedOperation.JsonParseFail": ("failed to parse the request body as JSON", "解析请求包体时候失败。"),
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": (
        "SmsSdkAppId verification failed",
        "SmsSdkAppId 校验失败，请检查 SmsSdkAppId 是否属于云 API 密钥的关联账户。",
    ),
    "MissingParameter.EmptyPhoneNumberSet": ("PhoneNumberSet is empty", "传入的号码列表为空。"),
    "LimitExceeded.PhoneNumberCountLimit": (
        "the number of phone numbers in one request exceeds 200",
        "调用接口单次提交的手机号个数超过200个。",
    ),
}
STATUS_MESSAGES = {
    "Ok": "send success",
    "InvalidParameterValue.IncorrectPhoneNumber": "incorrect phone number format",
    "FailedOperation.TemplateIncorrectOrUnapproved": (
        "template is not approved or request content does not match the approved template content"
    ),
    "FailedOperation.SignatureIncorrectOrUnapproved": "signature format is incorrect or signature is not approved",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": (
        "the number of template parameters does not match the approved template"
    ),
    "FailedOperation.PhoneNumberInBlacklist": "the phone number is in the blocklist",
    "FailedOperation.InsufficientBalanceInSmsPackage": "insufficient balance in SMS package",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "the number of SMS messages to one phone number in 30 seconds "
    "exceeds the upper limit",
    "LimitExceeded.PhoneNumberOneHourLimit": "the number of SMS messages to one phone number in 1 hour exceeds "
    "the upper limit",
    "LimitExceeded.PhoneNumberDailyLimit": "the number of SMS messages to one phone number in a day exceeds "
    "the upper limit",
    "LimitExceeded.PhoneNumberSameContentDailyLimit": "the number of identical SMS messages to one phone number "
    "in a day exceeds the upper limit",
}


@dataclass(frozen=True, slots=True)
class SentSms:
    """One accepted message, as the stub received it."""

    serial_no: str
    phone: str  # as the client wrote it in PhoneNumberSet, e.g. "+8613800000001"
    mobile: str  # the 11 digits
    sdk_app_id: str
    sign_name: str
    template_id: str
    params: tuple[str, ...]
    session_context: str | None
    content: str  # 【sign】 and the template with its parameters filled in
    fee: int
    sent_at: float


@dataclass(frozen=True, slots=True)
class _Forced:
    code: str
    request_level: bool


@dataclass
class TencentSmsStub(LoopbackServed):
    """An ASGI app speaking Tencent Cloud API 3.0 for SendSms; every knob may change while it serves."""

    label: ClassVar[str] = "the Tencent SMS stub"

    secret_id: str = "AKIDstub00000000000000000000000000"
    secret_key: str = "stub-secret-key-0000000000000000"
    sdk_app_id: str = "1400000001"
    sign_names: frozenset[str] = DEFAULT_SIGN_NAMES
    templates: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    limit_30s: int | None = 1
    limit_hour: int | None = 5
    limit_day: int | None = 10
    blacklist: set[str] = field(default_factory=set)
    max_skew: int = 300
    down: bool = False
    down_answer: str = "http"
    delay: float = 0.0
    serial_prefix: str = "2640"
    host: str = "127.0.0.1"
    port: int = 0
    clock: Callable[[], float] = time.time
    requests: int = 0
    accepted: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    messages: list[SentSms] = field(default_factory=list)
    last_headers: dict[str, str] = field(default_factory=dict)
    last_body: dict[str, Any] = field(default_factory=dict)
    _forced: deque[_Forced] = field(default_factory=deque, init=False, repr=False)
    _sent_at: dict[str, list[float]] = field(default_factory=dict, init=False, repr=False)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        """host:port, as TencentSms(endpoint=..., scheme="http") takes it."""
        return f"{self.host}:{self.port}"

    def fail_next(self, code: str, times: int = 1, request_level: bool | None = None) -> None:
        """The next `times` SendSms requests get `code`: as Response.Error for request-level codes (AuthFailure,
        InternalError, RequestLimitExceeded, UnauthorizedOperation, MissingParameter, or request_level=True),
        else as the first number's SendStatus Code."""
        level = code.startswith(REQUEST_LEVEL) if request_level is None else request_level
        self._forced.extend(_Forced(code, level) for _ in range(times))

    def sent_to(self, mobile: str) -> list[SentSms]:
        return [m for m in self.messages if m.mobile == mobile]

    def stats(self) -> dict[str, Any]:
        return {"requests": self.requests, "accepted": self.accepted, "failures": dict(self.failures)}

    def reset(self) -> None:
        """Forgets what it saw, the per-number counts and every failure knob; the address and keys stay."""
        self.requests = self.accepted = 0
        self.failures.clear()
        self.messages.clear()
        self.last_headers.clear()
        self.last_body.clear()
        self._forced.clear()
        self._sent_at.clear()
        self.down = False
        self.down_answer = "http"
        self.delay = 0.0

    def receipts(
        self,
        messages: Iterable[SentSms] | None = None,
        *,
        delivered: bool = True,
        errmsg: str | None = None,
        description: str | None = None,
        received_at: float | None = None,
    ) -> list[dict[str, str]]:
        """The status-callback reports for `messages` (default: every accepted one), as Tencent shapes them.

        `ext` carries the message's SessionContext (Tencent's documented example leaves it out)."""
        chosen = self.messages if messages is None else list(messages)
        return [
            {
                "user_receive_time": datetime.fromtimestamp(
                    received_at if received_at is not None else m.sent_at + 3, BEIJING
                ).strftime("%Y-%m-%d %H:%M:%S"),
                "nationcode": "86",
                "mobile": m.mobile,
                "report_status": "SUCCESS" if delivered else "FAIL",
                "errmsg": errmsg or ("DELIVRD" if delivered else "MK:0001"),
                "description": description or ("用户短信送达成功" if delivered else "用户短信接收失败"),
                "sid": m.serial_no,
                "ext": m.session_context or "",
            }
            for m in chosen
        ]

    def callback_body(self, messages: Iterable[SentSms] | None = None, **report: Any) -> bytes:
        """The JSON array Tencent POSTs to the status-callback URL (UTF-8)."""
        return json.dumps(self.receipts(messages, **report), ensure_ascii=False).encode()

    async def post_callback(
        self,
        url: str,
        messages: Iterable[SentSms] | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **report: Any,
    ) -> httpx.Response:
        """POSTs callback_body() to `url` as Tencent does (application/json); the receiver's answer."""
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            return await client.post(
                url, content=self.callback_body(messages, **report), headers={"content-type": "application/json"}
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        status, content, extra = self.answer(scope["method"], scope["path"], query, headers, body)
        if self.delay:
            await asyncio.sleep(self.delay)
        response_headers = [*extra, (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": content})

    def answer(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The status, body and headers for one request; counts it and records an accepted message."""
        if path == "/_stub/stats" and method == "GET":
            return _json(200, self.stats())
        if path == "/_stub/control" and method == "POST":
            return self._control(body)
        if path != "/":
            return 404, b"404 page not found", [(b"content-type", b"text/plain")]
        self.requests += 1
        if self.down and self.down_answer == "http":
            self.failures["HTTP 503"] += 1
            return 503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", [(b"content-type", b"text/html")]
        english = headers.get("x-tc-language") == "en-US"
        error = self._check_request(method, query, headers, body)
        if error is None and self.down:
            error = "InternalError"
        if error is None and self._forced and self._forced[0].request_level:
            error = self._forced.popleft().code
        if error is not None:
            self.failures[error] += 1
            forced_text = f"{error} (forced by the stub)"
            message = ERRORS.get(error, (forced_text, forced_text))[0 if english else 1]
            return _json(200, {"Response": {"Error": {"Code": error, "Message": message}, "RequestId": _request_id()}})
        return self._send_sms(self.last_body)

    def _check_request(self, method: str, query: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """The request-level error code, or None; keeps the headers and the parsed body of a signed request."""
        if method != "POST" or headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return "InvalidParameter"
        error = self._authenticate(query, headers, body)
        if error is not None:
            return error
        self.last_headers = dict(headers)
        if headers.get("x-tc-action") != ACTION:
            return "InvalidAction"
        if headers.get("x-tc-version") != VERSION:
            return "NoSuchVersion"
        if headers.get("x-tc-region") not in REGIONS:
            return "UnsupportedRegion"
        try:
            params = json.loads(body)
            assert isinstance(params, dict)
        except (ValueError, AssertionError):
            return "FailedOperation.JsonParseFail"
        self.last_body = params
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return "UnauthorizedOperation.SmsSdkAppIdVerifyFail"
        phones = params.get("PhoneNumberSet")
        if not isinstance(phones, list) or not phones:
            return "MissingParameter.EmptyPhoneNumberSet"
        if len(phones) > 200:
            return "LimitExceeded.PhoneNumberCountLimit"
        return None

    def _authenticate(self, query: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """Verifies TC3-HMAC-SHA256 as Tencent documents it: the error code, or None when the signature holds."""
        match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if match is None:
            return "AuthFailure.InvalidAuthorization"
        try:
            timestamp = int(headers["x-tc-timestamp"])
        except (KeyError, ValueError):
            return "MissingParameter"
        if abs(self.clock() - timestamp) > self.max_skew:
            return "AuthFailure.SignatureExpire"
        if match["secret_id"] != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        signed = match["signed"]
        names = signed.split(";")
        day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if "content-type" not in names or "host" not in names or match["service"] != SERVICE or match["date"] != day:
            return "AuthFailure.SignatureFailure"
        expected = tc3_signature(self.secret_key, SERVICE, headers, names, query, body, timestamp)
        if not hmac.compare_digest(expected, match["signature"]):
            return "AuthFailure.SignatureFailure"
        return None

    def _send_sms(self, params: Mapping[str, Any]) -> Answer:
        template_id = str(params.get("TemplateId") or "")
        sign_name = str(params.get("SignName") or "")
        values = [str(v) for v in params.get("TemplateParamSet") or []]
        session = params.get("SessionContext")
        template = self.templates.get(template_id)
        if template is None:
            common = "FailedOperation.TemplateIncorrectOrUnapproved"
        elif sign_name not in self.sign_names:
            common = "FailedOperation.SignatureIncorrectOrUnapproved"
        elif len(set(re.findall(r"\{(\d+)\}", template))) != len(values):
            common = "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
        else:
            common = None
        forced = self._forced.popleft().code if self._forced else None
        statuses = []
        for i, raw in enumerate(params["PhoneNumberSet"]):
            phone = str(raw)
            mobile, code = self._number_code(phone)
            code = forced if forced and i == 0 else common or code
            if code == "Ok" and template is not None:
                statuses.append(self._accept(phone, mobile, sign_name, template_id, template, values, session))
            else:
                self.failures[code] += 1
                statuses.append(_status(phone, code, session, "", 0))
        return _json(200, {"Response": {"SendStatusSet": statuses, "RequestId": _request_id()}})

    def _number_code(self, phone: str) -> tuple[str, str]:
        """The 11 digits and "Ok", or the code saying why not: not a mainland mobile, blacklisted, over a limit."""
        number = MAINLAND.fullmatch(phone)
        if number is None:
            return "", "InvalidParameterValue.IncorrectPhoneNumber"
        return number[1], self._number_error(number[1]) or "Ok"

    def _number_error(self, mobile: str) -> str | None:
        if mobile in self.blacklist:
            return "FailedOperation.PhoneNumberInBlacklist"
        now = self.clock()
        sent = [t for t in self._sent_at.get(mobile, []) if now - t < 86400]
        self._sent_at[mobile] = sent
        today = _beijing_day(now)
        if self.limit_30s is not None and sum(1 for t in sent if now - t < 30) >= self.limit_30s:
            return "LimitExceeded.PhoneNumberThirtySecondLimit"
        if self.limit_hour is not None and sum(1 for t in sent if now - t < 3600) >= self.limit_hour:
            return "LimitExceeded.PhoneNumberOneHourLimit"
        if self.limit_day is not None and sum(1 for t in sent if _beijing_day(t) == today) >= self.limit_day:
            return "LimitExceeded.PhoneNumberDailyLimit"
        return None

    def _accept(
        self,
        phone: str,
        mobile: str,
        sign_name: str,
        template_id: str,
        template: str,
        values: list[str],
        session: Any,
    ) -> dict[str, Any]:
        now = self.clock()
        self.accepted += 1
        serial = f"{self.serial_prefix}:{int(now):010d}{self.accepted:017d}"
        content = f"【{sign_name}】" + re.sub(r"\{(\d+)\}", lambda m: values[int(m[1]) - 1], template)
        fee = 1 if len(content) <= 70 else math.ceil(len(content) / 67)
        context = None if session is None else str(session)
        sent = SentSms(
            serial_no=serial,
            phone=phone,
            mobile=mobile,
            sdk_app_id=self.sdk_app_id,
            sign_name=sign_name,
            template_id=template_id,
            params=tuple(values),
            session_context=context,
            content=content,
            fee=fee,
            sent_at=now,
        )
        self.messages.append(sent)
        self._sent_at.setdefault(mobile, []).append(now)
        return _status(phone, "Ok", session, serial, fee)

    def _control(self, body: bytes) -> Answer:
        """Sets the knobs of a standalone stub: {"down", "downAnswer", "delay", "failNext"}."""
        try:
            knobs = json.loads(body or b"{}")
            self.down = bool(knobs.get("down", self.down))
            self.down_answer = str(knobs.get("downAnswer", self.down_answer))
            self.delay = float(knobs.get("delay", self.delay))
            if knobs.get("failNext"):
                self.fail_next(str(knobs["failNext"]))
        except (ValueError, TypeError, AttributeError):
            return _json(400, {"error": "invalid control payload"})
        return _json(200, {"down": self.down, "downAnswer": self.down_answer, "delay": self.delay})


def _status(phone: str, code: str, session: Any, serial: str, fee: int) -> dict[str, Any]:
    return {
        "SerialNo": serial,
        "PhoneNumber": phone,
        "Fee": fee,
        "SessionContext": "" if session is None else str(session),
        "Code": code,
        "Message": STATUS_MESSAGES.get(code, f"{code} (forced by the stub)"),
        "IsoCode": "CN" if MAINLAND.fullmatch(phone) else "DEF",
    }


def _beijing_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, BEIJING).date()


def _json(status: int, payload: Mapping[str, Any]) -> Answer:
    return status, json.dumps(payload, ensure_ascii=False).encode(), list(JSON_HEADERS)


def _request_id() -> str:
    return str(uuid.uuid4())


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[TencentSmsStub]:
    """A TencentSmsStub(**settings) served by uvicorn in the running event loop for the duration of the block."""
    stub = TencentSmsStub(**settings)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.tencent_sms_stub", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-id", default=TencentSmsStub.secret_id)
    parser.add_argument("--secret-key", default=TencentSmsStub.secret_key)
    parser.add_argument("--sdk-app-id", default=TencentSmsStub.sdk_app_id)
    parser.add_argument("--sign-name", action="append", help="a registered SignName (repeatable; default 掌上交易)")
    parser.add_argument(
        "--template", action="append", metavar="ID=TEXT", help="a registered template, {1}.. for parameters"
    )
    parser.add_argument("--limit-30s", type=int, default=1, help="messages per number in 30 s (0: no limit)")
    parser.add_argument("--limit-hour", type=int, default=5, help="messages per number in an hour (0: no limit)")
    parser.add_argument("--limit-day", type=int, default=10, help="messages per number a day (0: no limit)")
    parser.add_argument("--down", action="store_true", help="answer every SendSms as down")
    parser.add_argument("--down-answer", choices=["http", "error"], default="http", help="503, or InternalError")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    templates = dict(DEFAULT_TEMPLATES)
    if args.template:
        templates = dict(t.split("=", 1) for t in args.template)
    stub = TencentSmsStub(
        secret_id=args.secret_id,
        secret_key=args.secret_key,
        sdk_app_id=args.sdk_app_id,
        sign_names=frozenset(args.sign_name) if args.sign_name else DEFAULT_SIGN_NAMES,
        templates=templates,
        limit_30s=args.limit_30s or None,
        limit_hour=args.limit_hour or None,
        limit_day=args.limit_day or None,
        down=args.down,
        down_answer=args.down_answer,
        delay=args.delay,
        host=args.host,
        port=args.port,
    )
    config = uvicorn.Config(stub, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
