"""The small HTTP endpoints beside /graphql: the JWKS, the published SDL, the OAuth client-credentials grant,
liveness and readiness."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.lifecycle import readiness, server_checks
from api.services import Services
from domain.accounts import integrators
from domain.accounts.errors import SystemNotAccredited, SystemNotAuthorised
from domain.common import clock
from domain.common.actors import ANONYMOUS
from domain.common.errors import DomainError, RateLimited
from schema.context import locale_from
from schema.relay import int_id


async def jwks(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(
        json.dumps(services.keyring.jwks()),
        media_type="application/jwk-set+json",
        headers={"cache-control": "public, max-age=300"},
    )


def published_schema(sdl: str) -> Any:
    """GET /schema.graphql: the SDL this process serves (equal to mobile_contract/schema.graphql, which
    a test keeps), for integrators next to the JWKS."""
    etag = '"' + hashlib.sha256(sdl.encode()).hexdigest()[:32] + '"'
    headers = {"cache-control": "public, max-age=300", "etag": etag}

    async def endpoint(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(sdl, media_type="text/plain; charset=utf-8", headers=headers)

    return endpoint


async def oauth_token(request: Request) -> Response:
    """OAuth 2.0 client credentials grant (RFC 6749 4.4) for integrators."""
    form = await request.form()
    client_id, secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        except (ValueError, UnicodeDecodeError):
            client_id = secret = None
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if not isinstance(client_id, str) or not isinstance(secret, str):
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    # an accredited third-party system acting for a tenderer: the tenderer organisation's global id
    on_behalf_of: int | None = None
    tenderer = form.get("on_behalf_of")
    if tenderer is not None:
        try:
            on_behalf_of = int_id(str(tenderer), "Organisation", "on_behalf_of")
        except DomainError:
            return JSONResponse({"error": "invalid_request", "error_description": "on_behalf_of"}, status_code=400)
    try:
        token, expires, _, scopes = await integrators.client_credentials_token(
            request.scope["state"].get("actor", ANONYMOUS), client_id, secret, on_behalf_of
        )
    except DomainError as err:
        described = err.message(locale_from(request.headers.get("accept-language")))
        if isinstance(err, SystemNotAccredited | SystemNotAuthorised):
            # the client is who it says, but may not act for this tenderer (RFC 6749 5.2)
            return JSONResponse(
                {"error": "unauthorized_client", "error_description": described, "code": err.code},
                status_code=400,
                headers={"cache-control": "no-store"},
            )
        if isinstance(err, RateLimited):
            # too many failures for this address or client id, or the server busy: not a wrong secret (RFC 6749 5.2
            # has no code for it; RFC 6585's 429 with Retry-After tells the integrator when to come back)
            retry_at = err.params.get("retry_at")
            wait = max(1, math.ceil((retry_at - clock.now()).total_seconds())) if isinstance(retry_at, datetime) else 1
            return JSONResponse(
                {"error": "temporarily_unavailable", "error_description": described},
                status_code=429,
                headers={"retry-after": str(wait), "cache-control": "no-store"},
            )
        return JSONResponse({"error": "invalid_client", "error_description": described}, status_code=401)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "expires_in": int((expires - clock.now()).total_seconds()),
        },
        headers={"cache-control": "no-store"},
    )


async def healthz(request: Request) -> Response:
    """Liveness: the process answers (restart it when it does not)."""
    return JSONResponse({"status": "ok", "time": clock.now().isoformat()})


async def readyz(request: Request) -> Response:
    """Readiness, for the balancer: 200 when the database and the broker answer, the signing keys are loaded
    and the process is not draining; 503 naming what is not (each check within READINESS_TIMEOUT)."""
    services: Services = request.app.state.services
    checks = server_checks(services.bus, services.keyring, services.lifecycle)
    ready, body = await readiness(checks, services.settings.readiness_timeout)
    return JSONResponse(body, status_code=200 if ready else 503, headers={"cache-control": "no-store"})
