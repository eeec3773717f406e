"""The composition root: settings in, a running ASGI app out."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from tortoise import Tortoise

from api import graphiql, metrics, tracing
from api.auth import authenticate, bearer_token, client_ip
from api.callbacks import bank_callback, sms_receipts, voice_reports
from api.files import ROUTES as FILE_ROUTES
from api.graphql_http import (
    GRAPHQL_RESPONSE,
    Refusal,
    batching_refused,
    is_request_error,
    mutation_over_get,
    outcome_of,
    response_media_type,
)
from api.graphql_http import header as raw_header
from api.lifecycle import DrainMiddleware, Lifecycle, readiness, server_checks
from api.logs import request_id_var
from api.persisted import OperationPolicy, PersistedOperations, PersistedStore, PersistedTransportWS
from api.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from api.response_cache import ResponseCache, ResponseCacheMiddleware, shared_max_age
from api.settings import Settings
from domain import wiring
from domain.accounts import services as accounts
from domain.accounts.tokens import InvalidToken, KeyRing, TokenPolicy
from domain.common import chronograph, clock
from domain.common.actors import ANONYMOUS, Actor, Role
from domain.common.errors import DomainError
from domain.db import tortoise_config
from domain.documents import services as documents
from domain.documents.blobs import BlobStore
from domain.documents.scanning import scanner_from_address
from domain.evaluation import notices as expert_notices
from domain.sms.services import LogOutbox
from domain.supervision.consumer import SupervisionConsumer
from notifications.broker import InProcessBroker, RedisBroker
from notifications.channels.apns import ApnsChannel
from notifications.channels.base import Channel
from notifications.channels.fcm import channel_from_settings
from notifications.channels.jpush import channel_from_settings as jpush_channel
from notifications.dispatch import (
    AuditConsumer,
    Consumer,
    Dispatcher,
    FeedConsumer,
    LiveConsumer,
    SavedSearchConsumer,
    run_forever,
)
from notifications.inbox import NotificationConsumer
from notifications.keyspace import Keyspace
from notifications.push import PushSender
from notifications.sms.config import providers as sms_providers
from notifications.sms.dispatch import SmsDispatcher
from notifications.voice.dispatch import VoiceDispatcher
from notifications.voice.dispatch import provider_from_settings as voice_provider
from schema.build import build_schema
from schema.context import Context, locale_from

log = logging.getLogger("palmtrade.api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# answered without looking at a token: authentication may reload the key ring from the database, and a
# probe must neither wait for that nor fail with it (a database outage is what /readyz reports)
PROBES = frozenset({"/healthz", "/readyz"})


@dataclass
class Services:
    """Everything the process wires once and shares between requests."""

    settings: Settings
    keyring: KeyRing
    bus: InProcessBroker
    limiter: RateLimiter
    dispatcher: Dispatcher
    push: PushSender
    periodic: list[chronograph.PeriodicJob] = field(default_factory=list)
    persisted: PersistedStore = field(default_factory=PersistedStore)
    response_cache: ResponseCache = field(default_factory=lambda: ResponseCache(0, 0))
    shared_ages: dict[str, int] = field(default_factory=dict)  # persisted hash -> seconds its answer is shared
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    owns_database: bool = False
    lifecycle: Lifecycle = field(default_factory=Lifecycle)  # draining, open WebSockets, worker loops' beats
    store: BlobStore | None = None  # files (domain/documents), configured from STORAGE_URL
    sms: LogOutbox | SmsDispatcher = field(default_factory=LogOutbox)  # the SMS outbox (SMS_PROVIDERS)
    voice: VoiceDispatcher | None = None  # calls to drawn experts (ALIYUN_VOICE_*)

    @property
    def audit_export_path(self) -> Path | None:
        return self.settings.audit_export_path


def token_policy(settings: Settings) -> TokenPolicy:
    return TokenPolicy(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
        rotate_every=timedelta(days=settings.key_rotation_days),
    )


def outbox_consumers(bus: InProcessBroker) -> list[Consumer]:
    """Everything a committed event feeds, in order: the audit trail first, the domain's workflows
    (domain/wiring.py), live subscribers last."""
    return [
        AuditConsumer(),
        FeedConsumer(),
        SavedSearchConsumer(),
        wiring.wire().reactions,
        SupervisionConsumer(),
        NotificationConsumer(bus),
        LiveConsumer(bus),
    ]


def broker_and_limiter(settings: Settings) -> tuple[InProcessBroker, RateLimiter]:
    """In this process without REDIS_URL; else both in the deployment's Keyspace of the Redis server."""
    if not settings.redis_url:
        return InProcessBroker(), MemoryRateLimiter()
    space = Keyspace(settings.redis_url, settings.redis_namespace)
    return RedisBroker(space), RedisRateLimiter(space)


