"""Chinese full-text search over published announcements: jieba words in SQLite FTS5 or a PostgreSQL GIN tsvector.

jieba segments once, in Python, so both databases see the same space-separated words: the
index only splits on spaces and ranks. SQLite keeps an FTS5 table `announcement_fts`
(rowid = announcement id, columns `title` and `body`, tokenizer
`unicode61 remove_diacritics 0`: a space-free run of Chinese characters is one token, so each
jieba word stays whole, and ASCII words and numbers are tokens too). Diacritics are kept
because PostgreSQL's `simple` configuration keeps them: the same query finds the same rows on
both databases. PostgreSQL keeps a side table
`announcement_search(announcement_id, vector, published_at)` with a GIN index, cascading from
`announcement`, rather than a generated column: a generated column can only read `search_text`,
which mixes title and body, and a title match must outrank a match in the body (title words
carry weight A there, body words D; FTS5 weights the title column ten times the body). The
index holds published announcements only; `index` writes to it
in the publishing transaction, so a rolled-back publication is never found.

Matching is AND over the query's words (jieba's precise mode), each quoted as a phrase (FTS5)
or turned into `phraseto_tsquery` (PostgreSQL), so no user input is ever read as query syntax;
values reach SQL as parameters only. Ranking: bm25 (SQLite) or ts_rank_cd (PostgreSQL), then
newest, then highest id. Highlighting is done here on the original title and body text, so it
reads the same on both databases.

Bounded work per query: a common word matches tens of thousands of announcements, and scoring
every one of them (PostgreSQL detoasts each tsvector for ts_rank_cd) cost ~540 ms p50 and ~4 s p99
at 1,000,000 announcements. So a search first takes the newest CANDIDATES (2000) matches using
cheap columns only (PostgreSQL: the GIN index and `announcement_search.published_at`, migration
0004, so announcements are joined only when a filter needs them; SQLite: the FTS5 match and the
announcement row by primary key), then scores only those and orders them by score, then newest,
then highest id. For a query with more than CANDIDATES matches, relevance is therefore computed
among its newest CANDIDATES matches: an older, more relevant announcement is not returned (narrow
the query or filter by date to reach it). `total` is exact up to CANDIDATES; beyond that it is
CANDIDATES with `total_is_estimate` (a lower bound), counted in the same query as the page.

Pagination is by offset in an opaque cursor, up to the first MAX_RESULTS (1000) hits: a relevance
order has no stable key (scores move as announcements are published) and every candidate must be
scored before the first page anyway, so a keyset on (score, published_at, id) would save nothing
and could skip rows when scores shift.

Picking the candidates still visits each match's index entry and row, so on PostgreSQL a common
word (36,000 matches in 1,000,000 announcements) cost 130 ms p50 / 1 s p99 even with the bound. So
PostgreSQL keeps a second, partial GIN index over the last two to three months only (migration
0006; `roll_recent_index` moves it on monthly, run by a periodic job): a search first takes its
candidates there, and reads the whole index only when the recent matches are CANDIDATES or fewer
(then the word is rare enough for the whole index to be cheap). The bound is written into the SQL
as a literal equal to the index predicate, so that generic plans may use the partial index too.
bench/publication.py at 1,000,000 announcements on PostgreSQL: search p50 26 ms / p99 96 ms
(before: 132 ms / 1,054 ms). PostgreSQL stores the tsvectors out of line (TOAST), which its planner
does not cost: with the default random_page_cost = 4 it may scan all vectors rather than use the
GIN index; SSD settings (random_page_cost = 1.1) make it pick the index.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any

import jieba
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from domain.common.errors import InvalidInput
from domain.common.storage import using_postgres

if TYPE_CHECKING:
    from domain.publication.models import Announcement
    from domain.publication.reading import AnnouncementFilter

jieba.setLogLevel(60)
_KEEP = re.compile(r"[\w\u4e00-\u9fff]+")

MAX_PAGE = 100
MAX_RESULTS = 1000
CANDIDATES = 2000  # the newest matches that are ranked; also the cap of an exact total
MAX_QUERY_LENGTH = 200
SNIPPET_LENGTH = 60
SNIPPET_LEAD = 12
TITLE_WEIGHT = 10.0  # FTS5 column weight; on PostgreSQL weight A (1.0) against D (0.1)
PUBLISHED = "published"


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def warm() -> None:
    """Loads jieba's dictionary now (about 0.8 s of CPU on the calling thread, a second or more under load): a
    process calls it before it serves, else its first search or publication holds the event loop that long."""
    _tokenizer()


def tokens(text: str) -> list[str]:
    """Search tokens of a text: jieba's search-mode words, lower-cased, punctuation dropped."""
    out = []
    for word in _tokenizer().cut_for_search(text):
        word = word.strip().lower()
        if word and _KEEP.fullmatch(word):
            out.append(word)
    return out


