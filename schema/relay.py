"""Relay global ids, the Node interface and keyset-paginated connections."""

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types import Info
from tortoise.queryset import QuerySet

from domain.common.errors import InvalidInput
from schema import fields

T = TypeVar("T")
DEFAULT_PAGE = 20
Last = Annotated[
    int | None,
    strawberry.argument(
        description="How many items to read back, those just before `before` (capped by the server); "
        "not with `first` or `after`."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="The cursor of the first item already read: the page ends just before it (paging backwards)."
    ),
]
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

    @fields.field(description="Global id, opaque to clients.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(type(self).__name__, self._pk))


NodeResolver = Callable[[Info, str], Awaitable[Node | None]]
Resolver = TypeVar("Resolver", bound=NodeResolver)
_node_resolvers: dict[str, NodeResolver] = {}


def node_resolver(type_name: str) -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        _node_resolvers[type_name] = fn
        return fn

    return register


async def resolve_node(info: Info, global_id: str) -> Node | None:
    """The object behind a global id, or None when it does not exist or may not be seen."""
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidInput:
        return None
    resolver = _node_resolvers.get(type_name)
    return await resolver(info, pk) if resolver else None


async def resolve_nodes(info: Info, global_ids: Sequence[str]) -> list[Node | None]:
    """The objects behind the ids in order, None for each one missing or hidden; at most max_page_size."""
    if len(global_ids) > info.context.max_page_size:
        raise InvalidInput(field="ids")
    return [await resolve_node(info, value) for value in global_ids]


@strawberry.type(description="Where a page starts and ends (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow this page: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item of this page; null when the page is empty."
    )
    has_previous_page: bool = strawberry.field(
        default=False, description="Whether items precede this page: ask again with `before: startCursor`."
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="The cursor of the first item of this page; null when the page is empty."
    )


@strawberry.type(description="One item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of this item: pass it as `after` to read the items that follow, "
        "or as `before` to read those that precede it."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of items, newest first; `first` is capped by the server.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether more items follow, and where to continue from.")

    @fields.field(description="The items of this page without their cursors.")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"c:{pk}".encode()).decode().rstrip("=")


def _after(cursor: str, field: str = "after") -> int:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        tag, _, pk = text.partition(":")
        if tag != "c" or not _digits(pk):
            raise ValueError
        return int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field=field) from None


def backwards(first: int | None, after: str | None, last: int | None, before: str | None) -> bool:
    """Whether a page is asked backwards (`last`/`before`); InvalidInput(last) when both ways are asked."""
    if last is None and before is None:
        return False
    if first is not None or after is not None:
        raise InvalidInput(field="last")
    return True


async def paginate(
    info: Info,
    query: QuerySet[Any],
    first: int | None,
    after: str | None,
    convert: Callable[[Any], T],
    last: int | None = None,
    before: str | None = None,
) -> Connection[T]:
    """Keyset pagination on the primary key, newest first, at most max_page_size per page: the `first`
    items after `after`, or the `last` items before `before`, each page in list order."""
    if backwards(first, after, last, before):
        return await _paginate_back(info, query, last, before, convert)
    size = page_size(info, first, "first")
    key = query.model._meta.pk_attr  # order_by does not accept the "pk" alias
    whole = query
    if after:
        query = query.filter(**{f"{key}__lt": _after(after)})
    rows = await query.order_by(f"-{key}").limit(size + 1)
    page = rows[:size]
    edges = [Edge(cursor=_cursor(r.pk), node=convert(r)) for r in page]
    earlier = await whole.filter(**{f"{key}__gte": _after(after)}).exists() if after else False
    return connection(edges, has_next=len(rows) > size, has_previous=earlier)


async def _paginate_back(
    info: Info, query: QuerySet[Any], last: int | None, before: str | None, convert: Callable[[Any], T]
) -> Connection[T]:
    size = page_size(info, last, "last")
    key = query.model._meta.pk_attr
    whole = query
    if before:
        query = query.filter(**{f"{key}__gt": _after(before, "before")})
    rows = await query.order_by(key).limit(size + 1)
    page = list(reversed(rows[:size]))
    edges = [Edge(cursor=_cursor(r.pk), node=convert(r)) for r in page]
    later = await whole.filter(**{f"{key}__lte": _after(before, "before")}).exists() if before else False
    return connection(edges, has_next=later, has_previous=len(rows) > size)


def page_size(info: Info, asked: int | None, field: str) -> int:
    """The page size asked for (DEFAULT_PAGE when none), capped at max_page_size; InvalidInput below 1."""
    size = DEFAULT_PAGE if asked is None else asked
    if size < 1:
        raise InvalidInput(field=field)
    return min(size, int(info.context.max_page_size))


def connection(edges: list[Edge[T]], has_next: bool, has_previous: bool) -> Connection[T]:
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
        ),
    )
