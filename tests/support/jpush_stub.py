"""A local JPush (极光推送) Push API v3 server for tests: JPush's official Python SDK `jpush` talks HTTP to it.

`POST /v3/push` (and `/v3/push/validate`, which checks but delivers nothing) takes a push object checked with
HTTP Basic auth (base64 of appKey:masterSecret; else 401 {"error": {"code": 1004, "message": "Authen failed"}})
and answers 200 {"sendno": "0", "msg_id": "..."} or JPush's error bodies: 1002 missing parameter, 1003 invalid
value (also an unknown or expired cid), 1005 payload too long (Android notification + message over 4000 bytes,
the iOS notification over 2000: JPush's documented limits), 1009 unsupported key, 1011 no device matches the
audience (with a msg_id, as JPush sends it), 2002 rate limit (429), 1030 down (503). Every API answer carries
X-Rate-Limit-Quota / -Remaining / -Reset (seconds to the end of the one-minute window), as JPush's do.

`GET /v3/push/cid?count=n` hands out cids ({appKey}-{uuid}, valid one day). A push with a cid that already
carried an accepted push is answered with that push's answer and delivers nothing (JPush's deduplication).

Devices: `register(registration_id, vendor, online=False)`; vendor is one of VENDORS. An accepted push is
"routed" to each matching device as JPush would: over JPush's own connection ("jpush") when the distribution
is `jpush`, or `secondary_push` (the default) and the app is online; else over the vendor's channel, applying
`options.third_party_channel[vendor]`. Each delivery is kept in `messages` (see `Delivered`); `delivered_to(vendor)`
and `to_device(registration_id)` select them.

Knobs settable at run time: `down`, `delay` (a push's answer is computed, then delayed: a late answer to an
accepted push; cid requests are answered at once), `fail_next(code, status, times)`,
`rate_limit_next(requests, reset)`, `quota` (calls a minute), `stop()` / `start()`. `GET /_stub/stats` reports
the counters; `POST /_stub/control` with `{"down": bool, "delay": s, "failNext": [code, status]}` sets knobs and
`POST /_stub/devices` with `{"<registration id>": "<vendor>"}` registers devices of a standalone stub.

In process: `async with running_stub() as stub: ...` serves it from the running event loop.
Standalone: `python -m tests.support.jpush_stub --port N --device 1a0018970a8c8b2e2ff=huawei` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

import uvicorn

from tests.support.serving import LoopbackServed

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, Any, list[tuple[bytes, bytes]]]

JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]
VENDORS = ("huawei", "honor", "xiaomi", "oppo", "vivo", "meizu", "fcm", "apns")
PLATFORMS = {"android", "ios", "hmos", "quickapp", "winphone"}
TOP_LEVEL_KEYS = {
    "cid",
    "platform",
    "audience",
    "notification",
    "message",
    "notification_3rd",
    "sms_message",
    "inapp_message",
    "live_activity",
    "voip",
    "options",
    "callback",
}
AUDIENCE_KEYS = {"tag", "tag_and", "tag_not", "alias", "registration_id", "segment", "abtest", "live_activity_id"}
ANDROID_KEYS = {
    "alert",
    "title",
    "builder_id",
    "channel_id",
    "priority",
    "category",
    "style",
    "alert_type",
    "big_text",
    "inbox",
    "big_pic_path",
    "extras",
    "large_icon",
    "small_icon_uri",
    "intent",
    "uri_activity",
    "uri_action",
    "badge_add_num",
    "badge_set_num",
    "badge_class",
    "sound",
    "show_begin_time",
    "show_end_time",
    "display_foreground",
    "custom_buttons",
    "mipns_content_forshort",
    "oppns_content_forshort",
    "vpns_content_forshort",
    "mzpns_content_forshort",
    "icon_bg_color",
}
IOS_KEYS = {
    "alert",
    "sound",
    "badge",
    "content-available",
    "mutable-content",
    "category",
    "extras",
    "thread-id",
    "interruption-level",
    "relevance-score",
}
NOTIFICATION_KEYS = {"alert", "android", "ios", "hmos", "quickapp", "winphone", "voip"}
OPTIONS_KEYS = {
    "sendno",
    "time_to_live",
    "override_msg_id",
    "apns_production",
    "apns_collapse_id",
    "big_push_duration",
    "third_party_channel",
    "classification",
    "target_event",
    "test_message",
    "receipt_id",
    "active_push",
    "need_backup",
    "business_operation_code",
    "test_mode",
    "alternate_set",
    "geofence",
    "portal_extra",
    "notification_3rd_ver",
    "unique_alias",
}
THIRD_PARTY_VENDORS = {"xiaomi", "huawei", "honor", "meizu", "oppo", "vivo", "fcm", "nio"}
THIRD_PARTY_KEYS = {
    "distribution",
    "distribution_fcm",
    "distribution_customize",
    "channel_id",
    "skip_quota",
    "classification",
    "push_mode",
    "importance",
    "category",
    "notify_level",
    "sound",
    "default_sound",
    "urgency",
    "receipt_id",
    "callback_id",
    "target_user_type",
    "large_icon",
    "small_icon_uri",
    "small_icon_color",
    "style",
    "big_text",
    "inbox",
    "big_pic_path",
    "only_use_vendor_style",
    "auditResponse",
}
DISTRIBUTIONS = {"first_ospush", "ospush", "jpush", "secondary_push"}
IMPORTANCE = {"LOW", "NORMAL", "HIGH"}
OPPO_NOTIFY_LEVELS = {1, 2, 16}
MAX_TIME_TO_LIVE = 10 * 86400
CID_LIFETIME = 86400.0
RATE_WINDOW = 60.0
NO_USER = "cannot find user by this audience or has been inactive for more than 255 days"


def jpush_error(code: int, message: str) -> dict[str, Any]:
    """A JPush error body."""
    return {"error": {"code": code, "message": message}}


AUTHEN_FAILED = jpush_error(1004, "Authen failed")
RATE_LIMITED = jpush_error(2002, "Rate limit exceeded")
UNAVAILABLE = jpush_error(1030, "Internal service timeout, please retry later")


class Refused(Exception):
    """A push object JPush refuses: its status, code and message."""

    def __init__(self, code: int, message: str, status: int = 400, msg_id: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.msg_id = code, message, status, msg_id

    def body(self) -> dict[str, Any]:
        error = jpush_error(self.code, self.message)
        return error if self.msg_id is None else {"msg_id": self.msg_id, **error}


@dataclass
class Device:
    """A registration id the stub knows: the phone's vendor channel and whether its app is online at JPush."""

    registration_id: str
    vendor: str
    online: bool = False

    @property
    def platform(self) -> str:
        return "ios" if self.vendor == "apns" else "android"


