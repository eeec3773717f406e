"""A local Aliyun SMS (Dysmsapi 2017-05-25) server for tests: the official SDK talks HTTP to it.

It answers SendSms as the SDK sends it: `POST /?PhoneNumbers=..&SignName=..&TemplateCode=..&TemplateParam=..&OutId=..`
with an empty body, the action and version in `x-acs-action` / `x-acs-version`, and an ACS3-HMAC-SHA256 signature
in the `Authorization` header. It verifies that signature with its access key secret (a wrong secret gets 400
SignatureDoesNotMatch, an unknown key id 404 InvalidAccessKeyId.NotFound), refuses a reused nonce or a stale
`x-acs-date`, then answers as Aliyun does, HTTP 200 with a `Code`: isv.SMS_SIGNATURE_ILLEGAL for a sign name it
does not know, isv.SMS_TEMPLATE_ILLEGAL for a template code it does not know, isv.MOBILE_NUMBER_ILLEGAL for a
number that is not a mainland mobile, isv.INVALID_JSON_PARAM / isv.TEMPLATE_MISSING_PARAMETERS for bad template
parameters, isv.BUSINESS_LIMIT_CONTROL past Aliyun's default flow control (per number and sign: 1 a minute,
5 an hour, 10 a day), else OK with a BizId.

Knobs settable at run time: `down` (503 ServiceUnavailable), `fail_next(code)`, `delay`, `stop()` / `start()`.
Accepted messages are kept in `messages`; `report()` / `report_body()` build the SmsReport JSON array Aliyun
pushes to a receipts URL and `push_reports(url, ...)` POSTs it there. `GET /_stub/stats` reports the counters,
`GET /_stub/reports` the SmsReport body of every accepted message as delivered, and `POST /_stub/control` with
`{"down": bool, "delay": s, "failNext": code}` sets those knobs of a standalone stub.

In process: `async with running_stub() as stub: ...` serves it from the running event loop.
Standalone: `python -m tests.support.aliyun_sms_stub --port N` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote

import httpx
import uvicorn

from tests.support.serving import LoopbackServed

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, dict[str, Any]]

ACTION = "SendSms"
VERSION = "2017-05-25"
ALGORITHM = "ACS3-HMAC-SHA256"
DEFAULT_SIGN = "掌上交易"
DEFAULT_TEMPLATES: dict[str, tuple[str, ...]] = {"SMS_465000001": ("code",)}
SHANGHAI = timezone(timedelta(hours=8))
TIMESTAMP_TOLERANCE = 15 * 60
MAX_NUMBERS = 1000
# Aliyun's default flow control for one number and sign: (window in seconds, sends allowed, message)
FLOW_CONTROL = (
    (60, 1, "触发分钟级流控Permits:1"),
    (3600, 5, "触发小时级流控Permits:5"),
    (86400, 10, "触发天级流控Permits:10"),
)
JSON_HEADERS = [(b"content-type", b"application/json;charset=utf-8")]
_AUTHORIZATION = re.compile(
    r"(?P<algorithm>\S+) Credential=(?P<key>[^,]+),SignedHeaders=(?P<headers>[^,]+),Signature=(?P<sig>\S+)"
)
_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9][0-9]{9})")

# How Aliyun answers each code: (HTTP status, Message). Business errors of SendSms come with HTTP 200.
ERRORS: dict[str, tuple[int, str]] = {
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (500, "The request processing has failed due to some unknown error, exception or failure."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "SignatureDoesNotMatch": (400, "Specified signature does not match our calculation."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "MissingPhoneNumbers": (400, "PhoneNumbers is mandatory for this action."),
    "MissingSignName": (400, "SignName is mandatory for this action."),
    "MissingTemplateCode": (400, "TemplateCode is mandatory for this action."),
    "isp.SYSTEM_ERROR": (200, "系统错误"),
    "isv.SMS_SIGNATURE_ILLEGAL": (200, "该账号下找不到对应签名"),
    "isv.SMS_TEMPLATE_ILLEGAL": (200, "该账号下找不到对应模板"),
    "isv.MOBILE_NUMBER_ILLEGAL": (200, "非法手机号"),
    "isv.MOBILE_COUNT_OVER_LIMIT": (200, "手机号码数量超过限制"),
    "isv.INVALID_JSON_PARAM": (200, "模板变量JSON格式错误 或 JSON变量属性与模板占位符不一致"),
    "isv.TEMPLATE_MISSING_PARAMETERS": (200, "模版缺少变量"),
    "isv.BUSINESS_LIMIT_CONTROL": (200, "触发分钟级流控Permits:1"),
    "isv.DAY_LIMIT_CONTROL": (200, "触发日发送限额"),
    "isv.MONTH_LIMIT_CONTROL": (200, "触发月发送限额"),
    "isv.AMOUNT_NOT_ENOUGH": (200, "账户余额不足"),
    "isv.OUT_OF_SERVICE": (200, "业务停机"),
    "isv.SMS_CONTENT_ILLEGAL": (200, "短信内容包含禁止发送内容"),
    "isp.RAM_PERMISSION_DENY": (200, "RAM权限不足"),
}


@dataclass(frozen=True, slots=True)
class SentSms:
    """One accepted message to one number, as the stub received it."""

    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    send_time: str


@dataclass
class AliyunSmsStub(LoopbackServed):
    """An ASGI app speaking Dysmsapi SendSms; every knob may change while it serves."""

    label: ClassVar[str] = "the Aliyun SMS stub"

    access_key_id: str = "LTAI5tStubAccessKeyId"
    access_key_secret: str = "stub-access-key-secret"
    sign_names: set[str] = field(default_factory=lambda: {DEFAULT_SIGN})
    templates: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    flow_control: bool = True
    down: bool = False
    delay: float = 0.0
    clock: Callable[[], float] = time.time
    host: str = "127.0.0.1"
    port: int = 0
    requests: int = 0
    accepted: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    messages: list[SentSms] = field(default_factory=list)
    _fail_next: deque[str] = field(default_factory=deque, init=False, repr=False)
    _nonces: set[str] = field(default_factory=set, init=False, repr=False)
    _sent_at: dict[tuple[str, str], list[float]] = field(default_factory=dict, init=False, repr=False)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        """What the SDK takes as its endpoint (with protocol "http")."""
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    def fail_next(self, code: str, times: int = 1) -> None:
        """The next `times` authenticated sends get Aliyun's answer for `code` (its HTTP status and body)."""
        self._fail_next.extend([code] * times)

    def sent_to(self, phone: str) -> list[SentSms]:
        return [m for m in self.messages if m.phone == phone]

    def report(
        self, sms: SentSms, delivered: bool = True, code: str | None = None, message: str | None = None
    ) -> dict[str, Any]:
        """One SmsReport entry for an accepted message, as Aliyun pushes it (times in Asia/Shanghai)."""
        return {
            "phone_number": sms.phone,
            "send_time": sms.send_time,
            "report_time": _shanghai_now(),
            "success": delivered,
            "err_code": code or ("DELIVERED" if delivered else "MK:0001"),
            "err_msg": message or ("用户接收成功" if delivered else "不存在的用户"),
            "sms_size": "1",
            "biz_id": sms.biz_id,
            "out_id": sms.out_id or "",
        }

    def report_body(self, reports: Sequence[Mapping[str, Any]] | None = None) -> bytes:
        """The SmsReport push body: a JSON array of `reports`, or of every accepted message as delivered."""
        items = list(reports) if reports is not None else [self.report(m) for m in self.messages]
        return json.dumps(items, ensure_ascii=False).encode()

    async def push_reports(self, url: str, reports: Sequence[Mapping[str, Any]] | None = None) -> httpx.Response:
        """POSTs the SmsReport body to a receipts URL as Aliyun does (application/json, UTF-8, 5 s timeout)."""
        async with httpx.AsyncClient(timeout=5.0) as client:
            return await client.post(
                url, content=self.report_body(reports), headers={"content-type": "application/json;charset=utf-8"}
            )

    def stats(self) -> dict[str, Any]:
        return {"requests": self.requests, "accepted": self.accepted, "failures": dict(self.failures)}

    def reset(self) -> None:
        """Forgets what it saw, the flow-control counts and every failure knob; keys and address stay."""
        self.requests = self.accepted = 0
        self.failures.clear()
        self.messages.clear()
        self.down = False
        self.delay = 0.0
        self._fail_next.clear()
        self._nonces.clear()
        self._sent_at.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        status, payload = self.answer(scope["method"], scope["path"], scope["query_string"], scope["headers"], body)
        if self.delay:
            await asyncio.sleep(self.delay)
        content = json.dumps(payload, ensure_ascii=False).encode()
        headers = [*JSON_HEADERS, (b"content-length", str(len(content)).encode())]
        if "RequestId" in payload:
            headers.append((b"x-acs-request-id", payload["RequestId"].encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def answer(
        self, method: str, path: str, query_string: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> Answer:
        """The status and JSON body for one request; counts it and records accepted messages."""
        if path == "/_stub/stats":
            return 200, self.stats()
        if path == "/_stub/reports":
            return 200, {"reports": json.loads(self.report_body())}
        if path == "/_stub/control" and method == "POST":
            try:
                knobs = json.loads(body or b"{}")
                self.down = bool(knobs.get("down", self.down))
                self.delay = float(knobs.get("delay", self.delay))
                if knobs.get("failNext"):
                    self.fail_next(str(knobs["failNext"]))
            except (ValueError, TypeError, AttributeError):
                return 400, {"Code": "InvalidParameter", "Message": "Invalid control payload."}
            return 200, {"down": self.down, "delay": self.delay, "failNext": list(self._fail_next)}
        self.requests += 1
        status, payload = self._decide(method, path, query_string, headers, body)
        if payload.get("Code") != "OK":
            self.failures[payload.get("Code", "?")] += 1
        return status, payload

    def _decide(
        self, method: str, path: str, query_string: bytes, raw_headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> Answer:
        request_id = str(uuid.uuid4()).upper()
        if self.down:
            return _error("ServiceUnavailable", request_id)
        headers: dict[str, list[str]] = {}
        for name, value in raw_headers:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("utf-8", "replace"))
        try:
            query = parse_qsl(query_string.decode("ascii"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            return _error("IncompleteSignature", request_id)
        refused = self._authenticate(method, path, query, headers, body, request_id)
        if refused is not None:
            return refused
        if _first(headers, "x-acs-action") != ACTION or path != "/" or method not in ("GET", "POST"):
            return _error("InvalidAction.NotFound", request_id)
        if _first(headers, "x-acs-version") != VERSION:
            return _error("InvalidVersion", request_id)
        if self._fail_next:
            return _error(self._fail_next.popleft(), request_id)
        return self._send_sms(dict(query), request_id)

    def _authenticate(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, list[str]],
        body: bytes,
        request_id: str,
    ) -> Answer | None:
        match = _AUTHORIZATION.fullmatch(_first(headers, "authorization") or "")
        if match is None or match["algorithm"] != ALGORITHM:
            return _error("IncompleteSignature", request_id)
        if match["key"] != self.access_key_id:
            return _error("InvalidAccessKeyId.NotFound", request_id)
        signed = match["headers"].split(";")
        required = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"}
        must_sign = required | {name for name in headers if name.startswith("x-acs-")}
        if not required <= headers.keys() or not must_sign <= set(signed) or signed != sorted(set(signed)):
            return _error("IncompleteSignature", request_id)
        if any(name not in headers for name in signed):
            return _error("IncompleteSignature", request_id)
        payload_hash = hashlib.sha256(body).hexdigest()
        if _first(headers, "x-acs-content-sha256") not in (None, payload_hash):
            return _error("SignatureDoesNotMatch", request_id)
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted((_encode(k), _encode(v)) for k, v in query))
        canonical_headers = "".join(f"{name}:{','.join(sorted(v.strip() for v in headers[name]))}\n" for name in signed)
        canonical_request = "\n".join(
            [method, quote(path, safe="/~"), canonical_query, canonical_headers, ";".join(signed), payload_hash]
        )
        string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        expected = hmac.new(self.access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, match["sig"]):
            server_side = f" server string to sign is:{string_to_sign}"
            return _error("SignatureDoesNotMatch", request_id, extra=server_side)
        try:
            signed_at = datetime.strptime(_first(headers, "x-acs-date") or "", "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return _error("InvalidTimeStamp.Expired", request_id)
        if abs(time.time() - signed_at.timestamp()) > TIMESTAMP_TOLERANCE:
            return _error("InvalidTimeStamp.Expired", request_id)
        nonce = _first(headers, "x-acs-signature-nonce") or ""
        if nonce in self._nonces:
            return _error("SignatureNonceUsed", request_id)
        self._nonces.add(nonce)
        return None

    def _send_sms(self, query: dict[str, str], request_id: str) -> Answer:
        numbers, sign_name, template_code = (query.get(k, "") for k in ("PhoneNumbers", "SignName", "TemplateCode"))
        for name, value in (("PhoneNumbers", numbers), ("SignName", sign_name), ("TemplateCode", template_code)):
            if not value:
                return _error(f"Missing{name}", request_id)
        if sign_name not in self.sign_names:
            return _error("isv.SMS_SIGNATURE_ILLEGAL", request_id)
        if template_code not in self.templates:
            return _error("isv.SMS_TEMPLATE_ILLEGAL", request_id)
        listed = numbers.split(",")
        if len(listed) > MAX_NUMBERS:
            return _error("isv.MOBILE_COUNT_OVER_LIMIT", request_id)
        phones: list[str] = []
        for number in listed:
            mobile = _MOBILE.fullmatch(number.strip())
            if mobile is None:
                return _error("isv.MOBILE_NUMBER_ILLEGAL", request_id)
            phones.append(mobile[1])
        try:
            params = json.loads(query["TemplateParam"]) if query.get("TemplateParam") else {}
        except ValueError:
            return _error("isv.INVALID_JSON_PARAM", request_id)
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return _error("isv.INVALID_JSON_PARAM", request_id)
        if any(name not in params for name in self.templates[template_code]):
            return _error("isv.TEMPLATE_MISSING_PARAMETERS", request_id)
        now = self.clock()
        for phone in phones:
            limited = self._flow_controlled(phone, sign_name, now)
            if limited is not None:
                return _error("isv.BUSINESS_LIMIT_CONTROL", request_id, message=limited)
        biz_id = f"{900000000000000000 + self.accepted + 1}^0"
        send_time = _shanghai_now()
        for phone in phones:
            self._sent_at.setdefault((phone, sign_name), []).append(now)
            self.messages.append(
                SentSms(biz_id, phone, sign_name, template_code, dict(params), query.get("OutId") or None, send_time)
            )
        self.accepted += 1
        return 200, {"RequestId": request_id, "Message": "OK", "BizId": biz_id, "Code": "OK"}

    def _flow_controlled(self, phone: str, sign_name: str, now: float) -> str | None:
        if not self.flow_control:
            return None
        sent = self._sent_at.get((phone, sign_name), [])
        for window, allowed, message in FLOW_CONTROL:
            if sum(1 for at in sent if now - at < window) >= allowed:
                return message
        return None


def _error(code: str, request_id: str, message: str | None = None, extra: str = "") -> Answer:
    status, text = ERRORS.get(code, (200, code))
    payload: dict[str, Any] = {"RequestId": request_id, "Message": (message or text) + extra, "Code": code}
    if status != 200:
        payload["HostId"] = "dysmsapi.aliyuncs.com"
        payload["Recommend"] = f"https://api.aliyun.com/troubleshoot?q={code}&product=Dysmsapi&requestId={request_id}"
    return status, payload


def _first(headers: Mapping[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def _shanghai_now() -> str:
    return datetime.now(UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[AliyunSmsStub]:
    """An AliyunSmsStub(**settings) served by uvicorn in the running event loop for the duration of the block."""
    stub = AliyunSmsStub(**settings)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()


def _template(spec: str) -> tuple[str, tuple[str, ...]]:
    code, _, params = spec.partition(":")
    return code, tuple(p for p in params.split(",") if p)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.aliyun_sms_stub", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-key-id", default=AliyunSmsStub.access_key_id)
    parser.add_argument("--access-key-secret", default=AliyunSmsStub.access_key_secret)
    parser.add_argument("--sign-name", action="append", help=f"a registered sign name (default {DEFAULT_SIGN})")
    parser.add_argument(
        "--template", action="append", type=_template, help="a registered template, CODE[:param,param] (repeatable)"
    )
    parser.add_argument("--no-flow-control", action="store_true", help="no per-number minute/hour/day limits")
    parser.add_argument("--down", action="store_true", help="answer every send 503 ServiceUnavailable")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    stub = AliyunSmsStub(
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        sign_names=set(args.sign_name or [DEFAULT_SIGN]),
        templates=dict(args.template or DEFAULT_TEMPLATES.items()),
        flow_control=not args.no_flow_control,
        down=args.down,
        delay=args.delay,
        host=args.host,
        port=args.port,
    )
    config = uvicorn.Config(stub, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
