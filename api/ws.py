"""graphql-transport-ws with shared live updates.

An auction update every watcher of a lot receives (schema/auctions/fanout.py) is executed and serialised
once per (visibility, document, variables, operation name) in this process, and each socket gets the same
payload text wrapped in its own `next` message. The subscription itself (parsing, validation, limits, the
snapshot) runs through strawberry as usual; only the per-update execution is shared.

A signed-in socket is closed when its session ends (a password change or reset elsewhere, a sign-out, a refresh
token presented twice: domain/accounts/ended_sessions.py): at once when the end is made in this process, within
`RELOAD_SECONDS` when another process made it. The close code is 4401 with the reason `TOKEN_REVOKED`, which
graphql-ws clients (Apollo's) treat as fatal rather than retrying with the same token: the app signs in again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from inspect import isawaitable
from typing import Any

from graphql import DocumentNode, ExecutionResult, execute_subscription_event, parse
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from domain.accounts import ended_sessions as ended_module
from domain.accounts.ended_sessions import ended_sessions
from schema.auctions import fanout
from schema.context import Context

log = logging.getLogger(__name__)

SESSION_ENDED_CLOSE_CODE = 4401  # graphql-ws's Unauthorized: fatal for its clients, no retry with the same token
SESSION_ENDED_REASON = "TOKEN_REVOKED"  # as extensions.cause of a refused token over HTTP and at connection_init


@functools.lru_cache(maxsize=256)
def _document(query: str) -> DocumentNode:
    return parse(query)


class SharedChannel:
    """Sends shared updates of one subscription operation as pre-rendered `next` messages."""

    __slots__ = ("group", "handler", "keys", "operation", "prefix", "ws")

    def __init__(self, handler: PalmTradeTransportWS, operation: Operation[Context, None]) -> None:
        self.handler = handler
        self.operation = operation
        self.ws = handler.ws
        variables = json.dumps(operation.variables, sort_keys=True) if operation.variables else ""
        self.group = (operation.query, variables, operation.operation_name)
        self.keys: dict[str, tuple[Any, ...]] = {}
        self.prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'

    async def send(self, shared: fanout.Shared, visibility: str) -> bool:
        operation = self.operation
        if operation.completed:
            return True
        key = self.keys.get(visibility)
        if key is None:
            key = self.keys[visibility] = (visibility, *self.group)
        # the ASGI message for this rendering and operation id (most clients number their operations alike)
        message = shared.wire.get((key, operation.id))
        if message is None:
            payload = shared.wire.get(key)
            if payload is None:
                payload = await self.handler.render(operation, shared.update)
                if payload is None:
                    return False  # errors: ordinary execution reports them as strawberry would
                shared.wire[key] = payload
            message = shared.wire[(key, operation.id)] = {"type": "websocket.send", "text": self.prefix + payload + "}"}
        try:
            await self.ws.send(message)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc
        return True


class LiveSessions:
    """This process's open signed-in sockets by session, closed when their session ends."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[PalmTradeTransportWS]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def add(self, session: str, handler: PalmTradeTransportWS) -> None:
        if ended_sessions.ended(session):  # ended between its connection_init's check and here
            self._close(handler)
            return
        self._sockets.setdefault(session, set()).add(handler)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    def remove(self, session: str, handler: PalmTradeTransportWS) -> None:
        handlers = self._sockets.get(session)
        if handlers is not None:
            handlers.discard(handler)
            if not handlers:
                del self._sockets[session]

    def count(self) -> int:
        return sum(len(handlers) for handlers in self._sockets.values())

    def ended(self, sessions: set[str]) -> None:
        """ended_sessions' listener: closes the sockets of sessions that just ended."""
        for session in sessions & self._sockets.keys():
            for handler in self._sockets.pop(session):
                self._close(handler)

    def _close(self, handler: PalmTradeTransportWS) -> None:
        task = asyncio.get_running_loop().create_task(handler.close_ended())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _watch(self) -> None:
        """While sockets are open, learns the sessions other processes ended (one read per process every few seconds,
        shared with api/auth.py's); the listener closes theirs."""
        while self._sockets:
            await asyncio.sleep(ended_module.RELOAD_SECONDS)
            try:
                await ended_sessions.reload_if_older_than_seconds(ended_module.RELOAD_SECONDS)
            except Exception:  # the database away: the next round tries again, the sockets stay as they are
                log.warning("could not read the ended sessions", exc_info=True)


live_sessions = LiveSessions()
ended_sessions.on_end(live_sessions.ended)


class PalmTradeTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler, offering each operation a channel for shared updates, and closing
    a signed-in socket when its session ends."""

    session: str | None = None  # the signed-in session this socket serves, once acknowledged

    @property
    def ws(self) -> Any:
        return self.websocket.ws  # type: ignore[attr-defined]  # the ASGI adapter's starlette WebSocket

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        actor = getattr(self.context, "actor", None)
        session = getattr(actor, "session_id", None)
        if self.connection_acknowledged and session is not None and self.session is None:
            self.session = session
            live_sessions.add(session, self)

    async def shutdown(self) -> None:
        if self.session is not None:
            live_sessions.remove(self.session, self)
        await super().shutdown()

    async def close_ended(self) -> None:
        """Closes the socket of a session that ended; its operations end with the socket, as on any close."""
        with contextlib.suppress(Exception):  # already closing or closed: nothing left to end
            await self.websocket.close(code=SESSION_ENDED_CLOSE_CODE, reason=SESSION_ENDED_REASON)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        fanout.direct_channel.set(SharedChannel(self, operation))  # this operation's task only
        await super().run_operation(operation)

    async def render(self, operation: Operation[Context, None], update: Any) -> str | None:
        """The JSON of the `next` payload for `update` under the operation's document, or None on errors."""
        schema: Any = self.schema
        executor = schema.execution_context_class.build(
            schema._schema,
            _document(operation.query),
            context_value=self.context,
            raw_variable_values=operation.variables,
            operation_name=operation.operation_name,
        )
        if isinstance(executor, list):
            return None
        result: Any = execute_subscription_event(executor.build_per_event_executor(update))
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        if result.errors:
            return None
        return self.view.encode_json_string({"data": result.data})
