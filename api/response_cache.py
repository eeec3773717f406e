"""A shared response cache for public persisted queries: the app's home screen, a kiosk's lists.

Which persisted queries qualify is decided once per process from the document and the schema
(`shared_max_age`): a query whose every field is declared caller-independent in schema/caching.py.
Their answers are kept per (hash, operation name, variables, locale) and replayed byte for byte,
without running the operation, until the shortest max-age of the fields selected has passed or an
event that may change them (a published announcement) reaches this process over the live bus, which
with Redis reaches every process. A hit still passes the token check, the integrators' rate limit and
the operation allow-list; nothing about the caller is stored. Only answers without errors are kept, within
RESPONSE_CACHE_BYTES (and RESPONSE_CACHE_ENTRIES) per process, the least recently used dropped first.

Conditionally public root fields (schema/caching.py CONDITIONAL_ROOT_FIELDS: one announcement) qualify a
query too, but its answer is caller-dependent in general (a draft for its project's managers, null for
everyone else): such a query is looked up like any other, and its answer is kept only when every such
field's resolver marked it shareable in the request's state (`schema.caching.mark_answer`: a published
announcement). A null or a draft is never kept, so a hit is always an answer every caller gets alike;
an answer not kept is sent `Cache-Control: no-store`.

A miss is computed once however many ask for it at the same time (single flight): the first runs the
operation, and the others asking for the same key meanwhile wait for it and are answered with its body, as a
hit, when it is kept; when it is not (errors, a draft), each runs for itself. A cold cache in a burst (every
phone opening the app at once, a server just restarted) costs one execution per screen, not one per phone.

Only requests by hash take this path (`extensions.persistedQuery`, POST or GET): the text of a query
is never looked up here. A client that sends `Cache-Control: no-cache` (pull to refresh) gets a fresh
answer, which replaces the kept one. A GET from an anonymous caller is answered `Cache-Control: public`
so that a CDN or the kiosk's own cache can share it as well; every other answer is `private`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import parse_qs

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.graphql_http import response_media_type
from api.persisted import OperationPolicy, PersistedStore, requested_hash
from domain.common.actors import ANONYMOUS, Actor
from domain.common.events import EventBus
from schema.caching import (
    CONDITIONAL_ROOT_FIELDS,
    INVALIDATED_BY,
    PUBLIC_FIELDS,
    PUBLIC_ROOT_FIELDS,
    PUBLIC_TYPES,
    SHAREABLE,
)
from schema.context import locale_from
from schema.kiosk_guard import root_fields

log = logging.getLogger("palmtrade.api.cache")

MAX_BODY: Final = 64 * 1024  # a request by hash is small; a bigger body goes the normal way unread
Key = tuple[str, str | None, str, str]
# set in the request's state by the GraphQL view (api/graphql_app.py): True when the operation ran and answered
# `data` without `errors`; the body is then kept without being parsed again to find out
ANSWERED_WITHOUT_ERRORS: Final = "answered_without_errors"


def shared_max_age(
    document: DocumentNode,
    schema: GraphQLSchema,
    roots: Mapping[str, int] = PUBLIC_ROOT_FIELDS,
    public: frozenset[str] = PUBLIC_TYPES,
    conditional: Mapping[str, int] = CONDITIONAL_ROOT_FIELDS,
    public_fields: Mapping[str, frozenset[str]] = PUBLIC_FIELDS,
) -> int | None:
    """Seconds the answer of this document may be shared between callers; None: never. A document selecting
    a conditional root field qualifies too: its answer is kept only when marked so (`conditional_roots`)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return None
    info = TypeInfo(schema)
    ages: list[int] = []
    refused: list[str] = []

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            name = node.name.value
            if name == "__typename":
                return
            parent = info.get_parent_type()
            parent_name = get_named_type(parent).name if parent is not None else None
            if parent is not None and parent is schema.query_type and name in roots:
                ages.append(roots[name])
            elif parent is not None and parent is schema.query_type and name in conditional:
                ages.append(conditional[name])
            elif name.startswith("__") or (
                parent_name not in public and name not in public_fields.get(parent_name or "", frozenset())
            ):
                refused.append(f"{parent_name}.{name}")

    visit(document, TypeInfoVisitor(info, Fields()))
    if refused or not ages:
        return None
    return min(ages)


