"""Firebase Cloud Messaging (HTTP v1) through firebase-admin: Android, and iOS through FCM's APNs relay.

Outcomes, from the SDK's typed errors:
- SENT: FCM accepted the message; provider_id is its name, projects/<p>/messages/<n>.
- INVALID_TOKEN: UNREGISTERED (404), SENDER_ID_MISMATCH (403), and INVALID_ARGUMENT (400) about the token.
  FCM answers INVALID_ARGUMENT both for a malformed registration token and for a payload it rejects; it is
  about the token when the error message mentions the "registration token" (FCM's wording: "The registration
  token is not a valid FCM registration token") or a google.rpc.BadRequest field violation names
  `message.token`. Any other INVALID_ARGUMENT is the payload's fault: FAILED, and the device is kept.
- RETRY: 429 / RESOURCE_EXHAUSTED (QUOTA_EXCEEDED) with retry_after from Retry-After; 500, 503, timeouts
  and transport errors (connection refused or reset); 401 UNAUTHENTICATED, as expired or revoked
  credentials (ours, or the APNs key: THIRD_PARTY_AUTH_ERROR) are fixed without changing the message.
- FAILED: anything else, including a message the SDK refuses to encode.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import firebase_admin
import httpx
from firebase_admin import _http_client, _retry, credentials, exceptions, messaging
from google.oauth2.credentials import Credentials as OAuthCredentials

from notifications.channels.base import Outcome, Push, PushResult

FCM_ENDPOINT = "https://fcm.googleapis.com"
MAX_BATCH = 500
IN_FLIGHT = 100
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_RETRIED = (
    exceptions.ResourceExhaustedError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.UnauthenticatedError,
)


class StaticToken(OAuthCredentials):
    """A fixed OAuth access token (local development, the stub): no OAuth call is ever made.

    refresh() keeps the token, so a 401 reaches send() as the SDK's per-message UnauthenticatedError
    instead of a RefreshError that would abort the whole batch.
    """

    def __init__(self, token: str) -> None:
        super().__init__(token=token)  # type: ignore[no-untyped-call]  # google-auth leaves Credentials.__init__ unannotated

    def refresh(self, request: Any) -> None:
        return None


class FcmChannel:
    """Sends pushes with its own named firebase_admin App; several channels may live in one process."""

    name = "fcm"
    max_batch = MAX_BATCH

    def __init__(
        self,
        project_id: str,
        *,
        credentials_path: str | Path | None = None,
        access_token: str | None = None,
        endpoint: str | None = None,
        timeout: float = 10.0,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        if (credentials_path is None) == (access_token is None):
            raise ValueError("FcmChannel needs exactly one of credentials_path and access_token")
        if not 1 <= in_flight <= MAX_BATCH:
            raise ValueError(f"in_flight must be between 1 and {MAX_BATCH}")
        credential: credentials.Base | OAuthCredentials = (
            StaticToken(access_token) if access_token is not None else credentials.Certificate(str(credentials_path))
        )
        self.project_id = project_id
        # send_each_async starts every message of a call at once, and httpx's pool (100 connections) rescans
        # its whole queue of waiting requests on each connection event: one call of 500 took 8 s on a cold
        # pool on loopback (64 msg/s, long enough to time requests out waiting for a connection), against
        # 400 msg/s for calls of 100. So each call carries at most `in_flight` messages.
        self.in_flight = in_flight
        self.app = firebase_admin.initialize_app(
            credential, {"projectId": project_id, "httpTimeout": timeout}, name=f"palmtrade-fcm-{uuid.uuid4().hex}"
        )
        self._closed = False
        self._service = messaging._get_messaging_service(self.app)
        # firebase-admin's HttpxAsyncClient retries every 500/503 four times with backoff (about 7 s) before
        # send_each_async returns, so one bad answer holds the whole batch; the delivery worker retries with
        # its own backoff. This app's messaging service therefore gets an HttpxAsyncClient built the SDK's
        # way, with an HttpxRetry of zero retries: exactly one request per message. The client the SDK made
        # has not opened a connection yet; close() closes it anyway.
        self._sdk_client = self._service._async_client
        self._client = _http_client.HttpxAsyncClient(
            credential=self.app.credential.get_credential(),
            timeout=timeout,
            retry_config=_retry.HttpxRetry(max_retries=0),
        )
        self._service._async_client = self._client
        self._service._fcm_url = f"{(endpoint or FCM_ENDPOINT).rstrip('/')}/v1/projects/{project_id}/messages:send"

    async def send(self, pushes: Sequence[Push]) -> list[PushResult]:
        """One result per push, in order, `in_flight` messages at a time; raises only once closed."""
        if self._closed:
            raise RuntimeError("FcmChannel is closed")
        results: list[PushResult] = []
        for start in range(0, len(pushes), self.in_flight):
            results += await self._send_batch(pushes[start : start + self.in_flight])
        return results

    async def close(self) -> None:
        """Closes its HTTP clients and deletes its App; idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._client.aclose()
        await self._sdk_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self.app)

    async def _send_batch(self, pushes: Sequence[Push]) -> list[PushResult]:
        with warnings.catch_warnings():
            # firebase-admin 7.7 deprecates Message.token for Message.fid (Firebase installation ids). FCM
            # delivers to both registration tokens and installation ids given as `token`; the reverse is
            # not documented, and devices register registration tokens.
            warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
            messages = [message(push) for push in pushes]
        try:
            batch = await messaging.send_each_async(messages, app=self.app)
        except ValueError:
            return await self._send_encodable(pushes, messages)
        except exceptions.FirebaseError as error:
            return [PushResult(Outcome.RETRY, error=error.code)] * len(pushes)
        return [result(response) for response in batch.responses]

    async def _send_encodable(self, pushes: Sequence[Push], messages: list[messaging.Message]) -> list[PushResult]:
        """Fails the messages the SDK refuses to encode, and sends the rest."""
        results: list[PushResult | None] = [None] * len(pushes)
        for i, candidate in enumerate(messages):
            try:
                messaging._MessagingService.encode_message(candidate)
            except ValueError as error:
                results[i] = PushResult(Outcome.FAILED, error=f"INVALID_MESSAGE: {error}")
        valid = [i for i, r in enumerate(results) if r is None]
        if len(valid) == len(pushes):
            raise RuntimeError("firebase-admin refused a batch whose every message encodes")
        sent = await self._send_batch([pushes[i] for i in valid]) if valid else []
        for i, r in zip(valid, sent, strict=True):
            results[i] = r
        return [r for r in results if r is not None]


