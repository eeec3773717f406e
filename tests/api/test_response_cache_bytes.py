"""The response cache's memory bound (api/response_cache.py): kept answers stay within RESPONSE_CACHE_BYTES,
least recently used first out, an answer too large for its share never kept, and the accounting exact through
replacement, expiry and clearing."""

from __future__ import annotations

from api.response_cache import ResponseCache
from tests.api.test_persisted import by_hash
from tests.api.test_response_cache import LIST, post
from tests.support.tendering import published_tender

OVERHEAD = ResponseCache.ENTRY_OVERHEAD


def key(name: str, variables: str = "{}") -> tuple[str, None, str, str]:
    return (name, None, variables, "zh-CN")


def cost(body: bytes, variables: str = "{}") -> int:
    return len(body) + len(variables) + OVERHEAD


def test_bytes_bound_evicts_the_least_recently_used_first():
    # given room for twenty answers of 1,000 bytes and not twenty-one
    body = b"x" * 1000
    names = [f"n{i}" for i in range(20)]
    cache = ResponseCache(capacity=100, max_age_cap=60, max_bytes=20 * cost(body) + 10)
    for name in names:
        cache.put(key(name), body, 60)
    assert cache.size == 20 * cost(body)

    # when the oldest is read (the most recent now) and another answer comes
    assert cache.get(key("n0")) == body
    cache.put(key("new"), body, 60)

    # then n1, the least recently used, is gone; the others stay and the size is theirs
    assert cache.get(key("n1")) is None
    assert all(cache.get(key(n)) == body for n in ["n0", *names[2:], "new"])
    assert len(cache) == 20
    assert cache.size == 20 * cost(body)
    assert cache.evicted == 1


def test_a_large_answer_pushes_out_as_many_as_it_needs():
    # given a budget full of small answers
    small, large = b"s" * 100, b"L" * 3000
    cache = ResponseCache(capacity=1000, max_age_cap=60, max_bytes=16 * cost(large))
    count = cache.max_bytes // cost(small)
    for i in range(count):
        cache.put(key(f"s{i}"), small, 60)
    assert cache.evicted == 0

    # when a large one comes
    cache.put(key("large"), large, 60)

    # then the oldest small ones make just enough room
    needed = -(-(cost(large) - (cache.max_bytes - count * cost(small))) // cost(small))
    assert cache.evicted == needed
    assert cache.get(key("large")) == large
    assert cache.size <= cache.max_bytes
    assert [cache.get(key(f"s{i}")) for i in range(needed)] == [None] * needed
    assert cache.get(key(f"s{needed}")) == small


def test_an_answer_above_a_sixteenth_of_the_budget_is_not_kept():
    budget = 16 * 1024
    cache = ResponseCache(capacity=100, max_age_cap=60, max_bytes=budget)
    cache.put(key("kept"), b"k" * 100, 60)
    fits = b"f" * (budget // ResponseCache.LARGEST_SHARE - len("{}") - OVERHEAD)
    too_large = fits + b"!"

    cache.put(key("fits"), fits, 60)
    cache.put(key("too-large"), too_large, 60)

    assert cache.get(key("fits")) == fits
    assert cache.get(key("too-large")) is None
    assert cache.get(key("kept")) == b"k" * 100  # nothing was pushed out for it
    assert cache.too_large == 1
    assert cache.evicted == 0


def test_the_variables_count_towards_the_size():
    variables = '{"filter":{"regions":["' + "370200" * 50 + '"]}}'
    cache = ResponseCache(capacity=100, max_age_cap=60)
    cache.put(key("a", variables), b"body", 60)
    assert cache.size == cost(b"body", variables)


def test_replacing_expiring_and_clearing_keep_the_size_exact():
    now = [0.0]
    cache = ResponseCache(capacity=100, max_age_cap=5, clock=lambda: now[0], max_bytes=1024 * 1024)
    cache.put(key("a"), b"1" * 500, 5)
    cache.put(key("a"), b"2" * 200, 5)  # a fresh answer replaces the kept one (pull to refresh)
    cache.put(key("b"), b"3" * 300, 1)
    assert cache.size == cost(b"2" * 200) + cost(b"3" * 300)

    now[0] += 1  # b expired: dropped when asked for
    assert cache.get(key("b")) is None
    assert cache.size == cost(b"2" * 200)

    cache.clear()
    assert cache.size == 0
    assert len(cache) == 0


def test_the_entries_bound_still_holds_beside_the_bytes():
    cache = ResponseCache(capacity=2, max_age_cap=60, max_bytes=1024 * 1024)
    for name in ("a", "b", "c"):
        cache.put(key(name), b"x", 60)
    assert len(cache) == 2
    assert cache.get(key("a")) is None


def test_no_bytes_turns_the_cache_off():
    assert not ResponseCache(capacity=2000, max_age_cap=10, max_bytes=0).enabled
    assert ResponseCache(capacity=2000, max_age_cap=10).enabled


async def test_a_screen_too_large_for_the_budget_is_answered_but_not_kept(api):
    # given a budget whose sixteenth is smaller than the home screen's answer
    await published_tender()
    cache = api.services.response_cache
    budget, cache.max_bytes = cache.max_bytes, 16 * 256
    try:
        # when the screen is asked for twice
        first = await post(api, by_hash(LIST.sha256, {"first": 5}))
        again = await post(api, by_hash(LIST.sha256, {"first": 5}))
    finally:
        cache.max_bytes = budget

    # then both ran and answered in full, and nothing was kept
    assert len(first.content) > 256
    assert again.headers.get("x-palmtrade-cache") != "hit"
    assert again.content == first.content
    assert len(again.json()["data"]["announcements"]["edges"]) == 1
    assert cache.too_large >= 2
    assert len(cache) == 0