@dataclass(frozen=True, slots=True)
class Delivered:
    """One push to one device, as the stub routed it."""

    msg_id: str
    registration_id: str
    vendor: str
    route: str  # the channel that carried it: the vendor's, or "jpush" (JPush's own connection to the app)
    title: str | None
    body: str | None
    extras: dict[str, Any]
    priority: int | None
    category: str | None
    alert_type: int | None
    vendor_options: dict[str, Any]  # options.third_party_channel[vendor], which JPush applies on that channel
    classification: int | None
    time_to_live: int | None
    cid: str | None
    request: dict[str, Any]

    @property
    def message_id(self) -> Any:
        return self.extras.get("messageId")

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.request.get("options") or {})


@dataclass
class FailNext:
    code: int | None
    status: int
    times: int


@dataclass
class JPushStub(LoopbackServed):
    """An ASGI app speaking JPush's Push API v3; every knob may change while it serves."""

    label: ClassVar[str] = "the JPush stub"

    app_key: str = "2f1c0b6a8d9e4f7a1b3c5d7e"
    master_secret: str = "9a8b7c6d5e4f3a2b1c0d9e8f"
    quota: int = 600  # API calls a minute (JPush's free plan for the Push API)
    down: bool = False
    delay: float = 0.0
    record: bool = True
    android_limit: int = 4000  # bytes of the Android notification + message
    ios_limit: int = 2000  # bytes of the iOS notification
    host: str = "127.0.0.1"
    port: int = 0
    devices: dict[str, Device] = field(default_factory=dict)
    requests: int = 0  # push and validate requests
    cid_requests: int = 0
    accepted: int = 0  # pushes accepted
    replayed: int = 0  # pushes answered from an earlier push with the same cid, delivering nothing
    failures: Counter[str] = field(default_factory=Counter)
    messages: list[Delivered] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _cids: dict[str, float] = field(default_factory=dict, init=False, repr=False)  # cid -> when issued
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)  # cid -> answer
    _fail_next: list[FailNext] = field(default_factory=list, init=False, repr=False)
    _limit_next: int = field(default=0, init=False, repr=False)
    _limit_reset: int | None = field(default=None, init=False, repr=False)
    _window_start: float = field(default=0.0, init=False, repr=False)
    _window_calls: int = field(default=0, init=False, repr=False)
    _next_msg_id: int = field(default=18_100_000_000_000_000, init=False, repr=False)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def register(self, registration_id: str, vendor: str, online: bool = False) -> Device:
        """Makes a registration id known, on a phone of `vendor`."""
        if vendor not in VENDORS:
            raise ValueError(f"vendor must be one of {VENDORS}")
        device = self.devices[registration_id] = Device(registration_id, vendor, online)
        return device

    def fail_next(self, code: int | None, status: int = 400, times: int = 1) -> None:
        """The next `times` pushes get HTTP `status` with JPush error `code` (no JSON body when code is None)."""
        self._fail_next.append(FailNext(code, status, times))

    def rate_limit_next(self, requests: int = 1, reset: int | None = None) -> None:
        """The next `requests` API calls get 429 / 2002, with X-Rate-Limit-Reset `reset` (default: the window's)."""
        self._limit_next = requests
        self._limit_reset = reset

    def delivered_to(self, vendor: str) -> list[Delivered]:
        """Deliveries to phones of `vendor`, whichever channel carried them."""
        return [m for m in self.messages if m.vendor == vendor]

    def to_device(self, registration_id: str) -> list[Delivered]:
        return [m for m in self.messages if m.registration_id == registration_id]

    def count_by(self, message_id: str, registration_id: str | None = None) -> int:
        """How many deliveries carried extras["messageId"] == message_id (to `registration_id`, when given)."""
        return sum(
            1
            for m in self.messages
            if m.message_id == message_id and (registration_id is None or m.registration_id == registration_id)
        )

    def stats(self) -> dict[str, Any]:
        seen = Counter((m.message_id, m.registration_id) for m in self.messages)
        return {
            "requests": self.requests,
            "cidRequests": self.cid_requests,
            "accepted": self.accepted,
            "replayed": self.replayed,
            "failures": dict(self.failures),
            "maxInFlight": self.max_in_flight,
            "byRoute": dict(Counter(m.route for m in self.messages)),
            # (message id, device) pairs delivered more than once: a push sent twice (needs recording on)
            "duplicates": sum(n - 1 for n in seen.values() if n > 1),
        }

    def reset(self) -> None:
        """Forgets what it saw and clears every failure knob; devices and the address stay."""
        self.requests = self.cid_requests = self.accepted = self.replayed = 0
        self.max_in_flight = 0
        self.failures.clear()
        self.messages.clear()
        self._cids.clear()
        self._answers.clear()
        self._fail_next.clear()
        self._limit_next = 0
        self._limit_reset = None
        self._window_start = 0.0
        self._window_calls = 0
        self.down = False
        self.delay = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            query = scope.get("query_string", b"").decode("latin-1")
            status, payload, headers = self.answer(scope["method"], scope["path"], query, scope["headers"], body)
            if self.delay and scope["path"] in ("/v3/push", "/v3/push/validate"):
                await asyncio.sleep(self.delay)
            if isinstance(payload, bytes):
                content, kind = payload, [(b"content-type", b"text/html")]
            else:
                content, kind = json.dumps(payload, ensure_ascii=False).encode(), JSON_HEADERS
            headers = [*kind, (b"content-length", str(len(content)).encode()), *headers]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
        finally:
            self.in_flight -= 1

    def answer(self, method: str, path: str, query: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """The status, body (JSON, or bytes) and extra headers for one request; counts it and records deliveries."""
        if path.startswith("/_stub/"):
            return self._control(method, path, body)
        if path == "/v3/push/cid":
            self.cid_requests += 1
        elif path in ("/v3/push", "/v3/push/validate"):
            self.requests += 1
        else:
            return 404, jpush_error(1001, f"no such API: {path}"), []
        status, payload, extra = self._decide(method, path, query, headers, body)
        if status >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            self.failures[str(error.get("code")) if isinstance(error, dict) else f"HTTP_{status}"] += 1
        return status, payload, extra

    def _control(self, method: str, path: str, body: bytes) -> Answer:
        if path == "/_stub/stats":
            return 200, self.stats(), []
        try:
            knobs = json.loads(body or b"{}")
            if path == "/_stub/control" and method == "POST":
                self.down = bool(knobs.get("down", self.down))
                self.delay = float(knobs.get("delay", self.delay))
                if knobs.get("failNext"):
                    code, status = knobs["failNext"]
                    self.fail_next(code, int(status))
                return 200, {"down": self.down, "delay": self.delay}, []
            if path == "/_stub/devices" and method == "POST":
                for registration_id, vendor in knobs.items():
                    self.register(registration_id, vendor)
                return 200, {"devices": len(self.devices)}, []
        except (ValueError, TypeError, AttributeError) as error:
            return 400, jpush_error(1003, f"invalid control payload: {error}"), []
        return 404, jpush_error(1001, f"no such stub API: {path}"), []

    def _decide(self, method: str, path: str, query: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        if self.down:
            return 503, UNAVAILABLE, []
        if not self._authorized(dict(headers).get(b"authorization")):
            return 401, AUTHEN_FAILED, [(b"www-authenticate", b'Basic realm="JPush API"')]
        limited, rate_headers = self._count_call()
        if limited:
            return 429, RATE_LIMITED, rate_headers
        if path == "/v3/push/cid":
            status, payload = self._cid_pool(method, query)
            return status, payload, rate_headers
        if method != "POST":
            return 405, jpush_error(1001, "Only support HTTP POST method"), rate_headers
        if self._fail_next:
            failure = self._fail_next[0]
            failure.times -= 1
            if failure.times <= 0:
                self._fail_next.pop(0)
            if failure.code is None:
                return failure.status, b"<html><body><h1>Bad Gateway</h1></body></html>", rate_headers
            return failure.status, jpush_error(failure.code, f"stub failure {failure.code}"), rate_headers
        try:
            request = json.loads(body)
            if not isinstance(request, dict):
                raise Refused(1003, "Push object must be a JSON object")
            self._check(request)
            status, payload = self._push(request, validate_only=path.endswith("/validate"))
        except ValueError:
            return 400, jpush_error(1003, "Invalid json"), rate_headers
        except Refused as refused:
            return refused.status, refused.body(), rate_headers
        return status, payload, rate_headers

    def _authorized(self, header: bytes | None) -> bool:
        if not header or not header.startswith(b"Basic "):
            return False
        try:
            key, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return key == self.app_key and secret == self.master_secret

    def _count_call(self) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """Counts an API call in the current one-minute window; whether it is over the quota, and the headers."""
        now = time.monotonic()
        if not self._window_start or now - self._window_start >= RATE_WINDOW:
            self._window_start, self._window_calls = now, 0
        self._window_calls += 1
        reset = max(0, round(self._window_start + RATE_WINDOW - now))
        limited = self._window_calls > self.quota
        if self._limit_next > 0:
            self._limit_next -= 1
            limited = True
            if self._limit_reset is not None:
                reset = self._limit_reset
        headers = [
            (b"x-rate-limit-quota", str(self.quota).encode()),
            (b"x-rate-limit-remaining", str(max(0, self.quota - self._window_calls)).encode()),
            (b"x-rate-limit-reset", str(reset).encode()),
        ]
        return limited, headers

    def _cid_pool(self, method: str, query: str) -> tuple[int, dict[str, Any]]:
        if method != "GET":
            return 405, jpush_error(1001, "Only support HTTP GET method")
        params = parse_qs(query)
        try:
            count = int((params.get("count") or ["1"])[0])
        except ValueError:
            return 400, jpush_error(1003, "count must be an integer")
        kind = (params.get("type") or ["push"])[0]
        if not 1 <= count <= 1000 or kind not in ("push", "schedule"):
            return 400, jpush_error(1003, "count must be in [1, 1000] and type push or schedule")
        now = time.monotonic()
        cids = [f"{self.app_key}-{uuid.uuid4()}" for _ in range(count)]
        for cid in cids:
            self._cids[cid] = now
        return 200, {"cidlist": cids}

    def _check(self, request: dict[str, Any]) -> None:
        """Raises Refused as JPush does for a push object it does not take."""
        unknown = set(request) - TOP_LEVEL_KEYS
        if unknown:
            raise Refused(1009, f"Unsupported key: {sorted(unknown)[0]}")
        if "platform" not in request or "audience" not in request:
            raise Refused(1002, "Missing parameter")
        if "notification" not in request and "message" not in request:
            raise Refused(1002, "Missing parameter: notification or message")
        platform = request["platform"]
        if platform != "all" and (not isinstance(platform, list) or not platform or not set(platform) <= PLATFORMS):
            raise Refused(1003, "Platform value is invalid")
        audience = request["audience"]
        if audience != "all":
            if not isinstance(audience, dict) or not audience or not set(audience) <= AUDIENCE_KEYS:
                raise Refused(1003, "Audience value is invalid")
            for values in audience.values():
                if not isinstance(values, list) or not 1 <= len(values) <= 1000:
                    raise Refused(1003, "Audience value must be JSON Array format!")
                if not all(isinstance(v, str) and v for v in values):
                    raise Refused(1003, "Audience value must not be empty")
        notification = request.get("notification", {})
        if not isinstance(notification, dict) or not set(notification) <= NOTIFICATION_KEYS:
            raise Refused(1009, "Unsupported key in notification")
        self._check_android(notification.get("android"))
        self._check_ios(notification.get("ios"))
        self._check_options(request.get("options", {}))
        self._check_size(notification, request.get("message"))

    @staticmethod
    def _check_android(android: Any) -> None:
        if android is None:
            return
        if not isinstance(android, dict):
            raise Refused(1003, "notification.android must be a JSON object")
        if not set(android) <= ANDROID_KEYS:
            raise Refused(1009, f"Unsupported key in notification.android: {sorted(set(android) - ANDROID_KEYS)[0]}")
        if not isinstance(android.get("alert"), str):
            raise Refused(1002, "Missing parameter: notification.android.alert")
        if "priority" in android and android["priority"] not in (-2, -1, 0, 1, 2):
            raise Refused(1003, "notification.android.priority must be in [-2, 2]")
        if "alert_type" in android and android["alert_type"] not in range(-1, 8):
            raise Refused(1003, "notification.android.alert_type must be in [-1, 7]")
        if "extras" in android and not isinstance(android["extras"], dict):
            raise Refused(1003, "notification.android.extras must be a JSON object")

    @staticmethod
    def _check_ios(ios: Any) -> None:
        if ios is None:
            return
        if not isinstance(ios, dict):
            raise Refused(1003, "notification.ios must be a JSON object")
        if not set(ios) <= IOS_KEYS:
            raise Refused(1009, f"Unsupported key in notification.ios: {sorted(set(ios) - IOS_KEYS)[0]}")
        if not isinstance(ios.get("alert"), str | dict):
            raise Refused(1002, "Missing parameter: notification.ios.alert")

    @staticmethod
    def _check_options(options: Any) -> None:
        if not isinstance(options, dict):
            raise Refused(1003, "options must be a JSON object")
        if not set(options) <= OPTIONS_KEYS:
            raise Refused(1009, f"Unsupported key in options: {sorted(set(options) - OPTIONS_KEYS)[0]}")
        ttl = options.get("time_to_live")
        if ttl is not None and (not isinstance(ttl, int) or not 0 <= ttl <= MAX_TIME_TO_LIVE):
            raise Refused(1003, "options.time_to_live must be in [0, 864000]")
        if "classification" in options and options["classification"] not in (0, 1):
            raise Refused(1003, "options.classification must be 0 or 1")
        collapse_id = options.get("apns_collapse_id")
        if collapse_id is not None and (not isinstance(collapse_id, str) or len(collapse_id.encode()) > 64):
            raise Refused(1003, "options.apns_collapse_id must be a string of at most 64 bytes")
        vendors = options.get("third_party_channel") or {}
        if not isinstance(vendors, dict) or not set(vendors) <= THIRD_PARTY_VENDORS:
            raise Refused(1003, "options.third_party_channel names an unknown channel")
        for vendor, settings in vendors.items():
            if not isinstance(settings, dict) or not set(settings) <= THIRD_PARTY_KEYS:
                raise Refused(1009, f"Unsupported key in options.third_party_channel.{vendor}")
            if settings.get("distribution", "secondary_push") not in DISTRIBUTIONS:
                raise Refused(1003, f"options.third_party_channel.{vendor}.distribution is invalid")
            if settings.get("importance", "NORMAL") not in IMPORTANCE:
                raise Refused(1003, f"options.third_party_channel.{vendor}.importance is invalid")
            if settings.get("classification", 0) not in (0, 1):
                raise Refused(1003, f"options.third_party_channel.{vendor}.classification must be 0 or 1")
            if "notify_level" in settings:
                if settings["notify_level"] not in OPPO_NOTIFY_LEVELS:
                    raise Refused(1003, f"options.third_party_channel.{vendor}.notify_level must be 1, 2 or 16")
                if not settings.get("category"):
                    raise Refused(1002, f"options.third_party_channel.{vendor}.notify_level needs a category")

    def _check_size(self, notification: dict[str, Any], message: Any) -> None:
        def size(value: Any) -> int:
            return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) if value else 0

        if size(notification.get("android")) + size(message) > self.android_limit:
            raise Refused(1005, "Msg content too long")
        if size(notification.get("ios")) > self.ios_limit:
            raise Refused(1005, "Msg content too long: notification.ios")

    def _push(self, request: dict[str, Any], *, validate_only: bool) -> tuple[int, dict[str, Any]]:
        cid = request.get("cid")
        if cid is not None:
            issued = self._cids.get(cid) if isinstance(cid, str) else None
            if issued is None or time.monotonic() - issued > CID_LIFETIME:
                raise Refused(1003, "cid is invalid")
            if cid in self._answers:
                self.replayed += 1
                return 200, self._answers[cid]
        options = request.get("options") or {}
        sendno = str(options.get("sendno", 0))
        platform = request["platform"]
        audience = request["audience"]
        if audience == "all":
            devices = list(self.devices.values())
        else:
            ids = audience.get("registration_id") or []
            devices = [self.devices[i] for i in ids if i in self.devices]
        devices = [d for d in devices if platform == "all" or d.platform in platform]
        self._next_msg_id += 1
        msg_id = str(self._next_msg_id)
        if not devices:
            raise Refused(1011, NO_USER, msg_id=msg_id)  # JPush sends a msg_id with this error
        answer = {"sendno": sendno, "msg_id": msg_id}
        if validate_only:
            return 200, {"sendno": sendno, "msg_id": "0"}
        self.accepted += 1
        if cid is not None:
            self._answers[cid] = answer
        if self.record:
            self.messages += [_delivered(msg_id, device, request) for device in devices]
        return 200, answer


def _route(device: Device, vendor_options: dict[str, Any]) -> str:
    """The channel JPush takes to a device: its own connection, or the phone vendor's."""
    distribution = vendor_options.get("distribution", "secondary_push")
    if distribution == "jpush" or (distribution == "secondary_push" and device.online):
        return "jpush"
    return device.vendor


def _delivered(msg_id: str, device: Device, request: dict[str, Any]) -> Delivered:
    notification = request.get("notification") or {}
    options = request.get("options") or {}
    vendor_options = dict((options.get("third_party_channel") or {}).get(device.vendor) or {})
    if device.platform == "ios":
        ios = notification.get("ios") or {}
        alert = ios.get("alert", notification.get("alert"))
        title, body = (alert.get("title"), alert.get("body")) if isinstance(alert, dict) else (None, alert)
        return Delivered(
            msg_id=msg_id,
            registration_id=device.registration_id,
            vendor=device.vendor,
            route=device.vendor,
            title=title,
            body=body,
            extras=dict(ios.get("extras") or {}),
            priority=None,
            category=ios.get("category"),
            alert_type=None,
            vendor_options={},
            classification=options.get("classification"),
            time_to_live=options.get("time_to_live"),
            cid=request.get("cid"),
            request=request,
        )
    android = notification.get("android") or {}
    return Delivered(
        msg_id=msg_id,
        registration_id=device.registration_id,
        vendor=device.vendor,
        route=_route(device, vendor_options),
        title=android.get("title"),
        body=android.get("alert", notification.get("alert")),
        extras=dict(android.get("extras") or {}),
        priority=android.get("priority"),
        category=android.get("category"),
        alert_type=android.get("alert_type"),
        vendor_options=vendor_options,
        classification=options.get("classification"),
        time_to_live=options.get("time_to_live"),
        cid=request.get("cid"),
        request=request,
    )


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[JPushStub]:
    """A JPushStub(**settings) served by uvicorn in the running event loop for the duration of the block."""
    stub = JPushStub(**settings)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()


def _device(text: str) -> tuple[str, str]:
    registration_id, _, vendor = text.partition("=")
    if not registration_id or vendor not in VENDORS:
        raise argparse.ArgumentTypeError(f"expected REGISTRATION_ID=VENDOR with a vendor of {VENDORS}")
    return registration_id, vendor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.jpush_stub", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-key", default=JPushStub.app_key)
    parser.add_argument("--master-secret", default=JPushStub.master_secret)
    parser.add_argument("--device", type=_device, action="append", default=[], help="REGISTRATION_ID=VENDOR")
    parser.add_argument("--quota", type=int, default=JPushStub.quota, help="API calls a minute before 429 / 2002")
    parser.add_argument("--down", action="store_true", help="answer every API call 503 / 1030")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering each push")
    parser.add_argument("--no-record", action="store_true", help="count pushes without keeping them")
    args = parser.parse_args(argv)
    stub = JPushStub(
        app_key=args.app_key,
        master_secret=args.master_secret,
        quota=args.quota,
        down=args.down,
        delay=args.delay,
        record=not args.no_record,
        host=args.host,
        port=args.port,
    )
    for registration_id, vendor in args.device:
        stub.register(registration_id, vendor)
    config = uvicorn.Config(stub, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