def segment(text: str) -> str:
    """The space-separated token string stored with an announcement and indexed."""
    return " ".join(tokens(text))


def query_terms(query: str) -> list[str]:
    """The terms a query must all match: the coarse words of precise mode (道路 2026 施工)."""
    terms: list[str] = []
    for word in _tokenizer().cut(query):
        word = word.strip().lower()
        if word and _KEEP.fullmatch(word) and word not in terms:
            terms.append(word)
    return terms


# ---------------------------------------------------------------- indexing


def _title_and_body(title: str, body_text: str, search_text: str) -> tuple[str, str]:
    """The indexed words of the title and of the body, reusing the stored segmentation when it fits."""
    head = tokens(title)
    words = search_text.split()
    if words[: len(head)] == head:
        return " ".join(head), " ".join(words[len(head) :])
    return " ".join(head), segment(body_text)


_INSERT_SQLITE = "INSERT OR REPLACE INTO announcement_fts (rowid, title, body) VALUES (?, ?, ?)"
_VECTOR = "setweight(to_tsvector('simple', $2), 'A') || setweight(to_tsvector('simple', $3), 'D')"
_INSERT_POSTGRES = (
    "INSERT INTO announcement_search (announcement_id, vector, published_at) "
    f"VALUES ($1, {_VECTOR}, $4) "
    "ON CONFLICT (announcement_id) DO UPDATE SET vector = EXCLUDED.vector, published_at = EXCLUDED.published_at"
)
# before migration 0004 the table has no published_at (0003 reindexes with this module's code)
_INSERT_POSTGRES_0003 = (
    f"INSERT INTO announcement_search (announcement_id, vector) VALUES ($1, {_VECTOR}) "
    "ON CONFLICT (announcement_id) DO UPDATE SET vector = EXCLUDED.vector"
)


async def _has_published_at(client: BaseDBAsyncClient) -> bool:
    rows = await client.execute_query_dict(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'announcement_search' AND column_name = 'published_at'"
    )
    return bool(rows)


async def _write(
    client: BaseDBAsyncClient,
    ann_id: int,
    title: str,
    body_text: str,
    search_text: str,
    published_at: datetime,
    *,
    legacy: bool = False,
) -> None:
    title_words, body_words = _title_and_body(title, body_text, search_text)
    if client.capabilities.dialect != "postgres":
        await client.execute_query(_INSERT_SQLITE, [ann_id, title_words, body_words])
    elif legacy:
        await client.execute_query(_INSERT_POSTGRES_0003, [ann_id, title_words, body_words])
    else:
        await client.execute_query(_INSERT_POSTGRES, [ann_id, title_words, body_words, published_at])


async def index(ann: Announcement) -> None:
    """Makes a published announcement findable, in the caller's transaction (idempotent)."""
    if ann.status != PUBLISHED or ann.published_at is None:
        raise ValueError(f"announcement {ann.id} is not published")
    await _write(connections.get("default"), ann.id, ann.title, ann.body_text, ann.search_text, ann.published_at)


async def reindex(client: BaseDBAsyncClient) -> int:
    """Indexes every published announcement again (after a migration or a dictionary change)."""
    postgres = client.capabilities.dialect == "postgres"
    legacy = postgres and not await _has_published_at(client)
    param = "$1" if postgres else "?"
    rows = await client.execute_query_dict(
        f"SELECT id, title, body_text, search_text, published_at FROM announcement WHERE status = {param}", [PUBLISHED]
    )
    for row in rows:
        await _write(
            client,
            row["id"],
            row["title"],
            row["body_text"],
            row["search_text"] or "",
            row["published_at"],
            legacy=legacy,
        )
    return len(rows)


# ---------------------------------------------------------------- the recent index (PostgreSQL)

RECENT_DAYS = 60  # the recent index covers at least this many days, at most a month more
RECENT_PREFIX = "announcement_search_recent_"
_RECENT_TTL = 300.0
_recent_cache: tuple[float, datetime | None] | None = None


def recent_bound(now: datetime) -> datetime:
    """The lower bound of the recent index wanted at `now`: midnight UTC on the first of the month
    RECENT_DAYS before, so the index is rebuilt once a month."""
    start = (now.astimezone(UTC) - timedelta(days=RECENT_DAYS)).date().replace(day=1)
    return datetime(start.year, start.month, 1, tzinfo=UTC)


