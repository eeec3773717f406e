"""The schema executed directly, without a server: for tests of what resolvers answer to each actor."""

from __future__ import annotations

import functools
from typing import Any

import strawberry

from domain.common.actors import Actor
from schema.build import build_schema
from schema.context import Context


@functools.cache
def served() -> strawberry.Schema:
    """The schema, built once per test process as a server builds it once (a build is about 0.3 s of CPU; its
    fragment cache keys completed objects by their values, so objects of another test are never taken)."""
    return build_schema()


async def run(document: str, actor: Actor, **variables: Any) -> dict[str, Any]:
    """The document's data for `actor`; it must answer without errors."""
    result = await served().execute(
        document, variable_values=variables, context_value=Context(request=None, response=None, actor=actor)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data
