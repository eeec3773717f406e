"""The outbox dispatcher's claim against an outbox that kept millions of dispatched events, in one run.

One run:

1. a fresh database (PostgreSQL when DATABASE_URL names a loopback server, else a SQLite file), migrated;
2. 200 undispatched events, and the claim timed (the Dispatcher's own statement: on PostgreSQL the UPDATE that claims
   the due rows FOR UPDATE SKIP LOCKED and marks them, RETURNING them; on SQLite its SELECT), in a transaction
   rolled back each time: the baseline, an outbox holding only what is due;
3. then ``--rows`` dispatched events written older than them (generate_series), ANALYZE, and the claim timed again,
   with the partial index of migration 0023 (``outbox_event_undispatched``) and without it (dropped for the
   measure and put back): what the claim costs when dispatched events are not purged, before and after 0023.

Output, one figure a line, ``name: value unit``, then the ratio to the baseline; the query plans go to stderr.
Goal (issue 21): the claim stays fast at 10 million rows (with the index, within a few times the baseline).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/palmtrade .venv/bin/python bench/outbox_claim.py
    .venv/bin/python bench/outbox_claim.py --scale tiny        # SQLite smoke test for CI
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.publication import create_database, drop_database  # noqa: E402

SCALES = {"default": 10_000_000, "small": 3_000_000, "tiny": 20_000}
DUE = 200
REPEATS = 50
INDEX = "outbox_event_undispatched"
INDEX_SQL = f"CREATE INDEX IF NOT EXISTS {INDEX} ON outbox_event (id) WHERE dispatched_at IS NULL"


def claim_sql(postgres: bool) -> str:
    from notifications.dispatch import _CLAIM, Dispatcher

    if postgres:
        return _CLAIM.replace("$1", "now()").replace("$2", str(DUE))
    return Dispatcher([])._due().limit(DUE).sql(params_inline=True)


async def fill(client, postgres: bool, rows: int, start: int) -> None:
    """`rows` dispatched events with ids from `start`, as the outbox keeps them after dispatch."""
    columns = (
        "id, event_id, type, object_type, object_id, outcome, actor_user_id, actor_org_id, actor_label, payload, "
        "audience, occurred_at, dispatched_at, attempts"
    )
    if postgres:
        await client.execute_script(
            f"INSERT INTO outbox_event ({columns}) SELECT g, md5(g::text)::uuid, 'auction.bid_placed', 'Lot', "
            "(g % 5000)::text, 'success', g % 9000, g % 700, 'user:1', '{\"amount_fen\": 100000, \"seq\": 1}', "
            '\'{"orgs": [], "users": [], "roles": ["operator"], "public": true}\', '
            "now() - interval '10 days' + g * interval '1 millisecond', "
            "now() - interval '10 days' + g * interval '1 millisecond', 0 "
            f"FROM generate_series({start}, {start + rows - 1}) AS g"
        )
    else:
        await client.execute_script(
            f"WITH RECURSIVE g(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM g WHERE n < {start + rows - 1}) "
            f"INSERT INTO outbox_event ({columns}) SELECT n, printf('%032x', n), 'auction.bid_placed', 'Lot', "
            "n % 5000, 'success', n % 9000, n % 700, 'user:1', '{\"amount_fen\": 100000}', '{\"public\": true}', "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 0 FROM g"
        )


async def timed_claim(client, sql: str) -> float:
    """The median milliseconds of the claim, each in its own transaction rolled back."""
    from tortoise.transactions import in_transaction

    times = []
    for _ in range(REPEATS):

        class Rollback(Exception):
            pass

        started = time.perf_counter()
        try:
            async with in_transaction() as conn:
                rows = await conn.execute_query_dict(sql)
                assert len(rows) == DUE, len(rows)
                times.append((time.perf_counter() - started) * 1000)
                raise Rollback
        except Rollback:
            pass
    return statistics.median(times)


async def plan(client, postgres: bool, sql: str) -> str:
    if postgres:
        from tortoise.transactions import in_transaction

        class Rollback(Exception):
            pass

        try:
            async with in_transaction() as conn:  # ANALYZE runs the claim, which marks the rows: undone
                rows = await conn.execute_query_dict("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
                raise Rollback
        except Rollback:
            pass
        return "\n".join(r["QUERY PLAN"] for r in rows)
    rows = await client.execute_query_dict("EXPLAIN QUERY PLAN " + sql)
    return "\n".join(str(r.get("detail")) for r in rows)


async def main(scale: str) -> None:
    from tortoise import Tortoise, connections

    from api.manage import migrate
    from api.settings import Settings
    from domain.common import events
    from domain.db import tortoise_config
    from tests.domain import factories as df

    rows = SCALES[scale]
    db = await create_database(os.environ.get("DATABASE_URL"))
    try:
        await migrate(Settings(database_url=db.url))
        await Tortoise.init(config=tortoise_config(db.url))
        client = connections.get("default")
        sql = claim_sql(db.postgres)
        print(f"claim: {sql}", file=sys.stderr)
        # the due events get ids after the dispatched ones, as they would in a running outbox
        await client.execute_script(f"SELECT setval('outbox_event_id_seq', {rows + 10})" if db.postgres else "SELECT 1")
        if not db.postgres:
            await client.execute_script(f"INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox_event', {rows + 10})")
        await df.outbox(DUE, events.Actor(user_id=1, roles=frozenset()))
        baseline = await timed_claim(client, sql)
        print(f"outbox_claim_ms_at_0_rows: {baseline:.3f} ms")

        started = time.perf_counter()
        await fill(client, db.postgres, rows, 1)
        await client.execute_script("ANALYZE outbox_event" if db.postgres else "ANALYZE")
        print(f"filled {rows} dispatched rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        with_index = await timed_claim(client, sql)
        print(f"-- plan at {rows} rows, with {INDEX}:\n{await plan(client, db.postgres, sql)}", file=sys.stderr)
        await client.execute_script(f"DROP INDEX {INDEX}")
        without = await timed_claim(client, sql)
        print(f"-- plan at {rows} rows, without it:\n{await plan(client, db.postgres, sql)}", file=sys.stderr)
        await client.execute_script(INDEX_SQL)

        print(f"outbox_claim_ms_at_{rows}_rows: {with_index:.3f} ms")
        print(f"outbox_claim_ms_at_{rows}_rows_without_partial_index: {without:.3f} ms")
        print(f"outbox_claim_vs_empty_at_{rows}_rows: {with_index / baseline:.2f} x")
        print(f"outbox_claim_vs_empty_at_{rows}_rows_without_partial_index: {without / baseline:.2f} x")
    finally:
        await Tortoise.close_connections()
        await drop_database(db)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    asyncio.run(main(parser.parse_args().scale))