async def _recent_indexes(client: BaseDBAsyncClient, valid_only: bool = True) -> dict[str, datetime]:
    """Recent indexes by name and bound; an interrupted CONCURRENTLY build leaves an invalid one."""
    rows = await client.execute_query_dict(
        "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relname = 'announcement_search' AND t.relnamespace = current_schema()::regnamespace "
        "AND c.relname LIKE $1",
        [RECENT_PREFIX + "%"],
    )
    found = {}
    for row in rows:
        if valid_only and not row["valid"]:
            continue
        suffix = str(row["name"]).removeprefix(RECENT_PREFIX)
        with contextlib.suppress(ValueError):
            found[str(row["name"])] = datetime.strptime(suffix, "%Y%m%d").replace(tzinfo=UTC)
    return found


async def recent_index_bound() -> datetime | None:
    """The bound of the recent partial index, looked up at most every 5 minutes; None without one."""
    global _recent_cache
    now = time.monotonic()
    if _recent_cache is None or now - _recent_cache[0] > _RECENT_TTL:
        found = await _recent_indexes(connections.get("default"))
        _recent_cache = (now, max(found.values()) if found else None)
    return _recent_cache[1]


async def roll_recent_index(now: datetime, client: BaseDBAsyncClient | None = None, concurrently: bool = True) -> bool:
    """Keeps a GIN index over the recent announcements only (PostgreSQL): a search whose newest
    CANDIDATES matches are recent reads only their entries, not those of every matching year.

    Builds the index for recent_bound(now) when it is missing, then drops older ones; True when it
    built one. Run monthly by a periodic job (CONCURRENTLY, so publishing goes on meanwhile).
    """
    global _recent_cache
    client = client or connections.get("default")
    if client.capabilities.dialect != "postgres":
        return False
    bound = recent_bound(now)
    name = f"{RECENT_PREFIX}{bound:%Y%m%d}"
    existing = await _recent_indexes(client, valid_only=False)
    valid = await _recent_indexes(client)
    built = False
    how = "CONCURRENTLY " if concurrently else ""
    if name in existing and name not in valid:  # a build that was interrupted: start again
        await client.execute_script(f"DROP INDEX {how}IF EXISTS {name}")
        existing.pop(name)
    if name not in existing:
        await client.execute_script(
            f"CREATE INDEX {how}IF NOT EXISTS {name} ON announcement_search USING GIN (vector) "
            f"WHERE published_at >= '{bound:%Y-%m-%d %H:%M:%S}+00'::timestamptz"
        )
        built = True
    for old in existing:
        if old != name:
            await client.execute_script(f"DROP INDEX {how}IF EXISTS {old}")
    _recent_cache = None
    return built


# ---------------------------------------------------------------- searching


@dataclass(frozen=True, slots=True)
class SearchHit:
    announcement_id: int
    score: float
    title: str  # HTML: the title escaped, matched words in <em>
    snippet: str  # HTML: ~60 characters of the body around the matches, escaped, matches in <em>
    cursor: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    total: int  # matching announcements, exact up to CANDIDATES (only the first MAX_RESULTS can be paged to)
    has_next_page: bool
    end_cursor: str | None
    terms: list[str]
    total_is_estimate: bool = False  # more than CANDIDATES match: total is CANDIDATES, a lower bound
    has_previous_page: bool = False
    start_cursor: str | None = None


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"s:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None, field: str = "after") -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        tag, _, number = text.partition(":")
        if tag != "s" or not number.isascii() or not number.isdigit() or int(number) > MAX_RESULTS:
            raise ValueError
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(field=field) from None


def search_terms(query: str) -> list[str]:
    """The words a search must all match; InvalidInput(query) when there are none or it is too long."""
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput(field="query")
    terms = [t for t in query_terms(query) if any(c.isalnum() for c in t)]
    if not terms:
        raise InvalidInput(field="query")
    return terms


