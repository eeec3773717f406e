"""Idempotency keys: a mobile client's retry returns the first result and acts only once."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.common import clock
from domain.common.actors import Actor
from domain.common.errors import DomainError, IdempotencyKeyReused, InvalidIdempotencyKey
from domain.common.events import canonical_json, digest
from domain.common.models import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


async def run_once(
    actor: Actor,
    key: str | None,
    operation: str,
    request: dict[str, Any],
    action: Callable[[], Awaitable[dict[str, Any]]],
    refused: Callable[[DomainError], Awaitable[None]] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Runs `action` in a transaction that also claims the key; returns (result, replayed).

    A replay with the same input returns the stored result without acting; the same key with a
    different input raises IdempotencyKeyReused. The key is kept at least 24 hours.

    With `refused`, a DomainError of the action is rolled back to a savepoint (the action's writes and the
    key's claim) and `refused(error)` runs in the same transaction, which commits; then the error is raised:
    a refusal is recorded by the transaction that checked it, not by a second one.
    """
    if key is None:
        async with in_transaction():
            if refused is None:
                return await action(), False
            outcome = await _refusable(action, refused)
        return _outcome(outcome), False
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey()  # printable: no NUL (PostgreSQL stores none), no control character
    caller = actor.key()
    request_hash = digest({"operation": operation, "request": request})

    async def claim_and_act() -> dict[str, Any]:
        now = clock.now()
        try:
            record = await IdempotencyRecord.create(
                caller=caller,
                key=key,
                operation=operation,
                request_hash=request_hash,
                result={},
                created_at=now,
                expires_at=now + KEY_LIFETIME,
            )
        except IntegrityError as err:
            raise _KeyTaken from err
        # what a replay will read back: the same JSON, also for the first caller
        result: dict[str, Any] = json.loads(canonical_json(await action()))
        record.result = result
        await record.save(update_fields=["result"])
        return result

    # The claim comes first, unread: a key is new far more often than it is retried, so a first request spends no
    # round trip looking for a result it cannot have. A claim refused by the unique key (a retry, a request of the
    # same key in flight, which the insert waits for, or an expired key) reads what holds the key, then claims again.
    for attempt in range(3):
        if attempt:
            stored = await _stored(caller, key, clock.now())
            if stored is not None:
                if stored.operation != operation or stored.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                return dict(stored.result), True
        try:
            async with in_transaction():
                if refused is None:
                    return await claim_and_act(), False
                outcome = await _refusable(claim_and_act, refused)
            return _outcome(outcome), False
        except _KeyTaken:
            # Another request claimed this key first and has committed by now: read its result.
            continue
    raise IdempotencyKeyReused()


async def _refusable(
    action: Callable[[], Awaitable[dict[str, Any]]], refused: Callable[[DomainError], Awaitable[None]]
) -> dict[str, Any] | DomainError:
    """The action's result, or its DomainError after rolling the action back to a savepoint and recording the
    refusal in the transaction around it (which the caller commits before raising the error)."""
    try:
        async with in_transaction():
            return await action()
    except DomainError as err:
        await refused(err)
        return err


def _outcome(outcome: dict[str, Any] | DomainError) -> dict[str, Any]:
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


class _KeyTaken(Exception):
    pass


async def _stored(caller: str, key: str, now: datetime) -> IdempotencyRecord | None:
    record = await IdempotencyRecord.get_or_none(caller=caller, key=key)
    if record is not None and record.expires_at <= now:
        await IdempotencyRecord.filter(id=record.id).delete()
        return None
    return record


async def answered(actor: Actor, key: str | None) -> bool:
    """Whether this key already holds a result for the caller: a retry that will only replay it."""
    if not key or not 0 < len(key) <= MAX_KEY_LENGTH:
        return False
    record = await IdempotencyRecord.get_or_none(caller=actor.key(), key=key)
    return record is not None and record.expires_at > clock.now()


async def purge_expired(now: datetime) -> int:
    """Deletes keys past their lifetime; run periodically by the scheduler."""
    return int(await IdempotencyRecord.filter(expires_at__lte=now).delete())
