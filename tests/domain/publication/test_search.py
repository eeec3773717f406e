"""Full-text search over published announcements, built through the real services, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise import connections

from domain.common.actors import Actor, Role
from domain.common.clock import SHANGHAI
from domain.common.errors import InvalidInput
from domain.publication import announcements, projects, saved_searches, search
from domain.publication.errors import TenderNotPublished
from domain.publication.models import Announcement
from domain.publication.reading import AnnouncementFilter
from domain.publication.search import SearchPage
from tests.domain import factories

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
EVERYTHING = AnnouncementFilter()


async def tenderer() -> Actor:
    org = await factories.organisation(kinds=["tenderer"])
    return Actor(user_id=1, org_id=org.id, roles=frozenset({Role.TENDERER}))


async def draft(
    actor: Actor,
    title: str,
    body: str,
    *,
    category: str = "engineering_construction",
    region: str = "370211",
) -> Announcement:
    """A project with one lot and a draft tender announcement for it."""
    project = await projects.create_project(
        actor,
        projects.ProjectForm(
            name="测试项目",
            category=category,
            region_code=region,
            lots=[projects.LotForm(name="一标段", procedure="open_tender", estimated_price_fen=10_000_000)],
        ),
    )
    lot = await project.lots.all().first()
    assert lot is not None
    return await announcements.draft_announcement(
        actor,
        announcements.AnnouncementForm(
            project_id=project.id, lot_id=lot.id, type="tender", title=title, body_html=f"<p>{body}</p>"
        ),
    )


async def published(actor: Actor, clock: Any, title: str, body: str, **kwargs: str) -> Announcement:
    """A tender announcement published an hour after the previous one."""
    clock.advance(hours=1)
    ann = await draft(actor, title, body, **kwargs)
    return await announcements.publish_announcement(actor, ann.id)


async def found(query: str, filt: AnnouncementFilter = EVERYTHING, first: int = 100) -> list[int]:
    page = await search.search(query, filt, first, None)
    return [hit.announcement_id for hit in page.hits]


@pytest.fixture
def clock(manual_clock: Any) -> Any:
    manual_clock.set(START)
    return manual_clock


async def test_a_chinese_word_is_found_and_a_title_match_ranks_above_a_body_match(db, clock):
    # given
    actor = await tenderer()
    in_title = await published(actor, clock, "市政道路施工招标公告", "本项目位于黄岛区，工期一百八十日历天。")
    in_body = await published(
        actor, clock, "绿化养护服务采购公告", "养护范围包括沿线道路两侧绿地，服务期一年，采购人为区园林局。"
    )
    await published(actor, clock, "办公家具采购公告", "采购办公桌椅一批，交货期三十日。")

    # when
    page = await search.search("道路", EVERYTHING, 10, None)

    # then
    assert [hit.announcement_id for hit in page.hits] == [in_title.id, in_body.id]
    assert page.total == 2
    assert page.hits[0].score > page.hits[1].score
    assert page.terms == ["道路"]


async def test_a_mixed_chinese_english_and_number_query_matches_all_of_its_words(db, clock):
    # given
    actor = await tenderer()
    both = await published(actor, clock, "2026年市政道路施工招标公告", "采用BIM技术进行施工管理。")
    await published(actor, clock, "2025年市政道路施工招标公告", "采用BIM技术进行施工管理。")
    await published(actor, clock, "2026年绿化施工招标公告", "不涉及任何路面工程。")

    # when / then
    assert await found("道路 2026 施工") == [both.id]
    assert await found("道路2026施工") == [both.id]


async def test_english_words_match_whole_words_in_any_case(db, clock):
    # given
    actor = await tenderer()
    road = await published(actor, clock, "维修工程招标公告", "本项目采用 BIM 建模，包含 Road Repair 工作。")
    await published(actor, clock, "宽带接入采购公告", "采购 broadband 接入服务。")

    # when / then
    assert await found("bim") == [road.id]
    assert await found("REPAIR") == [road.id]
    assert await found("road") == [road.id]
    assert await found("ROAD repair") == [road.id]


async def test_numbers_are_words(db, clock):
    # given
    actor = await tenderer()
    budget = await published(actor, clock, "污水管网改造招标公告", "预算金额1280万元，最高投标限价1250万元。")
    await published(actor, clock, "雨水管网改造招标公告", "预算金额980万元。")

    # when / then
    assert await found("1280") == [budget.id]
    assert await found("1250 管网") == [budget.id]
    assert await found("128") == []


async def test_every_word_must_match(db, clock):
    # given
    actor = await tenderer()
    road_only = await published(actor, clock, "道路工程招标公告", "新建沥青路面。")
    both = await published(actor, clock, "道路绿化工程招标公告", "新建道路并配套绿化。")
    green_only = await published(actor, clock, "绿化工程招标公告", "新建绿地。")

    # when / then
    assert await found("道路 绿化") == [both.id]
    assert set(await found("道路")) == {road_only.id, both.id}
    assert set(await found("绿化")) == {green_only.id, both.id}
    assert await found("道路 桥梁") == []


async def test_filters_apply_together_with_the_words(db, clock):
    # given
    actor = await tenderer()
    huangdao = await published(actor, clock, "道路施工招标公告", "黄岛区道路施工。", region="370211")
    shinan = await published(
        actor, clock, "道路养护采购公告", "市南区道路养护。", region="370202", category="government_procurement"
    )
    jinan = await published(actor, clock, "道路施工招标公告", "历下区道路施工。", region="370102")
    publicity = await _candidate_publicity(actor, clock, huangdao, "道路施工中标候选人公示")

    # when / then: a city matches its districts, a district itself only
    assert set(await found("道路", AnnouncementFilter(regions=["370200"]))) == {huangdao.id, shinan.id, publicity.id}
    assert set(await found("道路", AnnouncementFilter(regions=["370211"]))) == {huangdao.id, publicity.id}
    assert await found("道路", AnnouncementFilter(regions=["370102"])) == [jinan.id]
    assert await found("道路", AnnouncementFilter(categories=["government_procurement"])) == [shinan.id]
    assert await found("道路", AnnouncementFilter(types=["candidate_publicity"])) == [publicity.id]
    assert await found("道路", AnnouncementFilter(lot_statuses=["publicity"])) == [publicity.id]
    assert set(await found("道路", AnnouncementFilter(lot_statuses=["open"]))) == {huangdao.id, shinan.id, jinan.id}
    assert await found("道路", AnnouncementFilter(trade_code=jinan.trade_code)) == [jinan.id]
    assert await found("养护", AnnouncementFilter(categories=["engineering_construction"])) == []
    combined = AnnouncementFilter(regions=["370200"], categories=["engineering_construction"], types=["tender"])
    assert await found("道路 施工", combined) == [huangdao.id]


async def _candidate_publicity(actor: Actor, clock: Any, tender: Announcement, title: str) -> Announcement:
    clock.advance(hours=1)
    ann = await announcements.draft_announcement(
        actor,
        announcements.AnnouncementForm(
            project_id=tender.project_id,
            lot_id=tender.lot_id,
            type="candidate_publicity",
            title=title,
            body_html="<p>道路施工中标候选人如下。</p>",
        ),
    )
    return await announcements.publish_announcement(actor, ann.id)


async def test_a_date_range_in_any_time_zone_selects_by_the_publication_instant(db, clock):
    # given
    actor = await tenderer()
    early = await published(actor, clock, "道路施工招标公告", "第一批。")
    clock.advance(days=2)
    late = await published(actor, clock, "道路施工招标公告", "第二批。")
    middle = (START + timedelta(days=1)).astimezone(SHANGHAI)

    # when / then
    assert await found("道路", AnnouncementFilter(published_from=middle)) == [late.id]
    assert await found("道路", AnnouncementFilter(published_to=middle)) == [early.id]
    assert await found("道路", AnnouncementFilter(published_from=late.published_at)) == [late.id]
    assert await found("道路", AnnouncementFilter(published_to=late.published_at)) == [early.id]


async def test_drafts_and_refused_publications_are_never_found(db, clock):
    # given
    actor = await tenderer()
    waiting = await draft(actor, "道路施工招标公告", "尚未发布的道路公告。")
    tender = await draft(actor, "桥梁施工招标公告", "桥梁。")
    refused = await announcements.draft_announcement(
        actor,
        announcements.AnnouncementForm(
            project_id=tender.project_id,
            lot_id=tender.lot_id,
            type="candidate_publicity",
            title="道路施工中标候选人公示",
            body_html="<p>道路。</p>",
        ),
    )
    with pytest.raises(TenderNotPublished):
        await announcements.publish_announcement(actor, refused.id)

    # when / then
    assert await found("道路") == []
    assert (await search.search("道路", EVERYTHING, 10, None)).total == 0
    with pytest.raises(ValueError, match="not published"):
        await search.index(waiting)

    # and once published it is
    await announcements.publish_announcement(actor, waiting.id)
    assert await found("道路") == [waiting.id]


async def test_a_publication_rolled_back_after_indexing_is_not_found(db, clock, monkeypatch):
    # given
    actor = await tenderer()
    ann = await draft(actor, "道路施工招标公告", "道路。")

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(announcements.events, "record", fail)

    # when
    with pytest.raises(RuntimeError, match="outbox"):
        await announcements.publish_announcement(actor, ann.id)

    # then
    assert (await Announcement.get(id=ann.id)).status == "draft"
    assert await found("道路") == []


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("青岛市黄岛区2026年市政道路施工招标公告", "本项目采用BIM技术。\n工期180日历天，预算1280万元。"),
        ("！！！", "只有正文"),
        ("Road Repair 项目", "English words and 中文 mixed_together"),
    ],
)
def test_the_stored_segmentation_splits_into_title_and_body_words(title, body):
    stored = search.segment(f"{title}\n{body}")
    assert search._title_and_body(title, body, stored) == (search.segment(title), search.segment(body))


async def test_titles_and_snippets_are_escaped_and_highlighted(db, clock):
    # given
    actor = await tenderer()
    filler = "本工程按照国家现行规范组织实施，施工单位应当具备相应资质。" * 3
    ann = await published(
        actor,
        clock,
        "<script>alert(1)</script>道路施工招标公告",
        f"{filler}道路全长2026米，双向四车道。{filler}",
    )

    # when
    hit = (await search.search("道路 2026", EVERYTHING, 10, None)).hits[0]

    # then
    assert hit.announcement_id == ann.id
    assert hit.title == "&lt;script&gt;alert(1)&lt;/script&gt;<em>道路</em>施工招标公告"
    assert "<em>道路</em>全长<em>2026</em>米" in hit.snippet
    assert hit.snippet.startswith("…")
    assert hit.snippet.endswith("…")
    plain = hit.snippet.replace("<em>", "").replace("</em>", "")
    assert len(plain) <= search.SNIPPET_LENGTH + 2


def test_snippets_escape_the_text_around_the_matches():
    # given
    pattern = search._pattern(["道路", "road"])
    text = '报价 < 1000万元 & 工期 > 90天，"道路"\n全长 <b>Road</b> broad'

    # when
    shown = search.snippet(text, pattern)

    # then
    expected = "报价 &lt; 1000万元 &amp; 工期 &gt; 90天，&quot;<em>道路</em>&quot; "
    assert shown == expected + "全长 &lt;b&gt;<em>Road</em>&lt;/b&gt; broad"
    assert search.highlight("<i>道路</i>", pattern) == "&lt;i&gt;<em>道路</em>&lt;/i&gt;"


async def test_a_title_only_match_shows_the_start_of_the_body(db, clock):
    # given
    actor = await tenderer()
    await published(actor, clock, "道路施工招标公告", "短正文。")

    # when
    hit = (await search.search("道路", EVERYTHING, 10, None)).hits[0]

    # then (body_text ends in "&#10;" for now: services.plain_text leaves entities encoded)
    assert hit.snippet.startswith("短正文。")


@pytest.mark.parametrize(
    "query",
    [
        '道路"',
        '"道路',
        '道路"*',
        "道路*",
        "道路 OR 绿化",
        "道路 AND 绿化",
        "道路 NOT 绿化",
        "NEAR(道路 绿化)",
        "-绿化 道路",
        "title:道路",
        "body:道路",
        "{title body}:道路",
        "^道路",
        "道路'; DROP TABLE announcement; --",
        "道路) OR (1=1",
        "道路 & 绿化 | !桥梁",
        "道路:*",
        "道路 <-> 绿化",
    ],
)
async def test_query_syntax_is_only_ever_words(db, clock, query):
    # given
    actor = await tenderer()
    road = await published(actor, clock, "道路施工招标公告", "道路施工。")
    await published(actor, clock, "绿化工程招标公告", "绿化。")
    words = search.query_terms(query)

    # when
    hits = await found(query)

    # then: the words in the query, all of them, and nothing else
    assert hits == ([road.id] if words == ["道路"] else [])
    assert await Announcement.all().count() == 2


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "，。！？", '"" * - :', "_", "x" * 201])
async def test_a_query_without_words_is_invalid(db, query):
    with pytest.raises(InvalidInput) as caught:
        await search.search(query, EVERYTHING, 10, None)
    assert caught.value.field == "query"


async def test_pages_follow_each_other_without_duplicates_or_gaps(db, clock):
    # given: 23 matches with the same score, and one title match that must come first
    actor = await tenderer()
    same = [await published(actor, clock, f"第{i}号公告", "本段为道路施工说明。") for i in range(23)]
    best = await published(actor, clock, "道路施工招标公告", "本段为说明。")
    await published(actor, clock, "桥梁施工招标公告", "本段为说明。")

    # when
    pages: list[SearchPage] = []
    after = None
    while True:
        page = await search.search("道路", EVERYTHING, 5, after)
        pages.append(page)
        if not page.has_next_page:
            break
        after = page.end_cursor

    # then
    ids = [hit.announcement_id for page in pages for hit in page.hits]
    assert [len(page.hits) for page in pages] == [5, 5, 5, 5, 4]
    assert ids == [best.id] + [a.id for a in reversed(same)]
    assert {page.total for page in pages} == {24}
    assert ids == await found("道路")
    assert pages[-1].end_cursor == pages[-1].hits[-1].cursor


async def test_page_size_and_cursor_are_checked(db, clock):
    # given
    actor = await tenderer()
    await published(actor, clock, "道路施工招标公告", "道路。")

    # when / then
    assert len((await search.search("道路", EVERYTHING, 10_000, None)).hits) == 1
    for first in (0, -1):
        with pytest.raises(InvalidInput) as caught:
            await search.search("道路", EVERYTHING, first, None)
        assert caught.value.field == "first"
    relay_style, negative, wordy = (_encoded(text) for text in ("c:1", "s:-1", "s:one"))
    for cursor in ("nonsense!", "", "=", relay_style, negative, wordy, search._cursor(search.MAX_RESULTS + 1)):
        with pytest.raises(InvalidInput) as caught:
            await search.search("道路", EVERYTHING, 10, cursor)
        assert caught.value.field == "after"
    beyond = await search.search("道路", EVERYTHING, 10, search._cursor(5))
    assert (beyond.hits, beyond.total, beyond.has_next_page, beyond.end_cursor) == ([], 1, False, None)


def _encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def test_paging_stops_after_the_result_limit(db, clock, monkeypatch):
    # given
    monkeypatch.setattr(search, "MAX_RESULTS", 4)
    actor = await tenderer()
    for i in range(6):
        await published(actor, clock, f"第{i}号道路施工招标公告", "道路。")

    # when
    first = await search.search("道路", EVERYTHING, 3, None)
    second = await search.search("道路", EVERYTHING, 3, first.end_cursor)

    # then
    assert (len(first.hits), first.has_next_page) == (3, True)
    assert (len(second.hits), second.has_next_page, second.total) == (1, False, 6)


async def test_the_index_is_rebuilt_from_published_announcements(db, clock):
    # given
    actor = await tenderer()
    road = await published(actor, clock, "道路施工招标公告", "道路。")
    await draft(actor, "道路养护招标公告", "道路。")

    # when
    indexed = await search.reindex(connections.get("default"))

    # then
    assert indexed == 1
    assert await found("道路") == [road.id]


async def test_only_the_newest_candidates_are_ranked_and_a_larger_total_is_an_estimate(db, clock, monkeypatch):
    # given: 8 matches; the oldest and the 6th newest are title matches, the best scores of all
    monkeypatch.setattr(search, "CANDIDATES", 5)
    actor = await tenderer()
    oldest_best = await published(actor, clock, "道路施工招标公告", "本段为说明。")
    older = [await published(actor, clock, f"第{i}号公告", "本段为道路施工说明。") for i in range(2)]
    newer = [await published(actor, clock, f"第{i}号公告", "本段为道路施工说明。") for i in range(2, 6)]
    best = await published(actor, clock, "道路养护招标公告", "本段为说明。")

    # when
    pages: list[SearchPage] = []
    after = None
    while True:
        page = await search.search("道路", EVERYTHING, 2, after)
        pages.append(page)
        if not page.has_next_page:
            break
        after = page.end_cursor

    # then: the newest 5 by relevance; the older matches are not reached, however relevant
    ids = [hit.announcement_id for page in pages for hit in page.hits]
    assert ids == [best.id] + [a.id for a in reversed(newer)]
    assert oldest_best.id not in ids
    assert not {a.id for a in older} & set(ids)
    assert {(page.total, page.total_is_estimate) for page in pages} == {(5, True)}
    beyond = await search.search("道路", EVERYTHING, 2, search._cursor(6))
    assert (beyond.hits, beyond.total, beyond.total_is_estimate, beyond.has_next_page) == ([], 5, True, False)


async def test_a_total_up_to_the_candidate_limit_is_exact(db, clock, monkeypatch):
    # given
    monkeypatch.setattr(search, "CANDIDATES", 5)
    actor = await tenderer()
    anns = [await published(actor, clock, f"第{i}号道路施工招标公告", "道路。") for i in range(5)]
    await published(actor, clock, "桥梁施工招标公告", "桥梁。")

    # when
    first = await search.search("道路", EVERYTHING, 2, None)
    everything = await search.search("道路", EVERYTHING, 10, None)

    # then
    assert (first.total, first.total_is_estimate, first.has_next_page) == (5, False, True)
    assert (everything.total, everything.total_is_estimate, everything.has_next_page) == (5, False, False)
    assert {hit.announcement_id for hit in everything.hits} == {a.id for a in anns}
    narrowed = await search.search("道路", AnnouncementFilter(trade_code=anns[0].trade_code), 10, None)
    assert ([h.announcement_id for h in narrowed.hits], narrowed.total, narrowed.total_is_estimate) == (
        [anns[0].id],
        1,
        False,
    )


def _on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def test_the_recent_index_is_read_first_and_the_whole_index_when_it_holds_too_few(db, clock, monkeypatch):
    if not _on_postgres():
        pytest.skip("the recent partial index exists on PostgreSQL only")
    # given the recent index for today, three older and three recent announcements about roads
    await search.roll_recent_index(clock.now())
    bound = await search.recent_index_bound()
    assert bound == search.recent_bound(clock.now())
    actor = await tenderer()
    clock.set(bound - timedelta(days=40))
    old = [await published(actor, clock, f"道路工程{i}施工招标公告", "市政道路。") for i in range(3)]
    clock.set(bound + timedelta(days=2))
    new = [await published(actor, clock, f"道路工程{i + 3}施工招标公告", "市政道路。") for i in range(3)]
    # when only the newest two are ranked, they come from the recent index alone
    monkeypatch.setattr(search, "CANDIDATES", 2)
    narrow = await search.search("道路", EVERYTHING, 10, None)
    # then
    assert {h.announcement_id for h in narrow.hits} == {new[1].id, new[2].id}
    assert narrow.total_is_estimate
    # when more are ranked than the recent index holds, the whole index is read
    monkeypatch.setattr(search, "CANDIDATES", 10)
    wide = await search.search("道路", EVERYTHING, 10, None)
    assert {h.announcement_id for h in wide.hits} == {a.id for a in old + new}
    assert (wide.total, wide.total_is_estimate) == (6, False)


async def test_the_recent_index_moves_on_once_a_month(db, clock):
    if not _on_postgres():
        pytest.skip("the recent partial index exists on PostgreSQL only")
    # given
    await search.roll_recent_index(clock.now())
    first = await search.recent_index_bound()
    # when the job runs again the same month, then a month later
    again = await search.roll_recent_index(clock.now())
    clock.advance(days=31)
    moved = await search.roll_recent_index(clock.now())
    # then one index exists, for the new month
    assert again is False
    assert moved is True
    indexes = await search._recent_indexes(connections.get("default"))
    assert list(indexes.values()) == [search.recent_bound(clock.now())]
    assert first is not None
    assert indexes[next(iter(indexes))] > first


async def test_a_saved_search_matches_a_publication_once_however_often_it_is_delivered(db, clock):
    # given a bidder's saved search and a matching published tender
    from domain.common.models import OutboxEvent
    from tests.domain import factories as df

    bidder_user = await df.user(await df.organisation())
    bidder = Actor(user_id=bidder_user.id, org_id=bidder_user.organisation_id, roles=frozenset({Role.BIDDER}))
    await saved_searches.save_search(bidder, "道路", "道路", [], [])
    ann = await published(await tenderer(), clock, "市政道路施工招标公告", "黄岛区。")
    # when the publication is matched twice (a redelivered event)
    first = await saved_searches.match_saved_searches([ann.id])
    second = await saved_searches.match_saved_searches([ann.id])
    # then one event exists for the pair
    assert (first, second) == (1, 0)
    assert await OutboxEvent.filter(type="saved_search.matched").count() == 1
