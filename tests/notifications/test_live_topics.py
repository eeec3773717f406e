"""The live bus by topic (issue 21): a subscriber gets the topics it names, a process listens on Redis only to
the topics its subscribers want (counted), every topic reaches an `ANY` subscriber once, and a conflating
subscriber that falls behind keeps the newest price of a lot and every phase change, in order."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from domain.common.topics import ANY, GENERAL, auction, topic_of, user, watermark
from domain.notifications.services import LIVE_TYPE
from notifications.broker import InProcessBroker, RedisBroker
from notifications.keyspace import Keyspace
from tests.notifications.test_broker_namespaces import BASE_URL, _redis_reachable

REDIS = os.environ.get("PALMTRADE_CI_SERVICES") == "1" or _redis_reachable()
KINDS = ["in-process", pytest.param("redis", marks=pytest.mark.skipif(not REDIS, reason=f"no Redis at {BASE_URL}"))]


def bid(lot: int, seq: int) -> dict[str, Any]:
    return {
        "eventId": f"bid-{lot}-{seq}",
        "type": "auction.bid_placed",
        "payload": {"lot_id": lot, "seq": seq, "price_fen": 100 * seq},
    }


def phase(lot: int, seq: int, name: str) -> dict[str, Any]:
    return {"eventId": f"phase-{lot}-{name}", "type": "auction.phase_changed", "payload": {"lot_id": lot, "seq": seq}}


NOTICE = {"eventId": "notice", "type": "announcement.published", "payload": {}}


@asynccontextmanager
async def processes(kind: str, n: int = 1) -> AsyncIterator[list[InProcessBroker]]:
    """n processes of one deployment: one in-process broker, or n Redis brokers sharing a fresh prefix."""
    if kind == "in-process":
        yield [InProcessBroker()] * n
        return
    prefix = f"test-topics-{uuid.uuid4().hex[:8]}"
    brokers = [RedisBroker(Keyspace(BASE_URL, prefix)) for _ in range(n)]
    for broker in brokers:
        await broker.start()
    try:
        yield list(brokers)
    finally:
        for broker in brokers:
            await broker.close()


async def received(subscription: Any, n: int) -> list[str]:
    return [(await asyncio.wait_for(anext(subscription), timeout=5))["eventId"] for _ in range(n)]


async def settled(broker: InProcessBroker, channels: frozenset[str]) -> bool:
    """Whether the broker's channels become `channels` (Redis confirms an unsubscribe after it was asked)."""
    for _ in range(500):
        if broker.channels == channels:
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.mark.parametrize("kind", KINDS)
async def test_a_subscriber_gets_the_topics_it_names_and_any_gets_each_message_once(kind):
    async with processes(kind) as [bus]:
        # given a subscriber of lot 1, one of the general topic, and one of every topic (while lot 1's channel
        # is subscribed too, so Redis sends its messages both by channel and by pattern)
        lot = await bus.open(topics=(auction(1),))
        general = await bus.open()
        everything = await bus.open(topics=(ANY,))
        assert bus.channels == {auction(1), ANY}

        # when a bid of lot 1, a bid of lot 2 and a general event are published
        for message in (bid(1, 1), bid(2, 1), NOTICE):
            await bus.publish(message)

        # then each subscriber gets what it named, once
        assert await received(lot, 1) == ["bid-1-1"]
        assert await received(general, 1) == ["notice"]
        assert await received(everything, 3) == ["bid-1-1", "bid-2-1", "notice"]
        await bus.publish(bid(1, 2))
        assert await received(everything, 1) == ["bid-1-2"]
        assert (lot.unread, general.unread, everything.unread) == (1, 0, 0)
        for subscription in (lot, general, everything):
            await subscription.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_topic_is_listened_to_while_a_subscriber_wants_it(kind):
    async with processes(kind) as [bus]:
        # given two subscribers of lot 1 in one process
        first = await bus.open(topics=(auction(1),))
        second = await bus.open(topics=(auction(1),))
        assert bus.channels == {auction(1)}

        # when one leaves, the lot is still listened to; when the other leaves too, it is not
        await first.aclose()
        assert await settled(bus, frozenset({auction(1)}))
        await second.aclose()
        assert await settled(bus, frozenset())
        assert bus.subscriber_count == 0

        # and a subscriber coming back is listened for again before open() returns
        again = await bus.open(topics=(auction(1),))
        assert bus.channels == {auction(1)}
        await bus.publish(bid(1, 3))
        assert await received(again, 1) == ["bid-1-3"]
        await again.aclose()


