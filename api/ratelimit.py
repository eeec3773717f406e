"""Fixed-window rate limits: in memory for one process, in Redis when several processes serve."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from notifications.keyspace import Keyspace, RedisError

log = logging.getLogger("palmtrade.api.ratelimit")


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
        """(allowed, seconds until the window resets)."""

    async def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        """(hits in the current window, seconds until it resets), counting nothing."""


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

    async def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = int(time.monotonic())
        window, count = self._windows.get(key, (0, 0))
        return (count if window == now // window_seconds else 0), window_seconds - now % window_seconds


class RedisRateLimiter:
    """Counts in the deployment's Keyspace (`<prefix>:rl:<key>:<window>`), shared by its processes only."""

    def __init__(self, space: Keyspace) -> None:
        self.space = space
        self._warned = -60.0

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
        now = int(time.time())
        window = now // window_seconds
        try:
            count = await self.space.count(f"rl:{key}:{window}", window_seconds + 1)
        except RedisError:
            # Redis unreachable (restarting, failing over): let the request through rather than fail it;
            # the limits guard against abuse, and a few seconds without them is the lesser harm
            if time.monotonic() - self._warned > 10:
                self._warned = time.monotonic()
                log.warning("rate limits not enforced: Redis is unreachable", exc_info=True)
            return True, window_seconds - now % window_seconds
        return count <= limit, window_seconds - now % window_seconds

    async def peek(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = int(time.time())
        try:
            count = await self.space.peek(f"rl:{key}:{now // window_seconds}")
        except RedisError:
            return 0, window_seconds - now % window_seconds  # as hit(): unreachable Redis limits nothing
        return count, window_seconds - now % window_seconds
