"""Limits every request meets before a resolver runs, and what a client sees of a server bug."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import strawberry
from strawberry.extensions.validation_cache import _get_validate_cache
from strawberry.types import Info

from domain.common.actors import ANONYMOUS, Actor, Role
from domain.common.errors import InvalidInput
from schema.build import build_schema
from schema.context import Context
from schema.limits import MaskUnexpected
from schema.permissions import IsOperator
from tests import factories as f

BIDDER = Actor(user_id=1, org_id=1, roles=frozenset({Role.BIDDER}))
REGISTER_DEEP = """
mutation($input: OrganisationRegisterInput!) {
  organisationRegister(input: $input) {
    ... on OrganisationRegistered { user { organisation { creditRecords { id } } } }
  }
}"""
INTROSPECT = "{ __schema { types { name } } }"


def context(actor: Actor = ANONYMOUS, request_id: str = "-", max_page_size: int = 100) -> Context:
    return Context(request=None, response=None, actor=actor, request_id=request_id, max_page_size=max_page_size)


def aliased(name: str, count: int, body: str) -> str:
    return " ".join(f"{name}{i}: {body}" for i in range(count))


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body["errors"]]


async def test_depth_over_the_limit_executes_nothing(db):
    # given a schema limited to a depth of 3
    schema = build_schema(max_depth=3)

    # when a registration selects 4 levels below its root field
    result = await schema.execute(REGISTER_DEEP, variable_values={"input": f.registration()}, context_value=context())

    # then it is refused as too deep and nobody was registered
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors] == ["QUERY_TOO_DEEP"]
    assert "maximum operation depth of 3" in result.errors[0].message
    assert await f.org_count() == 0

    # and one level less passes the rule
    shallow = REGISTER_DEEP.replace("creditRecords { id }", "id")
    allowed = await schema.execute(shallow, variable_values={"input": f.registration()}, context_value=context())
    assert allowed.errors is None
    assert await f.org_count() == 1


async def test_depth_counts_through_fragments(db):
    # given a depth limit of 3 and the same nesting hidden in fragments
    schema = build_schema(max_depth=3)
    query = """
    query { me { ...U } }
    fragment U on Me { user { ...O } }
    fragment O on User { organisation { creditRecords { id } } }
    """

    # when it is sent
    result = await schema.execute(query, context_value=context(BIDDER))

    # then the fragments do not hide it
    assert [e.extensions["code"] for e in result.errors] == ["QUERY_TOO_DEEP"]


async def test_aliases_over_the_limit_execute_nothing(api):
    # given 31 registrations under aliases in one request (the limit is 30)
    forms = {f"r{i}": f.registration() for i in range(31)}
    declared = ", ".join(f"${name}: OrganisationRegisterInput!" for name in forms)
    fields = " ".join(f"{name}: organisationRegister(input: ${name}) {{ __typename }}" for name in forms)

    # when it is sent
    body = await api.gql(f"mutation({declared}) {{ {fields} }}", forms, expect_errors=True)

    # then it is refused and nobody was registered
    assert body.get("data") is None
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert "31 aliases" in body["errors"][0]["message"]
    assert await f.org_count() == 0


async def test_tokens_over_the_limit_are_not_even_parsed(api):
    # given a registration padded to more than 3000 tokens
    padding = " ".join(["__typename"] * 3000)
    query = f"mutation($input: OrganisationRegisterInput!) {{ organisationRegister(input: $input) {{ {padding} }} }}"

    # when it is sent
    body = await api.gql(query, {"input": f.registration()}, expect_errors=True)

    # then parsing stops, and nobody was registered
    assert body.get("data") is None
    assert "more than 3000 tokens" in body["errors"][0]["message"]
    assert await f.org_count() == 0


async def test_cost_counts_pages_times_fields(api):
    # given an operator, and a page of organisations with their credit records costing 501
    operator = await f.operator_token(api)
    page = "organisations(first: 100) { edges { node { creditRecords { id kind } } } }"

    # when ten such pages are asked for at once (5010) and then nine (4509)
    refused = await api.gql(f"{{ {aliased('p', 10, page)} }}", token=operator, expect_errors=True)
    allowed = await api.gql(f"{{ {aliased('p', 9, page)} }}", token=operator)

    # then the first is too costly, with its cost and the limit, and the second is answered
    assert refused.get("data") is None
    assert codes(refused) == ["QUERY_TOO_COSTLY"]
    assert refused["errors"][0]["extensions"].items() >= {"cost": 5010, "limit": 5000}.items()
    assert len(allowed["data"]) == 9


async def test_nested_fragments_are_measured_once_each(api):
    # given 2**20 spreads of a field written in about 200 tokens
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20)]
    query = "query { ...F0 } " + " ".join(fragments) + " fragment F20 on Query { serverTime }"

    # when it is sent
    started = time.perf_counter()
    body = await api.gql(query, expect_errors=True)
    elapsed = time.perf_counter() - started

    # then it is refused as too costly at once (walking every spread took seconds, doubling per fragment)
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert body["errors"][0]["extensions"]["cost"] == 2**20
    assert elapsed < 1


async def test_an_unknown_fragment_is_an_ordinary_validation_error(api):
    # when a query spreads a fragment it does not define
    body = await api.gql("{ ...Missing }", expect_errors=True)

    # then the standard rule names it (the limit rules do not trip over it)
    assert [e["message"] for e in body["errors"]] == ["Unknown fragment 'Missing'."]


async def test_validation_rules_are_built_once_so_the_cache_hits(api):
    # given a query text this server has never seen
    query = f"{{ t{uuid.uuid4().hex}: serverTime }}"
    cache = _get_validate_cache(1024)
    before = cache.cache_info()

    # when it is sent twice
    await api.gql(query)
    await api.gql(query)

    # then the second validation came from the cache (the rule objects are the same)
    after = cache.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 1


async def test_anonymous_introspection_is_closed_in_production(db):
    # given a schema built as production builds it
    schema = build_schema(anonymous_introspection=False)

    # when an anonymous caller and a signed-in one introspect
    anonymous = await schema.execute(INTROSPECT, context_value=context())
    signed_in = await schema.execute(INTROSPECT, context_value=context(BIDDER))
    typename = await schema.execute("{ __typename }", context_value=context())

    # then only the signed-in caller gets the schema
    assert anonymous.data is None
    assert "introspection" in anonymous.errors[0].message.lower()
    assert signed_in.errors is None
    assert {"name": "Organisation"} in signed_in.data["__schema"]["types"]
    assert typename.data == {"__typename": "Query"}


async def test_anonymous_introspection_is_open_in_development(api):
    # when an anonymous caller introspects the development server
    body = await api.gql(INTROSPECT)

    # then it gets the schema
    assert {"name": "Organisation"} in body["data"]["__schema"]["types"]


@strawberry.type
class Buggy:
    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("connection to db://admin:hunter2@10.0.0.5 lost")

    @strawberry.field
    def refused(self) -> str:
        raise InvalidInput(field="first")

    @strawberry.field(permission_classes=[IsOperator])
    def gated(self, info: Info) -> str:
        return "ok"


async def test_an_unexpected_error_shows_only_the_request_id(caplog):
    # given a schema with the masking extension, and a resolver that fails with a secret in its message
    schema = strawberry.Schema(query=Buggy, extensions=[MaskUnexpected])

    # when it is queried
    with caplog.at_level(logging.ERROR, logger="palmtrade.graphql"):
        result = await schema.execute("{ broken }", context_value=context(request_id="req-4a7f19c2"))

    # then the client sees the request id to quote, not the original text
    error = result.errors[0]
    assert "req-4a7f19c2" in error.message
    assert "hunter2" not in error.message
    assert error.extensions == {"code": "INTERNAL", "requestId": "req-4a7f19c2"}

    # and the log keeps the original, with the same request id
    assert any("req-4a7f19c2" in r.getMessage() and "hunter2" in r.getMessage() for r in caplog.records)


async def test_expected_errors_keep_their_code():
    # given the same schema
    schema = strawberry.Schema(query=Buggy, extensions=[MaskUnexpected])

    # when a resolver refuses the input, and a bidder calls an operator's field
    refused = await schema.execute("{ refused }", context_value=context(request_id="req-00000001"))
    gated = await schema.execute("{ gated }", context_value=context(BIDDER))

    # then both keep their code, and neither is reported as a server bug
    assert refused.errors[0].extensions == {"code": "INVALID_INPUT", "field": "first"}
    assert "first" in refused.errors[0].message
    assert gated.errors[0].extensions == {"code": "FORBIDDEN"}


async def test_a_well_formed_request_id_is_echoed_and_any_other_replaced(api):
    # when a client sends a well-formed X-Request-ID, a malformed one, and none
    echoed = await api.http.post("/graphql", json={"query": "{ serverTime }"}, headers={"x-request-id": "app-7f3a9c01"})
    replaced = await api.http.post("/graphql", json={"query": "{ serverTime }"}, headers={"x-request-id": "bad id!"})
    generated = await api.http.post("/graphql", json={"query": "{ serverTime }"})
    refused = await api.http.post(
        "/graphql",
        json={"query": "{ serverTime }"},
        headers={"authorization": "Bearer x", "x-request-id": "app-00000002"},
    )

    # then the first is echoed, the others get a fresh id, and even a 401 carries it
    assert echoed.headers["x-request-id"] == "app-7f3a9c01"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    assert replaced.headers["x-request-id"] != generated.headers["x-request-id"]
    assert refused.status_code == 401
    assert refused.headers["x-request-id"] == "app-00000002"
    assert refused.json()["errors"][0]["extensions"]["requestId"] == "app-00000002"
