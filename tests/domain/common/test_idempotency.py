"""Idempotency keys on the real database: a retry returns the first result and acts only once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from domain.common import events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, IdempotencyKeyReused, InvalidIdempotencyKey
from domain.common.idempotency import KEY_LIFETIME, purge_expired, run_once
from domain.common.models import IdempotencyRecord, OutboxEvent

BIDDER = Actor(user_id=7, org_id=3, roles=frozenset({Role.BIDDER}))


@dataclass(frozen=True, kw_only=True)
class Pinged(events.DomainEvent):
    type = "test.pinged"
    object_type = "Test"
    n: int


class Action:
    """An action that records an outbox event per call and counts its calls."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        row = await events.record(Pinged(object_id="1", n=self.calls), BIDDER)
        if self.fail:
            raise DomainError()
        return {"eventId": str(row.event_id), "call": self.calls}


async def test_first_call_acts_and_a_replay_returns_the_stored_result(db, manual_clock):
    # given an action and a key
    action = Action()

    # when the same request is sent twice
    first, first_replayed = await run_once(BIDDER, "k-1", "test.ping", {"n": 1}, action)
    manual_clock.advance(hours=1)
    again, again_replayed = await run_once(BIDDER, "k-1", "test.ping", {"n": 1}, action)

    # then it acted once and the replay has the first result
    assert (first_replayed, again_replayed) == (False, True)
    assert again == first == {"eventId": first["eventId"], "call": 1}
    assert action.calls == 1
    assert await OutboxEvent.all().count() == 1
    record = await IdempotencyRecord.get(key="k-1")
    assert record.caller == "user:7"
    assert record.result == first
    assert record.expires_at == record.created_at + KEY_LIFETIME


async def test_without_a_key_every_call_acts(db):
    # given an action sent twice without a key
    action = Action()
    first = await run_once(BIDDER, None, "test.ping", {}, action)
    second = await run_once(BIDDER, None, "test.ping", {}, action)

    # then it acted twice and kept nothing
    assert first == ({"eventId": first[0]["eventId"], "call": 1}, False)
    assert second[0]["call"] == 2
    assert await OutboxEvent.all().count() == 2
    assert await IdempotencyRecord.all().count() == 0


async def last() -> OutboxEvent:
    event = await OutboxEvent.all().order_by("-id").first()
    assert event is not None
    return event


async def test_same_key_with_a_different_input_or_operation_is_refused(db):
    # given a key used once
    action = Action()
    await run_once(BIDDER, "k-2", "test.ping", {"n": 1}, action)

    # when it is sent with another input, or for another operation
    with pytest.raises(IdempotencyKeyReused) as reused:
        await run_once(BIDDER, "k-2", "test.ping", {"n": 2}, action)
    with pytest.raises(IdempotencyKeyReused):
        await run_once(BIDDER, "k-2", "test.other", {"n": 1}, action)

    # then nothing more happened
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert action.calls == 1
    assert await OutboxEvent.all().count() == 1


async def test_keys_are_scoped_to_the_caller(db):
    # given two callers using the same key for the same input
    other = Actor(user_id=8, org_id=3, roles=frozenset({Role.BIDDER}))
    action = Action()

    # when each sends it
    _, mine = await run_once(BIDDER, "shared", "test.ping", {"n": 1}, action)
    _, theirs = await run_once(other, "shared", "test.ping", {"n": 1}, action)

    # then each acted once
    assert (mine, theirs) == (False, False)
    assert action.calls == 2


async def test_a_failed_action_leaves_the_key_free_and_nothing_written(db):
    # given an action that writes, then fails with a business error
    failing = Action(fail=True)

    # when it runs under a key
    with pytest.raises(DomainError):
        await run_once(BIDDER, "k-3", "test.ping", {"n": 1}, failing)

    # then its writes were rolled back and the key was not claimed
    assert await OutboxEvent.all().count() == 0
    assert await IdempotencyRecord.all().count() == 0

    # and a retry with the same key acts
    retry = Action()
    result, replayed = await run_once(BIDDER, "k-3", "test.ping", {"n": 1}, retry)
    assert replayed is False
    assert retry.calls == 1
    assert result["eventId"] == str((await last()).event_id)


