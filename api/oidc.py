"""PalmTrade as an OpenID Connect provider (issue 24): Authlib's authorization server, glued to Starlette here.

Authlib has no Starlette server integration; this module follows the shape of its Flask and Django ones
(`create_oauth2_request`, `handle_response`, models behind mixins) with one difference: Authlib's server is
synchronous, so each protocol step runs on a worker thread (`run_in_threadpool`) and its storage calls come back to
the event loop (`anyio.from_thread.run`) to run the async use cases of domain/sso. The user signs in at the provider
through the app's own use cases (password, then an SMS code; a certificate, signed on the page or approved from the app
by its QR code, then an SMS code when the client asks for two factors; or an app session's access token); ID tokens
and access tokens are signed with joserfc by the platform's ES256 key ring (the keys of /.well-known/jwks.json,
rotated, sealed under the KEKs), published again at /oidc/jwks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio.from_thread
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer as _AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api import oidc_pages as pages
from api.services import Services
from domain.accounts import sessions
from domain.accounts.models import User
from domain.certificates import sso_sign_in as certificate_sign_in
from domain.common import clock
from domain.common.actors import ANONYMOUS, Actor
from domain.common.errors import DomainError, RateLimited
from domain.common.ids import mask_mobile
from domain.sso import errors as sso_errors
from domain.sso import services as sso
from domain.sso.models import SsoAuthorizationCode, SsoClient, SsoRefreshToken
from schema.context import locale_from
from schema.relay import to_global_id

ID_TOKEN_SECONDS = 600
PENDING_SECONDS = 300  # between the password and the SMS step
SESSION_COOKIE = "pt_sso"
PENDING_COOKIE = "pt_sso_pending"
CSRF_COOKIE = "pt_sso_csrf"
CERT_COOKIE = "pt_sso_cert"
CERT_SECONDS = 180  # the certificate challenge's 2 minutes and the grace of the page's last poll
LOA_TWO = "urn:palmtrade:loa:2"  # two factors (sso.acr_of), asked for by a client system with acr_values
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068: never mistaken for an ID token or an app access token

_issuer: ContextVar[str] = ContextVar("oidc_issuer")
_actor: ContextVar[Actor] = ContextVar("oidc_actor", default=ANONYMOUS)
_grant_id: ContextVar[str] = ContextVar("oidc_grant_id")
T = TypeVar("T")


def _wait(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Runs an async use case on the event loop from Authlib's worker thread and waits for it."""
    result: T = anyio.from_thread.run(fn, *args)  # type: ignore[arg-type]
    return result


# ---------------------------------------------------------------- Authlib's models over domain/sso


class _TooManyFailures(OAuth2Error):  # type: ignore[misc]
    """Too many wrong secrets from this address or for this client: 429 with Retry-After (as /oauth/token answers;
    RFC 6749 5.2 has no code for it)."""

    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, err: RateLimited) -> None:
        retry_at = err.params.get("retry_at")
        wait = max(1, math.ceil((retry_at - clock.now()).total_seconds())) if isinstance(retry_at, datetime) else 1
        super().__init__(description=err.message("en"))
        self.retry_after = wait

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


class _Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: SsoClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.row.scopes)
        return " ".join(s for s in scope_to_list(scope or "") or [] if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exactly as registered (RFC 6749 3.1.2.2, no patterns)

    def check_client_secret(self, client_secret: str) -> bool:
        try:
            return _wait(sso.authenticate_client, _actor.get(), self.row, client_secret)
        except RateLimited as err:
            raise _TooManyFailures(err) from err

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.secret_hash:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code" or (
            grant_type == "refresh_token" and "offline_access" in self.row.scopes
        )


class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: SsoAuthorizationCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str:
        return sso.acr_of(self.row.amr.split())

    def get_amr(self) -> list[str]:
        return sso.oidc_amr(self.row.amr.split())


class _Refresh(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: SsoRefreshToken) -> None:
        self.row = row

    def check_client(self, client: _Client) -> bool:
        return bool(client.row.id == self.row.client_id)

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.created_at).total_seconds())

    def is_expired(self) -> bool:
        return False  # claim_refresh_token gave only an unexpired one

    def is_revoked(self) -> bool:
        return False


