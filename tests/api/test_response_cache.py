"""The shared response cache of public persisted queries (api/response_cache.py): which documents
qualify, hits and their headers, invalidation by a published announcement or a lot's move, refresh by the
client, one announcement's detail kept only when it is published (never a draft, never a null), and that
what is declared caller-independent (schema/caching.py) answers every caller alike."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from graphql import parse

from api.response_cache import ResponseCache, conditional_roots, shared_max_age
from domain.common.actors import SYSTEM
from domain.publication import announcements, projects
from domain.publication.models import Announcement
from domain.publication.states import LotStatus
from mobile_contract import gate
from schema.build import build_schema
from schema.caching import CONDITIONAL_ROOT_FIELDS, PUBLIC_ROOT_FIELDS, SHAREABLE, mark_answer
from schema.relay import to_global_id
from tests import factories as f
from tests.api.test_persisted import by_hash
from tests.support.tendering import Tender, published_tender

DOCUMENTS = {op.name: op for op in gate.load_operations()}
LIST = DOCUMENTS["AnnouncementList"]
SEARCH = DOCUMENTS["AnnouncementSearch"]
DETAIL = DOCUMENTS["AnnouncementDetail"]
SCHEMA = build_schema()._schema


def age(text: str) -> int | None:
    return shared_max_age(parse(text), SCHEMA)


def test_only_queries_of_public_fields_are_shared():
    # the app's home screen: announcements with their regions and page info
    assert age(LIST.text) == PUBLIC_ROOT_FIELDS["announcements"]
    # two public roots: the shorter age wins
    assert age("{ catalogue { name } announcements(first: 1) { edges { node { id } } } }") == 10
    assert age("{ __typename regions { code name } }") == PUBLIC_ROOT_FIELDS["regions"]
    # the search, and one announcement's detail: kept only when its resolver marks it (a published one)
    assert age(SEARCH.text) == PUBLIC_ROOT_FIELDS["searchAnnouncementsConnection"]
    assert age(DETAIL.text) == CONDITIONAL_ROOT_FIELDS["announcement"]
    assert conditional_roots(parse(DETAIL.text))
    assert not conditional_roots(parse(SEARCH.text))
    assert conditional_roots(
        parse('query { ... on Query { ...One } } fragment One on Query { announcement(id: "x") { id } }')
    )
    assert age("{ announcements { edges { node { lot { name status } project { name } } } } }") == 10
    # a field of a type not declared public, or not among its public fields (a lot's config moves with a
    # clarification, a project's lots include drafts), the caller, introspection and a mutation are never shared
    assert age("{ announcements { edges { node { lot { config { bidDeadline } } } } } }") is None
    assert age("{ announcements { edges { node { project { lots { id } } } } } }") is None
    assert age("{ announcements { edges { node { project { industry } } } } }") is None
    assert age("{ me { roles } }") is None
    assert age('{ announcement(id: "x") { title } me { roles } }') is None
    assert age("{ announcements { edges { node { id } } } __schema { queryType { name } } }") is None
    assert age("mutation { authLogout { __typename } }") is None


def test_one_unshareable_answer_keeps_the_request_from_the_cache():
    # two conditional fields in one request (aliases): a published one, then a draft, then a published one again
    request = SimpleNamespace(scope={"type": "http"})
    mark_answer(request, shareable=True)
    assert request.scope["state"][SHAREABLE] is True
    mark_answer(request, shareable=False)
    mark_answer(request, shareable=True)
    assert request.scope["state"][SHAREABLE] is False


def test_entries_expire_and_the_least_recent_goes_first():
    now = [100.0]
    cache = ResponseCache(capacity=2, max_age_cap=5, clock=lambda: now[0])
    cache.put(("a", None, "{}", "zh"), b"A", 60)  # capped at 5 s
    cache.put(("b", None, "{}", "zh"), b"B", 1)
    assert cache.get(("a", None, "{}", "zh")) == b"A"
    cache.put(("c", None, "{}", "zh"), b"C", 5)  # b was used least recently
    assert cache.get(("b", None, "{}", "zh")) is None
    now[0] += 5
    assert cache.get(("a", None, "{}", "zh")) is None
    assert cache.get(("c", None, "{}", "zh")) is None


async def post(api: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    response = await api.http.post("/graphql", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response


async def test_a_public_screen_is_answered_once_and_replayed(api):
    await published_tender()
    first = await post(api, by_hash(LIST.sha256, {"first": 5}))
    again = await post(api, by_hash(LIST.sha256, {"first": 5}))

    assert first.headers["x-palmtrade-cache"] == "miss"
    assert again.headers["x-palmtrade-cache"] == "hit"
    assert again.content == first.content
    assert len(again.json()["data"]["announcements"]["edges"]) == 1
    # POST: private, so that no shared cache keeps what a token asked for
    assert again.headers["cache-control"] == f"private, max-age={PUBLIC_ROOT_FIELDS['announcements']}"
    assert "Accept-Language" in again.headers["vary"]
    # other variables, another language: another entry
    other = await post(api, by_hash(LIST.sha256, {"first": 4}))
    english = await post(api, by_hash(LIST.sha256, {"first": 5}), {"accept-language": "en"})
    assert other.headers["x-palmtrade-cache"] == "miss"
    assert english.headers["x-palmtrade-cache"] == "miss"


async def test_an_anonymous_get_may_be_kept_by_a_cdn(api):
    params = {
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": LIST.sha256}}),
        "variables": json.dumps({"first": 3}),
    }
    response = await api.http.get("/graphql", params=params)
    assert response.status_code == 200
    assert response.headers["cache-control"] == f"public, max-age={PUBLIC_ROOT_FIELDS['announcements']}"
    again = await api.http.get("/graphql", params=params)
    assert again.headers["x-palmtrade-cache"] == "hit"


async def test_a_published_announcement_clears_the_shared_answers(api):
    # given the list kept, with one tender in it
    tender = await published_tender()
    await api.dispatch()
    before = await post(api, by_hash(LIST.sha256, {"first": 5}))
    assert len(before.json()["data"]["announcements"]["edges"]) == 1

    # when another tender is published and its event delivered (to this process over the live bus)
    cleared = api.services.response_cache.cleared
    await published_tender()
    await api.dispatch()
    for _ in range(100):  # with Redis the message comes back through the server
        if api.services.response_cache.cleared > cleared:
            break
        await asyncio.sleep(0.02)

    # then the next request runs again and sees both
    after = await post(api, by_hash(LIST.sha256, {"first": 5}))
    assert after.headers["x-palmtrade-cache"] == "miss"
    assert len(after.json()["data"]["announcements"]["edges"]) == 2
    assert tender.lot.id  # the first is still there


async def test_pull_to_refresh_runs_the_query_and_keeps_the_fresh_answer(api):
    await post(api, by_hash(LIST.sha256, {"first": 5}))
    await published_tender()  # not yet dispatched: the kept answer is stale for now

    kept = await post(api, by_hash(LIST.sha256, {"first": 5}))
    fresh = await post(api, by_hash(LIST.sha256, {"first": 5}), {"cache-control": "no-cache"})
    after = await post(api, by_hash(LIST.sha256, {"first": 5}))

    assert kept.json()["data"]["announcements"]["edges"] == []
    assert fresh.headers["x-palmtrade-cache"] == "miss"
    assert len(fresh.json()["data"]["announcements"]["edges"]) == 1
    assert after.headers["x-palmtrade-cache"] == "hit"
    assert after.content == fresh.content


async def test_an_answer_with_errors_is_never_kept(api):
    # first: 0 is refused (a typed error): the next identical request runs again
    refused = await post(api, by_hash(LIST.sha256, {"first": 0}))
    again = await post(api, by_hash(LIST.sha256, {"first": 0}))
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert refused.headers["cache-control"] == "no-store"
    assert again.headers.get("x-palmtrade-cache") != "hit"


async def test_text_and_private_queries_never_take_the_cache(api):
    text = await post(api, {"query": LIST.text, "variables": {"first": 5}})
    text_again = await post(api, {"query": LIST.text, "variables": {"first": 5}})
    me = DOCUMENTS["Me"]
    token = await f.operator_token(api)
    mine = await post(api, by_hash(me.sha256), {"authorization": f"Bearer {token}"})
    for response in (text, text_again, mine):
        assert "x-palmtrade-cache" not in response.headers
        assert "cache-control" not in response.headers


async def test_every_shared_operation_answers_every_caller_alike(api):
    """The promise of schema/caching.py, checked on every manifest operation that qualifies: an
    anonymous caller, the operator (who manages every project) and a bidder get the same bytes when each
    runs it afresh (one announcement's detail: a published one)."""
    tender = await published_tender()
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    services = api.services
    shared = [op for op in gate.load_operations() if op.sha256 in services.shared_ages]
    assert {LIST.name, SEARCH.name, DETAIL.name} <= {op.name for op in shared}
    for op in shared:
        answers = set()
        for token in (None, operator, bidder):
            headers = {"cache-control": "no-cache"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            response = await post(api, by_hash(op.sha256, await variables_of(op.text, tender)), headers)
            assert "errors" not in response.json(), (op.name, response.text)
            assert None not in response.json()["data"].values(), (op.name, response.text)  # a null is never shared
            answers.add(response.content)
        assert len(answers) == 1, op.name


async def variables_of(text: str, tender: Tender) -> dict[str, Any] | None:
    """Variables that make a shared operation answer something: a page, a word the tender's notice has, its id."""
    wanted: dict[str, Any] = {}
    if "$first" in text:
        wanted["first"] = 5
    if "$query" in text:
        wanted["query"] = "招标"
    if "$id" in text:
        wanted["id"] = await notice_id(tender)
    return wanted or None


async def notice_id(tender: Tender) -> str:
    notice = await Announcement.get(lot_id=tender.lot.id, type="tender")
    return to_global_id("Announcement", notice.id)


async def cleared(api: Any, before: int) -> None:
    """Waits until the cache was cleared since `before` (with Redis the message comes back through the server)."""
    for _ in range(100):
        if api.services.response_cache.cleared > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the cache was not cleared")


async def test_a_search_is_answered_once_and_replayed_until_a_publication(api):
    # given a published tender, its event delivered
    await published_tender()
    await api.dispatch()
    words = {"query": "招标", "first": 10}

    # when the same search is asked twice
    first = await post(api, by_hash(SEARCH.sha256, words))
    again = await post(api, by_hash(SEARCH.sha256, words))

    # then the second is the first's bytes, not executed
    assert first.headers["x-palmtrade-cache"] == "miss"
    assert again.headers["x-palmtrade-cache"] == "hit"
    assert again.content == first.content
    assert first.json()["data"]["searchAnnouncementsConnection"]["totalCount"] == 1
    assert again.headers["cache-control"] == f"private, max-age={PUBLIC_ROOT_FIELDS['searchAnnouncementsConnection']}"
    other = await post(api, by_hash(SEARCH.sha256, {"query": "管网", "first": 10}))
    assert other.headers["x-palmtrade-cache"] == "miss"

    # and once another tender is published, the search runs again and finds both
    before = api.services.response_cache.cleared
    await published_tender()
    await api.dispatch()
    await cleared(api, before)
    after = await post(api, by_hash(SEARCH.sha256, words))
    assert after.headers["x-palmtrade-cache"] == "miss"
    assert after.json()["data"]["searchAnnouncementsConnection"]["totalCount"] == 2


async def test_a_published_announcements_detail_is_shared_by_every_caller(api):
    # given a published tender notice
    tender = await published_tender()
    await api.dispatch()
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    one = by_hash(DETAIL.sha256, {"id": await notice_id(tender)})

    # when anyone reads it, then the operator (who manages the project) and a bidder
    anyone = await post(api, one)
    managing = await post(api, one, {"authorization": f"Bearer {operator}"})
    bidding = await post(api, one, {"authorization": f"Bearer {bidder}"})

    # then the first ran it and the others got the same bytes from the cache
    assert anyone.json()["data"]["announcement"]["status"] == "PUBLISHED"
    assert anyone.headers["x-palmtrade-cache"] == "miss"
    assert anyone.headers["cache-control"] == f"private, max-age={CONDITIONAL_ROOT_FIELDS['announcement']}"
    assert managing.headers["x-palmtrade-cache"] == "hit"
    assert bidding.headers["x-palmtrade-cache"] == "hit"
    assert managing.content == bidding.content == anyone.content


async def test_a_lots_move_clears_the_detail_that_shows_its_status(api):
    # given a tender's detail kept, its lot open
    tender = await published_tender()
    await api.dispatch()
    one = by_hash(DETAIL.sha256, {"id": await notice_id(tender)})
    kept = await post(api, one)
    assert kept.json()["data"]["announcement"]["lot"]["status"] == "OPEN"
    assert (await post(api, one)).headers["x-palmtrade-cache"] == "hit"

    # when the lot moves with no announcement (the opening starts) and its event is delivered
    before = api.services.response_cache.cleared
    assert await projects.move_lot(SYSTEM, tender.lot.id, {LotStatus.OPEN}, LotStatus.EVALUATING)
    await api.dispatch()
    await cleared(api, before)

    # then the detail runs again and shows the lot's status now
    after = await post(api, one)
    assert after.headers["x-palmtrade-cache"] == "miss"
    assert after.json()["data"]["announcement"]["lot"]["status"] == "EVALUATING"


async def draft_of(tender: Tender) -> str:
    """A change notice its tenderer drafted (not published): seen only by who manages the project."""
    form = announcements.AnnouncementForm(
        project_id=tender.project.id,
        type="change",
        title="草稿公告",
        body_html="<p>草稿</p>",
        lot_id=tender.lot.id,
        corrects_id=(await Announcement.get(lot_id=tender.lot.id, type="tender")).id,
    )
    return to_global_id("Announcement", (await announcements.draft_announcement(tender.tenderer, form)).id)


async def test_a_draft_and_its_null_are_never_kept(api):
    # given a draft, the operator managing its project, and anyone
    tender = await published_tender()
    operator = {"authorization": f"Bearer {await f.operator_token(api)}"}
    one = by_hash(DETAIL.sha256, {"id": await draft_of(tender)})

    # when its manager reads it, then anyone (twice), then its manager again
    owner_first = await post(api, one, operator)
    anyone = [await post(api, one) for _ in range(2)]
    owner_again = await post(api, one, operator)

    # then the manager sees the draft and anyone null, each run afresh: nothing kept, nothing replayed
    assert owner_first.json()["data"]["announcement"]["status"] == "DRAFT"
    assert owner_again.json()["data"]["announcement"]["status"] == "DRAFT"
    for response in (owner_first, *anyone, owner_again):
        assert response.headers.get("x-palmtrade-cache") != "hit"
        assert response.headers["cache-control"] == "no-store"
    for response in anyone:
        assert response.json()["data"]["announcement"] is None
    assert len(api.services.response_cache) == 0


async def test_a_null_is_never_kept_for_the_manager_who_asks_next(api):
    # given a draft and its manager
    tender = await published_tender()
    operator = {"authorization": f"Bearer {await f.operator_token(api)}"}
    one = by_hash(DETAIL.sha256, {"id": await draft_of(tender)})

    # when anyone reads it first (null), then its manager
    anyone = await post(api, one)
    owner = await post(api, one, operator)
    missing = await post(api, by_hash(DETAIL.sha256, {"id": to_global_id("Announcement", 999_999)}))
    again = await post(api, by_hash(DETAIL.sha256, {"id": to_global_id("Announcement", 999_999)}))

    # then the manager still gets the draft, and no null (nor an unknown id's) was kept
    assert anyone.json()["data"]["announcement"] is None
    assert owner.json()["data"]["announcement"]["title"] == "草稿公告"
    assert owner.headers.get("x-palmtrade-cache") != "hit"
    assert missing.json()["data"]["announcement"] is None
    assert again.headers.get("x-palmtrade-cache") != "hit"
    assert len(api.services.response_cache) == 0


async def test_a_burst_of_the_same_miss_is_computed_once(api):
    # given a cold cache (the app opened by many phones at once)
    await published_tender()
    api.services.response_cache.clear()
    before = api.services.response_cache.coalesced

    # when six ask for the same screen at the same moment
    answers = await asyncio.gather(*(post(api, by_hash(LIST.sha256, {"first": 5})) for _ in range(6)))

    # then one ran it and the five others were given its answer, byte for byte
    assert sorted(a.headers["x-palmtrade-cache"] for a in answers) == ["hit"] * 5 + ["miss"]
    assert api.services.response_cache.coalesced - before == 5
    assert len({a.content for a in answers}) == 1


async def test_a_burst_never_shares_an_answer_that_is_not_kept(api):
    # given a draft, its manager, and an answer with errors
    tender = await published_tender()
    operator = {"authorization": f"Bearer {await f.operator_token(api)}"}
    one = by_hash(DETAIL.sha256, {"id": await draft_of(tender)})
    before = api.services.response_cache.coalesced

    # when its manager and two others ask at the same moment (the manager first), then the other way round,
    # and three ask at once for a refused page
    owner_first = await asyncio.gather(post(api, one, operator), post(api, one), post(api, one))
    anyone_first = await asyncio.gather(post(api, one), post(api, one, operator))
    refused = await asyncio.gather(*(post(api, by_hash(LIST.sha256, {"first": 0})) for _ in range(3)))

    # then each ran for itself: the manager sees the draft, the others null, every refusal its own error
    assert owner_first[0].json()["data"]["announcement"]["status"] == "DRAFT"
    assert anyone_first[1].json()["data"]["announcement"]["status"] == "DRAFT"
    for response in (*owner_first[1:], anyone_first[0]):
        assert response.json()["data"]["announcement"] is None
    for response in refused:
        assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    for response in (*owner_first, *anyone_first, *refused):
        assert response.headers.get("x-palmtrade-cache") != "hit"
    assert api.services.response_cache.coalesced == before
