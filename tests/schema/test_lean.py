"""schema/lean.py on a small schema: the same answers as graphql-core, errors and null propagation included,
with every resolver run once per request, and what it leaves to graphql-core."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import strawberry
from strawberry.extensions import ParserCache
from strawberry.permission import BasePermission
from strawberry.types import Info

from schema.lean import LeanPlans, lean_extension

calls: Counter[str] = Counter()


class Deny(BasePermission):
    message = "FORBIDDEN: no"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        calls["deny"] += 1
        return False


@strawberry.type
class Item:
    id: int
    name: str

    @strawberry.field
    def label(self, info: Info, prefix: str = "#") -> str:
        calls[f"label{self.id}"] += 1
        if self.id == 2 and info.context["fail"] == "label":
            raise ValueError("label failed")
        return f"{prefix}{self.id}"

    @strawberry.field
    async def must(self, info: Info) -> str:
        calls[f"must{self.id}"] += 1
        return None if self.id == 3 and info.context["fail"] == "null" else "ok"  # type: ignore[return-value]


@strawberry.type
class Other:
    reason: str


@strawberry.type
class Query:
    @strawberry.field
    async def items(self, info: Info, first: int = 3) -> list[Item] | None:
        calls["items"] += 1
        return [Item(id=i, name=f"item {i}") for i in range(1, first + 1)]

    @strawberry.field
    def either(self, item: bool) -> Item | Other:
        calls["either"] += 1
        return Item(id=9, name="nine") if item else Other(reason="none")

    @strawberry.field(permission_classes=[Deny])
    def secret(self) -> str | None:
        calls["secret"] += 1
        return "secret"

    @strawberry.field
    async def broken(self) -> str:
        calls["broken"] += 1
        raise RuntimeError("broken")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        calls["touch"] += 1
        return calls["touch"]


SCREEN = """
query Screen($first: Int = 3, $item: Boolean!) {
  items(first: $first) { __typename id name tag: label(prefix: "n") ...More }
  either(item: $item) { __typename ... on Item { id alias: name } ... on Other { reason } }
  secret
}
fragment More on Item { must label }
"""


def build() -> tuple[strawberry.Schema, LeanPlans]:
    schema = strawberry.Schema(query=Query, mutation=Mutation)
    plans = LeanPlans(schema, lambda document: True)
    schema.extensions = [ParserCache, lean_extension(plans)]
    return schema, plans


async def both(
    schema: strawberry.Schema, plans: LeanPlans, query: str, variables: dict[str, Any], fail: str = ""
) -> tuple[Any, Any, Counter[str], Counter[str]]:
    """(graphql-core's answer, the lean path's answer, the resolvers each ran)."""
    answers = []
    runs = []
    for enabled in (False, True):
        plans.enabled = enabled
        calls.clear()
        result = await schema.execute(query, variables, context_value={"fail": fail})
        for _ in range(10):  # graphql-core settles a failed list's other items in the background
            await asyncio.sleep(0)
        answers.append((result.data, [e.formatted for e in result.errors or []]))
        runs.append(Counter(calls))
    return answers[0], answers[1], runs[0], runs[1]


async def test_a_query_answers_as_graphql_core_does_from_its_plan():
    # given
    schema, plans = build()
    # when
    plain, lean, plain_calls, lean_calls = await both(schema, plans, SCREEN, {"item": True})
    again, lean_again, _, _ = await both(schema, plans, SCREEN, {"item": False, "first": 2})
    # then
    assert lean == plain
    assert lean_again == again
    second = {"__typename": "Item", "id": 2, "name": "item 2", "tag": "n2", "must": "ok", "label": "#2"}
    assert plain[0]["items"][1] == second
    assert plain[0]["either"] == {"__typename": "Item", "id": 9, "alias": "nine"}
    assert again[0]["either"] == {"__typename": "Other", "reason": "none"}
    assert [e["extensions"]["code"] for e in plain[1]] == ["FORBIDDEN"]
    assert lean_calls == plain_calls
    assert plans.stats.executed == 0  # the denied field is an error: graphql-core answered, replaying
    assert plans.stats.replayed == 2


async def test_without_errors_the_lean_run_answers_alone():
    # given
    schema, plans = build()
    query = "query Items { items { id label must } either(item: false) { ... on Other { reason } } }"
    # when
    plain, lean, plain_calls, lean_calls = await both(schema, plans, query, {})
    # then
    assert lean == plain
    assert plain[1] == []
    assert lean_calls == plain_calls
    assert (plans.stats.executed, plans.stats.replayed) == (1, 0)


async def test_a_resolver_error_is_graphql_cores_and_no_resolver_runs_twice():
    # given
    schema, plans = build()
    query = "query Items { items { id label must } }"
    # when
    plain, lean, plain_calls, lean_calls = await both(schema, plans, query, {}, fail="label")
    # then: the non-null label's error nulls its item's parent list (items is nullable)
    assert lean == plain
    assert plain[0] == {"items": None}
    assert plain[1][0]["path"] == ["items", 1, "label"]
    assert lean_calls == plain_calls
    assert set(lean_calls.values()) == {1}
    assert plans.stats.replayed == 1


async def test_a_null_in_a_non_null_field_propagates_as_in_graphql_core():
    # given
    schema, plans = build()
    query = "query Items { items { id must } broken }"
    # when
    plain, lean, plain_calls, lean_calls = await both(schema, plans, query, {}, fail="null")
    # then: `broken` (non-null, at the root) nulls the whole answer
    assert lean == plain
    assert plain[0] is None
    assert [e["path"] for e in plain[1]] == [["broken"]]
    assert lean_calls == plain_calls


async def test_mutations_directives_and_introspection_are_left_to_graphql_core():
    # given
    schema, plans = build()
    # when
    mutation = await both(schema, plans, "mutation Touch { touch }", {})
    directive = await both(schema, plans, "query D($x: Boolean!) { items { id @include(if: $x) } }", {"x": True})
    introspection = await both(schema, plans, "query I { __schema { queryType { name } } }", {})
    # then
    assert mutation[2] == mutation[3] == Counter({"touch": 1})
    assert directive[0] == directive[1]
    assert introspection[0] == introspection[1]
    assert (plans.stats.executed, plans.stats.replayed, plans.stats.declined) == (0, 0, 3)


async def test_a_document_not_eligible_is_not_kept():
    # given
    schema = strawberry.Schema(query=Query)
    plans = LeanPlans(schema, lambda document: False)
    schema.extensions = [lean_extension(plans)]
    # when
    for first in range(5):
        await schema.execute(f"query Q {{ items(first: {first + 1}) {{ id }} }}", context_value={"fail": ""})
    # then
    assert plans._plans == {}
    assert plans.stats.executed == 0
