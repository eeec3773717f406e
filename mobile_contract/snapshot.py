"""The committed SDL the app, kiosks and integrators build against, and its possibleTypes.

`python -m mobile_contract.snapshot --write` regenerates both deliberately; `--check` (and the test
suite) fails when the served schema differs from them. possibleTypes.json maps every union and
interface to its object types, in the shape Apollo Client's `InMemoryCache({ possibleTypes })` takes
(Apollo Kotlin and iOS read the same from schema.graphql).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

import graphql

from schema.build import build_schema

SNAPSHOT = Path(__file__).with_name("schema.graphql")
POSSIBLE_TYPES = Path(__file__).with_name("possibleTypes.json")


def served_sdl() -> str:
    return build_schema().as_str().rstrip() + "\n"


def possible_types(sdl: str) -> str:
    """Each union and interface of the SDL with its object types, sorted, as JSON."""
    schema = graphql.build_schema(sdl)
    found = {
        name: sorted(t.name for t in schema.get_possible_types(kind))
        for name, kind in sorted(schema.type_map.items())
        if isinstance(kind, graphql.GraphQLUnionType | graphql.GraphQLInterfaceType) and not name.startswith("__")
    }
    return json.dumps(found, indent=2, ensure_ascii=False) + "\n"


def stale_possible_types() -> bool:
    """Whether possibleTypes.json differs from what the committed SDL gives."""
    committed = POSSIBLE_TYPES.read_text(encoding="utf-8") if POSSIBLE_TYPES.exists() else ""
    return committed != possible_types(SNAPSHOT.read_text(encoding="utf-8"))


def drift() -> str:
    """A unified diff from the committed snapshot to the served schema ('' when equal)."""
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    served = served_sdl()
    if committed == served:
        return ""
    return "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            served.splitlines(keepends=True),
            "mobile_contract/schema.graphql",
            "served schema",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mobile_contract.snapshot")
    parser.add_argument("--write", action="store_true", help="regenerate schema.graphql")
    args = parser.parse_args(argv)
    if args.write:
        sdl = served_sdl()
        SNAPSHOT.write_text(sdl, encoding="utf-8")
        POSSIBLE_TYPES.write_text(possible_types(sdl), encoding="utf-8")
        print(f"wrote {SNAPSHOT} and {POSSIBLE_TYPES.name}")
        return 0
    diff = drift()
    if diff:
        print(diff)
        print(
            "the served schema differs from mobile_contract/schema.graphql; "
            "if the change is deliberate, run `make schema`",
            file=sys.stderr,
        )
        return 1
    if stale_possible_types():
        print("mobile_contract/possibleTypes.json is stale; run `make schema`", file=sys.stderr)
        return 1
    print("schema matches the snapshot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
