"""A request id and an actor for every HTTP request and WebSocket, from its bearer token: 401 for a bad token,
429 over an integrator's rate limit. It also writes the access log (api/logs.py AccessLog), sampled."""

from __future__ import annotations

import os
import re
import time
from dataclasses import replace
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import authenticate, bearer_token
from api.graphql_http import header as raw_header
from api.graphql_http import response_media_type
from api.logs import AccessLog, request_id_var
from api.services import Services
from domain.accounts.tokens import InvalidToken, TokenRevoked
from domain.common.actors import ANONYMOUS, Actor

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


# answered without looking at a token: authentication may reload the key ring from the database, and a
# probe must neither wait for that nor fail with it (a database outage is what /readyz reports)
PROBES = frozenset({"/healthz", "/readyz"})


class AuthMiddleware:
    """Request id and bearer token for every HTTP request; 401 for a bad token, 429 over limits."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        settings = services.settings
        self.access_log = AccessLog(settings.access_log_sample, settings.access_log_slow_ms / 1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._serve(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def answer(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._serve(scope, receive, answer)
        finally:
            seconds = time.perf_counter() - started
            if self.access_log.wanted(status or 500, seconds):
                self.access_log.write(scope, status or 500, seconds)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming, authorization, device = _read_headers(scope.get("headers", ()))
        request_id = incoming if _REQUEST_ID.match(incoming) else os.urandom(16).hex()
        request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        ip = scope["client"][0] if scope.get("client") else None
        actor: Actor = ANONYMOUS
        if scope["type"] == "http":
            try:
                if scope["path"] == "/oauth/token" and (authorization or "").lower().startswith("basic "):
                    authorization = None  # client credentials (RFC 6749 2.3.1), read by oauth_token
                if scope["path"].startswith("/oidc/") and scope["path"] != "/oidc/authorize":
                    authorization = None  # single sign-on's own credentials, read by api/oidc (client or SSO token)
                actor = await authenticate(self.services.keyring, bearer_token(authorization), ip)
            except InvalidToken as err:
                await _reply(
                    scope,
                    receive,
                    send,
                    401,
                    request_id,
                    "UNAUTHENTICATED",
                    f"Invalid or expired access token ({err}) / 访问令牌无效或已过期",
                    extensions={"cause": err.cause} if isinstance(err, TokenRevoked) else None,
                )
                return
            if actor.client_id:
                limit = _client_rate(self.services, actor)
                allowed, reset = await self.services.limiter.hit(f"client:{actor.client_id}", limit)
                if not allowed:
                    await _reply(
                        scope,
                        receive,
                        send,
                        429,
                        request_id,
                        "RATE_LIMITED",
                        f"Rate limit of {limit}/min exceeded; retry in {reset}s / 请求过于频繁，请 {reset} 秒后重试",
                        {"retry-after": str(reset)},
                        {"retryAfter": reset},
                    )
                    return
            if actor.delegation_id is not None and scope["path"] != "/graphql":
                # an accredited system acting for a tenderer runs the app's GraphQL mutations only
                # (schema/delegation_guard.py), never the REST endpoints beside them
                await _reply(
                    scope,
                    receive,
                    send,
                    403,
                    request_id,
                    "FORBIDDEN",
                    "Not for a delegated system / 授权范围不包括此操作",
                )
                return
        device = device.strip()[:128]  # the app's device id, for collusion checks
        state["actor"] = replace(actor, device_id=device) if device else actor

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


def _read_headers(headers: Any) -> tuple[str, str | None, str]:
    """X-Request-Id, Authorization and X-Device-Id of an ASGI scope's raw list (the last of each, as a dict of them
    kept), in one pass that decodes only these three."""
    incoming, authorization, device = b"", None, b""
    for key, value in headers:
        if key == b"authorization":
            authorization = value
        elif key == b"x-request-id":
            incoming = value
        elif key == b"x-device-id":
            device = value
    return (
        incoming.decode("latin-1"),
        None if authorization is None else authorization.decode("latin-1"),
        device.decode("latin-1"),
    )


def _client_rate(services: Services, actor: Actor) -> int:
    return actor.rate_limit or 600


async def _reply(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    request_id: str,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> None:
    body = {
        "errors": [{"message": message, "extensions": {"code": code, "requestId": request_id, **(extensions or {})}}]
    }
    extra = {"x-request-id": request_id, **(headers or {})}
    if status == 401:
        extra["www-authenticate"] = 'Bearer error="invalid_token"'
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401})
        return
    media_type = response_media_type(raw_header(scope.get("headers", []), b"accept"))
    await JSONResponse(body, status_code=status, headers=extra, media_type=media_type)(scope, receive, send)
