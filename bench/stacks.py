"""Where a profiled process spends its CPU: py-spy's raw (collapsed) stacks, as written by ``--profile DIR`` of
bench/auction.py and bench/persisted.py, summed into the shares bench/README.md quotes.

Samples whose innermost frame is the event loop itself (uvloop's C loop shows as ``Runner.run``; the selector of a
plain asyncio loop) are counted apart: py-spy cannot tell that native work from a wait on a busy machine. The other
samples are split three ways: by part of the process (HTTP request, outbox dispatcher, scheduler, other loops, loop
callbacks such as the database driver's protocol), by package of the innermost frame (self time), and by the
functions or packages named on the command line (inclusive: a sample counts for each one on its stack; a name
starting with ``@`` is a file path prefix, e.g. ``@graphql/execution``).

    .venv/bin/python bench/stacks.py DIR/*.txt --mark place_bid --mark @graphql/execution
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PARTS = [
    ("outbox dispatcher", ("Dispatcher.run_once",)),
    ("scheduler", ("scheduler_tick",)),
    ("request", ("RequestResponseCycle", "HttpToolsProtocol", "H11Protocol", "AuthMiddleware.__call__")),
    ("other loops", ("Lifecycle.beating",)),
]
PACKAGES = {
    "httptools": "uvicorn",
    "h11": "uvicorn",
    "uvloop": "asyncio",
    "orjson": "json",
    "pypika_tortoise": "pypika",
}
FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")

Frames = list[tuple[str, str]]


def samples(path: Path) -> Iterator[tuple[Frames, int]]:
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = []
        for frame in stack.split(";"):
            m = FRAME.match(frame)
            frames.append((m.group(1), m.group(2)) if m else (frame, ""))
        yield frames, int(count)


def package(file: str) -> str:
    head = file.split("/", 1)[0].removesuffix(".py")
    return PACKAGES.get(head, head)


def in_loop(frames: Frames) -> bool:
    func, file = frames[-1]
    return (func == "Runner.run" and file.startswith("asyncio/")) or file.startswith("selectors")


def report(path: Path, marks: list[str]) -> str:
    total = loop = 0
    parts: Counter[str] = Counter()
    own: Counter[str] = Counter()
    marked: Counter[str] = Counter()
    for frames, n in samples(path):
        total += n
        if in_loop(frames):
            loop += n
            continue
        names = [f for f, _ in frames]
        part = next((p for p, keys in PARTS if any(k in f for k in keys for f in names)), "loop callbacks")
        parts[part] += n
        own[package(frames[-1][1])] += n
        for mark in marks:
            if mark.startswith("@"):
                hit = any(file.startswith(mark[1:]) for _, file in frames)
            else:
                hit = any(mark in f for f in names)
            marked[mark] += n if hit else 0
    rest = max(1, total - loop)

    def shares(counter: Counter[str], top: int = 10) -> str:
        return "; ".join(f"{k} {100 * v / rest:.0f} %" for k, v in counter.most_common(top) if v)

    return "\n".join(
        [
            f"{path.name}: {total} samples, event loop itself {100 * loop / max(1, total):.0f} %; of the other {rest}:",
            f"  by part: {shares(parts)}",
            f"  self, by package: {shares(own)}",
            f"  inclusive: {'; '.join(f'{m} {100 * marked[m] / rest:.0f} %' for m in marks)}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--mark", action="append", default=[], help="a function name or @file-prefix (repeat)")
    args = parser.parse_args(argv)
    for path in args.files:
        print(report(path, args.mark))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
