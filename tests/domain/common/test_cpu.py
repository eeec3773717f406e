"""The CPU pool (domain/common/cpu.py): calls run on its threads, never more at once than its size, inline at 0."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

from domain.common import cpu


@pytest.fixture
def pool_of_two() -> Iterator[None]:
    previous = cpu.size()
    cpu.configure(2)
    yield
    cpu.configure(previous)


class Gate:
    """Calls that hold their pool thread until released, counting how many run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.running = self.started = self.most = 0
        self.threads: list[str] = []

    def call(self, n: int) -> int:
        with self.lock:
            self.running += 1
            self.started += 1
            self.most = max(self.most, self.running)
            self.threads.append(threading.current_thread().name)
        try:
            assert self.release.wait(30), "the test never released the gate"
            return n
        finally:
            with self.lock:
                self.running -= 1


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def test_a_call_runs_on_a_pool_thread_not_the_event_loops(pool_of_two):
    # when a call runs through the pool
    name = await cpu.run(lambda: threading.current_thread().name)

    # then it ran on one of the pool's threads, not the loop's
    assert name.startswith(cpu.THREAD_PREFIX)
    assert name != threading.current_thread().name


async def test_one_call_more_than_the_pool_waits_until_a_thread_is_free(pool_of_two):
    # given three calls on a pool of two, each holding its thread
    gate = Gate()
    calls = [asyncio.ensure_future(cpu.run(gate.call, n)) for n in range(3)]
    await until(lambda: gate.started == 2, "two calls started")

    # then the third has not started while both threads are held, and the loop is free meanwhile
    assert gate.started == 2
    assert gate.running == 2
    assert not any(c.done() for c in calls)

    # when the gate opens, all three finish, never more than two at once
    gate.release.set()
    assert await asyncio.gather(*calls) == [0, 1, 2]
    assert gate.most == 2
    assert gate.started == 3
    assert all(t.startswith(cpu.THREAD_PREFIX) for t in gate.threads)


async def test_size_zero_runs_inline_on_the_loop():
    # given the pool configured to size 0 (the bench's baseline)
    previous = cpu.size()
    cpu.configure(0)
    try:
        # when a call runs
        name = await cpu.run(lambda: threading.current_thread().name)
    finally:
        cpu.configure(previous)

    # then it ran on the loop's own thread
    assert name == threading.current_thread().name


async def test_a_computing_coroutine_runs_to_its_end_in_a_loop_of_its_own(pool_of_two):
    # given a coroutine that only computes
    async def compute(n: int) -> tuple[int, str]:
        await asyncio.sleep(0)
        return n * 2, threading.current_thread().name

    # when it runs through the pool, then its result comes back, computed on a pool thread
    value, name = await cpu.run_coroutine(compute, 21)
    assert value == 42
    assert name.startswith(cpu.THREAD_PREFIX)


def test_a_negative_size_is_refused():
    with pytest.raises(ValueError, match="0"):
        cpu.configure(-1)