class _Params:
    """Collects parameters and writes their placeholders in the dialect's style."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _narrowed(filt: AnnouncementFilter) -> bool:
    """Whether the filter asks for more than the index holds (every published announcement)."""
    return bool(
        filt.categories
        or filt.types
        or filt.lot_statuses
        or filt.regions
        or filt.published_from
        or filt.published_to
        or filt.trade_code
    )


def _filters(filt: AnnouncementFilter, p: _Params) -> list[str]:
    """The same conditions as reading.public_announcements, as SQL on the alias `a`."""
    from domain.publication.reading import region_prefix

    where = [f"a.status = {p(PUBLISHED)}"]
    for column, values in (("category", filt.categories), ("type", filt.types), ("lot_status", filt.lot_statuses)):
        if values:
            where.append(f"a.{column} IN ({', '.join(p(v) for v in values)})")
    if filt.regions:
        alternatives = []
        for code in filt.regions:
            prefix = region_prefix(code)
            alternatives.append(f"a.region_code = {p(code)}")
            alternatives.append(f"substr(a.region_code, 1, {len(prefix)}) = {p(prefix)}")
        where.append(f"({' OR '.join(alternatives)})")
    if filt.published_from:
        where.append(f"a.published_at >= {p(_utc(filt.published_from))}")
    if filt.published_to:
        where.append(f"a.published_at < {p(_utc(filt.published_to))}")
    if filt.trade_code:
        prefix = filt.trade_code[:18]
        where.append(f"substr(a.trade_code, 1, {len(prefix)}) = {p(prefix)}")
    return where


def _fts5_query(terms: list[str]) -> str:
    """Each term a quoted FTS5 string: `"a" "b"` means a AND b, and nothing inside is syntax."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _tsquery(terms: list[str], p: _Params) -> str:
    return " && ".join(f"phraseto_tsquery('simple', {p(term)})" for term in terms)


def _matches(terms: list[str], filt: AnnouncementFilter, p: _Params, recent: datetime | None = None) -> str:
    """SELECT id, published_at of every match, as the dialect's SQL (cheap columns only); with `recent`
    (PostgreSQL), only the matches the recent partial index holds."""
    if p.postgres:
        # announcement_search carries published_at, so without filters the announcements are not read
        source = "announcement_search s"
        if _narrowed(filt):
            source += " JOIN announcement a ON a.id = s.announcement_id"
        where = [f"s.vector @@ ({_tsquery(terms, p)})"]
        if recent is not None:
            # a literal, the same as the index predicate, so that the planner may use the partial index
            # (a parameter would not prove the predicate in a generic plan); it is our own timestamp
            where.append(f"s.published_at >= '{recent:%Y-%m-%d %H:%M:%S}+00'::timestamptz")
        if _narrowed(filt):
            where += _filters(filt, p)
        return (
            f"SELECT s.announcement_id AS id, s.published_at AS published_at FROM {source} WHERE {' AND '.join(where)}"
        )
    # CROSS JOIN fixes SQLite's join order: the FTS match first, then rows by primary key (counting by
    # the status index instead probes the FTS index once per announcement: 50x slower at 5000 rows)
    where = [f"announcement_fts MATCH {p(_fts5_query(terms))}", *_filters(filt, p)]
    return (
        "SELECT a.id AS id, a.published_at AS published_at "
        f"FROM announcement_fts CROSS JOIN announcement a ON a.id = announcement_fts.rowid WHERE {' AND '.join(where)}"
    )


def _scored(terms: list[str], p: _Params) -> str:
    """SELECT id, score, published_at of the candidates `k`: the only rows whose index entry is read."""
    if p.postgres:
        return (
            f"SELECT k.id AS id, ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}'::float4[], s.vector, ({_tsquery(terms, p)}), 1)"
            " AS score, k.published_at AS published_at FROM k JOIN announcement_search s ON s.announcement_id = k.id"
        )
    # one pass over the match (bm25 reads its statistics once), scoring only the rows that are candidates
    return (
        f"SELECT k.id AS id, -bm25(announcement_fts, {TITLE_WEIGHT}, 1.0) AS score, k.published_at AS published_at"
        " FROM announcement_fts CROSS JOIN k ON k.id = announcement_fts.rowid"
        f" WHERE announcement_fts MATCH {p(_fts5_query(terms))}"
    )


