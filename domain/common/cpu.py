"""CPU-bound calls (password hashing, certificate paths, decrypting and rendering files) off the event loop, on
one bounded pool per process: at most `size` run at once, the others wait their turn in order, so neither the
loop's latency nor the memory they take (argon2: 64 MiB each) grows with the number of requests.

Threads, not processes: argon2-cffi (through cffi) and cryptography's EC and RSA operations release the GIL
while they compute; pure-Python work (pyhanko-certvalidator, fpdf2, pyrage's streaming callbacks) shares it with
the loop in the interpreter's switch interval (5 ms) instead of holding the loop for its whole run. Size 0 runs
each call inline on the loop, as before the pool (only for measuring the difference, bench/signin.py).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

THREAD_PREFIX = "cpu"


def default_size() -> int:
    """Two, leaving at least one core to the event loop: one on a machine of two cores or fewer. Each argon2 call
    keeps a core busy; with as many threads as cores the loop waits for the kernel to give it one (bench/signin.py,
    two cores: query Me p99 during sign-ins 133 ms with one thread, 298 ms with two, 942 ms inline)."""
    return max(1, min(2, (os.cpu_count() or 1) - 1))


class _Pool:
    def __init__(self) -> None:
        self.size = default_size()
        self.executor: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=THREAD_PREFIX)
            return self.executor


_pool = _Pool()


def configure(size: int) -> None:
    """Sets the pool's size (CPU_POOL_SIZE) for the calls from now on; a running pool finishes its calls first."""
    if size < 0:
        raise ValueError("the CPU pool size is 0 (inline) or more")
    shutdown()
    _pool.size = size


def size() -> int:
    return _pool.size


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(*args, **kwargs) on the pool, awaited; inline when the pool's size is 0."""
    if _pool.size == 0:
        return fn(*args, **kwargs)
    call = functools.partial(fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool.get(), call)


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
