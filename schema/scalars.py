"""Scalars of the trading domain, registered with the schema through StrawberryConfig.scalar_map."""

from typing import Any, NewType

import strawberry

MAX_SAFE = 2**53 - 1

Fen = NewType("Fen", int)


def _parse_fen(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_SAFE <= value <= MAX_SAFE:
        raise ValueError("Fen must be an integer number of fen within ±(2^53 - 1)")
    return value


SCALARS = {
    Fen: strawberry.scalar(
        name="Fen",
        serialize=int,
        parse_value=_parse_fen,
        description=(
            "An amount of money in fen (分, 1/100 yuan) as a JSON integer. GraphQL's Int stops at 2^31 - 1 "
            "(about 21.47 million yuan), below many lots, so money uses this scalar: up to 2^53 - 1, exact in "
            "JavaScript, Swift and Kotlin."
        ),
    )
}
