"""Lifecycles as data: a StrEnum of states and one table of named transitions.

A transition says from which states it leaves (none: it creates the object), the state it reaches,
who may fire it (roles, parties, or SYSTEM for the platform itself), the pure guards that must pass
and whether the chronograph fires it when due. Services move an object with one call:

    new = TABLE.fire(obj.status, "withdraw", by=actor, lot_status=lot.status)

which returns the new state or raises: the transition's refusal (InvalidTransition(state=current)
unless the table says otherwise) when the object is not in a source state, PermissionDenied when
`by` may not fire it, and the first failing guard's error. Nothing here reads the database: guards
see only the facts the service passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, InvalidTransition, PermissionDenied

S = TypeVar("S", bound=StrEnum)
Facts = Mapping[str, Any]

SYSTEM = "system"  # the platform itself: the chronograph, or a reaction to another area's event
NEW = "new"  # the state name shown for an object a creating transition has not made yet


@dataclass(frozen=True, slots=True)
class Guard:
    """A pure rule over the facts a service passes: returns the error to raise, or None to pass."""

    text: str  # what must hold, in words (rendered in docs/lifecycles)
    check: Callable[[Facts], DomainError | None]

    def __call__(self, facts: Facts) -> DomainError | None:
        return self.check(facts)


def guard(text: str) -> Callable[[Callable[[Facts], DomainError | None]], Guard]:
    """Decorates a pure check into a Guard described by `text`."""

    def wrap(check: Callable[[Facts], DomainError | None]) -> Guard:
        return Guard(text, check)

    return wrap


def fact_in(fact: str, allowed: Iterable[str], text: str | None = None) -> Guard:
    """A guard that `facts[fact]` is one of `allowed`, refused as InvalidTransition(state=<the fact>):
    the shape of "only while the lot is open" checks on an object that is not the lot."""
    values = frozenset(str(a) for a in allowed)

    def check(facts: Facts) -> DomainError | None:
        value = str(facts[fact])
        return None if value in values else InvalidTransition(state=value)

    return Guard(text or f"{fact} ∈ {{{', '.join(sorted(values))}}}", check)


def refuse_invalid(state: str) -> DomainError:
    return InvalidTransition(state=state)


@dataclass(frozen=True, slots=True)
class Transition(Generic[S]):
    name: str
    sources: frozenset[S]  # empty: the transition creates the object
    target: S
    # roles (Role values), parties or SYSTEM that may fire it; empty: the table does not restrict the
    # caller (the service decides who owns the object, e.g. "the registration's own organisation")
    by: frozenset[str] = frozenset()
    guards: tuple[Guard, ...] = ()
    timed: bool = False  # fired by the chronograph once due
    note: str = ""
    refusal: Callable[[str], DomainError] = refuse_invalid  # raised with the current state when not a source

    @property
    def creates(self) -> bool:
        return not self.sources


def move(
    name: str,
    sources: Iterable[S] | S | None,
    target: S,
    *,
    by: Iterable[str] = (),
    guards: Iterable[Guard] = (),
    timed: bool = False,
    note: str = "",
    refusal: Callable[[str], DomainError] = refuse_invalid,
) -> Transition[S]:
    """One row of a table; `sources=None` for a transition that creates the object."""
    if sources is None:
        froms: frozenset[S] = frozenset()
    elif isinstance(sources, StrEnum):
        froms = frozenset({sources})
    else:
        froms = frozenset(sources)
    return Transition(
        name=name,
        sources=froms,
        target=target,
        by=frozenset(str(b) for b in by),
        guards=tuple(guards),
        timed=timed,
        note=note,
        refusal=refusal,
    )


def _may_fire(allowed: frozenset[str], by: Actor | str | None) -> bool:
    if not allowed:
        return True
    if by is None:
        return False
    if isinstance(by, Actor):
        roles = [Role(r) for r in allowed if r in Role._value2member_map_]
        return (bool(roles) and by.has(*roles)) or (SYSTEM in allowed and by.is_system)
    return str(by) in allowed


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A lifecycle's table: its states, named transitions, initial and final states."""

    name: str  # e.g. "Registration"
    states: type[S]
    transitions: tuple[Transition[S], ...]
    initial: frozenset[S]
    final: frozenset[S] = frozenset()
    doc: str = ""
    field_name: str = "status"  # the model field that holds the state
    _by_name: dict[str, Transition[S]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Transition[S]] = {}
        for t in self.transitions:
            if t.name in by_name:
                raise ValueError(f"{self.name}: two transitions named {t.name!r}")
            by_name[t.name] = t
        object.__setattr__(self, "_by_name", by_name)

    def __getitem__(self, name: str) -> Transition[S]:
        return self._by_name[name]

    def state(self, value: str) -> S:
        return self.states(value)

    def _known(self, value: str) -> bool:
        """Whether `value` is one of the table's states: a table over part of another object's states (a
        lot's status, seen by one area) refuses the rest as it refuses a state that is not a source."""
        return str(value) in self.states._value2member_map_

    def check(self, current: str | None, name: str, *, by: Actor | str | None = None, **facts: Any) -> S:
        """The state `name` leads to from `current`, or raises as `fire` does (changes nothing)."""
        t = self._by_name[name]
        if t.creates:
            if current is not None:
                raise t.refusal(str(current))
        elif current is None or not self._known(current) or self.states(current) not in t.sources:
            raise t.refusal(NEW if current is None else str(current))
        if not _may_fire(t.by, by):
            raise PermissionDenied()
        for g in t.guards:
            err = g(facts)
            if err is not None:
                raise err
        return t.target

    fire = check  # the guarded transition function services call: returns the new state

    def precheck(self, name: str, *, by: Actor | str | None = None, **facts: Any) -> None:
        """Raises as `fire` would for the caller and the guards, whatever the state: for the checks a
        service makes before it locks the row (then it fires on the locked row)."""
        t = self._by_name[name]
        if not _may_fire(t.by, by):
            raise PermissionDenied()
        for g in t.guards:
            err = g(facts)
            if err is not None:
                raise err

    def allows(self, current: str | None, name: str, *, by: Actor | str | None = None, **facts: Any) -> bool:
        """Whether `fire` would succeed."""
        try:
            self.check(current, name, by=by, **facts)
        except DomainError:
            return False
        return True

    def leading(self, current: str, target: S) -> Transition[S] | None:
        """The transition from `current` to `target`, if the table has one."""
        for t in self.transitions:
            if t.target is target and self.states(current) in t.sources:
                return t
        return None

    def due(self, current: str, **facts: Any) -> Transition[S] | None:
        """The first time-driven transition from `current` whose guards pass on `facts` (the
        chronograph's question); None when nothing is due."""
        for t in self.transitions:
            if t.timed and self.states(current) in t.sources and all(g(facts) is None for g in t.guards):
                return t
        return None

    def problems(self) -> list[str]:
        """What makes the table ill-formed: states out of the enum, unreachable states, transitions
        out of a final state, creating transitions that do not reach an initial state."""
        found: list[str] = []
        members = set(self.states)
        for t in self.transitions:
            for s in (*t.sources, t.target):
                if s not in members:
                    found.append(f"{t.name}: {s!r} is not a {self.states.__name__}")
            if t.sources & self.final:
                found.append(f"{t.name}: leaves a final state")
            if t.creates and t.target not in self.initial:
                found.append(f"{t.name}: creates the object in {t.target.value}, not an initial state")
        for s in self.initial | self.final:
            if s not in members:
                found.append(f"{s!r} is not a {self.states.__name__}")
        reached = set(self.initial)
        grew = True
        while grew:
            grew = False
            for t in self.transitions:
                if t.target not in reached and reached & t.sources:
                    reached.add(t.target)
                    grew = True
        for s in self.states:
            if s not in reached:
                found.append(f"{s.value}: not reachable from an initial state")
        return found

    def _ordered(self, states: Iterable[S]) -> list[S]:
        order = list(self.states)
        return sorted(states, key=order.index)

    def markdown(self) -> str:
        """The table as Markdown with a Mermaid state diagram (docs/lifecycles)."""
        lines = [f"## {self.name}", ""]
        if self.doc:
            lines += [self.doc.strip(), ""]
        lines += [f"State field: `{self.field_name}`.", "", "```mermaid", "stateDiagram-v2"]
        for s in self.states:
            if s in self.initial:
                lines.append(f"    [*] --> {s.value}")
        for t in self.transitions:
            label = t.name + (" ⏱" if t.timed else "")
            for src in self._ordered(t.sources):
                lines.append(f"    {src.value} --> {t.target.value} : {label}")
        for s in self.states:
            if s in self.final:
                lines.append(f"    {s.value} --> [*]")
        lines += ["```", "", "| state | |", "| --- | --- |"]
        for s in self.states:
            kind = ", ".join(k for k, on in (("initial", s in self.initial), ("final", s in self.final)) if on)
            lines.append(f"| `{s.value}` | {kind} |")
        lines += [
            "",
            "| transition | from | to | who fires it | guards | |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for t in self.transitions:
            froms = ", ".join(f"`{s.value}`" for s in self._ordered(t.sources)) or "(creates)"
            who = ", ".join(sorted(t.by)) or "the service's caller check"
            guards = "; ".join(g.text for g in t.guards) or ""
            extra = "; ".join(x for x in ("time-driven (chronograph)" if t.timed else "", t.note) if x)
            lines.append(f"| `{t.name}` | {froms} | `{t.target.value}` | {who} | {guards} | {extra} |")
        return "\n".join(lines) + "\n"


def render_page(area: str, tables: Iterable[Lifecycle[Any]]) -> str:
    """One area's docs/lifecycles page."""
    head = [
        f"# Lifecycles: {area}",
        "",
        f"Generated from `domain/{area}/states.py` by `make lifecycles`; do not edit by hand.",
        "",
    ]
    return "\n".join(head) + "\n".join(t.markdown() for t in tables)
