"""reading.listed: the public list read as rows, its statements kept per filter, cursor and page, gives what
the ORM's query gives, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta, timezone

from domain.common import clock
from domain.publication import reading
from domain.publication.models import Announcement
from domain.publication.reading import AnnouncementFilter
from tests.support.tendering import published_tender


async def six_published() -> None:
    t = await published_tender()
    base = clock.now() - timedelta(days=1)
    for i, region in enumerate(["370200", "370211", "370100", "370200", "370211", "110000"]):
        await Announcement.create(
            project=t.project,
            lot=t.lot,
            trade_code=t.lot.trade_code,
            type="result" if i % 2 else "change",
            status="published",
            title=f"公告{i}",
            body_html="<p>-</p>",
            body_text="-",
            search_text="-",
            category="engineering_construction",
            region_code=region,
            lot_status="open",
            published_at=base + timedelta(minutes=10 * (i // 2)),  # two at each instant: ties broken by id
            created_at=base,
        )


def as_listed(m: Announcement) -> reading.ListedAnnouncement:
    return reading.ListedAnnouncement(*(getattr(m, name) for name in reading.LISTED_COLUMNS))


async def by_orm(f: AnnouncementFilter, cursor: tuple | None, descending: bool, limit: int) -> list:
    query = reading.public_announcements(f)
    if cursor is not None:
        query = query.filter(reading.beyond(cursor, descending))
    order = ("-published_at", "-id") if descending else ("published_at", "id")
    return [as_listed(m) for m in await query.order_by(*order).limit(limit)]


async def test_listed_rows_are_the_orms_for_every_filter_cursor_and_order(db):
    # given seven published announcements (the tender and six more, in three regions, ties in time)
    await six_published()
    everything = await by_orm(AnnouncementFilter(), None, True, 50)
    assert len(everything) == 7
    middle = (everything[3].published_at, everything[3].id)
    filters = [AnnouncementFilter(), AnnouncementFilter(regions=["370200"]), AnnouncementFilter(types=["result"])]

    for f in filters:
        for cursor in (None, middle):
            for descending in (True, False):
                for limit in (2, 50):
                    # when listed twice (the second from the kept statement)
                    first = await reading.listed(f, cursor, descending, limit)
                    again = await reading.listed(f, cursor, descending, limit)

                    # then both are what the ORM reads, values and order
                    expected = await by_orm(f, cursor, descending, limit)
                    assert first == expected, (f, cursor, descending, limit)
                    assert again == expected
    assert everything[0].published_at is not None
    assert everything[0].published_at.utcoffset() == timedelta(0)


async def test_a_cursor_at_another_offset_reads_from_the_same_instant(db):
    # given the list and a cursor in its middle, written in UTC and at +08:00
    await six_published()
    rows = await reading.listed(AnnouncementFilter(), None, True, 50)
    when, pk = rows[2].published_at, rows[2].id
    assert when is not None
    shanghai = when.astimezone(timezone(timedelta(hours=8)))

    # when the page after each is read
    utc_page = await reading.listed(AnnouncementFilter(), (when, pk), True, 50)
    local_page = await reading.listed(AnnouncementFilter(), (shanghai, pk), True, 50)

    # then both are the announcements after it
    assert [r.id for r in utc_page] == [r.id for r in rows[3:]]
    assert [r.id for r in local_page] == [r.id for r in await by_orm(AnnouncementFilter(), (shanghai, pk), True, 50)]
