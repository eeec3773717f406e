"""Apple Push Notification service: the APNs provider API over HTTP/2 (httpx + h2), token (.p8, ES256) auth.

One POST /3/device/<token> per push, multiplexed as HTTP/2 streams on one TLS connection, at most
`max_concurrent` at a time. Headers: apns-topic (the bundle id), apns-push-type: alert, apns-priority 10 for a
time-critical push and 5 otherwise, apns-collapse-id (the message id; a SHA-256 hex digest of it when it is over
64 bytes, so a resend still replaces the notification), apns-expiration from ttl_seconds (0: deliver now or
never; none: APNs' default storage). The payload is {"aps": {"alert": {"title", "body"}, "sound": "default",
"thread-id"?, "interruption-level": "time-sensitive" when time-critical}, "messageId", and the push's data keys}.

The provider token (JWT: iss = team id, iat, kid = key id) is signed once and reused for 50 minutes: APNs refuses
one older than an hour and answers TooManyProviderTokenUpdates to a provider that changes tokens more often than
every 20 minutes.

Outcomes, from APNs' status and `reason`:
- SENT: 200; provider_id is the apns-id header.
- INVALID_TOKEN: 410 (Unregistered, ExpiredToken); 400 BadDeviceToken and DeviceTokenNotForTopic.
- RETRY: 429 (TooManyRequests, TooManyProviderTokenUpdates), 500, 503 (ServiceUnavailable, Shutdown), any other
  5xx, timeouts and transport errors (connection refused, TLS refused), with retry_after from a Retry-After header
  when there is one. A stream lost with its connection (ReadError, WriteError, RemoteProtocolError: APNs closed an
  idle connection or said GOAWAY, which httpx notices only on that connection's next request) is first sent once
  more at once, on a new connection; should APNs have had the first, the phone shows one notification, as both
  carry the same apns-collapse-id. 403 InvalidProviderToken / ExpiredProviderToken: the token is signed anew (once per
  rejected token, and at most once every 20 minutes, so a wrong key never makes a token per request) and the push
  is retried later, as credentials are fixed without changing the message. For the same reason the other
  credential errors (MissingProviderToken, UnrelatedKeyIdInToken, BadEnvironmentKeyIdInToken) are RETRY too.
- FAILED: any other 4xx (PayloadTooLarge over 4096 bytes, BadCollapseId, BadExpirationDate, TopicDisallowed...).
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from notifications.channels.base import Outcome, Push, PushResult

APNS_ENDPOINT = "https://api.push.apple.com"
APNS_SANDBOX_ENDPOINT = "https://api.sandbox.push.apple.com"
MAX_BATCH = 500
MAX_CONCURRENT = 100  # httpcore opens at most 100 streams on one HTTP/2 connection
MAX_COLLAPSE_ID = 64  # bytes
TOKEN_REFRESH_AFTER = 50 * 60.0  # seconds: APNs refuses a token issued more than an hour ago
TOKEN_MIN_INTERVAL = 20 * 60.0  # seconds: APNs answers TooManyProviderTokenUpdates to more frequent changes
INVALID_TOKEN_REASONS = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic"})
REFRESH_REASONS = frozenset({"InvalidProviderToken", "ExpiredProviderToken"})
CREDENTIAL_REASONS = REFRESH_REASONS | {"MissingProviderToken", "UnrelatedKeyIdInToken", "BadEnvironmentKeyIdInToken"}
# A stream lost with its connection: APNs closes idle connections and says GOAWAY (IdleTimeout, Shutdown), which
# httpx notices only when it next uses that connection. Such a request is sent once more, on a new connection.
LOST_STREAM = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class ProviderToken:
    """The ES256 provider JWT: signed once, reused for 50 minutes, replaced early only after APNs rejects it."""

    def __init__(self, key_pem: str, key_id: str, team_id: str, clock: Callable[[], float] = time.time) -> None:
        try:
            key = ECKey.import_key(key_pem)
        except (ValueError, TypeError, JoseError) as error:
            raise ValueError(f"the APNs key is not a PEM EC private key (.p8): {error}") from error
        if not key.is_private or key.curve_name != "P-256":
            raise ValueError("the APNs key must be the P-256 private key of a .p8 file")
        if not key_id or not team_id:
            raise ValueError("the APNs key id and team id are required")
        self._key, self.key_id, self.team_id, self._clock = key, key_id, team_id, clock
        self._token: str | None = None
        self._issued_at = 0.0
        self._forced_at: float | None = None
        self.signed = 0  # how many tokens it has signed

    def current(self) -> str:
        """The token to send now: the same one until it is 50 minutes old."""
        now = self._clock()
        if self._token is None or now - self._issued_at >= TOKEN_REFRESH_AFTER:
            return self._sign(now)
        return self._token

    def rejected(self, token: str) -> bool:
        """Signs a new token after APNs refused `token`, unless that is done already or was done < 20 min ago."""
        now = self._clock()
        if token != self._token or (self._forced_at is not None and now - self._forced_at < TOKEN_MIN_INTERVAL):
            return False
        self._forced_at = now
        self._sign(now)
        return True

    def _sign(self, now: float) -> str:
        self._issued_at = now
        self._token = jwt.encode(
            {"alg": "ES256", "kid": self.key_id}, {"iss": self.team_id, "iat": int(now)}, self._key
        )
        self.signed += 1
        return self._token


class ApnsChannel:
    """Sends pushes to APNs on one HTTP/2 connection; never raises for one message's failure."""

    name = "apns"
    max_batch = MAX_BATCH

    def __init__(
        self,
        key_pem: str,
        key_id: str,
        team_id: str,
        topic: str,
        *,
        endpoint: str = APNS_ENDPOINT,
        ssl_context: ssl.SSLContext | None = None,
        ca_file: str | Path | None = None,
        max_concurrent: int = MAX_CONCURRENT,
        timeout: float = 10.0,
        keepalive: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not topic:
            raise ValueError("the APNs topic (the app's bundle id) is required")
        if ssl_context is not None and ca_file is not None:
            raise ValueError("ApnsChannel takes ssl_context or ca_file, not both")
        if not 1 <= max_concurrent <= MAX_CONCURRENT:
            raise ValueError(f"max_concurrent must be between 1 and {MAX_CONCURRENT}")
        self.token = ProviderToken(key_pem, key_id, team_id, clock)
        self.topic = topic
        self.endpoint = endpoint.rstrip("/")
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._slots = asyncio.Semaphore(max_concurrent)
        verify: ssl.SSLContext | bool = (
            ssl_context if ssl_context is not None else ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        # http1=False: every request is an HTTP/2 stream, and they all share one connection (httpcore opens another
        # to the same origin only once the first is closing, after a GOAWAY). An idle connection is dropped after
        # `keepalive` seconds: APNs closes idle ones too, with a GOAWAY seen only on the next request (LOST_STREAM).
        self._client = httpx.AsyncClient(
            base_url=self.endpoint,
            http1=False,
            http2=True,
            verify=verify,
            timeout=timeout,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=1, keepalive_expiry=keepalive),
        )
        self._closed = False

    async def send(self, pushes: Sequence[Push]) -> list[PushResult]:
        """One result per push, in order, `max_concurrent` requests at a time; raises only once closed."""
        if self._closed:
            raise RuntimeError("ApnsChannel is closed")
        return list(await asyncio.gather(*(self._send_one(push) for push in pushes)))

    async def close(self) -> None:
        """Closes its HTTP/2 connection; idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._client.aclose()

    async def _send_one(self, push: Push) -> PushResult:
        body = json.dumps(payload(push), ensure_ascii=False, separators=(",", ":")).encode()
        async with self._slots:
            try:
                return await self._post(push, body)
            except LOST_STREAM:
                pass  # the connection was gone: once more, on a new one
            except httpx.TransportError as error:
                return _transport_failure(error)
            try:
                return await self._post(push, body)
            except httpx.TransportError as error:
                return _transport_failure(error)

    async def _post(self, push: Push, body: bytes) -> PushResult:
        token = self.token.current()
        response = await self._client.post(
            f"/3/device/{quote(push.token, safe='')}",
            content=body,
            headers={"authorization": f"bearer {token}", **headers(push, self.topic, self._clock())},
        )
        return self._result(response, token)

    def _result(self, response: httpx.Response, token: str) -> PushResult:
        """The outcome of one APNs answer (see the module docstring)."""
        status = response.status_code
        apns_id = response.headers.get("apns-id")
        if status == 200:
            return PushResult(Outcome.SENT, provider_id=apns_id)
        reason = _reason(response) or f"HTTP {status}"
        if status == 410 or (status == 400 and reason in INVALID_TOKEN_REASONS):
            return PushResult(Outcome.INVALID_TOKEN, provider_id=apns_id, error=reason)
        if status == 403 and reason in CREDENTIAL_REASONS:
            if reason in REFRESH_REASONS:
                self.token.rejected(token)
            return PushResult(Outcome.RETRY, provider_id=apns_id, error=reason)
        if status == 429 or status >= 500:
            return PushResult(Outcome.RETRY, provider_id=apns_id, retry_after=_retry_after(response), error=reason)
        return PushResult(Outcome.FAILED, provider_id=apns_id, error=reason)


def payload(push: Push) -> dict[str, Any]:
    """The APNs JSON payload: aps (alert, sound, thread-id, interruption-level), messageId and the push's data."""
    aps: dict[str, Any] = {"alert": {"title": push.title, "body": push.body}, "sound": "default"}
    thread = thread_id(push.data)
    if thread:
        aps["thread-id"] = thread
    if push.time_critical:
        aps["interruption-level"] = "time-sensitive"
    return {**push.data, "messageId": push.message_id, "aps": aps}


def thread_id(data: Mapping[str, str]) -> str | None:
    """Groups notifications on the phone: data["threadId"], else "<objectType>:<objectId>" when both are set."""
    if data.get("threadId"):
        return data["threadId"]
    if data.get("objectType") and data.get("objectId"):
        return f"{data['objectType']}:{data['objectId']}"
    return None


def collapse_id(message_id: str) -> str:
    """The apns-collapse-id: the message id, or its SHA-256 hex digest (64 bytes) when it is over 64 bytes."""
    if len(message_id.encode()) <= MAX_COLLAPSE_ID:
        return message_id
    return hashlib.sha256(message_id.encode()).hexdigest()


def headers(push: Push, topic: str, now: float) -> dict[str, str]:
    """The APNs request headers of one push, but for authorization."""
    result = {
        "apns-topic": topic,
        "apns-push-type": "alert",
        "apns-priority": "10" if push.time_critical else "5",
        "apns-collapse-id": collapse_id(push.message_id),
    }
    ttl = push.ttl_seconds
    if ttl is not None:
        result["apns-expiration"] = str(int(now) + ttl if ttl > 0 else 0)
    return result


def _transport_failure(error: httpx.TransportError) -> PushResult:
    kind = "Timeout" if isinstance(error, httpx.TimeoutException) else "TransportError"
    return PushResult(Outcome.RETRY, error=f"{kind}: {type(error).__name__}")


def _reason(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    reason = body.get("reason") if isinstance(body, dict) else None
    return str(reason) if reason else None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from the answer's Retry-After header (delta-seconds or an HTTP date), when it has one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
