"""graphql-transport-ws with shared live updates.

An auction update every watcher of a lot receives (schema/auctions/fanout.py) is executed and serialised
once per (visibility, document, variables, operation name) in this process, and each socket gets the same
payload text wrapped in its own `next` message. The subscription itself (parsing, validation, limits, the
snapshot) runs through strawberry as usual; only the per-update execution is shared.
"""

from __future__ import annotations

import functools
import json
from inspect import isawaitable
from typing import Any

from graphql import DocumentNode, ExecutionResult, execute_subscription_event, parse
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from schema.auctions import fanout
from schema.context import Context


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


class PalmTradeTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler, offering each operation a channel for shared updates."""

    @property
    def ws(self) -> Any:
        return self.websocket.ws  # type: ignore[attr-defined]  # the ASGI adapter's starlette WebSocket

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