def message(push: Push) -> messaging.Message:
    """The FCM message for one push: message_id is data["messageId"], the Android tag and collapse key, and
    the apns-collapse-id, so a resend replaces the notification on the device instead of adding one."""
    ttl = push.ttl_seconds
    apns_headers = {"apns-collapse-id": push.message_id, "apns-priority": "10" if push.time_critical else "5"}
    if ttl is not None:
        apns_headers["apns-expiration"] = str(int(time.time()) + ttl if ttl > 0 else 0)
    return messaging.Message(
        token=push.token,
        notification=messaging.Notification(title=push.title, body=push.body),
        data={**push.data, "messageId": push.message_id},
        android=messaging.AndroidConfig(
            collapse_key=push.message_id,
            priority="high" if push.time_critical else "normal",
            ttl=timedelta(seconds=ttl) if ttl is not None else None,
            notification=messaging.AndroidNotification(tag=push.message_id),
        ),
        apns=messaging.APNSConfig(
            headers=apns_headers,
            payload=messaging.APNSPayload(
                aps=messaging.Aps(
                    sound="default",
                    custom_data={"interruption-level": "time-sensitive"} if push.time_critical else None,
                )
            ),
        ),
    )


def result(response: messaging.SendResponse) -> PushResult:
    """The outcome of one send_each_async response (see the module docstring)."""
    if response.success:
        return PushResult(Outcome.SENT, provider_id=response.message_id)
    error: exceptions.FirebaseError = response.exception
    body = _error_body(error)
    code = _fcm_error_code(body) or error.code
    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return PushResult(Outcome.INVALID_TOKEN, error=code)
    if isinstance(error, exceptions.InvalidArgumentError):
        return PushResult(Outcome.INVALID_TOKEN if _about_token(body) else Outcome.FAILED, error=code)
    if isinstance(error, _RETRIED) or isinstance(error.cause, httpx.TransportError):
        return PushResult(Outcome.RETRY, retry_after=_retry_after(error), error=code)
    return PushResult(Outcome.FAILED, error=code)


def _error_body(error: exceptions.FirebaseError) -> dict[str, Any]:
    response = error.http_response
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    inner = body.get("error") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def _fcm_error_code(body: dict[str, Any]) -> str | None:
    for detail in body.get("details") or []:
        if isinstance(detail, dict) and detail.get("@type") == _FCM_ERROR and detail.get("errorCode"):
            return str(detail["errorCode"])
    return None


def _about_token(body: dict[str, Any]) -> bool:
    if "registration token" in str(body.get("message", "")).lower():
        return True
    return any(
        isinstance(violation, dict) and violation.get("field") == "message.token"
        for detail in body.get("details") or []
        if isinstance(detail, dict) and detail.get("@type") == _BAD_REQUEST
        for violation in detail.get("fieldViolations") or []
    )


def _retry_after(error: exceptions.FirebaseError) -> float | None:
    """Seconds from the answer's Retry-After header (delta-seconds or an HTTP date), when it has one."""
    response = error.http_response
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def channel_from_settings(
    project_id: str | None,
    credentials_path: str | Path | None = None,
    access_token: str | None = None,
    endpoint: str | None = None,
    timeout: float = 10.0,
    in_flight: int = IN_FLIGHT,
) -> FcmChannel | None:
    """An FcmChannel when a project and a credential are configured; None when FCM is off."""
    if not project_id or not (credentials_path or access_token):
        return None
    return FcmChannel(
        project_id,
        credentials_path=credentials_path or None,
        access_token=access_token or None,
        endpoint=endpoint or None,
        timeout=timeout,
        in_flight=in_flight,
    )
