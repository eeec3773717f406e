"""Persisted operations: a typical app screen query sent as full text and as a persisted hash, against a
plain Starlette JSON endpoint served by the same process.

One run, on the embedded default (a fresh SQLite file, in-process broker) and, with ``--postgres URL``,
again on a fresh PostgreSQL database on that server (dropped afterwards):

1. the database migrated and seeded with the demo city;
2. one uvicorn server process, exactly as ``bench/http_baseline.py`` serves it (``create_app`` plus
   ``GET /bench/plain``);
3. a sign-in as the demo operator (the app sends its user's bearer token);
4. closed-loop load (http_baseline's load generator) against: ``GET /bench/plain``; the app's home
   screen ``AnnouncementList`` (20 cards) as the manifest's full text; the same by its SHA-256 alone
   (``extensions.persistedQuery``); and the same text with one extra space, which no manifest knows,
   so it takes strawberry's ParserCache/ValidationCache path (shown for comparison).

The persisted hash of a public screen is answered from the shared response cache (api/response_cache.py:
the answer kept per hash, variables and language until its max-age or the next published announcement);
``screen_query_persisted_executed`` sends the same hash with ``Cache-Control: no-cache`` (what the app
sends on pull to refresh), so the operation runs on every request from its pre-parsed document: that
figure is the cost of executing the screen, which the cache saves. Executing still reads the page of
announcements from the database every time; each card, once completed, is taken from the fragment cache
(schema/fragment_cache.py: a published announcement's card is a function of its row) while the selection
and the row's values are the same, so the figure is the steady state of a server that has shown those cards
once (warm-up included); the first request after a start completes every card.

Output, one figure a line, ``name: value unit``: req/s of each, the ratios, and whether the issue's
goal (the persisted path at least 40 % of plain Starlette) is met. Figures per database are prefixed
``sqlite_`` / ``postgres_``. Issue 21's (bench/README.md): ``screen_executed_cpu_vs_plain``,
``screen_cached_rps_vs_plain``, ``me_cpu_vs_plain`` and ``me_persisted_cpu_vs_plain`` (the app's own Me by
hash), also unprefixed (PostgreSQL's when it ran). The database holds the demo city and 40 generated
announcements (``--announcements``), so the screen shows 20 real cards (``*_screen_cards``). ``--profile DIR``
samples the server per target with py-spy.

``--public-reads`` adds the bidding day's two other anonymous app reads by hash, each executed (``no-cache``)
and from the response cache: ``AnnouncementSearch`` (``first: 10``, the bidding day's word with the most hits,
``*_search_word``) and ``AnnouncementDetail`` (the newest published announcement), printed as
``search_{executed,cached}_cpu_vs_plain`` and ``detail_{executed,cached}_cpu_vs_plain``.

    .venv/bin/python bench/persisted.py                    # 5 s per target, 32 connections
    .venv/bin/python bench/persisted.py --scale tiny       # smoke test for CI (a few seconds)
    .venv/bin/python bench/persisted.py --postgres postgres://postgres@127.0.0.1:5432/palmtrade
    .venv/bin/python bench/persisted.py --public-reads     # also search and one announcement, executed vs cached

Exits non-zero if any request fails or setup fails; a missed goal is reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_baseline as hb  # the server, setup helpers and the load generator

ROOT = hb.ROOT
GOAL = 0.40
SCREEN = "AnnouncementList"
VARIABLES = {"first": 20}
# what tests/resilience/test_bidding_day.py's anonymous phones search for (one of them per run: the most hits)
SEARCH_WORDS = ["道路", "维修", "地块", "工程", "出让", "施工", "青岛"]
PUBLIC_READS = (
    ("search", "AnnouncementSearch", "searchAnnouncementsConnection"),
    ("detail", "AnnouncementDetail", "announcement"),
)


def screen_document() -> tuple[str, str]:
    """The stored screen query as the app sends it, and its manifest hash."""
    return operation(SCREEN)


def operation(name: str) -> tuple[str, str]:
    """A stored operation's text and manifest hash."""
    from mobile_contract import gate

    op = next(o for o in gate.load_operations() if o.name == name)
    return op.text, op.sha256


