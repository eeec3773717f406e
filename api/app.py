"""The composition root: settings in, a running ASGI app out (its routes and middleware; what a process wires
once is api/services.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from api import gc_tuning, graphiql, metrics, oidc, tracing
from api.auth_middleware import AuthMiddleware
from api.callbacks import bank_callback, sms_receipts, treasury_callback, voice_reports
from api.endpoints import healthz, jwks, oauth_token, published_schema, readyz
from api.files import ROUTES as FILE_ROUTES
from api.graphql_app import PalmTradeGraphQL, operation_policy
from api.lifecycle import DrainMiddleware
from api.response_cache import ResponseCacheMiddleware
from api.services import build_services, start, stop
from api.settings import Settings

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
        collector = gc_tuning.settle(settings.gc_freeze, settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await stop(services)
            collector.restore()

    graphql = PalmTradeGraphQL(services)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/.well-known/jwks.json", jwks),
            Route("/schema.graphql", published_schema(graphql.sdl)),
            Route("/oauth/token", oauth_token, methods=["POST"]),
            Route("/callbacks/bank", bank_callback, methods=["POST"]),
            Route("/callbacks/treasury", treasury_callback, methods=["POST"]),
            Route("/callbacks/sms/{provider:str}", sms_receipts, methods=["POST"]),
            Route("/callbacks/voice/{provider:str}", voice_reports, methods=["POST"]),
            *FILE_ROUTES,
            *oidc.ROUTES,
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