def conditional_roots(document: DocumentNode, conditional: Mapping[str, int] = CONDITIONAL_ROOT_FIELDS) -> bool:
    """Whether the document's operation selects a conditionally public root field, directly or through its
    fragments (the kiosk guard's reading of the root fields)."""
    return any(
        not conditional.keys().isdisjoint(root_fields(document, d))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


class ResponseCache:
    """Answers by key, each until its own expiry, within two bounds: `capacity` entries and `max_bytes` (the
    answers' bytes plus their keys and a fixed allowance per entry); the least recently used go first. An answer
    larger than a sixteenth of `max_bytes` is never kept: one page of a hundred cards is about 60 KB, so such an
    answer is an outlier that would push out many of the answers the cache is for."""

    ENTRY_OVERHEAD: Final = 400  # bytes per entry besides its answer and variables (the dict slot, tuples, hash)
    LARGEST_SHARE: Final = 16  # an answer may take at most 1/16 of `max_bytes`

    def __init__(
        self,
        capacity: int,
        max_age_cap: int,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.capacity = capacity
        self.max_age_cap = max_age_cap
        self.max_bytes = max_bytes
        self.clock = clock
        self._entries: OrderedDict[Key, tuple[float, bytes, int]] = OrderedDict()
        self.size = 0  # bytes accounted to the entries kept
        self.hits = 0
        self.misses = 0
        self.cleared = 0
        self.evicted = 0  # dropped to stay within a bound (expired entries are not counted)
        self.too_large = 0  # answers not kept for their size
        self.coalesced = 0  # misses answered with another caller's answer computed meanwhile (single flight)

    @property
    def enabled(self) -> bool:
        return self.capacity > 0 and self.max_age_cap > 0 and self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            if entry is not None:
                self._drop(key)
            self.misses += 1
            metrics.CACHE_MISSES.inc()
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        metrics.CACHE_HITS.inc()
        return entry[1]

    def put(self, key: Key, body: bytes, max_age: int) -> None:
        if key in self._entries:
            self._drop(key)
        cost = len(body) + len(key[2]) + self.ENTRY_OVERHEAD
        if cost * self.LARGEST_SHARE > self.max_bytes:
            self.too_large += 1
            metrics.CACHE_TOO_LARGE.inc()
            return
        self._entries[key] = (self.clock() + min(max_age, self.max_age_cap), body, cost)
        self.size += cost
        added, evicted = cost, 0
        while len(self._entries) > self.capacity or self.size > self.max_bytes:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self.size -= dropped
            added -= dropped
            evicted += 1
        self.evicted += evicted
        metrics.CACHE_BYTES.inc(added)
        metrics.CACHE_ENTRIES.inc(1 - evicted)
        if evicted:
            metrics.CACHE_EVICTIONS.inc(evicted)

    def _drop(self, key: Key) -> None:
        cost = self._entries.pop(key)[2]
        self.size -= cost
        metrics.CACHE_BYTES.dec(cost)
        metrics.CACHE_ENTRIES.dec()

    def clear(self) -> None:
        metrics.CACHE_BYTES.dec(self.size)
        metrics.CACHE_ENTRIES.dec(len(self._entries))
        self._entries.clear()
        self.size = 0
        self.cleared += 1
        metrics.CACHE_CLEARS.inc()

    async def watch(self, bus: EventBus, stop: asyncio.Event) -> None:
        """Clears on every event that may change a shared answer, until `stop`; re-subscribes after a
        failure (and clears, since events may have been missed meanwhile)."""
        while not stop.is_set():
            try:
                async for _ in bus.subscribe(lambda m: m.get("type") in INVALIDATED_BY):
                    self.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the cache's invalidation feed failed; clearing and subscribing again")
                self.clear()
                await asyncio.sleep(1)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ResponseCacheMiddleware:
    """Inside the auth middleware (the caller is known): replays cached answers of public persisted
    queries on /graphql and stores new ones; everything else passes through untouched."""

    def __init__(
        self,
        app: ASGIApp,
        cache: ResponseCache,
        store: PersistedStore,
        policy: OperationPolicy,
        max_ages: Callable[[], Mapping[str, int]],
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self.cache = cache
        self.store = store
        self.policy = policy
        self.max_ages = max_ages  # sha256 -> seconds, filled when the schema is built
        self.path = path
        self._conditional: dict[str, bool] = {}  # sha256 -> whether its answer is kept only when marked shareable
        # key -> the answer being computed for it now (single flight): the body once kept, None when it was not
        self._inflight: dict[Key, asyncio.Future[bytes | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or not self.cache.enabled:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        body = b""
        if method == "GET":
            raw = scope.get("query_string", b"")
            request = _from_query_string(raw) if b"persistedQuery" in raw else None
        elif method == "POST":
            body, complete = await _read_body(receive)
            if not complete:
                await self.app(scope, _replay(body, receive, more=True), send)
                return
            # only a body naming a persisted query is decoded here: every other request (mutations,
            # queries by text) is decoded once, by the view
            request = _from_json(body) if b"persistedQuery" in body else None
            receive = _replay(body, receive)
        else:
            request = None
        found = self._cacheable(scope, request) if request is not None else None
        if found is None:
            await self.app(scope, receive, send)
            return
        key, max_age, conditional = found
        headers = self._cache_headers(scope, method, max_age)
        # `Cache-Control: no-cache` from the client (pull to refresh): run it, and keep the fresh answer
        fresh = "no-cache" in (_header(scope, b"cache-control") or "").lower()
        cached = None if fresh else self.cache.get(key)
        if cached is None and not fresh and key in self._inflight:
            # the same answer is being computed for another caller: wait for it rather than compute it again (a
            # cold cache in a burst: every phone opening the app at once asks for the same home screen)
            cached = await asyncio.shield(self._inflight[key])
            if cached is not None:
                self.cache.coalesced += 1
                metrics.CACHE_COALESCED.inc()
        if cached is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", response_media_type(_header(scope, b"accept")).encode()),
                        (b"content-length", str(len(cached)).encode()),
                        (b"x-palmtrade-cache", b"hit"),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": cached})
            return
        state = scope.setdefault("state", {})
        state.pop(ANSWERED_WITHOUT_ERRORS, None)
        state.pop(SHAREABLE, None)
        # the first miss of a key computes it for everyone who asks meanwhile; a fresh request (pull to refresh)
        # runs for itself, and so does a caller whose leader's answer was not kept (an error, a draft)
        leader: asyncio.Future[bytes | None] | None = None
        if not fresh and key not in self._inflight:
            leader = self._inflight[key] = asyncio.get_running_loop().create_future()
        try:
            await self.app(scope, receive, self._storing(key, max_age, headers, state, send, conditional, leader))
        finally:
            if leader is not None:
                if not leader.done():
                    leader.set_result(None)
                if self._inflight.get(key) is leader:
                    del self._inflight[key]

    def _cacheable(self, scope: Scope, request: Mapping[str, Any]) -> tuple[Key, int, bool] | None:
        if request.get("query") is not None:
            return None  # only by hash: a text is never looked up here
        extensions = request.get("extensions")
        wanted = requested_hash(extensions if isinstance(extensions, Mapping) else None)
        if wanted is None:
            return None
        max_age = self.max_ages().get(wanted)
        stored = self.store.manifest.get(wanted)
        if max_age is None or stored is None:
            return None
        actor: Actor = scope.get("state", {}).get("actor", ANONYMOUS)
        if self.policy.refusal(actor, stored) is not None:
            return None  # the normal path gives the typed refusal
        name = request.get("operationName")
        variables = request.get("variables")
        if (name is not None and not isinstance(name, str)) or (
            variables is not None and not isinstance(variables, Mapping)
        ):
            return None
        locale = locale_from(_header(scope, b"accept-language"))
        conditional = self._conditional.get(wanted)
        if conditional is None:
            conditional = self._conditional[wanted] = conditional_roots(stored.document)
        return (wanted, name, _canonical(variables or {}), locale), max_age, conditional

    def _cache_headers(self, scope: Scope, method: str, max_age: int) -> list[tuple[bytes, bytes]]:
        age = min(max_age, self.cache.max_age_cap)
        anonymous = _header(scope, b"authorization") is None
        scope_word = "public" if method == "GET" and anonymous else "private"
        return [
            (b"cache-control", f"{scope_word}, max-age={age}".encode()),
            (b"vary", b"Accept, Accept-Language, Authorization"),
        ]

    def _storing(
        self,
        key: Key,
        max_age: int,
        headers: list[tuple[bytes, bytes]],
        state: dict[str, Any],
        send: Send,
        conditional: bool = False,
        leader: asyncio.Future[bytes | None] | None = None,
    ) -> Send:
        """Holds the response start until the body shows whether the answer may be kept; with `conditional`,
        only when the resolvers of the conditionally public fields marked it shareable."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body" or not start:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            extra: list[tuple[bytes, bytes]] = [(b"cache-control", b"no-store")]
            if (
                start.get("status") == 200
                and state.get(ANSWERED_WITHOUT_ERRORS) is True
                and (not conditional or state.get(SHAREABLE) is True)
            ):
                self.cache.put(key, body, max_age)
                extra = [(b"x-palmtrade-cache", b"miss"), *headers]
                if leader is not None and not leader.done():
                    leader.set_result(body)  # the callers waiting for this key are answered before this one is sent
            await send({**start, "headers": [*start.get("headers", []), *extra]})
            await send({"type": "http.response.body", "body": body})

        return capture


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _from_query_string(raw: bytes) -> dict[str, Any] | None:
    params = parse_qs(raw.decode("latin-1"))
    request: dict[str, Any] = {}
    try:
        for name in ("extensions", "variables"):
            if name in params:
                request[name] = json.loads(params[name][0])
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the stack
        return None
    if "query" in params:
        request["query"] = params["query"][0]
    if "operationName" in params:
        request["operationName"] = params["operationName"][0]
    return request


def _from_json(body: bytes) -> dict[str, Any] | None:
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the stack
        return None
    return request if isinstance(request, dict) else None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, up to MAX_BODY; complete=False when it is longer (the rest not yet read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True  # disconnected: the app sees an empty body and gives up
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive, more: bool = False) -> Receive:
    """Gives the app the body already read (then, if `more`, the rest from the client)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()  # the rest of a long body, or http.disconnect when the client goes

    return replay
