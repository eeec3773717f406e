"""The transition-table machinery, and every area's table: well formed, and its docs page current."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest

from domain import lifecycles
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, InvalidInput, InvalidTransition, PermissionDenied
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, fact_in, guard, move

DOCS = Path(__file__).resolve().parents[3] / "docs" / "lifecycles"


class Door(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    GONE = "gone"


class Locked(DomainError):
    code = "LOCKED"


@guard("the door is not locked")
def not_locked(facts: Facts) -> DomainError | None:
    return Locked() if facts["locked"] else None


DOOR: Lifecycle[Door] = Lifecycle(
    name="Door",
    states=Door,
    transitions=(
        move("build", None, Door.CLOSED, by={Role.OPERATOR}),
        move("open", Door.CLOSED, Door.OPEN, guards=[not_locked]),
        move("close", Door.OPEN, Door.CLOSED, by={Role.BIDDER}, guards=[fact_in("weather", {"dry"})]),
        move("wreck", {Door.OPEN, Door.CLOSED}, Door.GONE, by={SYSTEM}, timed=True),
    ),
    initial=frozenset({Door.CLOSED}),
    final=frozenset({Door.GONE}),
)


def test_fire_returns_the_target_when_the_source_caller_and_guards_agree() -> None:
    # given / when / then
    assert DOOR.fire("closed", "open", locked=False) is Door.OPEN
    assert DOOR.fire("open", "close", by=Actor(roles=frozenset({Role.BIDDER})), weather="dry") is Door.CLOSED
    assert DOOR.fire(None, "build", by=Actor(roles=frozenset({Role.OPERATOR}))) is Door.CLOSED
    assert DOOR.fire("open", "wreck", by=SYSTEM) is Door.GONE


def test_fire_refuses_a_wrong_state_before_the_caller_and_the_caller_before_the_guards() -> None:
    # when / then
    with pytest.raises(InvalidTransition) as wrong:
        DOOR.fire("gone", "open", by=None, locked=True)
    assert wrong.value.params == {"state": "gone"}
    with pytest.raises(InvalidTransition):
        DOOR.fire("closed", "build", by=Actor(roles=frozenset({Role.OPERATOR})))
    with pytest.raises(InvalidTransition) as new:
        DOOR.fire(None, "open", locked=False)
    assert new.value.params == {"state": "new"}
    with pytest.raises(PermissionDenied):
        DOOR.fire("open", "close", by=Actor(roles=frozenset({Role.TENDERER})), weather="wet")
    with pytest.raises(PermissionDenied):
        DOOR.fire("open", "close", weather="dry")
    with pytest.raises(PermissionDenied):
        DOOR.fire("open", "wreck", by=Actor(roles=frozenset({Role.OPERATOR}), user_id=1))
    with pytest.raises(Locked):
        DOOR.fire("closed", "open", locked=True)
    with pytest.raises(InvalidTransition) as weather:
        DOOR.fire("open", "close", by=Actor(roles=frozenset({Role.BIDDER})), weather="wet")
    assert weather.value.params == {"state": "wet"}


def test_the_system_actor_fires_a_system_transition() -> None:
    # given
    system = Actor(roles=frozenset({Role.OPERATOR}), client_id="system")
    # then
    assert DOOR.fire("closed", "wreck", by=system) is Door.GONE
    assert DOOR.allows("closed", "wreck", by=system)
    assert not DOOR.allows("gone", "wreck", by=system)


def test_a_transition_may_name_its_own_refusal() -> None:
    # given
    table: Lifecycle[Door] = Lifecycle(
        name="Door",
        states=Door,
        transitions=(move("open", Door.CLOSED, Door.OPEN, refusal=lambda s: InvalidInput(field=s)),),
        initial=frozenset({Door.CLOSED}),
    )
    # when
    with pytest.raises(InvalidInput) as err:
        table.fire("open", "open")
    # then
    assert err.value.field == "open"


def test_due_answers_the_chronograph_with_the_first_timed_transition() -> None:
    # then
    assert DOOR.due("open") is DOOR["wreck"]
    assert DOOR.due("gone") is None


def test_problems_names_unreachable_states_and_moves_out_of_final_states() -> None:
    # given
    bad: Lifecycle[Door] = Lifecycle(
        name="Bad",
        states=Door,
        transitions=(
            move("build", None, Door.OPEN),
            move("haunt", Door.GONE, Door.CLOSED),
        ),
        initial=frozenset({Door.CLOSED}),
        final=frozenset({Door.GONE}),
    )
    # when
    found = bad.problems()
    # then
    assert "haunt: leaves a final state" in found
    assert "build: creates the object in open, not an initial state" in found
    assert "gone: not reachable from an initial state" in found
    assert DOOR.problems() == []


def test_two_transitions_may_not_share_a_name() -> None:
    with pytest.raises(ValueError, match="two transitions"):
        Lifecycle(
            name="Twice",
            states=Door,
            transitions=(move("go", Door.CLOSED, Door.OPEN), move("go", Door.OPEN, Door.CLOSED)),
            initial=frozenset({Door.CLOSED}),
        )


@pytest.mark.parametrize("table", [t for _, tables in lifecycles.AREAS for t in tables], ids=lambda t: t.name)
def test_every_area_table_is_well_formed(table: Lifecycle[StrEnum]) -> None:
    # then: every state reachable from an initial state, nothing leaves a final one, states exist
    assert table.problems() == []
    assert table.initial
    assert all(t.by or not t.timed for t in table.transitions), "a time-driven step names who fires it"


@pytest.mark.parametrize("area", [a for a, _ in lifecycles.AREAS])
def test_the_committed_lifecycle_pages_are_current(area: str) -> None:
    # given
    page = DOCS / f"{area}.md"
    # then
    assert page.exists(), f"docs/lifecycles/{area}.md is missing: run `make lifecycles`"
    assert page.read_text(encoding="utf-8") == lifecycles.page(area), "run `make lifecycles`"


def test_no_page_is_left_for_an_area_without_a_table() -> None:
    # then
    pages = {p.stem for p in DOCS.glob("*.md")} - {"README"}
    assert pages == {a for a, _ in lifecycles.AREAS}
