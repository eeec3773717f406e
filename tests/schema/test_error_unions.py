"""Every mutation's result union holds every business error the services it calls can raise.

A resolver made with @mutation (schema/errors.py) answers a DomainError as the union's member; an error missing
from the union would reach the phone as a top-level GraphQL error, with no typed code for the app to handle. The
union is built from the services' @raises declarations; this reads each resolver's body (tests/support/
raise_analysis.py) and checks the union against what it can really raise.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import FunctionType
from typing import Any

import schema
from domain.wiring import wire
from tests.support.raise_analysis import Analysis, name, uncovered


def mutation_resolvers() -> Iterator[tuple[FunctionType, frozenset[Any]]]:
    """Each @mutation resolver of the schema, with the errors its union allows."""
    seen: set[FunctionType] = set()
    for info in pkgutil.walk_packages(schema.__path__, "schema."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            definition = getattr(value, "__strawberry_definition__", None) if isinstance(value, type) else None
            for field in getattr(definition, "fields", ()):
                resolver = field.base_resolver
                answer = resolver.wrapped_func if resolver is not None else None
                allowed = getattr(answer, "__allowed__", None)
                body = getattr(answer, "__wrapped__", None)
                if allowed is not None and isinstance(body, FunctionType) and body not in seen:
                    seen.add(body)
                    yield body, frozenset(allowed)


def test_each_mutation_union_holds_what_its_services_raise() -> None:
    wire()
    resolvers = list(mutation_resolvers())
    assert resolvers, "no resolver is made with @mutation"
    analysis = Analysis()
    missing = {
        name(body): sorted(e.__name__ for e in lost)
        for body, allowed in resolvers
        if (lost := uncovered(analysis.raised(body), allowed))
    }
    assert not missing, f"mutations whose result union misses errors their services raise: {missing}"


async def _withdraw_resolver(info: Any, bid_id: int) -> Any:  # a resolver as the schema writes one
    from domain.tendering import services as tendering

    return await tendering.withdraw(info.context.actor, bid_id)


def test_a_union_that_forgets_an_error_is_caught() -> None:
    from domain.tendering.errors import BidDeadlinePassed

    raised = Analysis(packages=("domain.", "schema.", "tests.")).raised(_withdraw_resolver)  # type: ignore[arg-type]
    assert BidDeadlinePassed in raised  # from the withdraw transition's guard, through the service
    assert BidDeadlinePassed in uncovered(raised, frozenset())
    assert not uncovered(raised, frozenset({BidDeadlinePassed, *raised}))


def test_resolvers_map_errors_only_through_mutation() -> None:
    """The boilerplate is one decorator: no resolver maps a DomainError to a union member by hand. (Queries may
    still catch one to answer null for an object the caller may not see.)"""
    from pathlib import Path

    root = Path(schema.__file__).parent
    by_hand = [
        str(path.relative_to(root.parent))
        for path in sorted(root.rglob("*.py"))
        if path.name != "errors.py" and "as_error(" in path.read_text()
    ]
    assert not by_hand, f"resolvers that map business errors by hand instead of @mutation: {by_hand}"