def _who(row: SsoAuthorizationCode | SsoRefreshToken) -> sso.SignedInUser:
    _grant_id.set(str(row.grant_id))
    return sso.SignedInUser(row.user_id, tuple(row.amr.split()), row.auth_time, row.session_id)


class _S256(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only (OAuth 2.0 Security BCP 2.1.1: plain is not allowed)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE with S256 is required)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: _Code) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: _Code) -> str:
        return authorization_code.row.code_challenge_method


AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        _wait(
            sso.issue_code,
            _actor.get(),
            request.client.row,
            request.user,
            code,
            request.payload.redirect_uri or "",
            request.scope,
            data.get("nonce"),
            data["code_challenge"],
            data["code_challenge_method"],
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        row = _wait(sso.redeem_code, _actor.get(), client.row, code)
        return _Code(row) if row else None

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        """Nothing left to do: redeem_code used it up."""

    def authenticate_user(self, authorization_code: _Code) -> sso.SignedInUser | None:
        who = _who(authorization_code.row)
        return who if _wait(sso.session_alive, who.user_id, who.session_id) else None


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _Refresh | None:
        row = _wait(sso.claim_refresh_token, _actor.get(), self.request.client.row, refresh_token)
        return _Refresh(row) if row else None

    def authenticate_user(self, refresh_token: _Refresh) -> sso.SignedInUser:
        return _who(refresh_token.row)

    def revoke_old_credential(self, refresh_token: _Refresh) -> None:
        """Nothing left to do: claim_refresh_token used it up (rotation)."""


@dataclass
class _Revocable:
    value: str

    def check_client(self, client: _Client) -> bool:
        return True  # revoke_refresh_token finds the token among the client's own only


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Revocable:
        return _Revocable(token_string)

    def revoke_token(self, token: _Revocable, request: OAuth2Request) -> None:
        # access tokens live 15 minutes and die with their grant; refresh tokens are revoked with theirs (RFC 7009)
        _wait(sso.revoke_refresh_token, _actor.get(), request.client.row, token.value)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, services: Services) -> None:
        super().__init__(require_nonce=False)
        self.services = services

    def _kid(self) -> str:
        return self.services.keyring.signing_kid(clock.now())

    def resolve_client_private_key(self, client: _Client) -> Any:
        return self.services.keyring.private_key(self._kid())

    def get_client_algorithm(self, client: _Client) -> str:
        return "ES256"

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": "ES256", "kid": self._kid(), "typ": "JWT"}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(clock.now().timestamp())
        return {"iss": _issuer.get(), "aud": [client.get_client_id()], "iat": now, "exp": now + ID_TOKEN_SECONDS}

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        async def used() -> bool:
            return await SsoAuthorizationCode.filter(client__client_id=request.payload.client_id, nonce=nonce).exists()

        return _wait(used)

    def generate_user_info(self, user: sso.SignedInUser, scope: str) -> dict[str, Any]:
        claims = _wait(_claims, user.user_id, scope)
        claims["sid"] = user.session_id
        return claims


async def _claims(user_id: int, scope: str) -> dict[str, Any]:
    claims = await sso.user_claims(user_id, scope)
    org = claims.get("organisation")
    if isinstance(org, dict):
        org["id"] = to_global_id("Organisation", org["id"])  # the API's public id of the organisation
    return claims


