"""A local FCM HTTP v1 server for tests and benchmarks: the real firebase-admin talks HTTP to it.

`POST /v1/projects/{project}/messages:send` answers `{"name": "projects/{project}/messages/<n>"}` or the
error bodies FCM sends, so the SDK raises its typed exceptions. Token prefixes choose an answer:
`unregistered-` (404 UNREGISTERED), `invalid-` (400 INVALID_ARGUMENT, "not a valid FCM registration
token") and `mismatch-` (403 SENDER_ID_MISMATCH). Knobs settable at run time: `down`, `failure_rate`,
`quota_exceeded_for()`, `delay`, `stop()` / `start()`. `GET /_stub/stats` reports the counters;
`POST /_stub/control` with `{"down": true|false, "failureRate": r}` sets those knobs of a standalone stub.

In process: `async with running_stub() as stub: ...` serves it from the running event loop.
Standalone: `python -m tests.support.fcm_stub --port N` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn

from tests.support.serving import LoopbackServed

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
RESERVED_DATA_KEYS = {"from", "notification", "message_type"}
JSON_HEADERS = [(b"content-type", b"application/json; charset=UTF-8")]


def fcm_error(
    code: int, status: str, message: str, error_code: str | None = None, field_violation: str | None = None
) -> dict[str, Any]:
    """An FCM v1 error body, shaped as Google sends it."""
    details: list[dict[str, Any]] = []
    if error_code:
        details.append({"@type": FCM_ERROR, "errorCode": error_code})
    if field_violation:
        details.append({"@type": BAD_REQUEST, "fieldViolations": [{"field": field_violation, "description": message}]})
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


UNAUTHENTICATED = fcm_error(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
)
UNAVAILABLE = fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")
UNREGISTERED = fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
INVALID_TOKEN = fcm_error(
    400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT"
)
NO_RECIPIENT = fcm_error(400, "INVALID_ARGUMENT", "Recipient of the message is not set.", "INVALID_ARGUMENT")
SENDER_ID_MISMATCH = fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")
QUOTA_EXCEEDED = fcm_error(
    429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'.", "QUOTA_EXCEEDED"
)


@dataclass(frozen=True, slots=True)
class Delivered:
    """One accepted message, as the stub received it."""

    name: str
    token: str
    data: dict[str, str]
    title: str | None
    body: str | None
    collapse_key: str | None
    tag: str | None
    android_priority: str | None
    android_ttl: str | None
    apns_headers: dict[str, str]
    apns_payload: dict[str, Any]
    message: dict[str, Any]

    @property
    def message_id(self) -> str | None:
        return self.data.get("messageId")


@dataclass
class FcmStub(LoopbackServed):
    """An ASGI app speaking FCM HTTP v1; every knob may change while it serves."""

    label: ClassVar[str] = "the FCM stub"

    project: str = "palmtrade-test"
    access_token: str = "stub-access-token"
    failure_rate: float = 0.0
    seed: int = 0
    down: bool = False
    delay: float = 0.0
    retry_after: int = 30
    record: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    requests: int = 0
    accepted: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    messages: list[Delivered] = field(default_factory=list)
    _quota_requests: int = field(default=0, init=False, repr=False)
    _quota_until: float = field(default=0.0, init=False, repr=False)
    _path: str = field(init=False, repr=False)
    _random: random.Random = field(init=False, repr=False)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._path = f"/v1/projects/{self.project}/messages:send"

    def quota_exceeded_for(self, requests: int = 0, seconds: float = 0.0, retry_after: int | None = None) -> None:
        """The next `requests` sends, and every send for `seconds` from now, get 429 QUOTA_EXCEEDED."""
        self._quota_requests = requests
        self._quota_until = time.monotonic() + seconds if seconds else 0.0
        if retry_after is not None:
            self.retry_after = retry_after

    def delivered_to(self, token: str) -> list[Delivered]:
        return [m for m in self.messages if m.token == token]

    def count_by(self, message_id: str, token: str | None = None) -> int:
        """How many accepted messages carried data["messageId"] == message_id (to `token`, when given)."""
        return sum(1 for m in self.messages if m.message_id == message_id and (token is None or m.token == token))

    def stats(self) -> dict[str, Any]:
        seen = Counter((m.message_id, m.token) for m in self.messages)
        return {
            "requests": self.requests,
            "accepted": self.accepted,
            "failures": dict(self.failures),
            # (message id, device) pairs accepted more than once: a push sent twice (needs recording on)
            "duplicates": sum(n - 1 for n in seen.values() if n > 1),
        }

    def reset(self) -> None:
        """Forgets what it saw and clears every failure knob; the address stays."""
        self.requests = self.accepted = 0
        self.failures.clear()
        self.messages.clear()
        self.down = False
        self.failure_rate = 0.0
        self.delay = 0.0
        self._quota_requests = 0
        self._quota_until = 0.0
        self._random.seed(self.seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        status, payload, headers = self.answer(scope["method"], scope["path"], scope["headers"], body)
        if self.delay:
            await asyncio.sleep(self.delay)
        content = json.dumps(payload).encode()
        headers = [*JSON_HEADERS, (b"content-length", str(len(content)).encode()), *headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def answer(self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        """The status, JSON body and extra headers for one request; counts it and records an accepted message."""
        if path == "/_stub/stats":
            return 200, self.stats(), []
        if path == "/_stub/control" and method == "POST":
            # a standalone stub blocked and unblocked at run time: {"down": true} answers every send 503
            try:
                knobs = json.loads(body or b"{}")
                self.down = bool(knobs.get("down", self.down))
                self.failure_rate = float(knobs.get("failureRate", self.failure_rate))
            except (ValueError, TypeError, AttributeError):
                return 400, fcm_error(400, "INVALID_ARGUMENT", "Invalid control payload."), []
            return 200, {"down": self.down, "failureRate": self.failure_rate}, []
        self.requests += 1
        status, payload, extra = self._decide(method, path, headers, body)
        if status != 200:
            error = payload["error"]
            details = error.get("details") or [{}]
            self.failures[details[0].get("errorCode") or error["status"]] += 1
        return status, payload, extra

    def _decide(self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        if self.down:
            return 503, UNAVAILABLE, []
        if method != "POST" or path != self._path:
            return 404, fcm_error(404, "NOT_FOUND", "Requested entity was not found."), []
        if dict(headers).get(b"authorization") != f"Bearer {self.access_token}".encode():
            return 401, UNAUTHENTICATED, [(b"www-authenticate", b'Bearer realm="https://accounts.google.com/"')]
        try:
            request = json.loads(body)
            message = request["message"]
            assert isinstance(message, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", None, "message"), []
        if self._quota_requests > 0 or time.monotonic() < self._quota_until:
            self._quota_requests = max(0, self._quota_requests - 1)
            return 429, QUOTA_EXCEEDED, [(b"retry-after", str(self.retry_after).encode())]
        if self.failure_rate and self._random.random() < self.failure_rate:
            return 503, UNAVAILABLE, []
        token = message.get("token") or message.get("fid")
        if not isinstance(token, str) or not token:
            return (
                400,
                fcm_error(400, "INVALID_ARGUMENT", "Recipient of the message is not set.", "INVALID_ARGUMENT"),
                [],
            )
        if token.startswith("unregistered-"):
            return 404, UNREGISTERED, []
        if token.startswith("invalid-"):
            return 400, INVALID_TOKEN, []
        if token.startswith("mismatch-"):
            return 403, SENDER_ID_MISMATCH, []
        data = message.get("data") or {}
        bad_key = next((k for k in data if k in RESERVED_DATA_KEYS or k.startswith(("google.", "gcm."))), None)
        if bad_key is not None or not all(isinstance(v, str) for v in data.values()):
            text = f"Invalid data payload key: {bad_key}" if bad_key else "Invalid data payload value"
            return 400, fcm_error(400, "INVALID_ARGUMENT", text, "INVALID_ARGUMENT", "message.data"), []
        if request.get("validate_only"):
            return 200, {"name": f"projects/{self.project}/messages/fake_message_id"}, []
        self.accepted += 1
        name = f"projects/{self.project}/messages/{self.accepted}"
        if self.record:
            self.messages.append(_delivered(name, token, data, message))
        return 200, {"name": name}, []


def _delivered(name: str, token: str, data: dict[str, str], message: dict[str, Any]) -> Delivered:
    notification = message.get("notification") or {}
    android = message.get("android") or {}
    apns = message.get("apns") or {}
    return Delivered(
        name=name,
        token=token,
        data=dict(data),
        title=notification.get("title"),
        body=notification.get("body"),
        collapse_key=android.get("collapse_key"),
        tag=(android.get("notification") or {}).get("tag"),
        android_priority=android.get("priority"),
        android_ttl=android.get("ttl"),
        apns_headers=dict(apns.get("headers") or {}),
        apns_payload=dict(apns.get("payload") or {}),
        message=message,
    )


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[FcmStub]:
    """An FcmStub(**settings) served by uvicorn in the running event loop for the duration of the block."""
    stub = FcmStub(**settings)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fcm_stub", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project", default=FcmStub.project)
    parser.add_argument("--access-token", default=FcmStub.access_token)
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of sends answered 503 (seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--down", action="store_true", help="answer every request 503")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--quota-requests", type=int, default=0, help="answer the first N sends 429")
    parser.add_argument("--quota-seconds", type=float, default=0.0, help="answer sends 429 for S seconds")
    parser.add_argument("--retry-after", type=int, default=30, help="the 429's Retry-After in seconds")
    parser.add_argument("--no-record", action="store_true", help="count messages without keeping them")
    args = parser.parse_args(argv)
    stub = FcmStub(
        project=args.project,
        access_token=args.access_token,
        failure_rate=args.failure_rate,
        seed=args.seed,
        down=args.down,
        delay=args.delay,
        retry_after=args.retry_after,
        record=not args.no_record,
        host=args.host,
        port=args.port,
    )
    stub.quota_exceeded_for(args.quota_requests, args.quota_seconds)
    config = uvicorn.Config(stub, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
