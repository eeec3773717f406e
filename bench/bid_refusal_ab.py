"""A bid's refusal without the auction's row lock (migration 0056) against 0028's function, which took the lock
first: both on one PostgreSQL database, alternated round by round (issue 21, bench/README.md "(14)").

Not a bench of the served stack (bench/auction.py is): what one hot lot's row lock admits at the SQL level, where
the lever acts. The database is seeded as bench/auction.py seeds it (a hot lot, `--bidders` qualified bidders).
Each round installs one function, then the other (`CREATE OR REPLACE`, the order alternating every round), and for
each `--connections` C runs C asyncpg connections on the hot lot for `--seconds`, sending what place_bid sends
(`SELECT * FROM auction_bid_place(...)` with a warm bidder's parameters), in two bidding models:

- `ticket`: bench/auction.py's SQL ceiling: each bid takes the next price as it is sent, so it comes back refused
  only when another connection overtook it on its way to the lock;
- `race`: each connection bids the price it last saw plus one increment (a phone bidding on what the live feed
  showed it), each bid from the next of the connection's bidders: on a hot lot most of these arrive too low.

Printed per model, connections and function (`0028`, `0056`): accepted and refused bids/s, and the PostgreSQL CPU
of this database's backends per call; then per model and connections the medians' ratios 0056 / 0028.

    .venv/bin/python bench/bid_refusal_ab.py --postgres postgres://postgres@127.0.0.1:5432/test --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import itertools
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.auction import START_PRICE, STEP, log, postgres_cpu, seed  # noqa: E402
from bench.publication import create_database, drop_database  # noqa: E402

FUNCTIONS = {
    "0028": "domain.migrations.0028_listing_reverse_auction",
    "0056": "domain.migrations.0056_bid_refused_without_the_lock",
}
MODELS = ("ticket", "race")


async def run_calls(
    url: str, lot_id: int, entries: list[tuple[int, str, int]], connections: int, seconds: float, model: str
) -> tuple[float, float, float]:
    """(accepted/s, refused/s, PostgreSQL CPU seconds per call) of `connections` connections for `seconds`."""
    import asyncpg

    from domain.auctions.services import ONE_STATEMENT
    from domain.auctions.states import REMIND_BEFORE
    from domain.common.events import Audience
    from domain.common.idempotency import KEY_LIFETIME

    dsn = "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    public = json.dumps(Audience(public=True).as_json())
    operators = json.dumps(Audience().as_json())
    row = await conns[0].fetchrow("SELECT id, created_at, current_price_fen FROM auction WHERE lot_id = $1", lot_id)
    scope = (row["id"], row["created_at"])
    price = START_PRICE if row["current_price_fen"] is None else row["current_price_fen"]
    tickets = itertools.count(price + STEP, STEP)
    counts = {"placed": 0, "refused": 0}

    async def one(conn: Any, k: int, amount: int) -> int:
        org_id = entries[k % len(entries)][2]
        answer = await conn.fetchrow(
            ONE_STATEMENT,
            lot_id,
            amount,
            datetime.now(UTC),
            True,
            REMIND_BEFORE,
            org_id,
            org_id,  # the seeded users' ids are their organisations'
            "bench.bid_refusal_ab",
            "127.0.0.1",
            False,
            scope[0],
            scope[1],
            False,  # a warm bidder: its network fact was kept already
            "127.0.0.1",
            None,
            None,
            None,
            None,
            KEY_LIFETIME,
            uuid.uuid4(),
            uuid.uuid4(),
            uuid.uuid4(),
            public,
            operators,
        )
        counts["placed" if answer["verdict"] == "placed" else "refused"] += 1
        return int(answer["price_now"] or amount)

    async def worker(conn: Any, until: float, offset: int) -> None:
        seen, sent = price, 0
        while time.perf_counter() < until:
            amount = next(tickets) if model == "ticket" else seen + STEP
            seen = await one(conn, offset + sent * connections, amount)
            sent += 1

    try:
        await asyncio.gather(*(worker(c, time.perf_counter() + 0.3, i) for i, c in enumerate(conns)))
        counts.update(placed=0, refused=0)
        began, pg0 = time.perf_counter(), postgres_cpu(url)
        await asyncio.gather(*(worker(c, began + seconds, i) for i, c in enumerate(conns)))
        took = time.perf_counter() - began
        pg = postgres_cpu(url) - pg0
        calls = max(1, counts["placed"] + counts["refused"])
        return counts["placed"] / took, counts["refused"] / took, pg / calls
    finally:
        # the outbox rows these wrote are nobody's: kept out of the next run's way
        await conns[0].execute("DELETE FROM outbox_event WHERE actor_label = 'bench.bid_refusal_ab'")
        for conn in conns:
            await conn.close()


async def main(args: argparse.Namespace) -> int:
    from tortoise import Tortoise, connections

    from api.manage import migrate
    from api.settings import Settings
    from domain.db import tortoise_config
    from domain.wiring import wire

    db = await create_database(args.postgres)
    if not db.postgres:
        log("--postgres names no PostgreSQL server: this bench is PostgreSQL's (SQLite keeps bids in Python)")
        return 2
    results: dict[tuple[str, int, str], list[tuple[float, float, float]]] = {}
    try:
        await migrate(Settings(database_url=db.url))
        await Tortoise.init(config=tortoise_config(db.url))
        wire()
        seeded = await seed(args.bidders)
        lot_id = seeded.lots["sql"]
        texts = {name: importlib.import_module(module).FUNCTION for name, module in FUNCTIONS.items()}
        for r in range(args.rounds):
            order = list(texts) if r % 2 == 0 else list(reversed(texts))
            for name in order:
                await connections.get("default").execute_script(texts[name])
                for model in MODELS:
                    for c in args.connections:
                        accepted, refused, cpu = await run_calls(db.url, lot_id, seeded.entries, c, args.seconds, model)
                        results.setdefault((model, c, name), []).append((accepted, refused, cpu))
                        log(
                            f"round {r + 1} {name} {model} c{c}: {accepted:.0f} accepted/s, {refused:.0f} refused/s, "
                            f"PostgreSQL {cpu * 1e6:.0f} us a call"
                        )
        await Tortoise.close_connections()
    finally:
        await drop_database(db)

    def median(model: str, c: int, name: str, i: int) -> float:
        return statistics.median(v[i] for v in results[(model, c, name)])

    for model in MODELS:
        for c in args.connections:
            for name in FUNCTIONS:
                print(f"bid_{model}_c{c}_{name}_accepted_per_s: {median(model, c, name, 0):.0f} bids/s")
                print(f"bid_{model}_c{c}_{name}_refused_per_s: {median(model, c, name, 1):.0f} bids/s")
                print(f"bid_{model}_c{c}_{name}_postgres_cpu_per_call: {median(model, c, name, 2) * 1e6:.0f} us")
            before, after = (median(model, c, n, 0) for n in FUNCTIONS)
            print(f"bid_{model}_c{c}_accepted_0056_vs_0028: {after / max(before, 1e-9):.2f} x")
            before, after = (median(model, c, n, 2) for n in FUNCTIONS)
            print(f"bid_{model}_c{c}_postgres_cpu_0056_vs_0028: {after / max(before, 1e-12):.2f} x")
    print(f"# rounds={args.rounds} seconds={args.seconds} bidders={args.bidders}")
    return 0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--postgres", required=True, help="a PostgreSQL server URL (a database of its own is made there)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--bidders", type=int, default=200)
    p.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
