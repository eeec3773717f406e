"""Every type, field, argument, input field and enum value of the served schema says what it is.

Clients read these in GraphiQL and in the code their generators write (issue 19). A description that
only repeats the name tells nobody anything, so it counts as missing.
"""

from __future__ import annotations

import re

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema.build import build_schema

BUILT_IN = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def _says_something(description: str | None, name: str) -> bool:
    if not description or not description.strip():
        return False
    squeeze = re.compile(r"[\W_]+")
    return squeeze.sub("", description).lower() != squeeze.sub("", name).lower()


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Each type, field, argument, input field and enum value without a useful description."""
    missing: list[str] = []
    for name, t in sorted(schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        named: GraphQLNamedType = t
        if not _says_something(named.description, name):
            missing.append(f"type {name}")
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in t.fields.items():
                if not _says_something(field.description, field_name):
                    missing.append(f"field {name}.{field_name}")
                for arg_name, arg in field.args.items():
                    if not _says_something(arg.description, arg_name):
                        missing.append(f"argument {name}.{field_name}({arg_name})")
        elif isinstance(t, GraphQLInputObjectType):
            for field_name, input_field in t.fields.items():
                if not _says_something(input_field.description, field_name):
                    missing.append(f"input field {name}.{field_name}")
        elif isinstance(t, GraphQLEnumType):
            for value_name, value in t.values.items():
                if not _says_something(value.description, value_name):
                    missing.append(f"enum value {name}.{value_name}")
    return missing


def test_every_element_of_the_schema_has_a_description():
    # given the schema the server builds
    missing = undescribed(build_schema()._schema)

    # then nothing lacks a description
    assert not missing, "add a description to:\n" + "\n".join(missing)


def test_a_description_that_repeats_the_name_counts_as_missing():
    assert not _says_something("Lot id", "lotId")
    assert not _says_something("", "lotId")
    assert not _says_something(None, "lotId")
    assert _says_something("The lot the bid is for.", "lotId")