class AuthorizationServer(_AuthorizationServer):  # type: ignore[misc]
    def __init__(self, services: Services) -> None:
        super().__init__(scopes_supported=list(sso.SCOPES))
        self.services = services
        self.register_token_generator("default", self._generate_token)
        self.register_grant(_CodeGrant, [_S256(required=True), _OpenIDCode(services)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)

    def query_client(self, client_id: str) -> _Client | None:
        row = _wait(sso.active_client, client_id)
        return _Client(row) if row else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        if "refresh_token" in token:
            _wait(
                sso.store_refresh_token,
                request.client.row,
                _grant_id.get(),
                request.user,
                token["scope"],
                token["refresh_token"],
            )

    def _generate_token(
        self,
        grant_type: str,
        client: _Client,
        user: sso.SignedInUser,
        scope: str,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        keyring = self.services.keyring
        now = clock.now()
        ttl = int(keyring.policy.access_ttl.total_seconds())
        kid = keyring.signing_kid(now)
        issuer = _issuer.get()
        claims = {
            "iss": issuer,
            "aud": f"{issuer}/oidc/userinfo",
            "sub": sso.subject(user.user_id),
            "client_id": client.get_client_id(),
            "scope": scope,
            "gid": _grant_id.get(),
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + ttl,
            "jti": secrets.token_urlsafe(12),
        }
        header = {"alg": "ES256", "kid": kid, "typ": ACCESS_TOKEN_TYPE}
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": jwt.encode(header, claims, keyring.private_key(kid), algorithms=["ES256"]),
            "expires_in": ttl,
            "scope": scope,
        }
        if include_refresh_token and "offline_access" in scope.split():
            token["refresh_token"] = "psr_" + secrets.token_urlsafe(32)
        return token

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # made by _oauth_request from the Starlette request, its form already read

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else (body or "")
        sent = dict(headers or [])
        if isinstance(body, dict):
            sent.setdefault("Content-Type", "application/json")
        sent.setdefault("Cache-Control", "no-store")
        return Response(content, status_code=status, headers=sent)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Every step is audited by the use cases themselves."""


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._values.items() if v}

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._values


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self, method: str, uri: str, headers: Any, args: dict[str, list[str]], form: dict[str, list[str]]
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._args, self._form = args, form
        self.payload = _Payload(form if form else args)

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._args.items() if v}

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._form.items() if v}


def _multi(items: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in items:
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


async def _oauth_request(request: Request, issuer: str, with_form: bool) -> _Request:
    """Authlib's request: the URI on the issuer (https behind the balancer), the query, and the form if wanted."""
    form = _multi((await request.form()).multi_items()) if with_form else {}
    query = f"?{request.url.query}" if request.url.query else ""
    return _Request(
        request.method,
        f"{issuer}{request.url.path}{query}",
        request.headers,  # case-insensitive, as Authlib reads "Authorization"
        _multi(request.query_params.multi_items()),
        form,
    )


# ---------------------------------------------------------------- the browser's state at the provider


def _sign(secret: bytes, value: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")
    mac = hmac.new(secret, f"oidc-cookie:{body}".encode(), hashlib.sha256).hexdigest()[:43]
    return f"{body}.{mac}"


def _unsign(secret: bytes, cookie: str | None) -> dict[str, Any] | None:
    if not cookie or "." not in cookie:
        return None
    body, _, mac = cookie.rpartition(".")
    expected = hmac.new(secret, f"oidc-cookie:{body}".encode(), hashlib.sha256).hexdigest()[:43]
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _secret(services: Services) -> bytes:
    return services.settings.secret_key or b"development-only-secret"


def _set_cookie(response: Response, issuer: str, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/oidc",
        httponly=True,
        secure=issuer.startswith("https://"),
        samesite="lax",
    )


def issuer_of(services: Services, request: Request) -> str | None:
    """OIDC_ISSUER, or in development the address the request came to; in production without it, no provider."""
    configured = services.settings.oidc_issuer
    if configured:
        return configured.rstrip("/")
    if services.settings.production:
        return None
    return f"{request.url.scheme}://{request.url.netloc}"


@dataclass
class _Context:
    services: Services
    issuer: str
    actor: Actor
    locale: str


def _context(request: Request) -> _Context | None:
    services: Services = request.app.state.services
    issuer = issuer_of(services, request)
    if issuer is None:
        return None
    _issuer.set(issuer)
    actor: Actor = request.scope.get("state", {}).get("actor", ANONYMOUS)
    _actor.set(actor)
    return _Context(services, issuer, actor, locale_from(request.headers.get("accept-language")))


def _not_found() -> Response:
    return JSONResponse({"error": "not_found"}, status_code=404)


# ---------------------------------------------------------------- endpoints


async def discovery(request: Request) -> Response:
    ctx = _context(request)
    if ctx is None:
        return _not_found()
    base = ctx.issuer
    return JSONResponse(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oidc/authorize",
            "token_endpoint": f"{base}/oidc/token",
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "jwks_uri": f"{base}/oidc/jwks",
            "end_session_endpoint": f"{base}/oidc/logout",
            "revocation_endpoint": f"{base}/oidc/revoke",
            "scopes_supported": list(sso.SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "name", "organisation", "roles", "acr", "amr", "auth_time", "nonce", "sid"],
            "acr_values_supported": ["urn:palmtrade:loa:1", "urn:palmtrade:loa:2"],
            "prompt_values_supported": ["none", "login", "consent"],
            "ui_locales_supported": ["zh-CN", "en"],
        },
        headers={"cache-control": "public, max-age=300"},
    )


async def jwks(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(
        json.dumps(services.keyring.jwks()),
        media_type="application/jwk-set+json",
        headers={"cache-control": "public, max-age=300"},
    )


def _server(services: Services) -> AuthorizationServer:
    server = getattr(services, "_oidc_server", None)
    if server is None:
        server = AuthorizationServer(services)
        services._oidc_server = server  # type: ignore[attr-defined]
    return server


async def token(request: Request) -> Response:
    ctx = _context(request)
    if ctx is None:
        return _not_found()
    oauth = await _oauth_request(request, ctx.issuer, with_form=True)
    response: Response = await run_in_threadpool(_server(ctx.services).create_token_response, oauth)
    return response


async def revoke(request: Request) -> Response:
    ctx = _context(request)
    if ctx is None:
        return _not_found()
    oauth = await _oauth_request(request, ctx.issuer, with_form=True)
    response: Response = await run_in_threadpool(_server(ctx.services).create_endpoint_response, "revocation", oauth)
    return response


def _bearer_error(description: str) -> Response:
    return JSONResponse(
        {"error": "invalid_token", "error_description": description},
        status_code=401,
        headers={"www-authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
    )


def _decode(services: Services, token: str) -> dict[str, Any] | None:
    try:
        keys = KeySet.import_key_set(services.keyring.jwks())  # type: ignore[arg-type]
        decoded = jwt.decode(token, keys, algorithms=["ES256"])
    except (JoseError, ValueError):
        return None
    return {"header": decoded.header, "claims": decoded.claims}


async def userinfo(request: Request) -> Response:
    ctx = _context(request)
    if ctx is None:
        return _not_found()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return JSONResponse({"error": "invalid_request"}, status_code=401, headers={"www-authenticate": "Bearer"})
    decoded = _decode(ctx.services, value.strip())
    if decoded is None or decoded["header"].get("typ") != ACCESS_TOKEN_TYPE:
        return _bearer_error("not an access token of this provider")
    claims = decoded["claims"]
    now = clock.now().timestamp()
    if claims.get("iss") != ctx.issuer or claims.get("aud") != f"{ctx.issuer}/oidc/userinfo":
        return _bearer_error("wrong issuer or audience")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        return _bearer_error("expired")
    grant_id = str(claims.get("gid", ""))
    user_id = await sso.user_of_grant(grant_id) if grant_id else None
    if user_id is None or not await sso.grant_alive(grant_id):
        return _bearer_error("revoked")
    return JSONResponse(await _claims(user_id, str(claims.get("scope", ""))), headers={"cache-control": "no-store"})


# ---------------------------------------------------------------- the authorization endpoint's pages


def _csrf(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token (double-submit cookie), and whether it is new."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if len(current) >= 32:
        return current, False
    return secrets.token_urlsafe(32), True


def _with_csrf(response: Response, ctx: _Context, token_value: str, new: bool) -> Response:
    if new:
        _set_cookie(response, ctx.issuer, CSRF_COOKIE, token_value)
    return response


async def _provider_session(ctx: _Context, request: Request) -> sso.SignedInUser | None:
    """Who is signed in at the provider: the app's access token (a user's session), else the provider's cookie
    while its PalmTrade session lives."""
    user_id, session_id = ctx.actor.user_id, ctx.actor.session_id
    if user_id is not None and session_id and ctx.actor.terminal_id is None:
        if await sso.session_alive(user_id, session_id):
            return sso.SignedInUser(user_id, tuple(sorted(ctx.actor.amr)), clock.now(), session_id)
        return None
    value = _unsign(_secret(ctx.services), request.cookies.get(SESSION_COOKIE))
    if value is None:
        return None
    try:
        who = sso.SignedInUser(
            int(value["u"]), tuple(value["a"]), datetime.fromtimestamp(int(value["t"]), UTC), str(value["s"])
        )
    except (KeyError, TypeError, ValueError):
        return None
    return who if await sso.session_alive(who.user_id, who.session_id) else None


def _redirect_error(grant: Any, error: OAuth2Error) -> Response:
    error.redirect_uri = (
        error.redirect_uri or grant.request.payload.redirect_uri or grant.request.client.get_default_redirect_uri()
    )
    error.state = grant.request.payload.state
    status, body, headers = error()
    return Response(body, status_code=status, headers=dict(headers))


async def authorize(request: Request) -> Response:
    ctx = _context(request)
    if ctx is None:
        return _not_found()
    server = _server(ctx.services)
    form = _multi((await request.form()).multi_items()) if request.method == "POST" else {}
    oauth = await _oauth_request(request, ctx.issuer, with_form=False)
    prompts = set(oauth.payload.data.get("prompt", "").split())
    who = await _provider_session(ctx, request)
    if "login" in prompts and request.method == "GET":
        who = None
    if who is not None and _two_factors_asked(oauth) and sso.acr_of(who.amr) != LOA_TWO:
        who = None  # a one-factor session at the provider does not answer a request for two: sign in again
    try:
        grant = await run_in_threadpool(server.get_consent_grant, oauth, who)
    except OAuth2Error as error:
        return _protocol_error(server, oauth, error)
    client: SsoClient = grant.request.client.row
    scopes = scope_to_list(grant.request.scope) or []
    csrf, new_csrf = _csrf(request)
    action = f"/oidc/authorize?{request.url.query}"
    step = (form.get("step") or [""])[0]
    key = certificate_sign_in.request_key(client.client_id, request.url.query)
    if request.method == "POST":
        sent = (form.get("csrf") or [""])[0]
        if not sent or not hmac.compare_digest(sent, request.cookies.get(CSRF_COOKIE, "")):
            return pages.failure(
                "页面已过期，请返回业务系统重新登录", "The page expired; go back and sign in again", 403
            )
        if step == "password":
            return _with_csrf(await _password_step(ctx, form, action, csrf, client), ctx, csrf, new_csrf)
        if step == "sms":
            outcome = await _sms_step(ctx, request, form, action, csrf)
            if isinstance(outcome, Response):
                return outcome
            who, cookie = outcome
            response = await _after_sign_in(ctx, server, oauth, grant, who, client, scopes, prompts, action, csrf)
            _set_cookie(response, ctx.issuer, SESSION_COOKIE, cookie)
            response.delete_cookie(PENDING_COOKIE, path="/oidc")
            return response
        if step in ("cert_start", "cert_form", "cert"):
            signed = await _certificate_step(ctx, request, form, step, key, action, csrf, client)
            if isinstance(signed, Response):
                return _with_csrf(signed, ctx, csrf, new_csrf)
            return _with_csrf(
                await _signed_in_with_certificate(
                    ctx, server, oauth, grant, signed, client, scopes, prompts, action, csrf
                ),
                ctx,
                csrf,
                new_csrf,
            )
        if step == "consent" and who is not None:
            if (form.get("decision") or [""])[0] != "allow":
                await sso.deny_consent(Actor(user_id=who.user_id, ip=ctx.actor.ip), client, scopes)
                return await run_in_threadpool(server.create_authorization_response, oauth, None, grant)
            await sso.grant_consent(Actor(user_id=who.user_id, ip=ctx.actor.ip), client, scopes)
            return await _issue(ctx, server, oauth, grant, who)
    message = None
    if who is None and request.cookies.get(CERT_COOKIE) and "none" not in prompts:
        polled = await _certificate_poll(ctx, request, key, action, csrf, client)
        if isinstance(polled, sso.SignedInUser):
            return _with_csrf(
                await _signed_in_with_certificate(
                    ctx, server, oauth, grant, polled, client, scopes, prompts, action, csrf
                ),
                ctx,
                csrf,
                new_csrf,
            )
        if isinstance(polled, Response):
            return _with_csrf(polled, ctx, csrf, new_csrf)
        message = polled
    if who is None:
        if "none" in prompts:
            return _redirect_error(grant, LoginRequiredError())
        response = pages.sign_in(action, csrf, client.name, message)
        if request.cookies.get(CERT_COOKIE):
            response.delete_cookie(CERT_COOKIE, path="/oidc")
        return _with_csrf(response, ctx, csrf, new_csrf)
    return _with_csrf(
        await _after_sign_in(ctx, server, oauth, grant, who, client, scopes, prompts, action, csrf), ctx, csrf, new_csrf
    )


def _protocol_error(server: AuthorizationServer, oauth: _Request, error: OAuth2Error) -> Response:
    """An error is sent back to the client only when its redirect URI checked out (RFC 6749 4.1.2.1); otherwise the
    user sees it here."""
    if error.redirect_uri:
        response: Response = server.handle_error_response(oauth, error)
        return response
    status, body, _ = error()
    return pages.failure(
        f"业务系统的登录请求无效：{body.get('error')}",
        f"The client system's request is invalid: {body.get('error')} ({body.get('error_description', '')})",
        status,
    )


async def _after_sign_in(
    ctx: _Context,
    server: AuthorizationServer,
    oauth: _Request,
    grant: Any,
    who: sso.SignedInUser,
    client: SsoClient,
    scopes: list[str],
    prompts: set[str],
    action: str,
    csrf: str,
) -> Response:
    if "consent" not in prompts and await sso.consent_covers(who.user_id, client, scopes):
        return await _issue(ctx, server, oauth, grant, who)
    if "none" in prompts:
        return _redirect_error(grant, ConsentRequiredError())
    return pages.consent(action, csrf, client.name, client.kind, scopes)


async def _issue(
    ctx: _Context, server: AuthorizationServer, oauth: _Request, grant: Any, who: sso.SignedInUser
) -> Response:
    _actor.set(Actor(user_id=who.user_id, ip=ctx.actor.ip))
    response: Response = await run_in_threadpool(server.create_authorization_response, oauth, who, grant)
    return response


async def _password_step(
    ctx: _Context, form: dict[str, list[str]], action: str, csrf: str, client: SsoClient
) -> Response:
    """The app's own password sign-in (its limits and lock included); its session is ended at once, the SMS step
    opens the one the provider keeps."""
    phone = (form.get("phone") or [""])[0]
    password = (form.get("password") or [""])[0]
    try:
        session = await sessions.login_with_password(ctx.actor, phone, password)
    except DomainError as err:
        return pages.sign_in(action, csrf, client.name, err.message(ctx.locale), 400)
    await sessions.logout(ctx.actor, session.refresh_token)
    return await _second_factor(ctx, session.user, "pwd", action, csrf)


async def _second_factor(ctx: _Context, user: User, first: str, action: str, csrf: str) -> Response:
    """The SMS step after a first factor (pwd or cert): a code texted to the user's phone, the first factor kept in a
    signed cookie for PENDING_SECONDS."""
    message = None
    try:
        await sessions.request_sms_code(ctx.actor, user.phone)
    except RateLimited as err:
        message = err.message(ctx.locale)
    pending = {"u": user.id, "p": user.phone, "m": first, "x": int(clock.now().timestamp()) + PENDING_SECONDS}
    response = pages.sms_step(action, csrf, mask_mobile(user.phone), message)
    _set_cookie(response, ctx.issuer, PENDING_COOKIE, _sign(_secret(ctx.services), pending), PENDING_SECONDS)
    return response


async def _sms_step(
    ctx: _Context, request: Request, form: dict[str, list[str]], action: str, csrf: str
) -> tuple[sso.SignedInUser, str] | Response:
    """The second factor: the app's SMS-code sign-in for the number that passed the password step."""
    pending = _unsign(_secret(ctx.services), request.cookies.get(PENDING_COOKIE))
    if pending is None or int(pending.get("x", 0)) <= clock.now().timestamp():
        return pages.failure("登录已超时，请重新登录", "The sign-in timed out; start again", 400)
    code = (form.get("code") or [""])[0]
    phone = str(pending["p"])
    try:
        session = await sessions.login_with_sms_code(ctx.actor, phone, code)
    except DomainError as err:
        return pages.sms_step(action, csrf, mask_mobile(phone), err.message(ctx.locale), 400)
    if session.user.id != pending["u"]:
        await sessions.logout(ctx.actor, session.refresh_token)
        return pages.failure("登录已超时，请重新登录", "The sign-in timed out; start again", 400)
    family = str(ctx.services.keyring.verify(session.access_token)["sid"])
    first = "cert" if pending.get("m") == "cert" else "pwd"
    who = sso.SignedInUser(session.user.id, tuple(sorted((first, "sms"))), clock.now(), family)
    return who, _session_cookie(ctx, who)


def _session_cookie(ctx: _Context, who: sso.SignedInUser) -> str:
    """The provider's session in the browser: who, how, when, and the PalmTrade session it holds."""
    value = {"u": who.user_id, "a": list(who.amr), "t": int(who.auth_time.timestamp()), "s": who.session_id}
    return _sign(_secret(ctx.services), value)


# ---------------------------------------------------------------- certificate sign-in at the provider


def _certificate_cookie(ctx: _Context, request: Request) -> tuple[int, str, datetime] | None:
    """This browser's certificate challenge: its id, its text and its expiry (a signed cookie)."""
    value = _unsign(_secret(ctx.services), request.cookies.get(CERT_COOKIE))
    try:
        return (int(value["i"]), str(value["c"]), datetime.fromtimestamp(int(value["x"]), UTC)) if value else None
    except (KeyError, TypeError, ValueError):
        return None


async def _certificate_page(
    ctx: _Context, client: SsoClient, key: str, action: str, csrf: str, poll: bool, message: str | None = None
) -> Response:
    """A new challenge for this browser and this authorization request, and the page that shows it."""
    issued = await certificate_sign_in.start(client, key, ctx.issuer)
    response = pages.certificate(
        action, csrf, client.name, issued.to_sign, issued.qr_payload, poll, message, 400 if message else 200
    )
    value = {"i": issued.id, "c": issued.challenge, "x": int(issued.expires_at.timestamp())}
    _set_cookie(response, ctx.issuer, CERT_COOKIE, _sign(_secret(ctx.services), value), CERT_SECONDS)
    return response


async def _certificate_step(
    ctx: _Context,
    request: Request,
    form: dict[str, list[str]],
    step: str,
    key: str,
    action: str,
    csrf: str,
    client: SsoClient,
) -> sso.SignedInUser | Response:
    """cert_start: a challenge and its QR page; cert_form: the same challenge for a CA client's signature; cert: the
    signature posted, checked by the app's certificate sign-in (a failure uses the challenge up: a new one is shown)."""
    held = _certificate_cookie(ctx, request)
    if step == "cert_start" or held is None:
        return await _certificate_page(ctx, client, key, action, csrf, poll=step != "cert_form")
    row_id, challenge, expires_at = held
    if step == "cert_form":
        shown = certificate_sign_in.page_challenge(row_id, ctx.issuer, client.client_id, challenge, expires_at)
        return pages.certificate(action, csrf, client.name, shown.to_sign, shown.qr_payload, poll=False)
    certificate = (form.get("certificate") or [""])[0]
    signature = (form.get("signature") or [""])[0]
    try:
        done = await certificate_sign_in.sign_in_on_page(ctx.actor, row_id, challenge, key, certificate, signature)
    except DomainError as err:
        return await _certificate_page(ctx, client, key, action, csrf, poll=False, message=err.message(ctx.locale))
    return sso.SignedInUser(done.user_id, done.amr, clock.now(), done.session_id)


async def _certificate_poll(
    ctx: _Context, request: Request, key: str, action: str, csrf: str, client: SsoClient
) -> sso.SignedInUser | Response | str | None:
    """The QR page's reload: the app's approval once it came (the signed-in user), the page again while it waits, a
    message when the challenge expired or was used, None when the cookie is of another request."""
    held = _certificate_cookie(ctx, request)
    if held is None:
        return None
    row_id, challenge, expires_at = held
    try:
        done = await certificate_sign_in.take_approval(row_id, challenge, key)
    except sso_errors.SsoSignInNotFound:
        return None
    except DomainError as err:
        return err.message(ctx.locale)
    if done is None:
        shown = certificate_sign_in.page_challenge(row_id, ctx.issuer, client.client_id, challenge, expires_at)
        return pages.certificate(action, csrf, client.name, shown.to_sign, shown.qr_payload, poll=True)
    return sso.SignedInUser(done.user_id, done.amr, clock.now(), done.session_id)


async def _signed_in_with_certificate(
    ctx: _Context,
    server: AuthorizationServer,
    oauth: _Request,
    grant: Any,
    who: sso.SignedInUser,
    client: SsoClient,
    scopes: list[str],
    prompts: set[str],
    action: str,
    csrf: str,
) -> Response:
    response: Response
    if _two_factors_asked(oauth):
        # the system asks for two factors: the certificate's session gives way to the SMS step's, as the password's
        await sessions.end_session(Actor(user_id=who.user_id, ip=ctx.actor.ip), who.session_id, who.user_id, "logout")
        response = await _second_factor(ctx, await User.get(id=who.user_id), "cert", action, csrf)
    else:
        response = await _after_sign_in(ctx, server, oauth, grant, who, client, scopes, prompts, action, csrf)
        _set_cookie(response, ctx.issuer, SESSION_COOKIE, _session_cookie(ctx, who))
    response.delete_cookie(CERT_COOKIE, path="/oidc")
    return response


def _two_factors_asked(oauth: _Request) -> bool:
    """Whether the client system asked for two factors (acr_values, OpenID Connect Core 3.1.2.1)."""
    return LOA_TWO in str(oauth.payload.data.get("acr_values", "")).split()


# ---------------------------------------------------------------- RP-initiated logout


async def logout(request: Request) -> Response:
    """OpenID Connect RP-Initiated Logout 1.0: the PalmTrade session at the provider ends, with every client
    system's refresh tokens of it; back to a registered post_logout_redirect_uri, exactly as registered."""
    ctx = _context(request)
    if ctx is None:
        return _not_found()
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    hint = params.get("id_token_hint")
    if not hint:
        # without the client's proof, the user confirms (1.0 section 2: a logout nobody asked for is a CSRF)
        csrf, new_csrf = _csrf(request)
        if request.method == "GET":
            action = f"/oidc/logout?{request.url.query}" if request.url.query else "/oidc/logout"
            return _with_csrf(pages.logout_confirm(action, csrf), ctx, csrf, new_csrf)
        sent = params.get("csrf", "")
        if not sent or not hmac.compare_digest(sent, request.cookies.get(CSRF_COOKIE, "")):
            return pages.failure("页面已过期，请重试", "The page expired; try again", 403)
    client_id = params.get("client_id")
    hinted: dict[str, Any] = {}
    if hint:
        decoded = _decode(ctx.services, hint)  # an expired ID token still names its session (1.0, section 2)
        if decoded is None or decoded["claims"].get("iss") != ctx.issuer:
            return pages.failure("注销请求无效", "Invalid logout request (id_token_hint)", 400)
        hinted = decoded["claims"]
        audience = hinted.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id and client_id not in audiences:
            return pages.failure("注销请求无效", "Invalid logout request (client_id)", 400)
        client_id = client_id or str(audiences[0])
    client = await sso.active_client(client_id) if client_id else None
    target = params.get("post_logout_redirect_uri")
    if target and (client is None or target not in client.post_logout_redirect_uris):
        return pages.failure("退出后的跳转地址未登记", "post_logout_redirect_uri is not registered", 400)
    who = await _provider_session(ctx, request)
    session_id, user_id = (who.session_id, who.user_id) if who else (str(hinted.get("sid", "")), None)
    if who is None and session_id:
        user_id = await sso.session_user(session_id)
    if session_id and user_id is not None:
        actor = Actor(user_id=user_id, session_id=session_id, ip=ctx.actor.ip)
        await sso.end_session(actor, client, session_id, user_id)
        await sessions.logout(actor)
    response: Response
    if target:
        response = RedirectResponse(
            add_params_to_uri(target, [("state", params["state"])]) if params.get("state") else target, 303
        )
    else:
        response = pages.signed_out()
    response.delete_cookie(SESSION_COOKIE, path="/oidc")
    return response


ROUTES = [
    Route("/.well-known/openid-configuration", discovery),
    Route("/oidc/jwks", jwks),
    Route("/oidc/authorize", authorize, methods=["GET", "POST"]),
    Route("/oidc/token", token, methods=["POST"]),
    Route("/oidc/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/oidc/revoke", revoke, methods=["POST"]),
    Route("/oidc/logout", logout, methods=["GET", "POST"]),
]
