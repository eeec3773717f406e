"""Cross-area reactions: typed handlers of the domain's event dataclasses, run by the outbox dispatcher.

An area that reacts to another's events says so in its `workflows.py` (a function taking the event
dataclass); `domain/wiring.py` registers each one here, under the name of the workflow it belongs to.
The dispatcher hands every claimed batch to `Reactions.consume` inside its own transaction, so a
reaction's writes commit with the batch being marked dispatched: exactly once, or rolled back and
retried with the batch. Handlers must ignore a repeat of an event they already acted on.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from domain.common.events import Audience, DomainEvent
from domain.common.models import OutboxEvent

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Any], Awaitable[None]]


def decode(cls: type[E], event: OutboxEvent) -> E:
    """The event dataclass an outbox row was recorded from (payload fields by name; datetimes parsed)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in ("object_id", "audience") or not f.init:
            continue
        if f.name not in event.payload:
            continue  # an older row without a field added since: its default applies
        value = event.payload[f.name]
        hint = hints.get(f.name)
        if value is not None and isinstance(value, str) and hint in (datetime, datetime | None):
            value = datetime.fromisoformat(value)
        elif isinstance(value, list) and typing.get_origin(hint) is tuple:
            value = tuple(value)
        values[f.name] = value
    audience = event.audience or {}
    return cls(
        object_id=event.object_id,
        audience=Audience(
            orgs=tuple(audience.get("orgs", ())),
            users=tuple(audience.get("users", ())),
            roles=tuple(audience.get("roles", ())),
            public=bool(audience.get("public", False)),
        ),
        **values,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Reaction:
    workflow: str
    event: type[DomainEvent]
    handle: Handler


class Reactions:
    """The registered reactions; an outbox consumer (`consume`) the dispatcher runs in its transaction."""

    name = "workflows"

    def __init__(self) -> None:
        self._reactions: list[Reaction] = []

    def on(self, event: type[E], handle: Callable[[E], Awaitable[None]], *, workflow: str) -> None:
        """Runs `handle` for every committed `event`; registering the same pair twice keeps one."""
        reaction = Reaction(workflow, event, handle)
        if reaction not in self._reactions:
            self._reactions.append(reaction)

    def __iter__(self) -> typing.Iterator[Reaction]:
        return iter(list(self._reactions))

    def workflows(self) -> list[str]:
        """Workflow names in the order they run (the order of their first registration)."""
        return list(dict.fromkeys(r.workflow for r in self._reactions))

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        """Each workflow over the whole batch in commit order; within one event, its handlers in
        registration order. Refused attempts (outcome failure) carry no event and start nothing."""
        for workflow in self.workflows():
            reactions = [r for r in self._reactions if r.workflow == workflow]
            for event in events:
                if event.outcome != "success":
                    continue
                for reaction in reactions:
                    if event.type == reaction.event.type:
                        await reaction.handle(decode(reaction.event, event))
