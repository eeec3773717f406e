"""A process's publications on Redis (issue 21): written in the order asked, those asked together in one command,
each marked once Redis took it; one lost to a Redis fault is marked nowhere, so the outbox's live consumer sends it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.common.topics import auction, watermark
from notifications.broker import RedisBroker
from notifications.keyspace import RedisError
from tests.notifications.test_live_topics import REDIS, bid, processes

pytestmark = pytest.mark.skipif(not REDIS, reason="no Redis")


def counting(broker: RedisBroker, monkeypatch: pytest.MonkeyPatch, fail: int = 0, slow: float = 0) -> list[int]:
    """The size of each write the broker makes to Redis; the first `fail` writes fail as a lost connection would;
    each reaches Redis `slow` seconds late (a busy network)."""
    writes: list[int] = []
    write = broker.space.publish

    async def counted(messages: Any) -> None:
        writes.append(len(messages))
        await asyncio.sleep(slow)
        if len(writes) <= fail:
            raise RedisError("Connection reset by peer")
        await write(messages)

    monkeypatch.setattr(broker.space, "publish", counted)
    return writes


async def test_bids_asked_together_reach_another_process_in_order_in_one_write(monkeypatch):
    async with processes("redis", 2) as [server, watching]:
        # given a process watching lot 1, and a server whose writes to Redis are counted
        watcher = await watching.open(topics=(auction(1),))
        writes = counting(server, monkeypatch)

        # when 50 bids are published at once (requests answered by one process at the same time)
        await asyncio.gather(*(server.publish(bid(1, seq)) for seq in range(1, 51)))

        # then they went to Redis in one command, and the watcher gets each once, in order
        assert writes == [50]
        got = [(await asyncio.wait_for(anext(watcher), timeout=5))["payload"]["seq"] for _ in range(50)]
        assert got == list(range(1, 51))
        await asyncio.sleep(0.05)
        assert watcher.unread == 0
        # and each is marked for the outbox's live consumer
        marks = [m[0] for seq in range(1, 51) if (m := watermark(bid(1, seq))) is not None]
        assert len(await server.marks(marks)) == 50


async def test_a_write_lost_to_redis_fails_its_publishers_and_marks_nothing(monkeypatch):
    async with processes("redis", 1) as [server]:
        # given a server whose first write to Redis is lost
        writes = counting(server, monkeypatch, fail=1)

        # when two bids are published at once, then a third
        lost = await asyncio.gather(server.publish(bid(2, 1)), server.publish(bid(2, 2)), return_exceptions=True)
        await server.publish(bid(2, 3))

        # then both publishers of the lost write were told, and the next write went through
        assert [type(e) for e in lost] == [RedisError, RedisError]
        assert writes == [2, 1]
        # and only the third bid is marked: the outbox's live consumer publishes the other two (notifications/live.py)
        marks = {m[0]: m[1] for seq in (1, 2, 3) if (m := watermark(bid(2, seq))) is not None}
        assert await server.marks(sorted(marks)) == {watermark(bid(2, 3))[0]: 3}  # type: ignore[index]


async def test_marks_wait_for_what_the_process_asked_to_publish_before(monkeypatch):
    async with processes("redis", 1) as [server]:
        # given bids this process asked to publish, on their way to a Redis that is slow to take them
        counting(server, monkeypatch, slow=0.1)
        asked = [asyncio.create_task(server.publish(bid(3, seq))) for seq in (1, 2)]
        await asyncio.sleep(0)

        # when the outbox's live consumer asks for their marks at once
        marks = {m[0]: m[1] for seq in (1, 2) if (m := watermark(bid(3, seq))) is not None}
        seen = await server.marks(sorted(marks))

        # then it sees them marked: it does not publish them a second time
        assert seen == marks
        await asyncio.gather(*asked)


async def test_closing_writes_what_was_asked():
    async with processes("redis", 2) as [server, watching]:
        watcher = await watching.open(topics=(auction(4),))
        # given a bid asked to be published, not yet written
        asked = asyncio.create_task(server.publish(bid(4, 1)))
        await asyncio.sleep(0)

        # when the server closes
        await server.close()

        # then it was written before the connection closed
        await asked
        assert (await asyncio.wait_for(anext(watcher), timeout=5))["payload"]["seq"] == 1


async def test_marks_of_what_the_process_published_need_no_round_trip(monkeypatch):
    async with processes("redis", 2) as [server, worker]:
        # given bids 1 and 2 published by the server process, bid 3 by another
        for seq in (1, 2):
            await server.publish(bid(5, seq))
        await worker.publish(bid(5, 3))
        marks = {m[0]: m[1] for seq in (1, 2, 3) if (m := watermark(bid(5, seq))) is not None}
        asked: list[list[str]] = []
        fetch = server.space.marks

        async def counted(keys: Any) -> list[int | None]:
            asked.append(list(keys))
            return await fetch(keys)

        monkeypatch.setattr(server.space, "marks", counted)

        # when the server's own outbox consumer asks for the marks of its two bids
        mine = sorted(marks)[:2]
        assert await server.marks(mine) == {t: marks[t] for t in mine}
        # then Redis was not asked
        assert asked == []

        # and asked for the three, Redis is asked only for the other process's bid, and every mark is found
        assert await server.marks(sorted(marks)) == marks
        assert len(asked) == 1
        assert len(asked[0]) == 1
