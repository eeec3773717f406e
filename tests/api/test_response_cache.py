"""The shared response cache of public persisted queries (api/response_cache.py): which documents
qualify, hits and their headers, invalidation by a published announcement, refresh by the client, and
that what is declared caller-independent (schema/caching.py) answers every caller alike."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import parse

from api.response_cache import ResponseCache, shared_max_age
from mobile_contract import gate
from schema.build import build_schema
from schema.caching import PUBLIC_ROOT_FIELDS
from tests import factories as f
from tests.api.test_persisted import by_hash
from tests.support.tendering import published_tender

DOCUMENTS = {op.name: op for op in gate.load_operations()}
LIST = DOCUMENTS["AnnouncementList"]
SCHEMA = build_schema()._schema


def age(text: str) -> int | None:
    return shared_max_age(parse(text), SCHEMA)


def test_only_queries_of_public_fields_are_shared():
    # the app's home screen: announcements with their regions and page info
    assert age(LIST.text) == PUBLIC_ROOT_FIELDS["announcements"]
    # two public roots: the shorter age wins
    assert age("{ catalogue { name } announcements(first: 1) { edges { node { id } } } }") == 10
    assert age("{ __typename regions { code name } }") == PUBLIC_ROOT_FIELDS["regions"]
    # a field of a type not declared public (the lot may say more to its tenderer), the caller, a
    # query whose answer depends on who asks, introspection and a mutation are never shared
    assert age("{ announcements { edges { node { lot { status } } } } }") is None
    assert age("{ me { roles } }") is None
    assert age('{ announcement(id: "x") { title } }') is None
    assert age("{ announcements { edges { node { id } } } __schema { queryType { name } } }") is None
    assert age("mutation { authLogout { __typename } }") is None


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
    anonymous caller, the operator and a bidder get the same bytes when each runs it afresh."""
    await published_tender()
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    services = api.services
    shared = [op for op in gate.load_operations() if op.sha256 in services.shared_ages]
    assert LIST.name in {op.name for op in shared}
    for op in shared:
        answers = set()
        for token in (None, operator, bidder):
            headers = {"cache-control": "no-cache"}
            if token:
                headers["authorization"] = f"Bearer {token}"
            response = await post(api, by_hash(op.sha256, {"first": 5} if "$first" in op.text else None), headers)
            assert "errors" not in response.json(), (op.name, response.text)
            answers.add(response.content)
        assert len(answers) == 1, op.name