def build_services(settings: Settings) -> Services:
    wiring.wire()  # every timed transition and award blocker, for the server and the worker alike
    tracing.configure(settings)  # OpenTelemetry, when an OTLP endpoint is set
    bus, limiter = broker_and_limiter(settings)
    keyring = KeyRing(token_policy(settings), settings.kek_ring())
    services = Services(
        settings=settings,
        keyring=keyring,
        bus=bus,
        limiter=limiter,
        dispatcher=Dispatcher(outbox_consumers(bus)),
        push=PushSender({}, owner="", batch_size=settings.push_batch),
    )
    services.push.owner = services.holder
    services.persisted = PersistedStore.from_contract(automatic=settings.persisted_automatic)
    services.response_cache = ResponseCache(settings.response_cache_entries, settings.response_cache_seconds)
    services.push.channels = push_channels(settings)
    services.sms = (
        SmsDispatcher(sms_providers(settings.sms_providers, settings.sms), settings.secret_key, services.holder)
        if settings.sms_providers
        else LogOutbox(settings.secret_key)
    )
    voice = voice_provider(settings.sms)
    services.voice = VoiceDispatcher(voice, services.holder) if voice is not None else None
    services.store = BlobStore.from_url(
        settings.storage_url, settings.storage_access_key_id, settings.storage_secret_access_key
    )
    services.periodic = wiring.periodic_jobs(
        keyring=keyring,
        audit_export_path=settings.audit_export_path,
        audit_export_every=timedelta(minutes=settings.audit_export_minutes),
        fetch_crl=fetch_crl,
    )
    return services


async def fetch_crl(url: str) -> bytes:
    """Fetches a CA's CRL from its configured URL (certificate_authority.refresh_crls)."""
    async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content


def push_channels(settings: Settings) -> dict[str, Channel]:
    """The push channels configured; a device of a provider without one gets no push (README)."""
    channels: dict[str, Channel] = {}
    fcm = channel_from_settings(
        project_id=settings.fcm_project_id,
        credentials_path=settings.fcm_credentials,
        access_token=settings.fcm_access_token,
        endpoint=settings.fcm_endpoint,
    )
    if fcm is not None:
        channels[fcm.name] = fcm
    if settings.apns_key_file and settings.apns_key_id and settings.apns_team_id and settings.apns_topic:
        channels["apns"] = ApnsChannel(
            Path(settings.apns_key_file).read_text(),
            settings.apns_key_id,
            settings.apns_team_id,
            settings.apns_topic,
            endpoint=settings.apns_endpoint,
        )
    jpush = jpush_channel(
        settings.jpush_app_key,
        settings.jpush_master_secret,
        endpoint=settings.jpush_endpoint,
        production=settings.jpush_production,
    )
    if jpush is not None:
        channels[jpush.name] = jpush
    return channels