@pytest.mark.skipif(not REDIS, reason=f"no Redis at {BASE_URL}")
async def test_a_process_reads_no_message_of_a_lot_none_of_its_subscribers_watches():
    async with processes("redis", 2) as [one, two]:
        # given a watcher of lot 1 in the first process and of lot 2 in the second
        watching_1 = await one.open(topics=(auction(1),))
        watching_2 = await two.open(topics=(auction(2),))

        # when bids of both lots are published, and a general event
        for message in (bid(2, 1), bid(1, 1), bid(2, 2), NOTICE):
            await one.publish(message)

        # then each process read its own lot's bids and the general event, and nothing of the other lot
        assert await received(watching_1, 1) == ["bid-1-1"]
        assert await received(watching_2, 2) == ["bid-2-1", "bid-2-2"]
        general = await two.open()  # the general channel is always read: the notice came through it
        assert one.received == {auction(1): 1, GENERAL: 1}
        assert two.received == {auction(2): 2, GENERAL: 1}
        for subscription in (watching_1, watching_2, general):
            await subscription.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_conflating_subscriber_behind_keeps_the_newest_price_and_every_phase_change_in_order(kind):
    async with processes(kind) as [bus]:
        # given a conflating subscriber of lot 1 that does not read for a while, and one that takes everything
        behind = await bus.open(topics=(auction(1),), conflate=True)
        everything = await bus.open(topics=(auction(1),))

        # when bids outrun it: bids 1 and 2, timed bidding, bids 3 to 5, the end
        sent = [bid(1, 1), bid(1, 2), phase(1, 2, "timed"), bid(1, 3), bid(1, 4), bid(1, 5), phase(1, 5, "sold")]
        for message in sent:
            await bus.publish(message)
        await received(everything, len(sent))

        # then it gets the phase changes in their order, each after the price it followed, and the final price
        assert await received(behind, 3) == ["phase-1-timed", "bid-1-5", "phase-1-sold"]
        assert behind.dropped == 4
        assert behind.unread == 0

        # and a subscriber that keeps up loses nothing
        await bus.publish(bid(1, 6))
        assert await received(behind, 1) == ["bid-1-6"]
        await bus.publish(bid(1, 7))
        assert await received(behind, 1) == ["bid-1-7"]
        for subscription in (behind, everything):
            await subscription.aclose()


async def test_prices_of_different_lots_do_not_supersede_each_other():
    bus = InProcessBroker()
    behind = await bus.open(topics=(ANY,), conflate=True)
    for message in (bid(1, 1), bid(2, 1), bid(1, 2), NOTICE, bid(2, 2)):
        await bus.publish(message)
    assert await received(behind, 3) == ["bid-1-2", "notice", "bid-2-2"]
    await behind.aclose()


async def test_a_full_queue_drops_its_oldest_message():
    bus = InProcessBroker(queue_size=2)
    slow = await bus.open(topics=(auction(1),))
    for seq in (1, 2, 3):
        await bus.publish(bid(1, seq))
    assert await received(slow, 2) == ["bid-1-2", "bid-1-3"]
    assert slow.dropped == 1
    await slow.aclose()


def live_notice(user_id: int, n: int) -> dict[str, Any]:
    return {"eventId": f"notice-{user_id}-{n}", "type": LIVE_TYPE, "payload": {"userId": user_id}}


@pytest.mark.skipif(not REDIS, reason=f"no Redis at {BASE_URL}")
async def test_a_users_live_notices_reach_only_the_process_where_that_user_listens():
    async with processes("redis", 2) as [one, two]:
        # given user 7's notices subscribed in the first process, and only the general topic in the second
        mine = await one.open(topics=(user(7),))
        general = await two.open()

        # when notices for users 7 and 8 are published (an outbid notice per bid), and a general event
        for message in (live_notice(8, 1), live_notice(7, 1), live_notice(7, 2), NOTICE):
            await two.publish(message)

        # then user 7's process read its two notices, and neither process read user 8's
        assert await received(mine, 2) == ["notice-7-1", "notice-7-2"]
        assert await received(general, 1) == ["notice"]
        assert one.received == {user(7): 2, GENERAL: 1}
        assert two.received == {GENERAL: 1}
        for subscription in (mine, general):
            await subscription.aclose()


def test_a_notice_without_a_user_stays_on_the_general_topic():
    assert topic_of({"type": LIVE_TYPE, "payload": {"userId": 3}}) == user(3)
    assert topic_of({"type": LIVE_TYPE, "payload": {}}) == GENERAL
    assert topic_of({"type": LIVE_TYPE, "payload": {"userId": "3"}}) == GENERAL


@pytest.mark.parametrize("kind", KINDS)
async def test_a_published_bid_marks_itself_not_its_lot(kind):
    async with processes(kind) as [broker]:
        # given bid 3 of lot 1 published by a server
        first = bid(1, 3)
        await broker.publish(first)

        # then its own mark is there for the worker, and no other bid's: not one with the same lot and sequence
        # made after the database was emptied or restored (ids and sequences come back), nor a later one
        again = {**bid(1, 3), "eventId": "bid-1-3-after-a-restore"}
        later = bid(1, 4)
        marks = {m[0]: m[1] for m in (watermark(first), watermark(again), watermark(later)) if m is not None}
        assert len(marks) == 3
        assert await broker.marks(sorted(marks)) == {watermark(first)[0]: 3}  # type: ignore[index]
