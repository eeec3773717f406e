"""OpenTelemetry traces, off unless an OTLP endpoint is set (README: Production layout, Traces).

On, each process exports over OTLP/HTTP protobuf: a server span per HTTP request (continuing the caller's W3C
`traceparent`), a span per GraphQL operation named `{type} {name}`, a span per database query inside them (Tortoise's
instrumentation: SQLite and PostgreSQL alike), a span per outbox batch delivered (notifications/dispatch.py), and
every JSON log line carries the trace and span ids (api/logs.py). No span per resolver: its cost grows with every
field of every answer. WebSocket connections are not traced (a span would last as long as the phone stays).
Off, nothing here imports the SDK and no hook is installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from strawberry.extensions import SchemaExtension

from api import logs
from api.graphql_http import outcome_of

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from api.settings import Settings

# probes and scrapes are not traced (OpenTelemetry's OTEL_PYTHON_EXCLUDED_URLS replaces the list: regexes, commas)
EXCLUDED_URLS = r"/healthz$,/readyz$,/metrics$"

_provider: TracerProvider | None = None
_CONVERTER = re.compile(r":[^}]*}")


def configure(settings: Settings) -> bool:
    """Sets up this process's tracer provider when TRACES are on (once per process); whether they are."""
    global _provider
    if not settings.traces_endpoint:
        return False
    if _provider is not None:
        return True
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.tortoiseorm import TortoiseORMInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_* and the exporter's headers, timeout and
    # compression are read by the SDK itself
    provider = TracerProvider(resource=Resource.create({"service.name": settings.traces_service_name}))
    provider.sampler = _no_orphan_queries(provider.sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.traces_endpoint)))
    trace.set_tracer_provider(provider)
    TortoiseORMInstrumentor().instrument(tracer_provider=provider)
    logs.trace_ids = _current_ids
    _provider = provider
    return True


def instrument(app: Starlette, graphql: Any) -> None:
    """When on: the HTTP server span outside every middleware, an operation span in the GraphQL schema."""
    if _provider is None or not app.state.services.settings.traces_endpoint:
        return
    app.add_middleware(HttpSpans, provider=_provider, routes=app.routes)
    # first: its span holds the others' work, and it ends after the errors are masked and typed
    graphql.schema.extensions = (OperationSpan, *graphql.schema.extensions)


def flush(timeout_millis: int = 5000) -> bool:
    """Exports the spans ended so far (tests; a process's own exit flushes too)."""
    return _provider.force_flush(timeout_millis) if _provider is not None else True


def shutdown() -> None:
    """Flushes and undoes configure(): tests that turn traces on for a while."""
    global _provider
    if _provider is None:
        return
    from opentelemetry.instrumentation.tortoiseorm import TortoiseORMInstrumentor

    TortoiseORMInstrumentor().uninstrument()
    logs.trace_ids = None
    _provider.shutdown()
    _provider = None


def _current_ids() -> tuple[str, str] | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def _no_orphan_queries(inner: Any) -> Any:
    """The sampler OTEL_TRACES_SAMPLER names (parent-based, always on by default), except that a database query
    with no span around it is not traced: the workers' loops poll the outbox, the chronograph and the push queue
    several times a second, and a trace per poll would bury the rest."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind, get_current_span

    class NoOrphanQueries(Sampler):
        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Any = None,
            links: Sequence[Any] | None = None,
            trace_state: Any = None,
        ) -> SamplingResult:
            if kind is SpanKind.CLIENT and not get_current_span(parent_context).get_span_context().is_valid:
                return SamplingResult(Decision.DROP)
            return inner.should_sample(  # type: ignore[no-any-return]
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"NoOrphanQueries{{{inner.get_description()}}}"

    return NoOrphanQueries()


class HttpSpans:
    """The HTTP server span of each request, named `{method} {route}` (a route's template, never a path with ids in
    it), continuing the caller's `traceparent` (OTEL_PROPAGATORS: W3C trace context and baggage by default), with
    OpenTelemetry's HTTP attributes and a 5xx marked failed. Written here rather than taken from
    opentelemetry-instrumentation-asgi: with it, traces added 0.54 ms of CPU to a small query served from the database,
    with this 0.32 ms, most of it the SDK's own span and export work (README: Dependencies)."""

    def __init__(self, app: ASGIApp, provider: TracerProvider, routes: list[BaseRoute]) -> None:
        from opentelemetry import propagate

        self.app = app
        self.routes = routes
        self.tracer = provider.get_tracer("palmtrade.http")
        self.extract = propagate.extract
        excluded = [u.strip() for u in (os.environ.get("OTEL_PYTHON_EXCLUDED_URLS") or EXCLUDED_URLS).split(",")]
        self.excluded = re.compile("|".join(u for u in excluded if u))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.excluded.search(scope["path"]):
            await self.app(scope, receive, send)
            return
        from opentelemetry.trace import SpanKind, Status, StatusCode

        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _PROPAGATED}
        name, attributes = _span_details(self.routes, scope)
        attributes["http.request.method"] = scope["method"]
        attributes["url.path"] = scope["path"]
        attributes["url.scheme"] = scope.get("scheme", "http")
        if client := scope.get("client"):
            attributes["client.address"] = client[0]
        with self.tracer.start_as_current_span(
            name, context=self.extract(carrier) if carrier else None, kind=SpanKind.SERVER, attributes=attributes
        ) as span:

            async def answer(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            await self.app(scope, receive, answer)


_PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})


def _span_details(routes: list[BaseRoute], scope: Scope) -> tuple[str, dict[str, Any]]:
    from starlette.routing import Match

    method = scope.get("method") or "HTTP"
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL and (path := getattr(route, "path", None)):
            template = _CONVERTER.sub("}", path)  # /files/{doc_id}/{name}, as http.route is written
            return f"{method} {template}", {"http.route": template}
    return method, {}


class OperationSpan(SchemaExtension):
    """One span per GraphQL operation over HTTP, named as OpenTelemetry's GraphQL conventions say (`query Me`,
    `mutation BidPlace`), with the request id and the outcome the metrics count; a masked bug marks it failed."""

    def on_operation(self) -> Iterator[None]:
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        context = self.execution_context.context
        request = getattr(context, "request", None)
        if request is None or request.scope.get("type") != "http" or _provider is None:
            yield
            return
        tracer = _provider.get_tracer("palmtrade.graphql")
        with tracer.start_as_current_span("GraphQL Operation", kind=trace.SpanKind.INTERNAL) as span:
            yield
            if not span.is_recording():
                return
            ctx = self.execution_context
            logged = logs.operation_var.get()
            name = ctx.operation_name or (None if logged == "-" else logged)
            try:
                kind: str | None = ctx.operation_type.value
            except RuntimeError:  # no document: refused before parsing
                kind = None
            span.update_name(" ".join(p for p in (kind, name) if p) or "GraphQL Operation")
            if kind:
                span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            span.set_attribute("palmtrade.request_id", getattr(context, "request_id", "-"))
            result = ctx.result
            errors = getattr(result, "errors", None) or ctx.pre_execution_errors
            outcome = outcome_of(getattr(result, "data", None), errors) if errors else "ok"
            span.set_attribute("palmtrade.outcome", outcome)
            if outcome == "internal":
                span.set_status(Status(StatusCode.ERROR))
