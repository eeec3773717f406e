"""Reading, for anyone: the shipped divisions, published announcements by filter, one announcement (drafts only
for who manages the project)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from tortoise.expressions import Q
from tortoise.fields import Field
from tortoise.queryset import QuerySet

from domain.common.actors import Actor
from domain.common.errors import InvalidInput, NotFound
from domain.publication.models import Announcement, Project, Region
from domain.publication.projects import manages
from domain.publication.states import AnnouncementStatus

_regions: dict[str, Region] = {}


async def regions() -> dict[str, Region]:
    """The shipped GB/T 2260 divisions by code (migration data: read once per process)."""
    if not _regions:
        _regions.update({r.code: r for r in await Region.all()})
    return _regions


def loaded_regions() -> dict[str, Region] | None:
    """The divisions if this process has read them already (no await needed), else None."""
    return _regions or None


@dataclass(frozen=True, slots=True)
class AnnouncementFilter:
    categories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    lot_statuses: list[str] = field(default_factory=list)
    published_from: datetime | None = None
    published_to: datetime | None = None
    trade_code: str | None = None

    def __post_init__(self) -> None:
        if not all(is_division_code(code) for code in self.regions):
            raise InvalidInput(field="regions")
        if self.trade_code and not (self.trade_code.isascii() and self.trade_code.isalnum()):
            raise InvalidInput(field="tradeCode")

    @property
    def key(self) -> Hashable:
        return (
            tuple(self.categories),
            tuple(self.regions),
            tuple(self.types),
            tuple(self.lot_statuses),
            self.published_from,
            self.published_to,
            self.trade_code,
        )


def is_division_code(code: str) -> bool:
    """A GB/T 2260 administrative division code: six ASCII digits (a longer value would overflow the
    column's length check, a NUL would fail PostgreSQL's text encoding)."""
    return len(code) == 6 and code.isascii() and code.isdigit()


def public_announcements(f: AnnouncementFilter) -> QuerySet[Announcement]:
    """Published announcements matching a filter; regions match a city and all its districts."""
    query = Announcement.filter(status=AnnouncementStatus.PUBLISHED.value)
    if f.categories:
        query = query.filter(category__in=f.categories)
    if f.regions:
        region_q = Q()
        for code in f.regions:
            region_q |= Q(region_code=code) | Q(region_code__startswith=region_prefix(code))
        query = query.filter(region_q)
    if f.types:
        query = query.filter(type__in=f.types)
    if f.lot_statuses:
        query = query.filter(lot_status__in=f.lot_statuses)
    if f.published_from:
        query = query.filter(published_at__gte=f.published_from.astimezone(UTC))
    if f.published_to:
        query = query.filter(published_at__lt=f.published_to.astimezone(UTC))
    if f.trade_code:
        query = query.filter(trade_code__startswith=f.trade_code[:18])
    return query


# What the public lists show of an announcement: the search columns (body_text, search_text, most of a row's
# bytes) and who drafted and published it are not read, nor is a model built per row.
LISTED_COLUMNS: Final = (
    "id",
    "project_id",
    "lot_id",
    "corrects_id",
    "trade_code",
    "type",
    "status",
    "title",
    "body_html",
    "category",
    "region_code",
    "lot_status",
    "published_at",
    "publicity_starts_at",
    "publicity_ends_at",
)


@dataclass(frozen=True, slots=True)
class ListedAnnouncement:
    """An announcement as a list shows it: LISTED_COLUMNS of its row, in that order."""

    id: int
    project_id: int
    lot_id: int | None
    corrects_id: int | None
    trade_code: str
    type: str
    status: str
    title: str
    body_html: str
    category: str
    region_code: str
    lot_status: str | None
    published_at: datetime | None
    publicity_starts_at: datetime | None
    publicity_ends_at: datetime | None


_STATEMENTS: Final = 256
_statements: OrderedDict[Hashable, tuple[str, list[Any], list[tuple[int, Any]]]] = OrderedDict()


async def listed(
    f: AnnouncementFilter, cursor: tuple[datetime, int] | None, descending: bool, limit: int
) -> list[ListedAnnouncement]:
    """The first `limit` public announcements matching a filter past a (published_at, id) cursor, newest or
    oldest first, LISTED_COLUMNS only.

    The statement tortoise builds for a filter, cursor and page is kept (the 256 last used): building it
    cost about as much as running it (~190 us of ~800 on PostgreSQL for the home screen)."""
    db = Announcement._meta.db
    # the cursor's time as written (equal instants at other offsets are other parameters on SQLite)
    key = (db.capabilities.dialect, f.key, cursor and (cursor[0].isoformat(), cursor[1]), descending, limit)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = _statement(f, cursor, descending, limit)
        while len(_statements) > _STATEMENTS:
            _statements.popitem(last=False)
    else:
        _statements.move_to_end(key)
    sql, params, converters = statement
    _, rows = await db.execute_query(sql, params)
    if not converters:
        return [ListedAnnouncement(*row) for row in rows]
    listed = []
    for row in rows:
        values = list(row)
        for i, to_python in converters:
            values[i] = to_python(values[i])
        listed.append(ListedAnnouncement(*values))
    return listed


def _statement(
    f: AnnouncementFilter, cursor: tuple[datetime, int] | None, descending: bool, limit: int
) -> tuple[str, list[Any], list[tuple[int, Any]]]:
    """The SQL and parameters tortoise runs for `listed` (as ValuesListQuery runs them), and the conversions of
    its columns that are not the driver's value as is (datetimes: SQLite's text, aware in UTC)."""
    query = public_announcements(f)
    if cursor is not None:
        query = query.filter(beyond(cursor, descending))
    order = ("-published_at", "-id") if descending else ("published_at", "id")
    values = query.order_by(*order).limit(limit).values_list(*LISTED_COLUMNS)
    values._make_query()
    sql, params = values.query.get_parameterized_sql()
    fields = Announcement._meta.fields_map
    converters = [
        (i, fields[name].to_python_value)
        for i, name in enumerate(LISTED_COLUMNS)
        if type(fields[name]).to_python_value is not Field.to_python_value
    ]
    return sql, list(params), converters


def beyond(cursor: tuple[datetime, int], descending: bool, inclusive: bool = False) -> Q:
    """The announcements past a cursor in (published_at, id) order, descending or ascending; the cursor's own
    announcement too when inclusive."""
    when, pk = cursor
    if descending:
        tie = Q(published_at=when, id__lte=pk) if inclusive else Q(published_at=when, id__lt=pk)
        return Q(published_at__lt=when) | tie
    tie = Q(published_at=when, id__gte=pk) if inclusive else Q(published_at=when, id__gt=pk)
    return Q(published_at__gt=when) | tie


def region_prefix(code: str) -> str:
    """370000 -> 37, 370200 -> 3702, 370211 -> 370211."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


async def public_announcement(ann_id: int) -> Announcement:
    ann = await Announcement.get_or_none(id=ann_id, status=AnnouncementStatus.PUBLISHED.value)
    if ann is None:
        raise NotFound()
    return ann


async def visible_announcement(actor: Actor, ann_id: int) -> Announcement:
    """Published ones for anyone; drafts only for who manages the project."""
    ann = await Announcement.get_or_none(id=ann_id)
    if ann is None:
        raise NotFound()
    if ann.status == AnnouncementStatus.PUBLISHED:
        return ann
    project = await Project.get(id=ann.project_id)
    if not await manages(actor, project):
        raise NotFound()
    return ann
