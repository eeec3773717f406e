"""The response cache's figures at `/metrics` (issue 21): hits, misses, evictions and answers too large to keep as
counters, and the bytes and entries it keeps as gauges, each moving as the cache answers."""

from __future__ import annotations

from typing import Any

from tests.api.test_metrics import _scrape
from tests.api.test_persisted import by_hash
from tests.api.test_response_cache import LIST, post
from tests.support.tendering import published_tender


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return samples.get((name, ()), 0.0)


async def test_hits_misses_evictions_and_the_bytes_kept_are_exported(api: Any, monkeypatch: Any) -> None:
    # given a published tender (its event not dispatched: nothing clears the cache meanwhile), and the figures before
    await published_tender()
    cache = api.services.response_cache
    before = await _scrape(api)
    size_before, entries_before, evicted_before = cache.size, len(cache), cache.evicted

    # when the home screen is asked for twice by hash, then, with room for one answer only, with other variables
    first = await post(api, by_hash(LIST.sha256, {"first": 5}))
    again = await post(api, by_hash(LIST.sha256, {"first": 5}))
    monkeypatch.setattr(cache, "capacity", 1)
    other = await post(api, by_hash(LIST.sha256, {"first": 4}))
    after = await _scrape(api)

    # then one hit, two misses and the evictions that made room are counted
    assert [r.headers["x-palmtrade-cache"] for r in (first, again, other)] == ["miss", "hit", "miss"]
    hits = _value(after, "palmtrade_response_cache_hits_total") - _value(before, "palmtrade_response_cache_hits_total")
    misses = _value(after, "palmtrade_response_cache_misses_total") - _value(
        before, "palmtrade_response_cache_misses_total"
    )
    evictions = _value(after, "palmtrade_response_cache_evictions_total") - _value(
        before, "palmtrade_response_cache_evictions_total"
    )
    assert hits == 1
    assert misses == 2
    assert evictions == cache.evicted - evicted_before >= 1
    assert len(cache) == 1

    # and the gauges moved by what the cache now keeps: one answer and its bytes
    kept = _value(after, "palmtrade_response_cache_bytes") - _value(before, "palmtrade_response_cache_bytes")
    entries = _value(after, "palmtrade_response_cache_entries") - _value(before, "palmtrade_response_cache_entries")
    assert kept == cache.size - size_before
    assert entries == len(cache) - entries_before
    assert cache.size >= len(other.content)