@pytest.mark.parametrize("key", ["", "k" * 256, "bid-\x00-1", "bid\n1", "bid\x7f"])
async def test_keys_must_be_1_to_255_printable_characters(db, key):
    action = Action()
    with pytest.raises(InvalidIdempotencyKey) as raised:
        await run_once(BIDDER, key, "test.ping", {}, action)
    assert raised.value.field == "idempotencyKey"
    assert raised.value.code == "INVALID_IDEMPOTENCY_KEY"
    assert action.calls == 0


async def test_a_255_character_key_is_accepted(db):
    _, replayed = await run_once(BIDDER, "k" * 255, "test.ping", {}, Action())
    assert replayed is False
    assert await IdempotencyRecord.filter(key="k" * 255).count() == 1


async def test_a_key_is_kept_24_hours_then_acts_anew(db, manual_clock):
    # given a key used now
    action = Action()
    await run_once(BIDDER, "k-4", "test.ping", {"n": 1}, action)

    # when it is replayed just before 24 hours, it returns the stored result
    manual_clock.advance(KEY_LIFETIME - timedelta(seconds=1))
    _, replayed = await run_once(BIDDER, "k-4", "test.ping", {"n": 1}, action)
    assert replayed is True

    # when it is sent after 24 hours, even with another input, it acts anew
    manual_clock.advance(seconds=1)
    result, replayed = await run_once(BIDDER, "k-4", "test.ping", {"n": 2}, action)
    assert replayed is False
    assert result["call"] == 2
    assert action.calls == 2
    assert await IdempotencyRecord.filter(key="k-4").count() == 1


async def test_purge_deletes_only_expired_keys(db, manual_clock):
    # given a key a day old and a key an hour old
    await run_once(BIDDER, "old", "test.ping", {}, Action())
    manual_clock.advance(hours=23)
    await run_once(BIDDER, "young", "test.ping", {}, Action())
    manual_clock.advance(hours=1)

    # when expired keys are purged
    purged = await purge_expired(manual_clock.now())

    # then only the old one went
    assert purged == 1
    assert await IdempotencyRecord.all().values_list("key", flat=True) == ["young"]


async def test_concurrent_retries_act_once(db):
    # given one action and five concurrent sends of the same request with the same key
    action = Action()

    # when they race
    results = await asyncio.gather(*(run_once(BIDDER, "race", "test.ping", {"n": 1}, action) for _ in range(5)))

    # then exactly one acted and all five answered with its result
    assert action.calls == 1
    assert await OutboxEvent.all().count() == 1
    assert [replayed for _, replayed in results].count(False) == 1
    assert all(result == results[0][0] for result, _ in results)
    assert results[0][0]["eventId"] == str((await last()).event_id)


async def test_concurrent_retries_with_a_different_input_are_refused(db):
    # given two sends with the same key and different inputs, racing
    action = Action()
    outcomes = await asyncio.gather(
        run_once(BIDDER, "race-2", "test.ping", {"n": 1}, action),
        run_once(BIDDER, "race-2", "test.ping", {"n": 2}, action),
        return_exceptions=True,
    )

    # then one acted and the other was refused
    assert action.calls == 1
    assert sum(isinstance(o, IdempotencyKeyReused) for o in outcomes) == 1
    assert await OutboxEvent.all().count() == 1


async def test_a_first_request_claims_its_key_without_reading_it_first(db, caplog):
    # given the statements the database client sends (tortoise logs each at DEBUG)
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")

    def reads() -> int:
        return sum("SELECT" in r.getMessage() and "idempotency_record" in r.getMessage() for r in caplog.records)

    # when a key is used for the first time, then the claim is its first statement: no read before it
    await run_once(BIDDER, "k-first", "test.ping", {"n": 1}, Action())
    assert reads() == 0
    assert any("INSERT" in r.getMessage() and "idempotency_record" in r.getMessage() for r in caplog.records)

    # and when it is retried, the refused claim reads the stored result
    _, replayed = await run_once(BIDDER, "k-first", "test.ping", {"n": 1}, Action())
    assert replayed
    assert reads() == 1
