"""A local Aliyun voice (Dyvmsapi 2017-05-25) server for tests: the official SDK talks HTTP to it.

It answers IvrCall as the SDK sends it: `POST /?CalledNumber=..&CalledShowNumber=..&StartCode=..&StartTtsParams=..
&MenuKeyMap.N.Key=..&MenuKeyMap.N.Code=..&OutId=..&PlayTimes=..&Timeout=..` with an empty body, the action and
version in `x-acs-action` / `x-acs-version`, and an ACS3-HMAC-SHA256 signature in the `Authorization` header. The
signature check is the SMS stub's own (tests.support.aliyun_sms_stub): a wrong secret gets 400
SignatureDoesNotMatch, an unknown key id 404 InvalidAccessKeyId.NotFound, a reused nonce or a stale `x-acs-date` is
refused. Then it answers as Aliyun does, HTTP 200 with a `Code`: isv.DISPLAY_NUMBER_ILLEGAL for a caller number it
does not know, isv.TTS_TEMPLATE_ILLEGAL for a StartCode, menu Code or ByeCode it does not know,
isv.MOBILE_NUMBER_ILLEGAL for a called number that is not a mainland mobile, isv.INVALID_PARAMETERS for bad JSON,
an OutId over 15 bytes or PlayTimes outside 1-3, isv.TEMPLATE_MISSING_PARAMETERS for a missing template variable,
isv.BUSINESS_LIMIT_CONTROL past the default flow control (per called number: 1 a minute, 5 an hour, 20 a day),
else OK with a CallId.

A placed call waits for the test to say what the callee does: `answer(call_id or phone, key="1")`,
`no_answer(..., status="200003")` or `fail(..., status="200004")`. `report()` / `key_report()` build the VoiceReport
(call record) and VoiceCallReport (key message) entries Aliyun pushes, `report_body()` the JSON array, and
`push_reports(url, ...)` POSTs it to a receipts URL. Knobs settable at run time: `down` (503 ServiceUnavailable),
`fail_next(code)`, `delay`, `stop()` / `start()`. `GET /_stub/stats` reports the counters, `GET /_stub/reports` the
VoiceReport body of every call with a result, `POST /_stub/control` with `{"down": bool, "delay": s, "failNext":
code}` sets those knobs and `POST /_stub/callee` with `{"target": call_id or phone, "key": "1"}` or `{"target": ..,
"status": "200003"}` plays the callee, for a standalone stub.

In process: `async with running_stub() as stub: ...` serves it from the running event loop.
Standalone: `python -m tests.support.aliyun_voice_stub --port N` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx
import uvicorn

from tests.support.aliyun_sms_stub import (
    _MOBILE,
    JSON_HEADERS,
    AliyunSmsStub,
    Receive,
    Scope,
    Send,
    _first,
    _shanghai_now,
)
from tests.support.aliyun_sms_stub import Answer as Reply
from tests.support.serving import LoopbackServed

ACTION = "IvrCall"
VERSION = "2017-05-25"
DEFAULT_SHOW_NUMBER = "057156210001"
EXPERT_DRAWN = "TTS_300000001"
CONFIRMED_TTS = "TTS_300000002"
DECLINED_TTS = "TTS_300000003"
BYE_TTS = "TTS_300000004"
DEFAULT_TEMPLATES: dict[str, tuple[str, ...]] = {
    EXPERT_DRAWN: ("project", "time"),
    CONFIRMED_TTS: (),
    DECLINED_TTS: (),
    BYE_TTS: (),
}
OUT_ID_MAX_BYTES = 15
# Aliyun's default flow control for one called number: (window in seconds, calls allowed, message)
FLOW_CONTROL = (
    (60, 1, "触发分钟级流控Permits:1"),
    (3600, 5, "触发小时级流控Permits:5"),
    (86400, 20, "触发天级流控Permits:20"),
)
# call status codes (呼叫状态码) and their status_msg
STATUS_MESSAGES = {
    "200000": "用户听完语音",
    "200001": "用户提前挂机未完整收听",
    "200002": "用户占线",
    "200003": "用户收到呼叫但未接听",
    "200004": "用户号码不合法",
    "200005": "被叫用户无法接通",
    "200007": "用户无法接通(不在服务区)",
    "200008": "获取按键超时",
    "200010": "关机",
    "200011": "停机",
    "999999": "系统错误",
}

# How Aliyun answers each code: (HTTP status, Message). Business errors of IvrCall come with HTTP 200.
ERRORS: dict[str, tuple[int, str]] = {
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (500, "The request processing has failed due to some unknown error, exception or failure."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "SignatureDoesNotMatch": (400, "Specified signature does not match our calculation."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "MissingCalledNumber": (400, "CalledNumber is mandatory for this action."),
    "MissingCalledShowNumber": (400, "CalledShowNumber is mandatory for this action."),
    "MissingStartCode": (400, "StartCode is mandatory for this action."),
    "MissingMenuKeyMap": (400, "MenuKeyMap is mandatory for this action."),
    "isp.SYSTEM_ERROR": (200, "系统错误"),
    "isp.GATEWAY_ERROR": (200, "系统异常"),
    "isv.MOBILE_NUMBER_ILLEGAL": (200, "号码格式非法"),
    "isv.DISPLAY_NUMBER_ILLEGAL": (200, "号显不合法"),
    "isv.TTS_TEMPLATE_ILLEGAL": (200, "TTS模板不合法"),
    "isv.TEMPLATE_MISSING_PARAMETERS": (200, "文本转语音模板参数缺失"),
    "isv.INVALID_PARAMETERS": (200, "参数异常"),
    "isv.BUSINESS_LIMIT_CONTROL": (200, "触发流控"),
    "isv.AMOUNT_NOT_ENOUGH": (200, "账户余额不足"),
    "isv.OUT_OF_SERVICE": (200, "业务停机"),
    "isv.COMPLAINT_REJECT": (200, "防骚扰拦截"),
    "isp.RAM_PERMISSION_DENY": (200, "RAM权限不足"),
}


@dataclass
class PlacedCall:
    """One accepted IvrCall, as the stub received it, and what the callee did (None until the test says)."""

    call_id: str
    phone: str
    show_number: str
    start_code: str
    params: dict[str, str]
    menu: dict[str, str | None]  # key -> the Code played after it
    bye_code: str | None
    out_id: str | None
    play_times: int | None
    timeout_ms: int | None
    originate_time: str
    status_code: str | None = None
    dtmf: str = ""
    start_time: str = ""
    end_time: str = ""
    duration: int = 0


@dataclass
class AliyunVoiceStub(LoopbackServed):
    """An ASGI app speaking Dyvmsapi IvrCall; every knob may change while it serves."""

    label: ClassVar[str] = "the Aliyun voice stub"

    access_key_id: str = "LTAI5tStubVoiceKeyId"
    access_key_secret: str = "stub-voice-key-secret"
    show_numbers: set[str] = field(default_factory=lambda: {DEFAULT_SHOW_NUMBER})
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
    calls: list[PlacedCall] = field(default_factory=list)
    _fail_next: deque[str] = field(default_factory=deque, init=False, repr=False)
    _placed_at: dict[str, list[float]] = field(default_factory=dict, init=False, repr=False)
    _signatures: AliyunSmsStub = field(default_factory=AliyunSmsStub, init=False, repr=False)
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
        """The next `times` authenticated calls get Aliyun's answer for `code` (its HTTP status and body)."""
        self._fail_next.extend([code] * times)

    def calls_to(self, phone: str) -> list[PlacedCall]:
        return [c for c in self.calls if c.phone == phone]

    def find(self, target: str) -> PlacedCall:
        """The latest placed call whose CallId or called number is `target`; LookupError when there is none."""
        for placed in reversed(self.calls):
            if target in (placed.call_id, placed.phone):
                return placed
        raise LookupError(f"no call placed to or as {target!r}")

    def answer(self, target: str, key: str = "1", duration: int = 12) -> PlacedCall:
        """The callee of `target` (a CallId or number) picks up and presses `key` (any digits, "" for none)."""
        placed = self.find(target)
        now = _shanghai_now()
        placed.status_code, placed.dtmf, placed.duration = "200000", key, duration
        placed.start_time = placed.end_time = now
        return placed

    def no_answer(self, target: str, status: str = "200003") -> PlacedCall:
        """The callee of `target` does not pick up (200003), or is busy (200002), powered off (200010), ..."""
        placed = self.find(target)
        placed.status_code, placed.dtmf, placed.duration = status, "", 0
        placed.start_time, placed.end_time = "", _shanghai_now()
        return placed

    def fail(self, target: str, status: str = "200004") -> PlacedCall:
        """The call to `target` cannot be made: no such number (200004), suspended (200011), a fault (999999)."""
        return self.no_answer(target, status)

    def report(self, placed: PlacedCall) -> dict[str, Any]:
        """The VoiceReport (call record) entry Aliyun pushes once the call ended (times in Asia/Shanghai)."""
        if placed.status_code is None:
            raise ValueError(f"call {placed.call_id} has no result yet: answer(), no_answer() or fail() it first")
        return {
            "call_id": placed.call_id,
            "originate_time": placed.originate_time,
            "ring_time": placed.start_time,
            "start_time": placed.start_time,
            "end_time": placed.end_time,
            "caller": placed.show_number,
            "callee": placed.phone,
            "duration": str(placed.duration),
            "status_code": placed.status_code,
            "status_msg": STATUS_MESSAGES.get(placed.status_code, "呼叫失败"),
            "hangup_direction": "用户" if placed.start_time else "机器",
            "out_id": placed.out_id or "",
            "dtmf": placed.dtmf,
            "voice_type": "voice",
            "toll_type": "UNKNOWN",
        }

    def key_report(self, placed: PlacedCall) -> dict[str, Any]:
        """The VoiceCallReport entry Aliyun pushes when the callee pressed a key (status 300000 with the dtmf)."""
        if not placed.dtmf:
            raise ValueError(f"no key was pressed in call {placed.call_id}")
        return {
            "call_id": placed.call_id,
            "status_code": "300000",
            "smart_status_code": "ANSWERED",
            "dtmf": placed.dtmf,
            "status_time": placed.end_time,
            "out_id": placed.out_id or "",
        }

    def report_body(self, reports: Sequence[Mapping[str, Any]] | None = None) -> bytes:
        """A push body: a JSON array of `reports`, or of the VoiceReport of every call that has a result."""
        items = list(reports) if reports is not None else [self.report(c) for c in self.calls if c.status_code]
        return json.dumps(items, ensure_ascii=False).encode()

    async def push_reports(self, url: str, reports: Sequence[Mapping[str, Any]] | None = None) -> httpx.Response:
        """POSTs report_body(reports) to a receipts URL as Aliyun does (application/json, UTF-8, 5 s timeout)."""
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
        self.calls.clear()
        self.down = False
        self.delay = 0.0
        self._fail_next.clear()
        self._placed_at.clear()
        self._signatures.reset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        status, payload = self.respond(scope["method"], scope["path"], scope["query_string"], scope["headers"], body)
        if self.delay:
            await asyncio.sleep(self.delay)
        content = json.dumps(payload, ensure_ascii=False).encode()
        headers = [*JSON_HEADERS, (b"content-length", str(len(content)).encode())]
        if "RequestId" in payload:
            headers.append((b"x-acs-request-id", payload["RequestId"].encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def respond(
        self, method: str, path: str, query_string: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> Reply:
        """The status and JSON body for one request; counts it and records placed calls."""
        if path.startswith("/_stub/"):
            return self._control(method, path, body)
        self.requests += 1
        status, payload = self._decide(method, path, query_string, headers, body)
        if payload.get("Code") != "OK":
            self.failures[payload.get("Code", "?")] += 1
        return status, payload

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        if path == "/_stub/stats":
            return 200, self.stats()
        if path == "/_stub/reports":
            return 200, {"reports": json.loads(self.report_body())}
        try:
            knobs = json.loads(body or b"{}")
            if path == "/_stub/control" and method == "POST":
                self.down = bool(knobs.get("down", self.down))
                self.delay = float(knobs.get("delay", self.delay))
                if knobs.get("failNext"):
                    self.fail_next(str(knobs["failNext"]))
                return 200, {"down": self.down, "delay": self.delay, "failNext": list(self._fail_next)}
            if path == "/_stub/callee" and method == "POST":
                target = str(knobs["target"])
                if "key" in knobs:
                    placed = self.answer(target, str(knobs["key"]))
                else:
                    placed = self.no_answer(target, str(knobs.get("status", "200003")))
                return 200, self.report(placed)
        except LookupError as err:
            return 404, {"Code": "CallNotFound", "Message": str(err)}
        except (ValueError, TypeError, AttributeError):
            return 400, {"Code": "InvalidParameter", "Message": "Invalid control payload."}
        return 404, {"Code": "InvalidAction.NotFound", "Message": f"no stub control at {method} {path}"}

    def _decide(
        self, method: str, path: str, query_string: bytes, raw_headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> Reply:
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
        self._signatures.access_key_id = self.access_key_id
        self._signatures.access_key_secret = self.access_key_secret
        refused = self._signatures._authenticate(method, path, query, headers, body, request_id)
        if refused is not None:
            code = str(refused[1].get("Code"))
            return _error(code, request_id, message=str(refused[1].get("Message") or "") or None)
        if _first(headers, "x-acs-action") != ACTION or path != "/" or method not in ("GET", "POST"):
            return _error("InvalidAction.NotFound", request_id)
        if _first(headers, "x-acs-version") != VERSION:
            return _error("InvalidVersion", request_id)
        if self._fail_next:
            return _error(self._fail_next.popleft(), request_id)
        return self._ivr_call(dict(query), request_id)

    def _ivr_call(self, query: dict[str, str], request_id: str) -> Reply:
        for name in ("CalledNumber", "CalledShowNumber", "StartCode"):
            if not query.get(name):
                return _error(f"Missing{name}", request_id)
        menu: dict[str, str | None] = {}
        for index in range(1, 11):
            key = query.get(f"MenuKeyMap.{index}.Key")
            if key is None:
                break
            menu[key] = query.get(f"MenuKeyMap.{index}.Code") or None
        if not menu:
            return _error("MissingMenuKeyMap", request_id)
        if query["CalledShowNumber"] not in self.show_numbers:
            return _error("isv.DISPLAY_NUMBER_ILLEGAL", request_id)
        codes = [query["StartCode"], query.get("ByeCode") or None, *menu.values()]
        if any(code is not None and code not in self.templates for code in codes):
            return _error("isv.TTS_TEMPLATE_ILLEGAL", request_id)
        mobile = _MOBILE.fullmatch(query["CalledNumber"].strip())
        if mobile is None:
            return _error("isv.MOBILE_NUMBER_ILLEGAL", request_id)
        try:
            params = json.loads(query["StartTtsParams"]) if query.get("StartTtsParams") else {}
            play_times = int(query["PlayTimes"]) if "PlayTimes" in query else None
            timeout_ms = int(query["Timeout"]) if "Timeout" in query else None
        except ValueError:
            return _error("isv.INVALID_PARAMETERS", request_id)
        out_id = query.get("OutId") or None
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return _error("isv.INVALID_PARAMETERS", request_id)
        if (out_id is not None and len(out_id.encode()) > OUT_ID_MAX_BYTES) or play_times not in (None, 1, 2, 3):
            return _error("isv.INVALID_PARAMETERS", request_id)
        if any(name not in params for name in self.templates[query["StartCode"]]):
            return _error("isv.TEMPLATE_MISSING_PARAMETERS", request_id)
        phone, now = mobile[1], self.clock()
        limited = self._flow_controlled(phone, now)
        if limited is not None:
            return _error("isv.BUSINESS_LIMIT_CONTROL", request_id, message=limited)
        self.accepted += 1
        call_id = f"{118720962490 + self.accepted}^{105518120000 + self.accepted}"
        self._placed_at.setdefault(phone, []).append(now)
        self.calls.append(
            PlacedCall(
                call_id=call_id,
                phone=phone,
                show_number=query["CalledShowNumber"],
                start_code=query["StartCode"],
                params=dict(params),
                menu=menu,
                bye_code=query.get("ByeCode") or None,
                out_id=out_id,
                play_times=play_times,
                timeout_ms=timeout_ms,
                originate_time=_shanghai_now(),
            )
        )
        return 200, {"RequestId": request_id, "Message": "OK", "CallId": call_id, "Code": "OK"}

    def _flow_controlled(self, phone: str, now: float) -> str | None:
        if not self.flow_control:
            return None
        placed = self._placed_at.get(phone, [])
        for window, allowed, message in FLOW_CONTROL:
            if sum(1 for at in placed if now - at < window) >= allowed:
                return message
        return None


def _error(code: str, request_id: str, message: str | None = None) -> Reply:
    status, text = ERRORS.get(code, (200, code))
    payload: dict[str, Any] = {"RequestId": request_id, "Message": message or text, "Code": code}
    if status != 200:
        payload["HostId"] = "dyvmsapi.aliyuncs.com"
        payload["Recommend"] = f"https://api.aliyun.com/troubleshoot?q={code}&product=Dyvmsapi&requestId={request_id}"
    return status, payload


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[AliyunVoiceStub]:
    """An AliyunVoiceStub(**settings) served by uvicorn in the running event loop for the duration of the block."""
    stub = AliyunVoiceStub(**settings)
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
        prog="python -m tests.support.aliyun_voice_stub", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-key-id", default=AliyunVoiceStub.access_key_id)
    parser.add_argument("--access-key-secret", default=AliyunVoiceStub.access_key_secret)
    parser.add_argument(
        "--show-number", action="append", help=f"a caller number bought in the console (default {DEFAULT_SHOW_NUMBER})"
    )
    parser.add_argument(
        "--template", action="append", type=_template, help="a registered TTS template, CODE[:param,param] (repeatable)"
    )
    parser.add_argument("--no-flow-control", action="store_true", help="no per-number minute/hour/day limits")
    parser.add_argument("--down", action="store_true", help="answer every call 503 ServiceUnavailable")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    stub = AliyunVoiceStub(
        access_key_id=args.access_key_id,
        access_key_secret=args.access_key_secret,
        show_numbers=set(args.show_number or [DEFAULT_SHOW_NUMBER]),
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