async def search(
    query: str,
    filt: AnnouncementFilter,
    first: int,
    after: str | None,
    before: str | None = None,
    *,
    backward: bool = False,
) -> SearchPage:
    """Published announcements containing every word of the query, most relevant first, highlighted: the
    `first` hits after `after`; `backward`, the `first` hits just before `before` (or the last reachable
    ones without it), in the same order.

    Only the newest CANDIDATES matches are ranked (see the module docstring), and `total` is exact
    up to CANDIDATES; beyond that it is CANDIDATES with `total_is_estimate`.
    """
    terms = search_terms(query)
    if first < 1:
        raise InvalidInput(field="last" if backward else "first")
    if backward:
        if before is not None:
            end = max(_offset(before, "before") - 1, 0)  # the position of the hit `before` names
        else:
            end = min((await search(query, filt, 1, None)).total, MAX_RESULTS)  # past the last reachable hit
        start = max(end - min(first, MAX_PAGE), 0)
        size = end - start
    else:
        start = _offset(after)
        size = min(first, MAX_PAGE, MAX_RESULTS - start)
    client = connections.get("default")
    cap = CANDIDATES
    postgres = using_postgres()
    # PostgreSQL: first the matches in the recent partial index; when they hold more than `cap`, the
    # newest `cap` matches are all among them and the older ones need not be read
    recent = await recent_index_bound() if postgres else None
    for bound in [recent, None] if recent is not None else [None]:
        p = _Params(postgres)
        matches = _matches(terms, filt, p, bound)
        count_params = list(p.values)
        newest = f"ORDER BY published_at DESC, id DESC LIMIT {cap + 1}"
        rows = await client.execute_query_dict(
            f"WITH m AS ({matches} {newest}), "
            f"k AS (SELECT id, published_at FROM m ORDER BY published_at DESC, id DESC LIMIT {cap}) "
            f"SELECT r.id AS id, r.score AS score, (SELECT count(*) FROM m) AS matched FROM ({_scored(terms, p)}) r "
            f"ORDER BY r.score DESC, r.published_at DESC, r.id DESC LIMIT {p(size + 1)} OFFSET {p(start)}",
            p.values,
        )
        if rows or start == 0:
            matched = int(rows[0]["matched"]) if rows else 0
        else:
            counted = await client.execute_query_dict(
                f"SELECT count(*) AS n FROM ({matches} LIMIT {cap + 1}) c", count_params
            )
            matched = int(counted[0]["n"])
        if matched > cap:
            break
    page = rows[:size]
    texts = await _texts([int(r["id"]) for r in page], p.postgres)
    pattern = _pattern(terms)
    hits = []
    for i, row in enumerate(page, start=1):
        title, body = texts[int(row["id"])]
        hits.append(
            SearchHit(
                announcement_id=int(row["id"]),
                score=float(row["score"]),
                title=highlight(title, pattern),
                snippet=snippet(body, pattern),
                cursor=_cursor(start + i),
            )
        )
    return SearchPage(
        hits=hits,
        total=min(matched, cap),
        has_next_page=len(rows) > size and start + size < MAX_RESULTS,
        end_cursor=hits[-1].cursor if hits else None,
        terms=terms,
        total_is_estimate=matched > cap,
        has_previous_page=start > 0,
        start_cursor=hits[0].cursor if hits else None,
    )


async def _texts(ids: list[int], postgres: bool) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    p = _Params(postgres)
    rows = await connections.get("default").execute_query_dict(
        f"SELECT id, title, body_text FROM announcement WHERE id IN ({', '.join(p(i) for i in ids)})", p.values
    )
    return {int(r["id"]): (r["title"], r["body_text"]) for r in rows}


# ---------------------------------------------------------------- highlighting


def _pattern(terms: list[str]) -> re.Pattern[str]:
    """Occurrences of the terms in original text; ASCII words only where they stand alone."""
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        escaped = re.escape(term)
        if term.isascii():
            escaped = rf"(?<![0-9A-Za-z]){escaped}(?![0-9A-Za-z])"
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def _plain(text: str) -> str:
    return html.escape(re.sub(r"\s+", " ", text))


def _render(text: str, matches: list[re.Match[str]], start: int, end: int) -> str:
    out = []
    pos = start
    for m in matches:
        if m.start() < pos or m.end() > end:
            continue
        out.append(_plain(text[pos : m.start()]))
        out.append(f"<em>{html.escape(m.group())}</em>")
        pos = m.end()
    out.append(_plain(text[pos:end]))
    return "".join(out)


def highlight(text: str, pattern: re.Pattern[str]) -> str:
    """The whole text, HTML-escaped, every match in <em>."""
    return _render(text, list(pattern.finditer(text)), 0, len(text))


def snippet(text: str, pattern: re.Pattern[str], length: int = SNIPPET_LENGTH) -> str:
    """About `length` characters of the text where the most distinct terms meet, escaped, matches in <em>."""
    text = text.strip()
    matches = list(islice(pattern.finditer(text), 500))
    if not matches:
        end = min(len(text), length)
        return _plain(text[:end]) + ("…" if end < len(text) else "")
    best, best_seen = matches[0], 0
    for i, m in enumerate(matches):
        seen = set()
        for n in matches[i:]:
            if n.end() > m.start() + length:
                break
            seen.add(n.group().lower())
        if len(seen) > best_seen:
            best, best_seen = m, len(seen)
    start = max(0, min(best.start() - SNIPPET_LEAD, len(text) - length))
    end = min(len(text), max(start + length, best.end()))
    for m in matches:
        if m.start() < end < m.end():
            end = m.end()
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + _render(text, matches, start, end) + suffix
