"""How answers are written (api/graphql_app.py): orjson, text as UTF-8, the same JSON values as the standard
`json` gave; what orjson refuses falls back to `json`; the cache keeps an answer on the view's word that it has no
errors, without parsing it again."""

from __future__ import annotations

import json

from api.graphql_app import _encode
from tests.api.test_persisted import by_hash
from tests.api.test_response_cache import LIST, post
from tests.support.tendering import published_tender


def test_answers_are_compact_utf8_json_with_the_same_values():
    answer = {"data": {"title": "青岛市 道路维修 “工程”\n", "amountFen": 2**53 - 1, "ok": True, "none": None}}
    encoded = _encode(answer)
    assert encoded == json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(encoded) == answer


def test_what_orjson_refuses_is_written_by_json():
    # a JSON scalar may carry an integer beyond 64 bits, or keys that are not strings
    big = {"data": {"payload": {"n": 2**70}}}
    keys = {"data": {"payload": {1: "one"}}}
    assert json.loads(_encode(big)) == big
    assert json.loads(_encode(keys)) == {"data": {"payload": {"1": "one"}}}


async def test_a_kept_answer_is_utf8_and_kept_without_errors(api):
    # given a screen answered once (kept) and again (replayed)
    await published_tender()
    first = await post(api, by_hash(LIST.sha256, {"first": 5}))
    again = await post(api, by_hash(LIST.sha256, {"first": 5}))

    # then the bytes are the view's: Chinese as UTF-8, not \u escapes
    assert again.headers["x-palmtrade-cache"] == "hit"
    title = first.json()["data"]["announcements"]["edges"][0]["node"]["title"]
    assert not title.isascii()
    assert title.encode() in again.content
    assert b"\\u" not in again.content
    assert api.services.response_cache.size > len(again.content)


async def test_an_answer_with_errors_is_not_kept_on_the_views_word(api):
    # a request error (an unknown hash) and a typed error answer 200 with `errors`: neither is kept
    unknown = await post(api, by_hash("0" * 64, {"first": 5}))
    refused = await post(api, by_hash(LIST.sha256, {"first": 0}))
    assert "errors" in unknown.json()
    assert "errors" in refused.json()
    assert len(api.services.response_cache) == 0