async def start(services: Services, with_workers: bool) -> None:
    """Connects the database and the broker, loads keys and starts the background workers."""
    settings = services.settings
    if not Tortoise.is_inited():
        await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
        services.owns_database = True
    await services.keyring.load()
    accounts.configure(services.keyring, services.sms, settings.secret_key)
    expert_notices.configure(calls=services.voice is not None)
    accounts.deps.two_factor_roles = frozenset(Role(r) for r in settings.two_factor_roles)
    if services.store is not None:
        documents.configure(
            services.store,
            scanner_from_address(settings.clamd_address),
            settings.secret_key,
            presigned_downloads=settings.presigned_downloads,
            upload_ttl=timedelta(hours=settings.upload_hours),
        )
    await services.bus.start()
    if with_workers:
        # tasks named loop:* are the workers: stop() lets each finish the step in hand
        loops: list[tuple[str, Any, float]] = [
            ("dispatcher", services.dispatcher.run_once, settings.dispatch_interval),
            ("scheduler", lambda: scheduler_tick(services), settings.scheduler_interval),
            ("sms", services.sms.run_once, settings.push_interval),
        ]
        if services.voice is not None:
            loops.append(("voice", services.voice.run_once, settings.push_interval))
        # without channels the senders still run: they mark pushes to unsupported providers skipped
        loops += [
            (f"push-{i}", services.push.run_once, settings.push_interval) for i in range(max(1, settings.push_senders))
        ]
        services.tasks = [
            asyncio.create_task(
                run_forever(services.lifecycle.beating(name, step), idle, name, services.stop), name=f"loop:{name}"
            )
            for name, step, idle in loops
        ]
    if services.response_cache.enabled:
        # every server process, workers or not: a published announcement clears the shared answers
        services.tasks.append(
            asyncio.create_task(services.response_cache.watch(services.bus, services.stop), name="cache-watch")
        )


async def scheduler_tick(services: Services) -> int:
    """Fires due transitions; runs periodic jobs whose lease this process wins."""
    fired = 0
    try:
        fired = await chronograph.fire_due()
    except Exception:
        log.exception("firing due transitions failed")
    try:
        await chronograph.run_periodic(services.periodic, services.holder)
    except Exception:
        log.exception("periodic jobs failed")
    # the key ring is per process: reload it here as well, whoever holds the lease
    await services.keyring.refresh_if_older_than_seconds(60)
    return fired


async def stop(services: Services) -> None:
    """Stops the workers after the step in hand (a claimed outbox batch is delivered and committed, leased
    pushes are recorded), cancelling what is still running after SHUTDOWN_GRACE_SECONDS (an outbox batch
    then rolls back for the next dispatcher, pushes leased here are given back), then disconnects."""
    services.stop.set()
    loops = [t for t in services.tasks if t.get_name().startswith("loop:")]
    if loops:
        _, late = await asyncio.wait(loops, timeout=services.settings.shutdown_grace_seconds)
        if late:
            log.warning("cancelling %s after the grace period", ", ".join(sorted(t.get_name() for t in late)))
    for task in services.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if loops:
        try:
            await services.push.release()
        except Exception:
            log.exception("could not give back the push leases of %s; they expire", services.holder)
    await services.bus.close()
    for channel in services.push.channels.values():
        await channel.close()
    if isinstance(services.sms, SmsDispatcher):
        await services.sms.close()
    if services.voice is not None:
        await services.voice.close()
    if services.owns_database:
        await Tortoise.close_connections()


def operation_policy(settings: Settings) -> OperationPolicy:
    return OperationPolicy(
        kiosk=settings.allowlist_kiosk,
        integrator=settings.allowlist_integrator,
        anonymous=settings.allowlist_anonymous,
    )


