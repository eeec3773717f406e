"""Two deployments sharing one Redis server: neither sees the other's live events, notifications,
cache invalidations or rate-limit counters (Redis pub/sub channels ignore the database number)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from api.ratelimit import RedisRateLimiter
from api.services import broker_and_limiter
from api.settings import Settings
from domain.common.topics import topic_of
from notifications.broker import RedisBroker
from schema.caching import INVALIDATED_BY

BASE_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _redis_reachable() -> bool:
    try:
        with redis.Redis.from_url(BASE_URL, socket_connect_timeout=0.5, socket_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(
    os.environ.get("PALMTRADE_CI_SERVICES") != "1" and not _redis_reachable(),
    reason=f"no Redis answers at {BASE_URL}: two deployments sharing a Redis server need one",
)


def on_db(number: int) -> str:
    parts = urlsplit(BASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", "", ""))


def a_database() -> str:
    """A database of its own, so that concurrent runs of this test never share a deployment."""
    return f"postgres://postgres@127.0.0.1:5432/palmtrade_{uuid.uuid4().hex[:12]}"


@dataclass
class Deployment:
    bus: RedisBroker
    limiter: RedisRateLimiter


@contextlib.asynccontextmanager
async def deployment(settings: Settings) -> AsyncIterator[Deployment]:
    """The Redis half of one process of a deployment, as api/services.py wires it."""
    bus, limiter = broker_and_limiter(settings)
    assert isinstance(bus, RedisBroker)
    assert isinstance(limiter, RedisRateLimiter)
    await bus.start()
    try:
        yield Deployment(bus, limiter)
    finally:
        await bus.close()


async def first_seen(receiver: Deployment, other: Deployment, message: dict[str, Any]) -> dict[str, Any]:
    """What `receiver`'s subscriber gets first when `other` publishes `message` and then `receiver`
    publishes its own: Redis delivers in the order it was sent, so the other's message comes first
    iff it crossed."""
    # on the message's topic (a bid's is its lot's channel), listened to before anything is published
    stream = await receiver.bus.open(lambda m: m.get("type") == message["type"], topics=(topic_of(message),))
    try:
        await other.bus.publish({**message, "eventId": "from-the-other-deployment"})
        await receiver.bus.publish({**message, "eventId": "own"})
        return await asyncio.wait_for(anext(stream), timeout=5)
    finally:
        await stream.aclose()


def notification(user_id: int) -> dict[str, Any]:
    return {
        "type": "notification.created",
        "objectType": "Notification",
        "objectId": "1",
        "payload": {"id": 1, "userId": user_id, "titleZh": "中标通知", "bodyZh": "您已中标"},
    }


BID_PLACED = {"type": "auction.bid_placed", "objectType": "Lot", "objectId": "7", "payload": {"lot_id": 7}}
ANNOUNCEMENT = {"type": next(iter(INVALIDATED_BY)), "objectType": "Announcement", "objectId": "3", "payload": {}}


async def test_deployments_on_two_redis_databases_do_not_see_each_others_live_events():
    # given two deployments configured alike except for the Redis database number
    database = a_database()
    one = Settings(database_url=database, redis_url=on_db(1))
    two = Settings(database_url=database, redis_url=on_db(2))
    async with deployment(one) as a, deployment(two) as b:
        # when each publishes a bid, a notification to user 5 and an announcement
        seen = [await first_seen(b, a, message) for message in (BID_PLACED, notification(5), ANNOUNCEMENT)]

    # then the second sees only its own: no auction event, no one else's notice, no cache invalidation
    assert [m["eventId"] for m in seen] == ["own", "own", "own"]


async def test_deployments_on_one_redis_database_share_neither_events_nor_rate_limits():
    # given two deployments with databases of their own on the same Redis database
    one = Settings(database_url=a_database(), redis_url=on_db(1))
    two = Settings(database_url=a_database(), redis_url=on_db(1))
    async with deployment(one) as a, deployment(two) as b:
        # when the first uses up a caller's limit
        key = f"client:{uuid.uuid4().hex}"
        first, _ = await a.limiter.hit(key, 1)
        refused, _ = await a.limiter.hit(key, 1)
        # and the same caller (the same id in the other database) makes its first request to the second
        other, _ = await b.limiter.hit(key, 1)
        seen = await first_seen(b, a, notification(5))

    # then the second counts on its own and gets only its own messages
    assert (first, refused, other) == (True, False, True)
    assert seen["eventId"] == "own"


async def test_an_explicit_prefix_separates_deployments_that_share_everything_else():
    # given two deployments with the same URLs but a REDIS_PREFIX each
    database = a_database()
    one = Settings(database_url=database, redis_url=on_db(1), redis_prefix=f"city-a-{uuid.uuid4().hex[:6]}")
    two = Settings(database_url=database, redis_url=on_db(1), redis_prefix=f"city-b-{uuid.uuid4().hex[:6]}")
    async with deployment(one) as a, deployment(two) as b:
        # when one publishes, then the other does not receive it
        assert (await first_seen(b, a, BID_PLACED))["eventId"] == "own"


async def test_processes_of_one_deployment_still_share_events_and_limits():
    # given two processes of one deployment (the same settings)
    settings = Settings(database_url=a_database(), redis_url=on_db(1))
    async with deployment(settings) as a, deployment(settings) as b:
        # when one publishes and counts, then the other receives it first and shares the count
        seen = await first_seen(b, a, BID_PLACED)
        key = f"client:{uuid.uuid4().hex}"
        await a.limiter.hit(key, 1)
        allowed, _ = await b.limiter.hit(key, 1)

    assert seen["eventId"] == "from-the-other-deployment"
    assert allowed is False
