"""CPU-bound calls (password hashing, certificate paths, decrypting and rendering files) off the event loop, on
one bounded pool per process: at most `size` run at once, the others wait their turn in order, so neither the
loop's latency nor the memory they take (argon2: 64 MiB each) grows with the number of requests.

Threads, not processes: argon2-cffi (through cffi) and cryptography's EC and RSA operations release the GIL
while they compute; pure-Python work (pyhanko-certvalidator, fpdf2, pyrage's streaming callbacks) shares it with
the loop in the interpreter's switch interval (5 ms) instead of holding the loop for its whole run. Size 0 runs
each call inline on the loop, as before the pool (only for measuring the difference, bench/signin.py).

The calls waiting for a thread are bounded too (CPU_POOL_QUEUE): past it a call is refused at once with Busy, a
RateLimited saying when to try again, rather than queued behind work that would keep it waiting longer than its
client does (a bidding day starts with everyone signing in: 3,000 argon2 verifications queued on one thread are ten
minutes of waiting).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from domain.common import clock
from domain.common.errors import RateLimited

P = ParamSpec("P")
T = TypeVar("T")

THREAD_PREFIX = "cpu"
# calls that may wait for a thread (besides those running): at size 1, about 6 s of argon2 verifications
DEFAULT_QUEUE = 32


class Busy(RateLimited):
    """The CPU pool has as many calls waiting as it may queue (CPU_POOL_QUEUE): answered as RateLimited, with when a
    thread is expected to be free."""

    message_zh = "服务器繁忙，请于 {retry_at} 后重试"
    message_en = "The server is busy; try again after {retry_at}"


def default_size() -> int:
    """Two, leaving at least one core to the event loop: one on a machine of two cores or fewer. Each argon2 call
    keeps a core busy; with as many threads as cores the loop waits for the kernel to give it one (bench/signin.py,
    two cores: query Me p99 during sign-ins 133 ms with one thread, 298 ms with two, 942 ms inline)."""
    return max(1, min(2, (os.cpu_count() or 1) - 1))


class _Pool:
    def __init__(self) -> None:
        self.size = default_size()
        self.queue = DEFAULT_QUEUE
        self.executor: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()
        self.pending = 0  # calls handed to the pool and not finished: running or waiting
        self.mean = 0.2  # seconds a call takes, a moving average (argon2's to start with)

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=THREAD_PREFIX)
            return self.executor

    def admit(self) -> None:
        """Counts a call in, or Busy when as many wait as the queue allows."""
        with self.lock:
            if self.pending >= self.size + self.queue:
                waiting = self.pending - self.size + 1
                seconds = max(1, math.ceil(waiting * self.mean / self.size))
                raise Busy(retry_at=clock.now() + timedelta(seconds=seconds))
            self.pending += 1

    def done(self, seconds: float | None) -> None:
        with self.lock:
            self.pending -= 1
            if seconds is not None:
                self.mean += (seconds - self.mean) / 8


_pool = _Pool()


def configure(size: int, queue: int | None = None) -> None:
    """Sets the pool's size (CPU_POOL_SIZE) and how many calls may wait for a thread (CPU_POOL_QUEUE) for the calls
    from now on; a running pool finishes its calls first."""
    if size < 0:
        raise ValueError("the CPU pool size is 0 (inline) or more")
    if queue is not None and queue < 0:
        raise ValueError("the CPU pool queue is 0 (no call waits) or more")
    shutdown()
    _pool.size = size
    if queue is not None:
        _pool.queue = queue


def size() -> int:
    return _pool.size


def queue() -> int:
    return _pool.queue


def pending() -> int:
    """Calls on the pool now, running or waiting."""
    return _pool.pending


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(*args, **kwargs) on the pool, awaited; inline when the pool's size is 0. Busy (a RateLimited) at once when
    as many calls wait as the queue allows."""
    if _pool.size == 0:
        return fn(*args, **kwargs)
    _pool.admit()

    def call() -> T:
        started = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            _pool.done(None)
            raise
        _pool.done(time.perf_counter() - started)
        return result

    try:
        future = asyncio.get_running_loop().run_in_executor(_pool.get(), call)
    except BaseException:
        _pool.done(None)  # never scheduled
        raise
    return await future


async def run_coroutine(fn: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs) -> T:
    """A coroutine that only computes (an `async` library API that awaits no I/O) run to its end in an event loop
    of its own on the pool; inline on this loop when the pool's size is 0."""
    if _pool.size == 0:
        return await fn(*args, **kwargs)
    return await run(asyncio.run, fn(*args, **kwargs))


def shutdown() -> None:
    """Lets the calls in hand finish and stops the threads; the next call starts a new pool."""
    with _pool.lock:
        executor, _pool.executor = _pool.executor, None
    if executor is not None:
        executor.shutdown(wait=False)
