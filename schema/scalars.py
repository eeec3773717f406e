"""Scalars of the trading domain, registered with the schema through StrawberryConfig.scalar_map.

A value a scalar refuses, inline in the document or as a variable, is the caller's mistake: the parsers raise
GraphQLError, which graphql-core reports as a validation error. Any other exception would reach MaskUnexpected as
a bug (INTERNAL, a traceback in the log).
"""

from typing import Any, NewType

import strawberry
from graphql import GraphQLError, IntValueNode, ValueNode, print_ast
from strawberry.types.scalar import ScalarDefinition

MAX_SAFE = 2**53 - 1
_SHOWN = 40  # characters of a refused value echoed back

Fen = NewType("Fen", int)


def optional_fen(value: int | None) -> Fen | None:
    return None if value is None else Fen(value)


_FEN_REFUSED = "Fen must be an integer number of fen within ±(2^53 - 1) / 金额须为 ±(2^53 - 1) 以内的整数（分）"


def _refused(message: str, shown: str, node: ValueNode | None = None) -> GraphQLError:
    if len(shown) > _SHOWN:
        shown = shown[:_SHOWN] + "…"
    return GraphQLError(f"{message}; found: {shown}", node)


def _parse_fen(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_SAFE <= value <= MAX_SAFE:
        raise _refused(_FEN_REFUSED, repr(value))
    return value


def _parse_fen_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    if not isinstance(node, IntValueNode):
        raise _refused(_FEN_REFUSED, print_ast(node), node)
    value = int(node.value)
    if not -MAX_SAFE <= value <= MAX_SAFE:
        raise _refused(_FEN_REFUSED, node.value, node)
    return value


SCALARS: dict[object, ScalarDefinition] = {
    Fen: strawberry.scalar(
        name="Fen",
        serialize=int,
        parse_value=_parse_fen,
        parse_literal=_parse_fen_literal,
        description=(
            "An amount of money in fen (分, 1/100 yuan) as a JSON integer. GraphQL's Int stops at 2^31 - 1 "
            "(about 21.47 million yuan), below many lots, so money uses this scalar: up to 2^53 - 1, exact in "
            "JavaScript, Swift and Kotlin."
        ),
    )
}
