"""Domain events and the outbox: a change and its event commit together or not at all."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, ClassVar, ParamSpec, Protocol, TypeVar

from tortoise.transactions import in_transaction

from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError
from domain.common.models import OutboxEvent

log = logging.getLogger("palmtrade.events")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may see an event live: organisations, users, roles, or everyone."""

    orgs: tuple[int, ...] = ()
    users: tuple[int, ...] = ()
    roles: tuple[str, ...] = (Role.OPERATOR.value,)
    public: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "orgs": list(self.orgs),
            "users": list(self.users),
            "roles": list(self.roles),
            "public": self.public,
        }


def can_see(audience: dict[str, Any], actor: Actor) -> bool:
    """Whether an actor may receive an event with this audience."""
    if audience.get("public"):
        return True
    if actor.user_id is not None and actor.user_id in audience.get("users", ()):
        return True
    if actor.org_id is not None and actor.org_id in audience.get("orgs", ()):
        return True
    return any(
        r in actor.roles and (r != Role.SUPERVISOR or _supervises(audience, actor)) for r in audience.get("roles", ())
    )


def _supervises(audience: dict[str, Any], actor: Actor) -> bool:
    """A supervisor hears of a lot's events only for the categories it supervises (domain/access/scope
    stamps `categories` on the events about a lot)."""
    categories = audience.get("categories")
    return categories is None or any(c in actor.supervised_categories for c in categories)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened. Subclasses set `type` and `object_type` and add fields."""

    type: ClassVar[str]
    object_type: ClassVar[str]
    object_id: str
    audience: Audience = field(default_factory=Audience)

    def payload(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("object_id", "audience")
        }
        payload: dict[str, Any] = json.loads(json.dumps(data, default=_json_default))
        return payload


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | set | frozenset | tuple):
        return str(value) if isinstance(value, uuid.UUID) else sorted(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


async def record(event: DomainEvent, actor: Actor, event_id: uuid.UUID | None = None) -> OutboxEvent:
    """Writes the event to the outbox; call it inside the transaction of the change.

    A caller that may run twice for one fact (a consumer on redelivery) passes an event id derived
    from the fact and skips the ones that exist: event ids are unique.
    """
    return await OutboxEvent.create(
        event_id=event_id or uuid.uuid4(),
        type=event.type,
        object_type=event.object_type,
        object_id=str(event.object_id),
        outcome="success",
        actor_user_id=actor.user_id,
        actor_org_id=actor.org_id,
        actor_label=actor.label,
        actor_ip=actor.ip,
        payload=event.payload(),
        audience=event.audience.as_json(),
        occurred_at=clock.now(),
    )


def _failure_row(actor: Actor, action: str, object_type: str, object_id: str, error: DomainError) -> dict[str, Any]:
    """The outbox row of a refused attempt: its action, object and code, for the audit trail."""
    return {
        "event_id": uuid.uuid4(),
        "type": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": "failure",
        "actor_user_id": actor.user_id,
        "actor_org_id": actor.org_id,
        "actor_label": actor.label,
        "actor_ip": actor.ip,
        "payload": {"code": error.code},
        "audience": Audience().as_json(),
        "occurred_at": clock.now(),
    }


async def record_failure(actor: Actor, action: str, object_type: str, object_id: str, error: DomainError) -> None:
    """Records a refused attempt in its own transaction, so the audit trail shows it."""
    try:
        async with in_transaction():
            await OutboxEvent.create(**_failure_row(actor, action, object_type, object_id, error))
    except Exception:
        log.exception("could not record the failure of %s", action)


# refusals whose failure event the refusing transaction wrote itself: use_case does not record them again
_recorded: weakref.WeakSet[DomainError] = weakref.WeakSet()


async def record_refusal(actor: Actor, action: str, object_type: str, object_id: str, error: DomainError) -> None:
    """Records a refused attempt inside the transaction that checked and refused it (after rolling back what the
    attempt did), the same event record_failure writes; the error is then marked recorded."""
    await OutboxEvent.create(**_failure_row(actor, action, object_type, object_id, error))
    _recorded.add(error)


def refusal_recorded(error: DomainError) -> DomainError:
    """Marks an error whose failure event was written where it was refused (one statement on PostgreSQL's bid path):
    use_case does not record it again."""
    _recorded.add(error)
    return error


P = ParamSpec("P")
R = TypeVar("R")


def use_case(
    action: str, object_type: str, object_id: Callable[..., str] | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Marks a service that changes state: a DomainError it raises is audited as a failure (in a transaction of its
    own, unless the service recorded it where it refused: record_refusal, refusal_recorded)."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except DomainError as err:
                actor = args[0] if args and isinstance(args[0], Actor) else kwargs.get("actor")
                if isinstance(actor, Actor) and err not in _recorded:
                    try:
                        oid = object_id(*args, **kwargs) if object_id else ""
                    except Exception:
                        oid = ""
                    await record_failure(actor, action, object_type, str(oid), err)
                raise

        return wrapper

    return decorate


class EventBus(Protocol):
    """Carries dispatched events to live subscribers, in this process and, with Redis, others."""

    async def publish(self, message: dict[str, Any]) -> None: ...

    def subscribe(self, accept: Callable[[dict[str, Any]], bool] | None = None) -> AsyncIterator[dict[str, Any]]:
        """Messages from now on; with `accept`, only those it accepts (checked before waking the reader)."""
        ...


def live_message(event: OutboxEvent) -> dict[str, Any]:
    """The form in which an outbox event travels to live subscribers."""
    return {
        "eventId": str(event.event_id),
        "type": event.type,
        "objectType": event.object_type,
        "objectId": event.object_id,
        "occurredAt": event.occurred_at.isoformat(),
        "payload": event.payload,
        "audience": event.audience,
    }