class PalmTradeGraphQL(GraphQL[Context, None]):
    """The GraphQL endpoint: context from the auth middleware, tokens for subscriptions, persisted
    operations by hash (api/persisted.py) over POST, GET and the WebSocket."""

    graphql_transport_ws_handler_class = PersistedTransportWS

    def __init__(self, services: Services, **kwargs: Any) -> None:
        settings = services.settings
        schema = build_schema(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_cost,
            page_cap=settings.max_page_size,
            anonymous_introspection=settings.introspection,
        )
        policy = operation_policy(settings)
        services.shared_ages = {
            sha256: age
            for sha256, stored in services.persisted.manifest.items()
            if (age := shared_max_age(stored.document, schema._schema)) is not None
        }
        # first: it must see the hash before strawberry asks for a query, and refuse before any other hook
        schema.extensions = (lambda: PersistedOperations(services.persisted, policy), *schema.extensions)
        self.sdl = schema.as_str().rstrip() + "\n"  # what /schema.graphql publishes
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            keep_alive=True,
            keep_alive_interval=20,
            **kwargs,
        )
        self.services = services
        self.policy = policy  # the socket's subscribe applies it too (api/persisted.py)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.scope.get("state", {})
        return Context(
            request=request,
            response=response,
            actor=state.get("actor", ANONYMOUS),
            locale=locale_from(request.headers.get("accept-language")),
            request_id=state.get("request_id", "-"),
            bus=self.services.bus,
            max_page_size=self.services.settings.max_page_size,
            services=self.services,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's, with its HTTP refusals (a body that is not JSON, an unsupported content type, a
        mutation over GET) as typed JSON errors instead of plain text, and the media type and status of
        GraphQL over HTTP (api/graphql_http.py)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as err:
            response = http_refusal(scope, err.status_code, err.reason, err)
            request.state.outcome = "refused"
        else:
            if (
                response.media_type == "application/json"
                and response_media_type(raw_header(scope["headers"], b"accept")) == GRAPHQL_RESPONSE
            ):
                response.headers["content-type"] = GRAPHQL_RESPONSE
                if getattr(request.state, "request_error", False):
                    response.status_code = 400
        await response(scope, receive, send)
        state = request.state
        elapsed = time.perf_counter() - started
        metrics.observe(getattr(state, "operation", None), getattr(state, "outcome", "ok"), elapsed)

    async def process_result(self, request: Request, result: Any) -> GraphQLHTTPResponse:
        """A request error (nothing executed) answered as application/graphql-response+json has no `data`
        entry and a 400 (set in __call__); as application/json it keeps `data: null` and a 200."""
        answer = await super().process_result(request, result)
        if result.errors:
            request.state.outcome = outcome_of(result.data, result.errors)
        if (
            is_request_error(result.data, result.errors)
            and response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE
        ):
            request.state.request_error = True
            answer.pop("data", None)
        return answer

    async def execute_single(self, request: Request, request_adapter: Any, *args: Any, **kwargs: Any) -> Any:
        """A mutation (or subscription) over GET is the spec's 405 with `Allow: POST`, not a 400."""
        try:
            return await super().execute_single(request, request_adapter, *args, **kwargs)
        except HTTPException as err:
            if isinstance(err.__cause__, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise mutation_over_get() from err
            raise

    def _validate_batch_request(self, request_data: Any, protocol: Any) -> None:
        raise batching_refused()  # README: GraphQL over HTTP, why batching is off

    def parse_json(self, data: str | bytes) -> Any:
        """The request's JSON (the body, or GET's `variables` and `extensions`): an object or an array,
        null read as {}. Anything else, or text json cannot read (bad UTF-8, a number of 5,000 digits,
        nesting deeper than the interpreter's stack), is a 400, never a 500."""
        try:
            value = self.decode_json(data)
        except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise HTTPException(400, "Unable to parse request body as JSON") from err
        if value is None:
            return {}
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request must be a JSON object")
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        if _SURROGATE_ESCAPE.search(raw) and not _unicode(value):
            # a lone surrogate (\ud800) is valid JSON but no text: encoding it for the database failed
            raise HTTPException(400, "The request must be valid Unicode text")
        return value

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()  # its assets served here, no CDN (api/graphiql.py)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # a GET carrying only `extensions` (a persisted query, as Apollo sends it) is an operation
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def on_ws_connect(self, context: Context) -> Any:
        """The token arrives in connection_init: {"authorization": "Bearer ..."} or {"token": ...}."""
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        token = params.get("token")
        try:
            token = bearer_token(raw) if raw else token
            if token is not None and not isinstance(token, str):
                raise InvalidToken("token must be a string")
            context.actor = await authenticate(self.services.keyring, token, client_ip(context.request))
        except InvalidToken as err:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "reason": str(err)}) from err
        return None


