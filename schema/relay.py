"""Relay global ids, the Node interface and keyset-paginated connections."""

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info
from tortoise.queryset import QuerySet

from domain.common.errors import InvalidInput

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_PK = 2**63 - 1  # a numeric key beyond a signed 64-bit integer overflows the database driver


def _digits(text: str) -> bool:
    """ASCII digits of a key the database can hold (str.isdigit also accepts '²' and '٣')."""
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_PK


def to_global_id(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(value: str, expected: str | None = None, field: str = "id") -> tuple[str, str]:
    """(type name, primary key) of a global id; InvalidInput when malformed or of another type."""
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field=field) from None
    if not type_name or not pk or (expected is not None and type_name != expected):
        raise InvalidInput(field=field)
    if pk.isdigit() and not _digits(pk):
        raise InvalidInput(field=field)
    return type_name, pk


def int_id(value: str, expected: str, field: str = "id") -> int:
    _, pk = from_global_id(value, expected, field)
    if not _digits(pk):
        raise InvalidInput(field=field)
    return int(pk)


@strawberry.interface(description="An object with a global id (Relay).")
class Node:
    _pk: strawberry.Private[int]

    @strawberry.field(description="Global id, opaque to clients.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(type(self).__name__, self._pk))


NodeResolver = Callable[[Info, str], Awaitable[Any]]
_node_resolvers: dict[str, NodeResolver] = {}


def node_resolver(type_name: str) -> Callable[[NodeResolver], NodeResolver]:
    def register(fn: NodeResolver) -> NodeResolver:
        _node_resolvers[type_name] = fn
        return fn

    return register


async def resolve_node(info: Info, global_id: str) -> Any:
    """The object behind a global id, or None when it does not exist or may not be seen."""
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidInput:
        return None
    resolver = _node_resolvers.get(type_name)
    return await resolver(info, pk) if resolver else None


async def resolve_nodes(info: Info, global_ids: list[str]) -> list[Any]:
    """The objects behind the ids in order, None for each one missing or hidden; at most max_page_size."""
    if len(global_ids) > info.context.max_page_size:
        raise InvalidInput(field="ids")
    return [await resolve_node(info, value) for value in global_ids]


@strawberry.type(description="Where a page ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow this page: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item of this page; null when the page is empty."
    )


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of this item: pass it as `after` to read the items that follow."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items, newest first; `first` is capped by the server.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether more items follow, and where to continue from.")

    @strawberry.field(description="The items of this page without their cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"c:{pk}".encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        tag, _, pk = text.partition(":")
        if tag != "c" or not _digits(pk):
            raise ValueError
        return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field="after") from None


async def paginate(
    info: Info, query: QuerySet[Any], first: int | None, after: str | None, convert: Callable[[Any], T]
) -> Connection[T]:
    """Keyset pagination on the primary key, newest first, at most max_page_size per page."""
    cap = info.context.max_page_size
    size = DEFAULT_PAGE if first is None else first
    if size < 1:
        raise InvalidInput(field="first")
    size = min(size, cap)
    key = query.model._meta.pk_attr  # order_by does not accept the "pk" alias
    if after:
        query = query.filter(**{f"{key}__lt": _after(after)})
    rows = await query.order_by(f"-{key}").limit(size + 1)
    page = rows[:size]
    edges = [Edge(cursor=_cursor(r.pk), node=convert(r)) for r in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None),
    )
