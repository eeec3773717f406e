"""The lean path for the contract's queries (schema/lean.py) answers byte for byte what graphql-core answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphql import NamedTypeNode, NonNullTypeNode, OperationDefinitionNode, OperationType, parse

from api.seed import DEMO_PASSWORD, seed_demo_city
from mobile_contract import gate
from tests import factories as f
from tests.mobile_contract import test_operations_run as contract

OPERATIONS = {op.name: op for op in gate.load_operations()}
# what differs between two runs of the same query whichever path runs it: an evidence package's ES256 signature
# is randomised (ECDSA), and with it the JWS text and its hash; the rest of the answer is compared; a credit exchange
# export is signed the same way and carries the time it was issued
NOT_REPEATABLE: dict[str, frozenset[str]] = {
    "EvidencePackage": frozenset({"jws", "sha256"}),
    "CreditExchangeExport": frozenset({"package", "sha256", "issuedAt"}),
}


def comparable(name: str, answer: bytes) -> bytes | Any:
    masked = NOT_REPEATABLE.get(name)
    if masked is None:
        return answer

    def mask(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "<masked>" if k in masked else mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    return mask(json.loads(answer))


async def sign_in(api: Any, phone: str) -> str:
    return await f.login(api, phone, DEMO_PASSWORD)


async def both(api: Any, name: str, variables: dict[str, Any], token: str | None) -> tuple[bytes, bytes]:
    op = OPERATIONS[name]
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}}, "variables": variables}
    headers = {"cache-control": "no-cache", **({"authorization": f"Bearer {token}"} if token else {})}
    answers = []
    for enabled in (False, True):
        api.services.lean.enabled = enabled
        try:
            reply = await api.http.post("/graphql", json=body, headers=headers)
        finally:
            api.services.lean.enabled = True
        answers.append(reply.content)
    return answers[0], answers[1]


async def test_me_and_the_home_screen(api):
    # given
    await seed_demo_city(b"secret")
    token = await sign_in(api, "13900000001")
    stats = api.services.lean.stats
    executed = stats.executed
    # when
    me = await both(api, "Me", {}, token)
    screen = await both(api, "AnnouncementList", {"first": 20}, token)
    # then
    assert me[0] == me[1]
    assert screen[0] == screen[1]
    assert b'"errors"' not in me[0]
    assert stats.executed == executed + 2


def is_query(op: gate.Operation) -> bool:
    document = parse(op.text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return any(d.operation is OperationType.QUERY for d in operations)


def required_fallback(op: gate.Operation, world: Any) -> dict[str, Any]:
    """Variables for a query whose contract-test values need an earlier mutation's answer: ids of the world's
    lot (an object of another type reads as null or NotFound, which is compared as well)."""
    document = parse(op.text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if not isinstance(definition.type, NonNullTypeNode) or definition.default_value is not None:
            continue
        named = definition.type.type
        type_name = named.name.value if isinstance(named, NamedTypeNode) else ""
        values[definition.variable.name.value] = {"ID": world.lot_id, "Int": 1, "Boolean": True}.get(type_name, "道路")
    return values


def variables_of(world: Any) -> dict[str, Callable[[Any], dict[str, Any]]]:
    listed: dict[str, Callable[[Any], dict[str, Any]]] = {}
    for name, variables, *_ in [*contract.APP, *contract.KIOSK, *contract.INTEGRATOR]:
        listed.setdefault(name, variables)
    return listed


async def test_every_contract_query_answers_alike_on_both_paths_for_every_role(api, manual_clock, monkeypatch):
    # given the demo city, and the contract test's world in it (its operator the demo city's): a sealed tender,
    # an auction, a terminal, an integrator
    await seed_demo_city(b"secret")

    async def demo_operator(api: Any) -> str:
        return await sign_in(api, "13800000001")

    monkeypatch.setattr(f, "operator_token", demo_operator)
    world = await contract.build_world(api, manual_clock)
    await api.dispatch()
    roles: dict[str, str | None] = {
        "anonymous": None,
        "bidder": world.tokens["app"],
        "tenderer": world.tokens[contract.TENDERER],
        "operator": world.tokens[contract.OPERATOR],
        "supervisor": world.tokens[contract.SUPERVISOR],
        "kiosk": world.tokens["kiosk"],
        "integrator": world.tokens["integrator"],
        "demo bidder": await sign_in(api, "13900000001"),
        "demo supervisor": await sign_in(api, "13800000002"),
    }
    listed = variables_of(world)
    queries = [op for op in OPERATIONS.values() if is_query(op)]
    stats = api.services.lean.stats
    # when every query is sent by every role, through graphql-core and then through the lean path
    differing: dict[str, tuple[bytes, bytes]] = {}
    lean_without_errors = answered_without_errors = 0
    for op in queries:
        try:
            variables = listed[op.name](world) if op.name in listed else required_fallback(op, world)
        except (KeyError, IndexError, TypeError):
            variables = required_fallback(op, world)
        for role, token in roles.items():
            executed = stats.executed
            plain, lean = await both(api, op.name, variables, token)
            if comparable(op.name, plain) != comparable(op.name, lean):
                differing[f"{op.name} as {role}"] = (plain, lean)
            if b'"errors"' not in lean:
                answered_without_errors += 1
                lean_without_errors += stats.executed - executed
    # then
    assert differing == {}
    assert lean_without_errors == answered_without_errors  # every answer without errors came from the lean run
    assert answered_without_errors > len(queries)  # most queries answered someone without errors
    assert stats.early > 0  # planned queries answered before strawberry's pipeline
    assert stats.replayed > 0  # refusals and errors: graphql-core's answers, in the pipeline
