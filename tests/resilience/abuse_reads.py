"""Every read the API offers, written out from the SDL, and a search for secrets in what comes back.

`reads(args)` makes one query per root field of Query whose required arguments `args` can fill, selecting
every field below it (unions and interfaces through each member) as deep as the limits allow, so a field
added later is read too. `found(secrets, text)` looks for each secret in an answer and in everything
base64 in it (a JWS payload such as the evidence package, an attachment).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)
from graphql.pyutils import Undefined

from tests.support.fuzz import SCHEMA

MAX_TOKENS = 2500  # below the server's 3,000
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\.\.\.|[{}():$!\[\]=@]")


@dataclass(frozen=True)
class Read:
    """One query: a root field with its arguments and everything below it."""

    field: str
    text: str
    variables: dict[str, Any]


def _required(field: GraphQLField) -> dict[str, str]:
    return {
        name: str(arg.type)
        for name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull)
        and arg.default_value is Undefined
        and (arg.ast_node is None or arg.ast_node.default_value is None)  # an SDL default is kept on the node
    }


def _leaf(kind: GraphQLNamedType) -> bool:
    return isinstance(kind, GraphQLScalarType | GraphQLEnumType)


def _object_fields(kind: GraphQLObjectType, depth: int, seen: dict[str, str]) -> list[str]:
    parts = []
    for name, field in kind.fields.items():
        if _required(field):
            continue
        shape = str(field.type)
        if seen.setdefault(name, shape) != shape:
            continue  # the same response name with another type under a sibling member would not validate
        inner = get_named_type(field.type)
        if _leaf(inner):
            parts.append(name)
        elif depth > 0:
            parts.append(f"{name} {selection(inner, depth - 1)}")
    return parts


def selection(kind: GraphQLNamedType, depth: int) -> str:
    """Every field of a type, `depth` object levels down (unions and interfaces through each member)."""
    if isinstance(kind, GraphQLUnionType | GraphQLInterfaceType):
        seen: dict[str, str] = {}
        members = [
            f"... on {m.name} {{ {' '.join(_object_fields(m, depth, seen)) or '__typename'} }}"
            for m in SCHEMA.get_possible_types(kind)
        ]
        return "{ __typename " + " ".join(members) + " }"
    assert isinstance(kind, GraphQLObjectType)
    return "{ __typename " + " ".join(_object_fields(kind, depth, {})) + " }"


def _tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def reads(args: Mapping[str, Iterable[Any]], field_args: Mapping[str, Mapping[str, Iterable[Any]]]) -> list[Read]:
    """A query per root field and per combination of values for its required arguments.

    `args` gives values by argument name; `field_args` by field, then argument name (it wins). A field
    with a required argument no one gives a value for is left out.
    """
    found = []
    for name, field in SCHEMA.query_type.fields.items():  # type: ignore[union-attr]
        needed = _required(field)
        choices: list[dict[str, Any]] = [{}]
        for arg in needed:
            values = list(field_args.get(name, {}).get(arg, args.get(arg, ())))
            choices = [{**c, arg: v} for c in choices for v in values]
        if needed and not choices:
            continue
        declared = ", ".join(f"${arg}: {kind}" for arg, kind in needed.items())
        passed = ", ".join(f"{arg}: ${arg}" for arg in needed)
        inner = get_named_type(field.type)
        for depth in (3, 2, 1, 0):
            below = "" if _leaf(inner) else " " + selection(inner, depth)
            text = f"query{f'({declared})' if declared else ''} {{ {name}{f'({passed})' if passed else ''}{below} }}"
            if _tokens(text) <= MAX_TOKENS:
                break
        found.extend(Read(name, text, variables) for variables in choices)
    return found


_BASE64 = re.compile(r"[A-Za-z0-9_\-+/]{16,}={0,2}")


def expanded(text: str) -> str:
    """The text and every base64 run in it decoded (a JWS payload, an attachment), recursively once."""
    decoded = []
    for run in _BASE64.findall(text):
        try:
            raw = base64.urlsafe_b64decode(run.replace("+", "-").replace("/", "_") + "=" * (-len(run) % 4))
        except (binascii.Error, ValueError):
            continue
        decoded.append(raw.decode("utf-8", "ignore"))
    more = "\n".join(decoded)
    return "\n".join([text, more, *(_decoded_once(more))])


def _decoded_once(text: str) -> list[str]:
    out = []
    for run in _BASE64.findall(text):
        try:
            raw = base64.urlsafe_b64decode(run.replace("+", "-").replace("/", "_") + "=" * (-len(run) % 4))
        except (binascii.Error, ValueError):
            continue
        out.append(raw.decode("utf-8", "ignore"))
    return out


def found(secrets: Mapping[str, str], text: str) -> list[str]:
    """The names of the secrets that appear in the text or in anything base64 in it."""
    haystack = expanded(text)
    return [name for name, secret in secrets.items() if secret in haystack]


Check = Callable[[str, str], list[str]]
