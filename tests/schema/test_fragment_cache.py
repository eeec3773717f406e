"""The fragment cache (schema/fragment_cache.py) answers exactly what executing would: per viewer, per
selection, and never an announcement as it was before it changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import strawberry

from domain.common import clock
from domain.common.actors import ANONYMOUS, Actor
from domain.publication import announcements
from domain.publication.models import Announcement
from mobile_contract import gate
from schema.build import build_schema
from schema.context import Context
from schema.fragment_cache import FragmentCache
from schema.relay import to_global_id
from tests.support.tendering import published_tender

CARD = next(o for o in gate.load_operations() if o.name == "AnnouncementList").text
ONE = "query($id: ID!) { announcement(id: $id) { id title status typeName region { name } } }"


def cache_of(schema: strawberry.Schema) -> FragmentCache:
    cache = schema.execution_context_class.cache  # type: ignore[attr-defined]
    assert isinstance(cache, FragmentCache)
    return cache


async def run(schema: strawberry.Schema, document: str, actor: Actor = ANONYMOUS, **variables: Any) -> Any:
    result = await schema.execute(
        document, variable_values=variables, context_value=Context(request=None, response=None, actor=actor)
    )
    assert result.errors is None, result.errors
    return result.data


async def more_published(t: Any, n: int) -> list[Announcement]:
    base = clock.now() - timedelta(days=1)
    return [
        await Announcement.create(
            project=t.project,
            lot=t.lot,
            trade_code=t.lot.trade_code,
            type="change",
            status="published",
            title=f"变更公告{i}",
            body_html="<p>-</p>",
            body_text="-",
            search_text="-",
            category="engineering_construction",
            region_code="370200",
            published_at=base + timedelta(minutes=i),
            created_at=base,
        )
        for i in range(n)
    ]


async def test_the_cached_screen_is_the_executed_screen(db):
    # given published announcements, a schema with the cache and one without
    t = await published_tender()
    await more_published(t, 3)
    cached, plain = build_schema(), build_schema(fragment_cache_entries=0)
    assert not hasattr(plain.execution_context_class, "cache")

    # when the home screen is read three times through the cache
    answers = [await run(cached, CARD, first=20) for _ in range(3)]

    # then every answer is the executed one, and the later ones came from the cache, card by card
    assert answers == [await run(plain, CARD, first=20)] * 3
    assert len(answers[0]["announcements"]["edges"]) == 4
    assert cache_of(cached).hits >= 8
    assert cache_of(build_schema()).hits == 0  # another schema (another deployment's) has its own


async def test_a_changed_or_withdrawn_announcement_is_never_answered_from_the_cache(db):
    # given the screen read twice (its cards cached)
    t = await published_tender()
    [changed] = await more_published(t, 1)
    schema = build_schema()
    await run(schema, CARD, first=20)
    before = await run(schema, CARD, first=20)
    titles = [e["node"]["title"] for e in before["announcements"]["edges"]]
    assert "变更公告0" in titles

    # when its title is corrected in the database
    await Announcement.filter(id=changed.id).update(title="更正后的标题")

    # then the next answer shows it
    after = await run(schema, CARD, first=20)
    assert "更正后的标题" in [e["node"]["title"] for e in after["announcements"]["edges"]]
    assert "变更公告0" not in [e["node"]["title"] for e in after["announcements"]["edges"]]

    # when it is withdrawn (back to a draft)
    await Announcement.filter(id=changed.id).update(status="draft")

    # then the list and the public read no longer show it, and its manager sees the draft as it is
    listed = await run(schema, CARD, first=20)
    assert to_global_id("Announcement", changed.id) not in [e["node"]["id"] for e in listed["announcements"]["edges"]]
    gid = to_global_id("Announcement", changed.id)
    assert (await run(schema, ONE, id=gid))["announcement"] is None
    draft = (await run(schema, ONE, t.tenderer, id=gid))["announcement"]
    assert draft["status"] == "DRAFT"
    assert draft["title"] == "更正后的标题"


async def test_two_viewers_see_what_each_may_see(db):
    # given a published tender and a draft of its tenderer
    t = await published_tender()
    tender = await Announcement.get(lot_id=t.lot.id, type="tender")
    form = announcements.AnnouncementForm(
        project_id=t.project.id,
        type="change",
        title="草稿公告",
        body_html="<p>草稿</p>",
        lot_id=t.lot.id,
        corrects_id=tender.id,
    )
    draft = await announcements.draft_announcement(t.tenderer, form)
    gid = to_global_id("Announcement", draft.id)
    schema = build_schema()
    stored = cache_of(schema).stored

    # when the tenderer reads the draft (twice), then anyone does
    for _ in range(2):
        mine = (await run(schema, ONE, t.tenderer, id=gid))["announcement"]
        assert mine["title"] == "草稿公告"
    theirs = (await run(schema, ONE, id=gid))["announcement"]

    # then anyone gets nothing, and the draft was never stored
    assert theirs is None
    assert cache_of(schema).stored == stored

    # when both read the public screen
    anyone = await run(schema, CARD, first=20)
    tenderer = await run(schema, CARD, t.tenderer, first=20)

    # then both see the published tender only
    assert anyone == tenderer
    assert [e["node"]["title"] for e in anyone["announcements"]["edges"]] == ["招标公告"]


async def test_what_reads_other_rows_or_variables_is_executed_every_time(db):
    # given a published tender
    await published_tender()
    schema = build_schema()
    cache = cache_of(schema)
    with_lot = "{ announcements(first: 5) { edges { node { title lot { status } } } } }"
    with_variable = (
        "query($t: Boolean!) { announcements(first: 5) { edges { cursor node { id title @include(if: $t) } } } }"
    )

    # when selections with another row (the lot) or a directive on a variable are read twice
    for _ in range(2):
        lot = await run(schema, with_lot)
        shown = await run(schema, with_variable, t=True)
        hidden = await run(schema, with_variable, t=False)

    # then nothing of them was stored, and each answer follows its variables
    assert cache.stored == 0
    assert lot["announcements"]["edges"][0]["node"]["lot"]["status"] == "OPEN"
    assert "title" in shown["announcements"]["edges"][0]["node"]
    assert "title" not in hidden["announcements"]["edges"][0]["node"]


async def test_the_cache_is_bounded_and_answers_right_past_its_bound(db):
    # given five published announcements and a cache of three entries
    t = await published_tender()
    await more_published(t, 4)
    small = build_schema(fragment_cache_entries=3)
    plain = build_schema(fragment_cache_entries=0)

    # when the screen is read again and again
    for _ in range(3):
        answer = await run(small, CARD, first=20)

    # then it holds three entries and answers as executing does
    assert len(cache_of(small)) == 3
    assert answer == await run(plain, CARD, first=20)