def public_read_variables(base: str) -> dict[str, dict[str, object]]:
    """The variables of the public reads: the bidding day's word with the most hits, the newest announcement."""
    import httpx

    def run(name: str, variables: dict[str, object]) -> Any:
        reply = httpx.post(f"{base}/graphql", json={"query": operation(name)[0], "variables": variables}, timeout=10.0)
        return reply.json()["data"]

    counts = {
        word: run("AnnouncementSearch", {"query": word, "first": 1})["searchAnnouncementsConnection"]["totalCount"]
        for word in SEARCH_WORDS
    }
    listed = run(SCREEN, {"first": 1})["announcements"]["edges"]
    return {
        "search": {"query": max(SEARCH_WORDS, key=lambda w: counts[w]), "first": 10},
        "detail": {"id": listed[0]["node"]["id"]},
    }


def public_targets(variables: dict[str, dict[str, object]]) -> list[hb.Target]:
    """Each public read by hash, anonymous (as the bidding day's browsers), executed (no-cache) and cached."""
    found = []
    for short, name, root in PUBLIC_READS:
        body = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation(name)[1]}},
            "operationName": name,
            "variables": variables[short],
        }
        payload = json.dumps(body).encode()
        for how, headers in (("executed", {"cache-control": "no-cache"}), ("cached", {})):
            found.append(
                hb.Target(
                    f"{short}_{how}", "POST", "/graphql", body=payload, headers=headers, graphql=True, expect=root
                )
            )
    return found


def targets(token: str) -> list[hb.Target]:
    text, sha256 = screen_document()
    auth = {"authorization": f"Bearer {token}"}
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256}}

    def screen(name: str, body: dict[str, object], headers: dict[str, str] = auth) -> hb.Target:
        payload = json.dumps({**body, "operationName": SCREEN, "variables": VARIABLES}).encode()
        return hb.Target(name, "POST", "/graphql", body=payload, headers=headers, graphql=True, expect="announcements")

    me = json.dumps({"query": hb.ME_QUERY, "operationName": "Me"}).encode()
    # the app's own `query Me` (mobile_contract/operations/app/Me.graphql) by its hash, as the app sends it
    app_me = json.dumps({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation("Me")[1]}}}).encode()
    return [
        hb.Target("plain_starlette_json", "GET", "/bench/plain"),
        hb.Target("graphql_authenticated_me", "POST", "/graphql", body=me, headers=auth, graphql=True),
        hb.Target("graphql_authenticated_me_persisted", "POST", "/graphql", body=app_me, headers=auth, graphql=True),
        screen("screen_query_text", {"query": text}),
        screen("screen_query_persisted", {"extensions": persisted}),
        # the same hash asking for a fresh answer (pull to refresh): the operation runs every time
        screen("screen_query_persisted_executed", {"extensions": persisted}, {**auth, "cache-control": "no-cache"}),
        screen("screen_query_ad_hoc_text", {"query": text.replace("{", "{ ", 1)}),
    ]


async def create_pg_database(server_url: str) -> tuple[str, str]:
    import asyncpg

    parts = urlsplit(server_url)
    name = f"{(parts.path.lstrip('/') or 'palmtrade')}_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, "")), name


async def drop_pg_database(server_url: str, name: str) -> None:
    import asyncpg

    parts = urlsplit(server_url)
    conn = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def prepare(database_url: str, secret: str, announcements: int) -> None:
    asyncio.run(prepare_database(database_url, secret, announcements))


async def prepare_database(database_url: str, secret: str, announcements: int) -> None:
    """The demo city, plus `announcements` generated ones (api/bulk_seed): the demo city's 15 do not fill the
    screen's 20 cards."""
    from tortoise import Tortoise

    from api.bulk_seed import seed_announcements
    from domain.db import tortoise_config

    await hb.prepare_database(database_url, secret.encode())
    if announcements:
        await Tortoise.init(config=tortoise_config(database_url))
        try:
            await seed_announcements(announcements, batch=max(1, announcements), seed=2026, progress=False)
        finally:
            await Tortoise.close_connections()


