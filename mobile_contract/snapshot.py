"""The committed SDL the app, kiosks and integrators build against.

`python -m mobile_contract.snapshot --write` regenerates it deliberately; `--check` (and the test
suite) fails when the served schema differs from it.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from schema.build import build_schema

SNAPSHOT = Path(__file__).with_name("schema.graphql")


def served_sdl() -> str:
    return build_schema().as_str().rstrip() + "\n"


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
        SNAPSHOT.write_text(served_sdl(), encoding="utf-8")
        print(f"wrote {SNAPSHOT}")
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
    print("schema matches the snapshot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
