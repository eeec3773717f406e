"""Publication at scale: the public list, a filtered list, Chinese search and the change feed on N announcements.

One run:

1. a fresh database on the server DATABASE_URL names (PostgreSQL: a new database
   ``<name>_bench_<random>``, dropped at the end; otherwise a SQLite file in a temporary directory),
   migrated; only loopback servers are accepted;
2. N announcements bulk-seeded with ``api.bulk_seed`` (default 1,000,000; ``--scale tiny`` 2,000),
   the same rows publishing produces, then ANALYZE;
3. measured in this process, one query at a time, after a warm-up, each as p50/p99 over
   ``--repeat`` calls (fewer when a query exceeds ``--budget`` seconds; then ``_samples`` says how
   many), rotating over several filters and keywords:

   - baselines: ``SELECT 1`` and the primary-key fetch of one announcement;
   - the first page (20) of the public list: the GraphQL ``announcements`` query executed in process
     (no HTTP) and the domain query under it;
   - a filtered first page (category + region, a city including its districts), both ways;
   - a Chinese keyword search (``search.search``, and GraphQL ``searchAnnouncements``);
   - change-feed read throughput: ``feed.read`` paging by 1000 from the start (bounded by ``--feed-items``).

Output, one figure a line, ``name: value unit``, then the ratios to the baselines. Goals: list p50
< 10 ms, search p50 < 50 ms, feed > 10,000 items/s (stated on stderr, met or not).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/palmtrade .venv/bin/python bench/publication.py
    .venv/bin/python bench/publication.py --scale tiny        # SQLite smoke test for CI

Exits non-zero if a query fails or returns nothing where something must be found.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCALES = {"default": 1_000_000, "tiny": 2_000}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PAGE = 20
FEED_PAGE = 1000
GOALS = {"list_p50_ms": 10.0, "search_p50_ms": 50.0, "feed_items_per_s": 10_000.0}
KEYWORDS = ["道路", "污水处理厂", "物业管理服务", "采矿权", "医用耗材", "黄岛区 道路", "老旧小区改造", "中标候选人"]
FILTERS = [
    ("engineering_construction", "370200"),
    ("government_procurement", "370211"),
    ("engineering_construction", "370100"),
    ("land_use_rights", "370215"),
    ("government_procurement", "370202"),
]
LIST = """query List($first: Int, $filter: AnnouncementFilter) {
  announcements(first: $first, filter: $filter) {
    edges { cursor node { id title type tradeCode category regionCode lotStatus publishedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SEARCH = """query Search($query: String!, $first: Int) {
  searchAnnouncements(query: $query, first: $first) {
    total hasNextPage endCursor terms
    hits { score titleHtml snippetHtml announcement { id tradeCode publishedAt } }
  }
}"""


# --------------------------------------------------------------------------- the database


@dataclass
class BenchDatabase:
    url: str
    postgres: bool
    name: str = ""
    server: str = ""
    tmp: Path | None = None


def _loopback_only(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing {host!r}: this benchmark only talks to a server on loopback")


async def create_database(source: str | None) -> BenchDatabase:
    from domain.db import is_postgres

    if source and is_postgres(source):
        import asyncpg

        _loopback_only(source)
        parts = urlsplit(source)
        name = f"{parts.path.lstrip('/') or 'palmtrade'}_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, ""))
        return BenchDatabase(url=url, postgres=True, name=name, server=source)
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-publication-"))
    return BenchDatabase(url=f"sqlite://{tmp}/bench.sqlite3", postgres=False, tmp=tmp)


async def drop_database(db: BenchDatabase) -> None:
    if db.postgres:
        import asyncpg

        parts = urlsplit(db.server)
        admin = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
        finally:
            await admin.close()
    elif db.tmp is not None:
        shutil.rmtree(db.tmp, ignore_errors=True)


# --------------------------------------------------------------------------- measuring


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass
class Timing:
    name: str
    p50_ms: float
    p99_ms: float
    samples: int


MIN_SAMPLES = 5


async def measure(name: str, call: Callable[[int], Awaitable[Any]], args: argparse.Namespace) -> Timing:
    """p50/p99 of `call(i)` over `repeat` calls after `warmup` unmeasured ones; a slow query stops
    early, after `budget` seconds (a fifth of it for the warm-up), with at least 5 samples."""
    began = time.perf_counter()
    done = 0
    while done < args.warmup and (done == 0 or time.perf_counter() - began < args.budget / 5):
        await call(done)
        done += 1
    samples: list[float] = []
    began = time.perf_counter()
    while len(samples) < args.repeat and (len(samples) < MIN_SAMPLES or time.perf_counter() - began < args.budget):
        t0 = time.perf_counter()
        await call(done + len(samples))
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return Timing(name, percentile(samples, 0.50) * 1000, percentile(samples, 0.99) * 1000, len(samples))


class Failed(Exception):
    pass


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


async def run_queries(args: argparse.Namespace, lines: list[str]) -> list[Timing]:
    from tortoise import connections

    from domain.publication import feed, search
    from domain.publication.models import Announcement
    from domain.publication.reading import AnnouncementFilter, public_announcements
    from schema.build import build_schema
    from schema.context import Context

    conn = connections.get("default")
    schema = build_schema()
    rng = random.Random(7)
    ids = [int(i) for i in await Announcement.all().order_by("id").limit(10_000).values_list("id", flat=True)]
    ensure(bool(ids), "no announcements were seeded")
    picks = [rng.choice(ids) for _ in range(args.warmup + args.repeat + MIN_SAMPLES)]

    async def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        result = await schema.execute(
            query, variable_values=variables, context_value=Context(request=None, response=None)
        )
        ensure(not result.errors, f"GraphQL errors: {result.errors}")
        return result.data or {}

    async def select_1(i: int) -> None:
        await conn.execute_query("SELECT 1")

    async def pk_fetch(i: int) -> None:
        ensure(await Announcement.get_or_none(id=picks[i]) is not None, "primary-key fetch found nothing")

    async def list_domain(i: int) -> None:
        rows = await public_announcements(AnnouncementFilter()).order_by("-published_at", "-id").limit(PAGE)
        ensure(len(rows) == min(PAGE, args.announcements), "the first page is short")

    async def list_graphql(i: int) -> None:
        data = await gql(LIST, {"first": PAGE})
        ensure(len(data["announcements"]["edges"]) == min(PAGE, args.announcements), "the first page is short")

    def combo(i: int) -> tuple[str, str]:
        return FILTERS[i % len(FILTERS)]

    async def filtered_domain(i: int) -> None:
        category, region = combo(i)
        query = public_announcements(AnnouncementFilter(categories=[category], regions=[region]))
        await query.order_by("-published_at", "-id").limit(PAGE)

    async def filtered_graphql(i: int) -> None:
        category, region = combo(i)
        await gql(LIST, {"first": PAGE, "filter": {"categories": [category.upper()], "regions": [region]}})

    found: dict[str, int] = {}

    async def search_domain(i: int) -> None:
        keyword = KEYWORDS[i % len(KEYWORDS)]
        page = await search.search(keyword, AnnouncementFilter(), PAGE, None)
        found[keyword] = page.total

    async def search_graphql(i: int) -> None:
        await gql(SEARCH, {"query": KEYWORDS[i % len(KEYWORDS)], "first": PAGE})

    timings = []
    for name, call in (
        ("baseline_select_1", select_1),
        ("baseline_pk_fetch", pk_fetch),
        ("list_first_page", list_domain),
        ("list_first_page_graphql", list_graphql),
        ("list_filtered", filtered_domain),
        ("list_filtered_graphql", filtered_graphql),
        ("search_keyword", search_domain),
        ("search_keyword_graphql", search_graphql),
    ):
        timings.append(await measure(name, call, args))
    # every single word is common in the seed; a two-word search matches every word, so it finds no
    # more than either word alone (at the tiny scale "黄岛区 道路" may find nothing: the seed's stream
    # follows the calendar, so its 2,000 announcements differ with the hour it runs)
    for keyword, total in found.items():
        words = keyword.split()
        if len(words) == 1:
            ensure(total > 0, f"the keyword search {keyword!r} found nothing")
        else:
            for word in words:
                if word in found:
                    ensure(total <= found[word], f"{keyword!r} found more than {word!r} alone")
    totals = sorted(found.values())
    lines.append(f"search_keyword_matches_median: {totals[len(totals) // 2]} count")

    # the change feed, from the start, by pages of 1000, bounded
    cursor, read, pages = None, 0, 0
    page_times = []
    began = time.perf_counter()
    while read < args.feed_items:
        t0 = time.perf_counter()
        entries, cursor = await feed.read(cursor, FEED_PAGE)
        page_times.append(time.perf_counter() - t0)
        if not entries:
            break
        read += len(entries)
        pages += 1
    elapsed = time.perf_counter() - began
    ensure(read > 0, "the change feed is empty")
    page_times.sort()
    lines.append(f"feed_read: {read / elapsed:.0f} items/s")
    lines.append(f"feed_read_items: {read} count")
    lines.append(f"feed_page_1000_p50: {percentile(page_times, 0.5) * 1000:.2f} ms")
    lines.append(f"feed_page_1000_p99: {percentile(page_times, 0.99) * 1000:.2f} ms")
    return timings


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise, connections

    from api.bulk_seed import SeedReport, seed_announcements
    from api.manage import migrate
    from api.settings import Settings
    from domain.db import is_postgres, tortoise_config
    from domain.publication.models import Announcement, FeedEntry
    from domain.wiring import wire

    if args.reuse:
        _loopback_only(args.reuse)
        db = BenchDatabase(url=args.reuse, postgres=is_postgres(args.reuse))
    else:
        db = await create_database(os.environ.get("DATABASE_URL"))
    try:
        await migrate(Settings(database_url=db.url))
        await Tortoise.init(config=tortoise_config(db.url))
        wire()  # the domain's composition root: timed transitions, award blockers, security
        try:
            if args.reuse:
                report = SeedReport(announcements=await Announcement.all().count())
            else:
                report = await seed_announcements(args.announcements, batch=args.batch, progress=not args.quiet)
            analyze_began = time.perf_counter()
            await connections.get("default").execute_script("ANALYZE")
            analyze = time.perf_counter() - analyze_began
            lines = [
                f"announcements: {report.announcements} count",
                f"feed_entries: {await FeedEntry.all().count()} count",
                f"seed_time: {report.seconds:.1f} s",
                f"seed_rate: {report.rate:.0f} announcements/s",
                f"analyze_time: {analyze:.1f} s",
            ]
            timings = await run_queries(args, lines)
        finally:
            await Tortoise.close_connections()
    finally:
        if args.keep or args.reuse:
            print(f"# kept the database: --reuse {db.url}", file=sys.stderr)
        else:
            await drop_database(db)

    by_name = {t.name: t for t in timings}
    for line in lines[:5]:
        print(line)
    for t in timings:
        print(f"{t.name}_p50: {t.p50_ms:.3f} ms")
        print(f"{t.name}_p99: {t.p99_ms:.3f} ms")
        if t.samples < args.repeat:
            print(f"{t.name}_samples: {t.samples} count")
    for line in lines[5:]:
        print(line)
    base = by_name["baseline_pk_fetch"].p50_ms
    select_1 = by_name["baseline_select_1"].p50_ms
    for name in ("list_first_page_graphql", "list_filtered_graphql", "search_keyword", "search_keyword_graphql"):
        print(f"{name}_vs_pk_fetch: {by_name[name].p50_ms / base:.2f} x")
    print(f"baseline_pk_fetch_vs_select_1: {base / select_1:.2f} x")

    feed_rate = float(next(line for line in lines if line.startswith("feed_read:")).split()[1])
    list_p50 = max(by_name["list_first_page_graphql"].p50_ms, by_name["list_filtered_graphql"].p50_ms)
    search_p50 = max(by_name["search_keyword"].p50_ms, by_name["search_keyword_graphql"].p50_ms)
    for goal, value, limit, below in (
        ("list p50 < 10 ms (GraphQL, plain and filtered)", list_p50, GOALS["list_p50_ms"], True),
        ("search p50 < 50 ms (domain and GraphQL)", search_p50, GOALS["search_p50_ms"], True),
        ("feed > 10,000 items/s", feed_rate, GOALS["feed_items_per_s"], False),
    ):
        met = value < limit if below else value > limit
        print(f"# goal {goal}: {'met' if met else 'NOT met'} ({value:.1f})", file=sys.stderr)
    print(
        f"# database={'postgresql' if db.postgres else 'sqlite'} scale={args.announcements} batch={args.batch} "
        f"warmup={args.warmup} repeat={args.repeat} "
        f"cores={os.cpu_count()}",
        file=sys.stderr,
    )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default", help="default 1,000,000; tiny 2,000")
    parser.add_argument("--announcements", type=int, default=None, help="override the scale's count")
    parser.add_argument("--batch", type=int, default=5000, help="announcements per seeding transaction")
    parser.add_argument("--warmup", type=int, default=None, help="unmeasured calls per query (default 20; tiny 3)")
    parser.add_argument("--repeat", type=int, default=None, help="measured calls per query (default 200; tiny 30)")
    parser.add_argument("--budget", type=float, default=None, help="seconds per query at most (default 60; tiny 10)")
    parser.add_argument("--feed-items", type=int, default=200_000, help="read at most this many feed entries")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database and print its URL")
    parser.add_argument("--reuse", metavar="URL", help="measure a database kept by --keep instead of seeding one")
    args = parser.parse_args(argv)
    tiny = args.scale == "tiny"
    args.announcements = args.announcements if args.announcements is not None else SCALES[args.scale]
    args.warmup = args.warmup if args.warmup is not None else (3 if tiny else 20)
    args.repeat = args.repeat if args.repeat is not None else (30 if tiny else 200)
    args.budget = args.budget if args.budget is not None else (10.0 if tiny else 60.0)
    if args.announcements < 1 or args.repeat < 1 or args.warmup < 0 or args.feed_items < 1 or args.budget <= 0:
        parser.error("--announcements, --repeat and --feed-items must be >= 1, --warmup >= 0, --budget > 0")
    if not 1 <= args.batch <= 50_000:
        parser.error("--batch must be between 1 and 50000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except Failed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