def screen_cards(base: str, token: str) -> int:
    """How many cards the screen shows (the figures are for a full screen)."""
    import httpx

    text, _ = screen_document()
    reply = httpx.post(
        f"{base}/graphql",
        json={"query": text, "operationName": SCREEN, "variables": VARIABLES},
        headers={"authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    data = reply.json()["data"]["announcements"]
    return len(data.get("edges") or data.get("nodes") or [])


def run_one(label: str, database_url: str, tmp: Path, args: argparse.Namespace, pool: object) -> int:
    """Seeds, serves and measures one database; prints its figures; returns the failed requests."""
    from api.seed import DEMO_PASSWORD

    secret = secrets.token_urlsafe(48)
    # in a process of its own: the ORM and the storage dialect are chosen once per process
    setup = multiprocessing.get_context("spawn").Process(
        target=prepare, args=(database_url, secret, args.announcements)
    )
    setup.start()
    setup.join()
    if setup.exitcode != 0:
        raise RuntimeError(f"preparing {label} failed ({setup.exitcode})")
    port = hb.free_port()
    base = f"http://{hb.HOST}:{port}"
    with hb.serving(port, hb.server_env(database_url, secret, tmp, label), tmp, label) as proc:
        token = hb.sign_in(base, DEMO_PASSWORD)
        cards = screen_cards(base, token)
        wanted = targets(token)
        reads = public_read_variables(base) if args.public_reads else {}
        if reads:
            wanted += public_targets(reads)
        results = [measure(pool, port, target, args, proc.pid, label) for target in wanted]

    by_name = {r.name: r for r in results}
    for r in results:
        print(f"{label}_{r.name}: {r.rps:.1f} req/s")
        print(f"{label}_{r.name}_p50: {r.p50_ms:.2f} ms")
        print(f"{label}_{r.name}_server_cpu_per_request: {r.server_cpu_per_request_us:.0f} us")

    def ratio(a: str, b: str) -> float:
        return by_name[a].rps / by_name[b].rps if by_name[b].rps > 0 else math.nan

    persisted_vs_plain = ratio("screen_query_persisted", "plain_starlette_json")
    print(f"{label}_text_vs_plain_ratio: {ratio('screen_query_text', 'plain_starlette_json'):.3f} x")
    print(f"{label}_persisted_vs_plain_ratio: {persisted_vs_plain:.3f} x")
    print(f"{label}_persisted_vs_text_ratio: {ratio('screen_query_persisted', 'screen_query_text'):.3f} x")
    print(
        f"{label}_persisted_executed_vs_plain_ratio:"
        f" {ratio('screen_query_persisted_executed', 'plain_starlette_json'):.3f} x"
    )
    print(
        f"{label}_persisted_vs_ad_hoc_text_ratio: {ratio('screen_query_persisted', 'screen_query_ad_hoc_text'):.3f} x"
    )

    def cpu_ratio(a: str, b: str) -> float:
        x, y = by_name[a].server_cpu_per_request_us, by_name[b].server_cpu_per_request_us
        return x / y if y > 0 else math.nan

    # issue 21: CPU per request against plain Starlette's in this run; the cached screen by req/s
    executed = cpu_ratio("screen_query_persisted_executed", "plain_starlette_json")
    me = cpu_ratio("graphql_authenticated_me", "plain_starlette_json")
    me_persisted = cpu_ratio("graphql_authenticated_me_persisted", "plain_starlette_json")
    print(f"{label}_screen_cards: {cards} count")
    print(f"{label}_screen_executed_cpu_vs_plain: {executed:.1f} x")
    print(f"{label}_screen_cached_cpu_vs_plain: {cpu_ratio('screen_query_persisted', 'plain_starlette_json'):.1f} x")
    print(f"{label}_screen_cached_rps_vs_plain: {persisted_vs_plain:.2f} x")
    print(f"{label}_me_cpu_vs_plain: {me:.1f} x")
    print(f"{label}_me_persisted_cpu_vs_plain: {me_persisted:.1f} x")
    if label == "postgres" or not args.postgres:
        print(f"screen_executed_cpu_vs_plain: {executed:.1f} x")
        print(f"screen_cached_rps_vs_plain: {persisted_vs_plain:.2f} x")
        print(f"me_cpu_vs_plain: {me:.1f} x")
        print(f"me_persisted_cpu_vs_plain: {me_persisted:.1f} x")
    if reads:
        print(f"{label}_search_word: {reads['search']['query']} ({json.dumps(reads['search'], ensure_ascii=False)})")
        for short, _, _ in PUBLIC_READS:
            for how in ("executed", "cached"):
                figure = cpu_ratio(f"{short}_{how}", "plain_starlette_json")
                print(f"{label}_{short}_{how}_cpu_vs_plain: {figure:.1f} x")
                if label == "postgres" or not args.postgres:
                    print(f"{short}_{how}_cpu_vs_plain: {figure:.1f} x")
            saved = cpu_ratio(f"{short}_executed", f"{short}_cached")
            print(f"{label}_{short}_executed_vs_cached_cpu: {saved:.1f} x")
    met = "yes" if persisted_vs_plain >= GOAL else "no"
    print(f"{label}_persisted_goal_met: {met} (goal {GOAL:.2f} x of plain)")
    errors = sum(r.errors for r in results)
    print(f"{label}_errors: {errors} count")
    for r in results:
        for sample in r.samples:
            print(f"# {label} {r.name} error: {sample}", file=sys.stderr)
    if any(r.rps <= 0 for r in results):
        print(f"error: a {label} target completed no request in the measured window", file=sys.stderr)
        return errors + 1
    return errors


def measure(pool: object, port: int, target: hb.Target, args: argparse.Namespace, pid: int, label: str) -> hb.Result:
    """http_baseline's measurement; with --profile, py-spy samples the server over the same window (its
    collapsed stacks in DIR/<label>_<target>.txt; py-spy is not a dependency: install it to profile)."""
    if not args.profile:
        return hb.measure(pool, port, target, args, pid)
    out = Path(args.profile) / f"{label}_{target.name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = str(math.ceil(args.warmup + args.duration))
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "200", "-f", "raw"]
    spy = subprocess.Popen(
        [*command, "-d", seconds, "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return hb.measure(pool, port, target, args, pid)
    finally:
        spy.wait(timeout=60)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["default", "tiny"], default="default")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per target (default 5)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per target (default 1)")
    parser.add_argument("--concurrency", type=int, default=None, help="connections in total (default 32)")
    parser.add_argument("--clients", type=int, default=None, help="load generator processes (default 1)")
    parser.add_argument("--postgres", metavar="URL", help="also measure on a fresh database on this server")
    parser.add_argument("--profile", metavar="DIR", help="py-spy each target's window into DIR (py-spy installed)")
    parser.add_argument(
        "--public-reads",
        action="store_true",
        help="also AnnouncementSearch and AnnouncementDetail by hash, anonymous, executed and cached",
    )
    parser.add_argument(
        "--announcements", type=int, default=None, help="generated announcements besides the demo city's (default 40)"
    )
    args = parser.parse_args(argv)
    tiny = args.scale == "tiny"
    args.duration = args.duration if args.duration is not None else (0.5 if tiny else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.2 if tiny else 1.0)
    args.concurrency = args.concurrency if args.concurrency is not None else (4 if tiny else 32)
    args.clients = min(args.clients or 1, args.concurrency)
    args.announcements = args.announcements if args.announcements is not None else (10 if tiny else 40)
    args.client = "raw"
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --concurrency >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-persisted-"))
    pg: tuple[str, str] | None = None
    try:
        failed = 0
        with multiprocessing.get_context("spawn").Pool(processes=args.clients) as pool:
            failed += run_one("sqlite", f"sqlite://{tmp}/bench.sqlite3", tmp, args, pool)
            if args.postgres:
                pg = asyncio.run(create_pg_database(args.postgres))
                failed += run_one("postgres", pg[0], tmp, args, pool)
        print(
            f"# concurrency={args.concurrency} clients={args.clients} warmup={args.warmup}s "
            f"duration={args.duration}s cores={os.cpu_count()} screen={SCREEN} {json.dumps(VARIABLES)}",
            file=sys.stderr,
        )
        return 1 if failed else 0
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    finally:
        if pg is not None and args.postgres:
            asyncio.run(drop_pg_database(args.postgres, pg[1]))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
