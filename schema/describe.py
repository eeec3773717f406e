"""Descriptions of enum values whose Python enum lives in domain/, which knows nothing of GraphQL."""

from enum import Enum


def describe_values(enum: type[Enum], descriptions: dict[str, str]) -> None:
    """Gives the GraphQL values of an enum made with strawberry.enum their descriptions, by value name."""
    definition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    unknown = set(descriptions) - {value.name for value in definition.values}
    if unknown:
        raise ValueError(f"{definition.name} has no values {sorted(unknown)}")
    for value in definition.values:
        if value.name in descriptions:
            value.description = descriptions[value.name]
