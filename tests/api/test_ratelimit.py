"""Rate limits when Redis is away: requests go through (logged), they are not failed."""

from __future__ import annotations

from api.ratelimit import MemoryRateLimiter, RedisRateLimiter
from notifications.keyspace import Keyspace
from tests.conftest import free_port


async def test_the_memory_limiter_counts_per_window():
    limiter = MemoryRateLimiter()
    answers = [(await limiter.hit("k", 2))[0] for _ in range(3)]
    assert answers == [True, True, False]


async def test_an_unreachable_redis_lets_requests_through():
    # given a limiter on a Redis nobody listens on (restarting, failing over)
    space = Keyspace(f"redis://127.0.0.1:{free_port()}/0", "palmtrade:test", socket_connect_timeout=0.5)
    limiter = RedisRateLimiter(space)
    try:
        # when a request is counted, then it is allowed, with the window's reset as hint
        allowed, reset = await limiter.hit("bid:1", 1, window_seconds=60)
        again, _ = await limiter.hit("bid:1", 1, window_seconds=60)
    finally:
        await space.aclose()
    assert (allowed, again) == (True, True)
    assert 0 < reset <= 60
