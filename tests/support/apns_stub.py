"""A local APNs provider API server for tests: HTTP/2 over TLS 1.2+, written with the `h2` library.

`POST /3/device/<token>` answers 200 with an apns-id header, or APNs' error status and {"reason": ...} body. It
checks what APNs checks: the provider JWT (ES256 signed by a key the stub knows under the header's kid, iss the
team id, iat at most an hour old: else 403 InvalidProviderToken / ExpiredProviderToken; a third distinct token of
a team within 20 minutes: 429 TooManyProviderTokenUpdates), apns-topic (the bundle id: else 400 MissingTopic /
TopicDisallowed), apns-push-type, apns-priority, apns-expiration, apns-collapse-id (<= 64 bytes), apns-id, and
the payload (<= 4096 bytes: else 413 PayloadTooLarge; a JSON object with an `aps` object).

Token prefixes choose an answer: `unregistered-` (410 Unregistered, with a timestamp), `expired-` (410
ExpiredToken), `bad-` (400 BadDeviceToken), `other-topic-` (400 DeviceTokenNotForTopic) and `busy-` (429
TooManyRequests). Knobs settable at run time: `down` (503 ServiceUnavailable), `fail_next(reason, status)`,
`drop_next()` (the connection is aborted without an answer), `delay`, `retry_after`, `clock_offset`,
`idle_timeout` (GOAWAY IdleTimeout), `stop()` / `start()`. A 503 Shutdown answer is followed by GOAWAY, as APNs
does. `GET /_stub/stats` reports the counters; `POST /_stub/control` with
{"down": bool, "failNext": {"reason": r, "status": s, "count": n}} sets those knobs of a standalone stub.

It offers ALPN h2 and also takes HTTP/2 with prior knowledge from a client that offers no ALPN (aioapns does so
with APNs); `without_alpn` counts those connections. The TLS certificate comes from a CA made at start with
`cryptography`: `ca_file` / `client_ssl_context()` trust it.
The team's signing key is made at start too: `key_pem` is its .p8 content.

In process: `async with running_stub() as stub: ...` serves it from the running event loop.
Standalone: `python -m tests.support.apns_stub --port N --cert-dir DIR` (see --help).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import ipaddress
import json
import shutil
import socket
import ssl
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MAX_PAYLOAD = 4096
MAX_COLLAPSE_ID = 64
TOKEN_LIFETIME = 3600.0  # seconds: an older iat is ExpiredProviderToken
TOKEN_WINDOW = 20 * 60.0  # seconds
TOKEN_LEEWAY = 300.0  # seconds of clock skew the stub allows for an iat in the future
PUSH_TYPES = {
    "alert",
    "background",
    "location",
    "voip",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
}
STATUS_OF = {
    "BadCollapseId": 400,
    "BadDeviceToken": 400,
    "BadExpirationDate": 400,
    "BadMessageId": 400,
    "BadPriority": 400,
    "BadTopic": 400,
    "DeviceTokenNotForTopic": 400,
    "DuplicateHeaders": 400,
    "IdleTimeout": 400,
    "InvalidPushType": 400,
    "MissingDeviceToken": 400,
    "MissingTopic": 400,
    "PayloadEmpty": 400,
    "TopicDisallowed": 400,
    "BadCertificate": 403,
    "BadCertificateEnvironment": 403,
    "ExpiredProviderToken": 403,
    "Forbidden": 403,
    "InvalidProviderToken": 403,
    "MissingProviderToken": 403,
    "UnrelatedKeyIdInToken": 403,
    "BadEnvironmentKeyIdInToken": 403,
    "BadPath": 404,
    "MethodNotAllowed": 405,
    "ExpiredToken": 410,
    "Unregistered": 410,
    "PayloadTooLarge": 413,
    "TooManyProviderTokenUpdates": 429,
    "TooManyRequests": 429,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "Shutdown": 503,
}
TOKEN_PREFIXES = {
    "unregistered-": "Unregistered",
    "expired-": "ExpiredToken",
    "bad-": "BadDeviceToken",
    "other-topic-": "DeviceTokenNotForTopic",
    "busy-": "TooManyRequests",
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: str | None = None  # APNs' error reason; None for 200
    body: dict[str, Any] | None = None  # for the stub's own paths
    timestamp: int | None = None  # 410: milliseconds since the epoch
    apns_id: str | None = None  # the request's apns-id, or one the stub made


@dataclass(frozen=True, slots=True)
class Delivered:
    """One accepted notification, as the stub received it."""

    apns_id: str
    device_token: str
    headers: dict[str, str]  # the request's headers, pseudo-headers and authorization left out
    payload: dict[str, Any]
    provider_token: str

    @property
    def aps(self) -> dict[str, Any]:
        aps = self.payload.get("aps")
        return aps if isinstance(aps, dict) else {}


@dataclass
class _Request:
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)


@dataclass
class ApnsStub:
    """An HTTP/2 server speaking the APNs provider API; every knob may change while it serves."""

    bundle_id: str = "cn.palmtrade.app"
    team_id: str = "PALMTEAM01"
    key_id: str = "PALMKEY001"
    down: bool = False
    delay: float = 0.0
    retry_after: int | None = None  # a Retry-After header on 429 and 503 answers, when set
    clock_offset: float = 0.0  # seconds added to the stub's clock (iat checks, token windows)
    idle_timeout: float | None = None  # seconds without a stream before it sends GOAWAY IdleTimeout and closes
    max_streams: int = 1000  # SETTINGS_MAX_CONCURRENT_STREAMS it advertises
    token_updates: int = 1  # token changes a team may make within 20 minutes before 429 TooManyProviderTokenUpdates
    record: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    cert_dir: Path | None = None  # where ca.pem, server.pem, server.key (and key.p8) go; a temporary dir if None
    requests: int = 0
    accepted: int = 0
    connections: int = 0  # TLS connections served as HTTP/2
    without_alpn: int = 0  # of which the client did not negotiate h2 by ALPN (HTTP/2 with prior knowledge)
    in_flight: int = 0
    peak_in_flight: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)  # provider JWT -> requests that carried it
    deliveries: list[Delivered] = field(default_factory=list)
    keys: dict[str, ec.EllipticCurvePublicKey] = field(default_factory=dict)  # kid -> the team's public key
    key_pem: str = ""  # the .p8 the stub made for key_id (or was given)
    _drops: int = field(default=0, init=False, repr=False)
    _failures_next: deque[tuple[str, int]] = field(default_factory=deque, init=False, repr=False)
    _team_tokens: dict[str, list[tuple[float, str]]] = field(default_factory=dict, init=False, repr=False)
    _server: asyncio.Server | None = field(default=None, init=False, repr=False)
    _sessions: set[_Session] = field(default_factory=set, init=False, repr=False)
    _tmp: Path | None = field(default=None, init=False, repr=False)
    _server_context: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.key_pem:
            private = ec.generate_private_key(ec.SECP256R1())
            self.key_pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        if self.key_id not in self.keys:
            loaded = serialization.load_pem_private_key(self.key_pem.encode(), password=None)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            self.keys[self.key_id] = loaded.public_key()

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self._certs() / "ca.pem"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts only the stub's CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def distinct_tokens(self) -> int:
        return len(self.tokens)

    def now(self) -> float:
        return time.time() + self.clock_offset

    def drop_next(self, count: int = 1) -> None:
        """The next `count` requests lose their connection: it is aborted without an answer."""
        self._drops += count

    def fail_next(self, reason: str, status: int | None = None, count: int = 1) -> None:
        """The next `count` authenticated requests get `status` (APNs' status for `reason` by default)."""
        self._failures_next.extend([(reason, status or STATUS_OF.get(reason, 400))] * count)

    def delivered_to(self, device_token: str) -> list[Delivered]:
        return [d for d in self.deliveries if d.device_token == device_token]

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "accepted": self.accepted,
            "failures": dict(self.failures),
            "connections": self.connections,
            "distinctTokens": self.distinct_tokens,
            "peakInFlight": self.peak_in_flight,
        }

    def reset(self) -> None:
        """Forgets what it saw and clears every failure knob; the address, certificate and keys stay."""
        self.requests = self.accepted = self.connections = self.without_alpn = self.peak_in_flight = 0
        self.failures.clear()
        self.tokens.clear()
        self.deliveries.clear()
        self._failures_next.clear()
        self._drops = 0
        self._team_tokens.clear()
        self.down = False
        self.delay = 0.0
        self.retry_after = None
        self.clock_offset = 0.0
        self.idle_timeout = None

    def answer(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """The answer to one request; counts it and records an accepted notification."""
        if path == "/_stub/stats":
            return Answer(200, body=self.stats())
        if path == "/_stub/control" and method == "POST":
            return self._control(body)
        self.requests += 1
        apns_id = dict(headers).get("apns-id") or str(uuid.uuid4()).upper()
        result, delivered = self._decide(method, path, headers, body)
        result = replace(result, apns_id=apns_id)
        if delivered is not None:
            delivered = replace(delivered, apns_id=apns_id)
        if result.reason:
            self.failures[result.reason] += 1
        elif delivered is not None:
            self.accepted += 1
            if self.record:
                self.deliveries.append(delivered)
        return result

    def _control(self, body: bytes) -> Answer:
        try:
            knobs = json.loads(body or b"{}")
            self.down = bool(knobs.get("down", self.down))
            fail = knobs.get("failNext")
            if fail:
                self.fail_next(str(fail["reason"]), fail.get("status"), int(fail.get("count", 1)))
        except (ValueError, TypeError, KeyError, AttributeError):
            return Answer(400, "BadRequest")
        return Answer(200, body={"down": self.down, "failNext": len(self._failures_next)})

    def _decide(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[Answer, Delivered | None]:
        if self.down:
            return Answer(503, "ServiceUnavailable"), None
        if method != "POST":
            return Answer(405, "MethodNotAllowed"), None
        if not path.startswith("/3/device/"):
            return Answer(404, "BadPath"), None
        names = [name for name, _ in headers if not name.startswith(":")]
        if len(names) != len(set(names)):
            return Answer(400, "DuplicateHeaders"), None
        fields = dict(headers)
        provider_token = fields.get("authorization", "").removeprefix("bearer ").strip()
        refused = self._check_provider_token(provider_token)
        if refused:
            return Answer(STATUS_OF[refused], refused), None
        if self._failures_next:
            reason, status = self._failures_next.popleft()
            return Answer(status, reason), None
        refused = self._check_headers(fields)
        if refused:
            return Answer(STATUS_OF[refused], refused), None
        if not body:
            return Answer(400, "PayloadEmpty"), None
        if len(body) > MAX_PAYLOAD:
            return Answer(413, "PayloadTooLarge"), None
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
            return Answer(400, "BadRequest"), None  # the stub's own reason: APNs documents none for this
        device_token = path.removeprefix("/3/device/")
        if not device_token:
            return Answer(400, "MissingDeviceToken"), None
        for prefix, reason in TOKEN_PREFIXES.items():
            if device_token.startswith(prefix):
                stamp = int(self.now() * 1000) if STATUS_OF[reason] == 410 else None
                return Answer(STATUS_OF[reason], reason, timestamp=stamp), None
        kept = {k: v for k, v in fields.items() if not k.startswith(":") and k != "authorization"}
        return Answer(200), Delivered("", device_token, kept, payload, provider_token)

    def _check_provider_token(self, token: str) -> str | None:
        """None for a good provider JWT, else APNs' reason for refusing it."""
        if not token:
            return "MissingProviderToken"
        try:
            head_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(_unb64(head_b64))
            claims = json.loads(_unb64(claims_b64))
            signature = _unb64(signature_b64)
            issuer, issued_at, kid = str(claims["iss"]), int(claims["iat"]), str(header["kid"])
        except (ValueError, KeyError, TypeError):
            return "InvalidProviderToken"
        self.tokens[token] += 1
        if self._too_many_updates(issuer, token):
            return "TooManyProviderTokenUpdates"
        key = self.keys.get(kid)
        if header.get("alg") != "ES256" or key is None or issuer != self.team_id or len(signature) != 64:
            return "InvalidProviderToken"
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            key.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "InvalidProviderToken"
        now = self.now()
        if now - issued_at > TOKEN_LIFETIME:
            return "ExpiredProviderToken"
        if issued_at - now > TOKEN_LEEWAY:
            return "InvalidProviderToken"
        return None

    def _too_many_updates(self, team: str, token: str) -> bool:
        """True when `token` is a team's new token beyond `token_updates` changes within 20 minutes."""
        seen = self._team_tokens.setdefault(team, [])
        if any(t == token for _, t in seen):
            return False
        now = self.now()
        recent = [first for first, _ in seen if now - first < TOKEN_WINDOW]
        if len(recent) > self.token_updates:
            return True
        seen.append((now, token))
        return False

    def _check_headers(self, fields: dict[str, str]) -> str | None:
        topic = fields.get("apns-topic")
        if not topic:
            return "MissingTopic"
        if topic != self.bundle_id:
            return "TopicDisallowed"
        if fields.get("apns-push-type", "alert") not in PUSH_TYPES:
            return "InvalidPushType"
        if fields.get("apns-priority", "10") not in {"1", "5", "10"}:
            return "BadPriority"
        if not fields.get("apns-expiration", "0").isdigit():
            return "BadExpirationDate"
        if len(fields.get("apns-collapse-id", "").encode()) > MAX_COLLAPSE_ID:
            return "BadCollapseId"
        apns_id = fields.get("apns-id")
        if apns_id is not None:
            try:
                uuid.UUID(apns_id)
            except ValueError:
                return "BadMessageId"
        return None

    async def start(self) -> None:
        """Serves TLS on host:port (a free port the first time); returns once it accepts connections."""
        if self._server is not None:
            return
        if self._server_context is None:
            self._server_context = self._make_server_context()
        if not self.port:
            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = int(s.getsockname()[1])
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self._server_context, reuse_address=True
        )

    async def stop(self) -> None:
        """Stops serving and drops every connection: connections to its port are refused until start()."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        sessions = list(self._sessions)
        for session in sessions:
            session.abort()
        await asyncio.gather(*(session.finished.wait() for session in sessions))
        await server.wait_closed()

    def cleanup(self) -> None:
        """Removes the temporary certificate directory, if it made one."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _certs(self) -> Path:
        if self.cert_dir is not None:
            return self.cert_dir
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="apns-stub-"))
        return self._tmp

    def _make_server_context(self) -> ssl.SSLContext:
        directory = self._certs()
        directory.mkdir(parents=True, exist_ok=True)
        ca_pem, cert_pem, key_pem = make_certificates(self.host)
        (directory / "ca.pem").write_bytes(ca_pem)
        (directory / "server.pem").write_bytes(cert_pem)
        (directory / "server.key").write_bytes(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(directory / "server.pem", directory / "server.key")
        context.set_alpn_protocols(["h2"])
        return context

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        self.connections += 1
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            self.without_alpn += 1  # h2 refuses anything but the HTTP/2 preface
        session = _Session(self, writer)
        self._sessions.add(session)
        try:
            await session.run(reader)
        finally:
            self._sessions.discard(session)
            session.finished.set()


class _Session:
    """One HTTP/2 connection: reads frames, answers each stream in its own task."""

    def __init__(self, stub: ApnsStub, writer: asyncio.StreamWriter) -> None:
        self.stub = stub
        self.writer = writer
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.streams: dict[int, _Request] = {}
        self.answering: set[asyncio.Task[None]] = set()
        self.finished = asyncio.Event()
        self.closing = False

    def abort(self) -> None:
        self.closing = True
        transport = self.writer.transport
        transport.abort()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def goaway(self, reason: str, last_stream_id: int | None = None) -> None:
        """Sends GOAWAY with APNs' {"reason"} debug data and closes the connection."""
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.conn.close_connection(
                last_stream_id=last_stream_id, additional_data=json.dumps({"reason": reason}).encode()
            )
        self.flush()
        self.writer.close()

    async def run(self, reader: asyncio.StreamReader) -> None:
        self.conn.local_settings = h2.settings.Settings(
            client=False, initial_values={h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.stub.max_streams}
        )
        self.conn.initiate_connection()
        self.flush()
        try:
            while not self.closing:
                idle = self.stub.idle_timeout if not self.streams and not self.answering else None
                try:
                    data = await asyncio.wait_for(reader.read(65536), timeout=idle)
                except TimeoutError:
                    self.goaway("IdleTimeout")
                    break
                if not data:
                    break
                try:
                    events = self.conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self.flush()
                    break
                for event in events:
                    self._on(event)
                self.flush()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            self.closing = True
            self.stub.in_flight -= len(self.streams)  # streams whose request never ended
            self.streams.clear()
            for task in list(self.answering):
                task.cancel()
            await asyncio.gather(*self.answering, return_exceptions=True)
            if not self.writer.is_closing():
                self.writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await self.writer.wait_closed()

    def _on(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived) and event.stream_id is not None:
            self.streams[event.stream_id] = _Request(headers=[(str(k), str(v)) for k, v in event.headers or []])
            self.stub.in_flight += 1
            self.stub.peak_in_flight = max(self.stub.peak_in_flight, self.stub.in_flight)
        elif isinstance(event, h2.events.DataReceived) and event.stream_id is not None:
            request = self.streams.get(event.stream_id)
            if request is not None and event.data is not None:
                request.body += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded) and event.stream_id is not None:
            request = self.streams.pop(event.stream_id, None)
            if request is not None:
                task = asyncio.create_task(self._answer(event.stream_id, request))
                self.answering.add(task)
                task.add_done_callback(self.answering.discard)
        elif isinstance(event, h2.events.StreamReset) and event.stream_id is not None:
            if self.streams.pop(event.stream_id, None) is not None:
                self.stub.in_flight -= 1
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closing = True

    async def _answer(self, stream_id: int, request: _Request) -> None:
        if self.stub._drops > 0:
            self.stub._drops -= 1
            self.stub.requests += 1
            self.stub.in_flight -= 1
            self.stub.failures["dropped"] += 1
            self.abort()
            return
        try:
            fields = dict(request.headers)
            method, path = fields.get(":method", ""), fields.get(":path", "")
            result = self.stub.answer(method, path, request.headers, bytes(request.body))
            if self.stub.delay:
                await asyncio.sleep(self.stub.delay)
            self._respond(stream_id, request, result)
        finally:
            self.stub.in_flight -= 1
        if result.reason == "Shutdown":
            self.goaway("Shutdown", last_stream_id=stream_id)

    def _respond(self, stream_id: int, request: _Request, result: Answer) -> None:
        if self.closing:
            return
        apns_id = result.apns_id or dict(request.headers).get("apns-id") or str(uuid.uuid4()).upper()
        headers = [(":status", str(result.status)), ("apns-id", apns_id)]
        body = b""
        if result.reason is not None:
            error: dict[str, Any] = {"reason": result.reason}
            if result.timestamp is not None:
                error["timestamp"] = result.timestamp
            body = json.dumps(error).encode()
        elif result.body is not None:
            body = json.dumps(result.body).encode()
        if body:
            headers.append(("content-type", "application/json"))
            headers.append(("content-length", str(len(body))))
        if self.stub.retry_after is not None and result.status in (429, 503):
            headers.append(("retry-after", str(self.stub.retry_after)))
        try:
            self.conn.send_headers(stream_id, headers, end_stream=not body)
            if body:
                self.conn.send_data(stream_id, body, end_stream=True)
        except h2.exceptions.ProtocolError:  # the client reset the stream (a timeout) or the connection closed
            return
        self.flush()


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def make_certificates(host: str) -> tuple[bytes, bytes, bytes]:
    """A CA certificate, and a server certificate it signed for `host` and localhost, with the server's key (PEM)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PalmTrade APNs stub CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    encoding = serialization.Encoding.PEM
    return ca.public_bytes(encoding), cert.public_bytes(encoding), key_pem


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[ApnsStub]:
    """An ApnsStub(**settings) served in the running event loop for the duration of the block."""
    stub = ApnsStub(**settings)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()
        stub.cleanup()


async def _serve_forever(stub: ApnsStub) -> None:
    await stub.start()
    print(
        json.dumps(
            {
                "endpoint": stub.base_url,
                "caFile": str(stub.ca_file),
                "keyFile": str(stub._certs() / "key.p8"),
                "keyId": stub.key_id,
                "teamId": stub.team_id,
                "topic": stub.bundle_id,
            }
        ),
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await stub.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.apns_stub", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert-dir", type=Path, required=True, help="writes ca.pem (to trust) and key.p8 here")
    parser.add_argument("--key-file", type=Path, help="the team's .p8 key to accept (made and written if absent)")
    parser.add_argument("--key-id", default=ApnsStub.key_id)
    parser.add_argument("--team-id", default=ApnsStub.team_id)
    parser.add_argument("--bundle-id", default=ApnsStub.bundle_id)
    parser.add_argument("--down", action="store_true", help="answer every push 503 ServiceUnavailable")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--retry-after", type=int, help="a Retry-After header on 429 and 503 answers")
    parser.add_argument("--idle-timeout", type=float, help="seconds before an idle connection gets GOAWAY")
    parser.add_argument("--no-record", action="store_true", help="count notifications without keeping them")
    args = parser.parse_args(argv)
    stub = ApnsStub(
        bundle_id=args.bundle_id,
        team_id=args.team_id,
        key_id=args.key_id,
        down=args.down,
        delay=args.delay,
        retry_after=args.retry_after,
        idle_timeout=args.idle_timeout,
        record=not args.no_record,
        host=args.host,
        port=args.port,
        cert_dir=args.cert_dir,
        key_pem=args.key_file.read_text() if args.key_file else "",
    )
    args.cert_dir.mkdir(parents=True, exist_ok=True)
    (args.cert_dir / "key.p8").write_text(stub.key_pem)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(stub))


if __name__ == "__main__":
    main()
