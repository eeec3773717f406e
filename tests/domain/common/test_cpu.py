"""The CPU pool (domain/common/cpu.py): calls run on its threads, never more at once than its size, inline at 0; past
the calls its queue allows, a call is refused as Busy (a RateLimited) instead of waiting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

from domain.common import cpu
from domain.common.errors import RateLimited


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


@pytest.fixture
def pool_of_one_queue_of_one() -> Iterator[None]:
    previous, queued = cpu.size(), cpu.queue()
    cpu.configure(1, queue=1)
    yield
    cpu.configure(previous, queue=queued)


async def test_past_the_calls_the_queue_allows_a_call_is_refused_busy_at_once_and_after_a_call_ends_admitted(
    pool_of_one_queue_of_one, manual_clock
):
    # given a pool of one thread and a queue of one, its thread held and one call waiting
    gate = Gate()
    calls = [asyncio.ensure_future(cpu.run(gate.call, n)) for n in range(2)]
    await until(lambda: gate.started == 1, "one call started")
    assert cpu.pending() == 2

    # when a third call comes, then it is refused at once, as a RateLimited saying when to try again, not queued
    with pytest.raises(cpu.Busy) as refused:
        await cpu.run(gate.call, 2)
    assert isinstance(refused.value, RateLimited)
    assert refused.value.code == "RATE_LIMITED"
    assert refused.value.params["retry_at"] > manual_clock.now()
    assert "busy" in refused.value.message("en")
    assert "繁忙" in refused.value.message("zh")
    assert cpu.pending() == 2

    # when the held calls end, then the pool is empty, and a call is admitted again
    gate.release.set()
    assert await asyncio.gather(*calls) == [0, 1]
    await until(lambda: cpu.pending() == 0, "the pool emptied")
    assert await cpu.run(gate.call, 3) == 3
    assert gate.started == 3


async def test_a_call_that_raises_leaves_no_place_taken(pool_of_one_queue_of_one):
    # given calls that fail on the pool
    def fail() -> None:
        raise RuntimeError("bad input")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            await cpu.run(fail)

    # then nothing stays counted: a call still runs
    assert cpu.pending() == 0
    assert await cpu.run(lambda: 7) == 7


def test_a_negative_queue_is_refused():
    with pytest.raises(ValueError, match="queue"):
        cpu.configure(1, queue=-1)