_REFUSALS = {
    400: ("BAD_REQUEST", "请求格式不正确"),
    404: ("NOT_FOUND", "未找到"),
    405: ("METHOD_NOT_ALLOWED", "不支持此请求方法"),
}


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _unicode(value: Any) -> bool:
    """Whether every string in a decoded JSON value (keys too) is encodable text; a loop, not recursion,
    as the value may be nested as deep as json could read."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and any("\ud800" <= c <= "\udfff" for c in item):
                return False
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def http_refusal(scope: Scope, status: int, reason: str, err: HTTPException | None = None) -> Response:
    """A request refused before GraphQL runs, as a typed error in English and Chinese, in the media type the
    client accepts."""
    code, chinese = _REFUSALS.get(status, ("BAD_REQUEST", "请求格式不正确"))
    headers: dict[str, str] = {}
    if isinstance(err, Refusal):
        code, chinese, headers = err.code, err.chinese, err.headers
    elif status == 405:
        headers = {"allow": "GET, POST"}
    request_id = scope.get("state", {}).get("request_id", "-")
    error = {"message": f"{reason} / {chinese}", "extensions": {"code": code, "requestId": request_id}}
    return JSONResponse(
        {"errors": [error]},
        status_code=status,
        headers=headers,
        media_type=response_media_type(raw_header(scope.get("headers", []), b"accept")),
    )


class AuthMiddleware:
    """Request id and bearer token for every HTTP request; 401 for a bad token, 429 over limits."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        ip = scope["client"][0] if scope.get("client") else None
        actor: Actor = ANONYMOUS
        if scope["type"] == "http":
            try:
                authorization = headers.get("authorization")
                if scope["path"] == "/oauth/token" and (authorization or "").lower().startswith("basic "):
                    authorization = None  # client credentials (RFC 6749 2.3.1), read by oauth_token
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
        device = headers.get("x-device-id", "").strip()[:128]  # the app's device id, for collusion checks
        state["actor"] = replace(actor, device_id=device) if device else actor

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


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
    try:
        token, expires, client = await accounts.client_credentials_token(
            request.scope["state"].get("actor", ANONYMOUS), client_id, secret
        )
    except DomainError as err:
        return JSONResponse(
            {
                "error": "invalid_client",
                "error_description": err.message(locale_from(request.headers.get("accept-language"))),
            },
            status_code=401,
        )
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "scope": " ".join(client.scopes),
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


# what the clients send: Apollo's client-awareness headers, the device id, pull to refresh, tus uploads
CORS_REQUEST_HEADERS = [
    "authorization",
    "content-type",
    "accept-language",
    "x-request-id",
    "x-device-id",
    "cache-control",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "tus-resumable",
    "upload-length",
    "upload-metadata",
    "upload-offset",
    "upload-checksum",
]
CORS_EXPOSED_HEADERS = [
    "x-request-id",
    "retry-after",
    "x-palmtrade-cache",
    "location",
    "upload-offset",
    "upload-length",
    "tus-resumable",
    "tus-version",
    "tus-extension",
    "tus-max-size",
]


def create_app(settings: Settings | None = None, *, with_workers: bool | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    services = build_services(settings)
    workers = settings.run_workers if with_workers is None else with_workers

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await start(services, workers)
        try:
            yield
        finally:
            await stop(services)

    graphql = PalmTradeGraphQL(services)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/.well-known/jwks.json", jwks),
            Route("/schema.graphql", published_schema(graphql.sdl)),
            Route("/oauth/token", oauth_token, methods=["POST"]),
            Route("/callbacks/bank", bank_callback, methods=["POST"]),
            Route("/callbacks/sms/{provider:str}", sms_receipts, methods=["POST"]),
            Route("/callbacks/voice/{provider:str}", voice_reports, methods=["POST"]),
            *FILE_ROUTES,
            *graphiql.routes(settings.graphiql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(
                "/metrics",
                metrics.endpoint(settings.metrics_token, settings.production, settings.prometheus_multiproc_dir),
            ),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    # inside the auth middleware: a cached answer is replayed only to a caller whose token checked out
    app.add_middleware(
        ResponseCacheMiddleware,
        cache=services.response_cache,
        store=services.persisted,
        policy=operation_policy(settings),
        max_ages=lambda: services.shared_ages,
    )
    app.add_middleware(AuthMiddleware, services=services)
    if settings.cors_origins:
        # outside the auth middleware: a browser reads the body of a 401 or a 429 only with these headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "HEAD", "PATCH", "DELETE"],  # /graphql, and tus uploads of /files
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=settings.cors_max_age,
        )
    app.add_middleware(DrainMiddleware, lifecycle=services.lifecycle)  # outermost: sees every socket
    tracing.instrument(app, graphql)  # traces on: the request's span around all of it, a span per operation
    return app
