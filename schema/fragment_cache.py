"""Completed objects reused across requests: an object whose selected fields read nothing but a few of its
own values (an announcement's card) is completed once per selection and values, and later requests take
that completed answer instead of running its fields again.

graphql-core completes an object by resolving each selected field and completing what it returns (about
8 us a field here, 17 fields a card of the home screen). A type declared with `pure(...)` promises that
the fields listed for it are a function of `key(obj)`: they read neither the caller (actor, roles, token
scopes, locale) nor the clock nor the database. The cache is then a memo of that function:

- the key holds those values themselves, not an id and a version, so a changed object (another status,
  a corrected title, a row of another database) is another key and is never answered from an old entry;
- nothing of the caller is in a key or an answer; which objects a caller sees is decided by the resolver
  that returned them, as before, and only their completion is taken from the cache;
- a selection is served from the cache only when every field it selects, at every depth, is listed for
  its type (`__typename` always is), every object type it reaches is declared, no field takes arguments
  and nothing carries a directive (so no variable, @include, @skip, @defer or @stream changes it);
- an answer is stored only if completing it raised no error; entries are bounded in number, the least
  recently used dropped first.

Anything else completes as graphql-core always does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Final, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

DEFAULT_ENTRIES: Final = 10_000  # ~2.3 KB each measured (a card is two: its edge and its node): ~23 MB at most
_SELECTIONS: Final = 4096  # distinct (type, field nodes) remembered per cache before the memo starts again

Key = Callable[[Any], Hashable | None]


@dataclass(frozen=True, slots=True)
class Pure:
    fields: frozenset[str]
    key: Key | None


_declared: dict[str, Pure] = {}


def pure(type_name: str, fields: Iterable[str], key: Key | None = None) -> None:
    """Declares the listed fields of a GraphQL object type a function of `key(obj)` (see the module). With
    `key` its objects are cached (those for which it returns None are not); without, the type may only be
    selected inside a cached one, its fields then a function of that one's key."""
    _declared[type_name] = Pure(frozenset(fields) | {"__typename"}, key)


class FragmentCache:
    """Completed objects by (selection, key), at most `entries`, the least recently used dropped first."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._answers: OrderedDict[tuple[int, Hashable], dict[str, Any]] = OrderedDict()
        # the field nodes are kept with their entry: their ids cannot be reused while it exists
        self._selections: dict[tuple[Any, ...], tuple[tuple[FieldNode, ...], int | None]] = {}
        self._numbers: dict[tuple[Any, ...], int] = {}
        self._next = 0
        self.hits = 0
        self.stored = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: tuple[int, Hashable]) -> dict[str, Any] | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
            self.hits += 1
        return answer

    def put(self, key: tuple[int, Hashable], answer: dict[str, Any]) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        self.stored += 1
        while len(self._answers) > self.entries:
            self._answers.popitem(last=False)

    def number(self, signature: tuple[Any, ...]) -> int:
        """A small number standing for a selection's signature in keys (hashing the signature itself walks
        a nested tuple on every lookup); never reused for another signature."""
        found = self._numbers.get(signature)
        if found is None:
            if len(self._numbers) >= _SELECTIONS:
                self._numbers.clear()  # the old numbers' entries age out of the LRU
            self._next += 1
            found = self._numbers[signature] = self._next
        return found


class CachingExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, completing the objects of declared types from `cache` (executor_for)."""

    cache: FragmentCache

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        declared = _declared.get(return_type.name)
        if declared is None or declared.key is None or position_context is not None:
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        values = declared.key(result)
        selection = None if values is None else self._selection(return_type, field_details_list)
        if selection is None:
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        key = (selection, values)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        errors = len(self.collected_errors.errors)
        completed = super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )
        if self.is_awaitable(completed):
            return self._store_when_done(key, completed, errors, path)
        self._store(key, cast("dict[str, Any]", completed), errors, path)
        return completed

    async def _store_when_done(
        self, key: tuple[int, Hashable], completed: Awaitable[dict[str, Any]], errors: int, path: Path
    ) -> dict[str, Any]:
        answer = await completed
        self._store(key, answer, errors, path)
        return answer

    def _store(self, key: tuple[int, Hashable], answer: dict[str, Any], errors: int, path: Path) -> None:
        collected = self.collected_errors
        # an error anywhere meanwhile (also a sibling's, when completion awaited), or a position above nulled
        # (its errors below are then dropped): not stored
        if len(collected.errors) == errors and not collected.has_nulled_position(path):
            self.cache.put(key, answer)

    def _selection(self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> int | None:
        """The number of this selection of `return_type` when it may be cached, else None; memoised by the
        field nodes' identity (a persisted document's nodes live as long as the process)."""
        if any(d.fragment_variable_values is not None for d in field_details_list):
            return None
        nodes = tuple(d.node for d in field_details_list)
        memo = self.cache._selections
        memo_key = (return_type.name, *map(id, nodes))
        found = memo.get(memo_key)
        if found is not None:
            return found[1]
        signature = self._signature(return_type, [n.selection_set for n in nodes if n.selection_set], set())
        number = None if signature is None else self.cache.number((return_type.name, signature))
        if len(memo) >= _SELECTIONS:
            memo.clear()
        memo[memo_key] = (nodes, number)
        return number

    def _signature(
        self, type_: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode], spreading: set[str]
    ) -> tuple[Any, ...] | None:
        """What a selection of a declared type asks, fragments applied: (response name, field, inner) in
        document order; None when anything in it may not be cached."""
        declared = _declared.get(type_.name)
        if declared is None:
            return None
        asked: list[Any] = []
        for selection_set in selection_sets:
            for node in selection_set.selections:
                if node.directives:
                    return None
                if isinstance(node, FieldNode):
                    name = node.name.value
                    if node.arguments or name not in declared.fields:
                        return None
                    inner = None
                    if node.selection_set is not None:
                        field = type_.fields.get(name)
                        named = get_named_type(field.type) if field is not None else None
                        if not is_object_type(named):
                            return None
                        assert isinstance(named, GraphQLObjectType)
                        inner = self._signature(named, [node.selection_set], spreading)
                        if inner is None:
                            return None
                    asked.append((node.alias.value if node.alias else name, name, inner))
                elif isinstance(node, InlineFragmentNode):
                    if node.type_condition is None or self._applies(node.type_condition, type_):
                        inner = self._signature(type_, [node.selection_set], spreading)
                        if inner is None:
                            return None
                        asked.extend(inner)
                elif isinstance(node, FragmentSpreadNode):
                    details = self.fragments.get(node.name.value)
                    spread = node.name.value
                    if getattr(node, "arguments", None) or details is None or spread in spreading:
                        return None
                    definition = details.definition
                    if definition.variable_definitions or definition.directives:
                        return None
                    if self._applies(definition.type_condition, type_):
                        inner = self._signature(type_, [definition.selection_set], spreading | {spread})
                        if inner is None:
                            return None
                        asked.extend(inner)
                else:
                    return None
        return tuple(asked)

    def _applies(self, condition: NamedTypeNode, type_: GraphQLObjectType) -> bool:
        named = self.schema.get_type(condition.name.value)
        if named is type_:
            return True
        return named is not None and is_abstract_type(named) and self.schema.is_sub_type(named, type_)


def executor_for(cache: FragmentCache) -> type[CachingExecutor]:
    """An executor class completing declared objects from this cache (one per schema: per deployment)."""
    return type("CachingExecutor", (CachingExecutor,), {"cache": cache})
