"""Fixed-window rate limits: in memory for one process, in Redis when several processes serve."""

from __future__ import annotations

import logging
import time
from typing import Protocol

import redis.asyncio as redis

log = logging.getLogger("palmtrade.api.ratelimit")


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
        """(allowed, seconds until the window resets)."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
        now = int(time.monotonic())
        window = now // window_seconds
        current_window, count = self._windows.get(key, (window, 0))
        if current_window != window:
            count = 0
        count += 1
        self._windows[key] = (window, count)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return count <= limit, window_seconds - now % window_seconds


class RedisRateLimiter:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._warned = -60.0

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
        now = int(time.time())
        window = now // window_seconds
        name = f"palmtrade:rl:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window_seconds + 1)
                count, _ = await pipe.execute()
        except redis.RedisError:
            # Redis unreachable (restarting, failing over): let the request through rather than fail it;
            # the limits guard against abuse, and a few seconds without them is the lesser harm
            if time.monotonic() - self._warned > 10:
                self._warned = time.monotonic()
                log.warning("rate limits not enforced: Redis is unreachable", exc_info=True)
            return True, window_seconds - now % window_seconds
        return int(count) <= limit, window_seconds - now % window_seconds
