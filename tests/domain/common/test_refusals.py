"""A refusal recorded by the transaction that refused it: what the attempt wrote is rolled back, its failure event
commits with the check (no second transaction), and use_case does not record it again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from domain.common import events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, NotFound
from domain.common.events import use_case
from domain.common.idempotency import run_once
from domain.common.models import IdempotencyRecord, OutboxEvent

BIDDER = Actor(user_id=7, org_id=3, roles=frozenset({Role.BIDDER}), ip="10.0.0.7")


class Refused(DomainError):
    code = "TEST_REFUSED"


@dataclass(frozen=True, kw_only=True)
class Tried(events.DomainEvent):
    type = "test.tried"
    object_type = "Test"


@use_case("test.try", "Test", lambda actor, key: "9")
async def attempt(actor: Actor, key: str | None) -> dict[str, Any]:
    async def act() -> dict[str, Any]:
        await events.record(Tried(object_id="9"), actor)  # written, then refused: rolled back
        raise Refused()

    async def refused(error: DomainError) -> None:
        await events.record_refusal(actor, "test.try", "Test", "9", error)

    result, _ = await run_once(actor, key, "test.try", {"n": 1}, act, refused)
    return result


@use_case("test.find", "Test", lambda actor: "5")
async def find(actor: Actor) -> None:
    raise events.refusal_recorded(NotFound())


@pytest.mark.parametrize("key", [None, "k-1"])
async def test_a_refusal_is_recorded_once_in_the_refusing_transaction_and_the_attempt_rolled_back(db, key):
    # when an attempt writes, then is refused
    with pytest.raises(Refused):
        await attempt(BIDDER, key)

    # then only its failure event is kept, once, as use_case records one; the key stays free
    rows = await OutboxEvent.all()
    assert [(r.type, r.object_type, r.object_id, r.outcome, r.payload, r.actor_label, r.actor_ip) for r in rows] == [
        ("test.try", "Test", "9", "failure", {"code": "TEST_REFUSED"}, "user:7", "10.0.0.7")
    ]
    assert rows[0].audience == events.Audience().as_json()
    assert not await IdempotencyRecord.exists()


async def test_an_error_marked_recorded_is_not_recorded_again(db):
    # when a service raises an error whose failure event was written where it was refused
    with pytest.raises(NotFound):
        await find(BIDDER)

    # then use_case writes nothing more
    assert not await OutboxEvent.exists()
