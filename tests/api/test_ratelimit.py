"""Rate limits when Redis is away: requests go through (logged), they are not failed."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from api.ratelimit import MemoryRateLimiter, RedisRateLimiter
from notifications.keyspace import COUNT, Keyspace
from tests.conftest import free_port
from tests.notifications.test_broker_namespaces import BASE_URL, _redis_reachable

REDIS = os.environ.get("PALMTRADE_CI_SERVICES") == "1" or _redis_reachable()


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


@pytest.mark.skipif(not REDIS, reason=f"no Redis at {BASE_URL}")
async def test_the_redis_limiter_counts_for_every_process_in_one_command():
    # given two processes of one deployment, each with its own connection to Redis
    prefix = f"test-rl-{uuid.uuid4().hex[:8]}"
    spaces = [Keyspace(BASE_URL, prefix) for _ in range(2)]
    first, second = (RedisRateLimiter(space) for space in spaces)
    try:
        # when the first has never run the counting script on this server (as after Redis restarted)
        spaces[0]._shas[COUNT] = "0" * 40
        # and a bidder's bids are counted alternately by the two, with a limit of 3 a second
        answers = [(await (first, second)[i % 2].hit("bid:1", 3, window_seconds=60))[0] for i in range(5)]

        # then the count is shared: three allowed, the rest refused, whichever process counted
        assert answers == [True, True, True, False, False]
        # and the window's key expires a second after the window (it is counted with its expiry each time)
        [key] = [k async for k in spaces[0]._client.scan_iter(match=spaces[0].name("rl", "*"))]
        assert 0 < await spaces[0]._client.ttl(key) <= 61
        # and the first loaded the script it lacked, and runs it by its SHA1 from then on
        assert spaces[0]._shas[COUNT] == hashlib.sha1(COUNT.encode()).hexdigest()
    finally:
        for space in spaces:
            await space._client.delete(*[k async for k in space._client.scan_iter(match=space.name("*"))] or ["-"])
            await space.aclose()
