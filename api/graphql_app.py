"""The GraphQL endpoint over HTTP and the WebSocket: strawberry's ASGI app with the request's context,
persisted operations and allow-lists, and the status codes and refusals of GraphQL over HTTP."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api import graphiql, metrics
from api.auth import authenticate, bearer_token, client_ip
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
from api.logs import operation_var
from api.persisted import OperationPolicy, PersistedOperations, PersistedTransportWS, requested_hash
from api.response_cache import ANSWERED_WITHOUT_ERRORS, shared_max_age
from api.services import Services
from api.settings import Settings
from domain.accounts.tokens import InvalidToken, TokenRevoked
from domain.common.actors import ANONYMOUS
from schema.build import build_schema
from schema.context import Context, locale_from
from schema.kiosk_guard import kiosk_kind
from schema.lean import LeanPlans, LeanRequest, lean_extension

# the contract's mutations run from a plan like its queries: the hot one, a bid (its refusals are answers too)
LEAN_MUTATIONS: frozenset[str] = frozenset({"BidPlace"})


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
    # a single JSON operation over POST skips strawberry's content negotiation (`_front`); turned off only by
    # bench/lever_ab.py and tests/api/test_lean_path.py, which compare both
    front: bool = True

    def __init__(self, services: Services, **kwargs: Any) -> None:
        settings = services.settings
        schema = build_schema(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_cost,
            page_cap=settings.max_page_size,
            anonymous_introspection=settings.introspection,
            fragment_cache_entries=settings.fragment_cache_entries,
        )
        policy = operation_policy(settings)
        services.shared_ages = {
            sha256: age
            for sha256, stored in services.persisted.manifest.items()
            if (age := shared_max_age(stored.document, schema._schema)) is not None
        }
        # the contract's queries and its bid run from a plan (schema/lean.py); its hook is the last, after every
        # refusal
        documents = {id(stored.document): stored.document for stored in services.persisted.manifest.values()}
        self.lean = services.lean = LeanPlans(
            schema, lambda d: documents.get(id(d)) is d, enabled=settings.lean_persisted, mutations=LEAN_MUTATIONS
        )
        # first: it must see the hash before strawberry asks for a query, and refuse before any other hook
        schema.extensions = (
            lambda: PersistedOperations(services.persisted, policy),
            *schema.extensions,
            lean_extension(self.lean),
        )
        # a planned query may be answered before the operation pipeline while these are the schema's extensions
        # (tracing puts its span first, and then every request takes the pipeline)
        self._lean_schema = schema
        self._lean_extensions = schema.extensions
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
            response = await self._front(request) if self.front else None
            if response is None:
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

    async def _front(self, request: Request) -> Response | None:
        """strawberry's `run` for the request every client sends, one operation as JSON over POST, without its
        content negotiation: `parse_http_body` parses the Content-Type and the Accept header with `email.message` to
        choose between JSON, multipart uploads and its streaming transports (issue 21: about 5 % of a persisted
        `query Me`). Taken only when the answer cannot differ: a Content-Type of exactly `application/json` (with or
        without parameters), no Accept header naming `multipart` or `event-stream`, and a body that is one JSON
        object whose `query`, `variables` and `extensions` have the types strawberry accepts. Then the same steps as
        `run`, in its order: the sub-response, the context, `execute_single` (persisted operations,
        the lean path and the whole pipeline), `process_result` and `create_response`. Anything else is None, and
        `run` answers it from the start (Starlette keeps the body read here, so it is read once)."""
        scope = request.scope
        if scope["method"] != "POST":
            return None
        content_type = accept = None
        for key, value in scope["headers"]:
            if key == b"content-type" and content_type is None:
                content_type = value
            elif key == b"accept" and accept is None:
                accept = value.lower()
        if content_type is None or content_type.split(b";", 1)[0] != b"application/json":
            return None
        if accept is not None and (b"multipart" in accept or b"event-stream" in accept):
            return None
        try:
            data = self.parse_json(await request.body())
        except HTTPException:
            return None  # `run` refuses it, with the same reason
        if not isinstance(data, dict):
            return None
        query, variables, extensions = data.get("query"), data.get("variables"), data.get("extensions")
        if not (
            isinstance(query, str | None) and isinstance(variables, dict | None) and isinstance(extensions, dict | None)
        ):
            return None
        request_data = GraphQLRequestData(query, variables, data.get("operationName"), extensions, "http")
        request_adapter = self.request_adapter_class(request)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await self.execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=None,  # this view's root value (GraphQL[Context, None]; get_root_value is strawberry's)
            request_data=request_data,
        )
        response_data = await self.process_result(request=request, result=result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    async def process_result(self, request: Request, result: Any) -> GraphQLHTTPResponse:
        """A request error (nothing executed) answered as application/graphql-response+json has no `data`
        entry and a 400 (set in __call__); as application/json it keeps `data: null` and a 200."""
        answer = await super().process_result(request, result)
        request.scope.setdefault("state", {})[ANSWERED_WITHOUT_ERRORS] = not result.errors and isinstance(
            result.data, dict
        )
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
        """A mutation (or subscription) over GET is the spec's 405 with `Allow: POST`, not a 400. A contract query
        planned already may be answered by its lean run alone (`_lean_answer`)."""
        if self.lean.enabled and self._lean_schema.extensions is self._lean_extensions and not args:
            answer = await self._lean_answer(request, kwargs.get("request_data"), kwargs.get("context"), kwargs)
            if answer is not None:
                return answer
        try:
            return await super().execute_single(request, request_adapter, *args, **kwargs)
        except HTTPException as err:
            if isinstance(err.__cause__, InvalidOperationTypeError) and request_adapter.method == "GET":
                raise mutation_over_get() from err
            raise
        finally:
            self.lean.forget()

    async def _lean_answer(self, request: Request, data: Any, context: Any, kwargs: dict[str, Any]) -> Any:
        """The answer of a manifest query sent by hash alone, before strawberry's operation pipeline, when the lean
        run answers it without error (schema/lean.py `LeanPlans.answer`). Only where that pipeline would do nothing
        else for it: its plan exists (the document validated in this process), the allow-list lets the caller run
        it, and the caller is no terminal or kiosk session (the kiosk guard runs in the pipeline) and no delegated
        system (the delegation guard runs there too). A planned mutation (the bid) only over POST. What the
        pipeline's PersistedOperations does for such a request is done here: the operation names the log lines
        and the metrics. Anything else, a failed run included (replayed there), takes the pipeline."""
        if data is None or context is None or data.query or not isinstance(data.variables, dict | None):
            return None
        wanted = requested_hash(data.extensions)
        stored = self.services.persisted.manifest.get(wanted) if wanted is not None else None
        actor = getattr(context, "actor", None)
        if stored is None or actor is None or kiosk_kind(actor) is not None:
            return None
        if getattr(actor, "delegation_id", None) is not None:
            return None
        if self.policy.refusal(actor, stored) is not None:
            return None
        name = data.operation_name if data.operation_name is not None else stored.name
        lean = LeanRequest(
            stored.document,
            name,
            kwargs.get("root_value"),
            context,
            data.variables,
            data.extensions,
            mutations=request.method == "POST",
        )
        if stored.name is not None:
            operation_var.set(stored.name)
            request.state.operation = stored.name
        result = await self.lean.answer(lean)
        return None if result is None else ExecutionResult(data=result.data, errors=None)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """As strawberry's, with the body encoded once, as UTF-8 bytes (`_encode`)."""
        response = Response(_encode(response_data), status_code=200, media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    def encode_json(self, data: object) -> str:
        """The WebSocket's messages (and shared live updates, api/ws.py): text frames, as the protocol wants."""
        return _encode(data).decode()

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
            refusal: dict[str, object] = {"code": "UNAUTHENTICATED", "reason": str(err)}
            if isinstance(err, TokenRevoked):
                refusal["cause"] = err.cause  # a session a password change ended: sign in again
            raise ConnectionRejectionError(refusal) from err
        return None


_REFUSALS = {
    400: ("BAD_REQUEST", "请求格式不正确"),
    404: ("NOT_FOUND", "未找到"),
    405: ("METHOD_NOT_ALLOWED", "不支持此请求方法"),
}


def _encode(data: object) -> bytes:
    """Compact JSON with text as UTF-8 (not \\u escapes), by orjson: about 20 times faster than `json` on a
    screen's answer. What orjson refuses (an integer beyond 64 bits or a key that is not a string, possible only in
    a JSON scalar's value; a lone surrogate) is written by `json` as before, with \\u escapes."""
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, separators=(",", ":")).encode()


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
