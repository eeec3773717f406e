"""Typed reads tortoise's stubs get wrong, in one place."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from tortoise.queryset import ValuesListQuery

T = TypeVar("T")


async def column(query: ValuesListQuery[Any], kind: type[T]) -> list[T]:
    """The values of a `values_list(field, flat=True)` query, typed as `kind` (not converted).

    tortoise types every awaited `values_list` as tuples, flat or not; the rows are bare values.
    """
    return cast(list[T], await query)
