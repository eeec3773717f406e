"""Where a persisted query's CPU goes in one process, lean path off and on (schema/lean.py, issue 21).

Not a bench of the served stack (bench/persisted.py is): the app is called through ASGI, without uvicorn, on a fresh
SQLite file holding the demo city and 40 generated announcements. The app's own `query Me` and the executed home
screen (`AnnouncementList`, `Cache-Control: no-cache`) are sent by hash, in rounds alternating LEAN_PERSISTED off
and on. It prints the main thread's CPU per request (`time.thread_time`, so the SQLite thread's work is not in
it) of the app call, of strawberry's `Schema.execute`, of its execution step, and of the lean run (inside that step,
or before the pipeline when the query is answered early, `Schema.execute` then not called).

    .venv/bin/python bench/lean_breakdown.py --requests 300 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LOGIN = "mutation($i: AuthLoginInput!) { authLogin(input: $i) { ... on SignedIn { session { accessToken } } } }"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    import persisted as bench  # bench/persisted.py: the database it prepares and the stored documents

    folder = tempfile.mkdtemp(prefix="palmtrade-lean-")
    url, secret = f"sqlite://{folder}/lean.sqlite3", "s" * 48
    setup = multiprocessing.get_context("spawn").Process(target=bench.prepare, args=(url, secret, 40))
    setup.start()
    setup.join()
    os.environ.update(DATABASE_URL=url, SECRET_KEY=secret, SEED_DEMO="0", RUN_WORKERS="0", REDIS_URL="")
    os.chdir(folder)
    asyncio.run(measure(bench, args.requests, args.rounds))


async def measure(bench: Any, requests: int, rounds: int) -> None:
    import httpx
    import strawberry.schema.schema as strawberry_schema

    import schema.lean
    from api.app import create_app
    from api.seed import DEMO_PASSWORD
    from api.settings import Settings

    spent = {"app": 0.0, "schema": 0.0, "execution": 0.0, "lean": 0.0}

    def timed(key: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return await call(*args, **kwargs)
            finally:
                spent[key] += time.thread_time() - started

        return wrapper

    strawberry_schema.Schema.execute = timed("schema", strawberry_schema.Schema.execute)  # type: ignore[method-assign]
    strawberry_schema.Schema._execute_operation = timed(  # type: ignore[method-assign]
        "execution", strawberry_schema.Schema._execute_operation
    )
    schema.lean.LeanPlans.execute = timed("lean", schema.lean.LeanPlans.execute)  # type: ignore[method-assign]
    schema.lean.LeanPlans.answer = timed("lean", schema.lean.LeanPlans.answer)  # type: ignore[method-assign]
    app = create_app(Settings.from_env())
    served = timed("app", app.__call__)

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await served(scope, receive, send)

    async with app.router.lifespan_context(app):
        plans = app.state.services.lean
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://bench") as client:
            variables = {"i": {"phone": "13800000001", "password": DEMO_PASSWORD}}
            reply = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
            token = reply.json()["data"]["authLogin"]["session"]["accessToken"]
            headers = {"authorization": f"Bearer {token}", "cache-control": "no-cache"}

            def by_hash(name: str, variables: dict[str, Any]) -> dict[str, Any]:
                sha256 = bench.operation(name)[1]
                return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}, "variables": variables}

            targets = {"Me": by_hash("Me", {}), "AnnouncementList": by_hash("AnnouncementList", {"first": 20})}

            async def burst(name: str, count: int) -> None:
                for _ in range(count):
                    reply = await client.post("/graphql", json=targets[name], headers=headers)
                    if reply.status_code != 200 or b'"errors"' in reply.content:
                        raise RuntimeError(f"{name}: {reply.content[:300]!r}")

            for name in targets:
                await burst(name, 50)  # plans built, caches warm
            rows: dict[tuple[str, bool], list[dict[str, float]]] = {}
            for _ in range(rounds):
                for enabled in (False, True):
                    plans.enabled = enabled
                    for name in targets:
                        spent.update(dict.fromkeys(spent, 0.0))
                        await burst(name, requests)
                        rows.setdefault((name, enabled), []).append({k: v / requests * 1e6 for k, v in spent.items()})
    for (name, enabled), measured in sorted(rows.items()):
        best = min(measured, key=lambda row: row["app"])
        label = f"lean_breakdown_{name}_{'lean' if enabled else 'graphql_core'}"
        for key, value in best.items():
            print(f"{label}_{key}: {value:.0f} us")
        print(f"# {label}: app per round {' '.join(str(round(row['app'])) for row in measured)} us", file=sys.stderr)


if __name__ == "__main__":
    main()
