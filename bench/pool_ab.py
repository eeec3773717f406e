"""PostgreSQL's pool (domain/db_pool.py) against asyncpg's own, alternated in one process (bench/README.md, issue 21).

Each statement the app runs outside a transaction, and each transaction, takes a connection from the pool and gives
it back. Here one process holds three ways to run `SELECT 1` on the server: through asyncpg's pool, through
domain/db_pool.py's pool (an idle connection taken and given back in place), and on a connection held for the whole
round (no pool at all: the floor). Rounds alternate the order; the figure is this process's CPU per statement
(`time.process_time`: the client's side only, PostgreSQL's backend is another process), the median over rounds.

    .venv/bin/python bench/pool_ab.py --postgres postgres://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/pool_ab.py --postgres postgres://postgres@127.0.0.1:5432/test --rounds 2 --statements 200

Output, one figure a line, ``name: value unit``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def measure(url: str, rounds: int, statements: int) -> dict[str, list[float]]:
    import asyncpg

    from domain import db_pool
    from domain.db import PooledConnection

    settings = {**db_pool._DEFAULTS, "min_size": 2, "max_size": 10, "connection_class": PooledConnection}
    pools = {"stock": await asyncpg.Pool(url, **settings), "in_place": await db_pool.Pool(url, **settings)}
    held = await asyncpg.connect(url, connection_class=PooledConnection)
    figures: dict[str, list[float]] = {"stock": [], "in_place": [], "held": []}

    async def pooled(pool: Any) -> None:
        for _ in range(statements):
            async with pool.acquire() as con:
                await con.fetchval("SELECT 1")

    async def on_held() -> None:
        for _ in range(statements):
            await held.fetchval("SELECT 1")

    try:
        await pooled(pools["stock"])  # statements prepared, connections open
        await pooled(pools["in_place"])
        await on_held()
        arms = ("stock", "in_place", "held")
        for r in range(rounds):
            for arm in arms if r % 2 == 0 else arms[::-1]:
                started = time.process_time()
                await (on_held() if arm == "held" else pooled(pools[arm]))
                figures[arm].append((time.process_time() - started) / statements * 1e6)
    finally:
        await held.close()
        for pool in pools.values():
            await pool.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", required=True, help="a PostgreSQL server's database")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--statements", type=int, default=3000, help="statements per arm and round")
    args = parser.parse_args(argv)
    import uvloop

    url = args.postgres.replace("postgres://", "postgresql://", 1)
    figures = uvloop.run(measure(url, args.rounds, args.statements))
    medians = {arm: statistics.median(values) for arm, values in figures.items()}
    for arm, values in figures.items():
        print(f"pool_{arm}_cpu_per_statement: {medians[arm]:.1f} us")
        print(f"# pool_{arm}_cpu_per_statement: per round {' '.join(f'{v:.0f}' for v in values)} us", file=sys.stderr)
    print(f"pool_in_place_saves: {medians['stock'] - medians['in_place']:.1f} us")
    print(f"pool_stock_over_held: {medians['stock'] - medians['held']:.1f} us")
    print(f"pool_in_place_over_held: {medians['in_place'] - medians['held']:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
