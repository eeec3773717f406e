"""The review lifecycle of an organisation, walked pair by pair and role by role."""

from __future__ import annotations

import itertools

import pytest

from domain.accounts.states import (
    ACCREDITATION,
    TRANSITIONS,
    OrgKind,
    OrgStatus,
    SystemStatus,
    ensure_transition,
    roles_of,
)
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidTransition, PermissionDenied

ALL_ROLES = frozenset(Role)
ALL_PAIRS = list(itertools.product(OrgStatus, OrgStatus))


def actor_with(*roles: Role) -> Actor:
    return Actor(user_id=1, org_id=1, roles=frozenset(roles))


def test_the_table_is_the_review_process():
    # an operator reviews, approves, rejects, suspends and reinstates; the applicant resubmits
    expected = {
        (OrgStatus.PENDING, OrgStatus.APPROVED): {Role.OPERATOR},
        (OrgStatus.PENDING, OrgStatus.REJECTED): {Role.OPERATOR},
        (OrgStatus.REJECTED, OrgStatus.PENDING): frozenset(),
        (OrgStatus.APPROVED, OrgStatus.SUSPENDED): {Role.OPERATOR},
        (OrgStatus.SUSPENDED, OrgStatus.APPROVED): {Role.OPERATOR},
    }
    assert expected == TRANSITIONS


@pytest.mark.parametrize(("current", "target"), sorted(TRANSITIONS))
def test_every_allowed_pair_passes_for_each_allowed_role(current, target):
    allowed = TRANSITIONS[(current, target)]
    for role in allowed:
        ensure_transition(current.value, target, actor_with(role))
        ensure_transition(current.value, target, actor_with(role, Role.BIDDER))
    if not allowed:
        # a transition without roles is the applicant's own; anyone who reaches it may fire it
        ensure_transition(current.value, target, actor_with())
        ensure_transition(current.value, target, actor_with(Role.BIDDER))


@pytest.mark.parametrize(("current", "target"), sorted(p for p in ALL_PAIRS if p not in TRANSITIONS))
def test_every_other_pair_is_an_invalid_transition_for_everyone(current, target):
    for actor in [actor_with(), actor_with(*ALL_ROLES), actor_with(Role.OPERATOR)]:
        with pytest.raises(InvalidTransition) as raised:
            ensure_transition(current.value, target, actor)
        assert raised.value.code == "INVALID_TRANSITION"
        assert raised.value.params == {"state": current.value}


@pytest.mark.parametrize(("current", "target"), sorted(p for p, roles in TRANSITIONS.items() if roles))
def test_every_role_outside_the_allowed_set_is_denied(current, target):
    allowed = TRANSITIONS[(current, target)]
    for role in ALL_ROLES - allowed:
        with pytest.raises(PermissionDenied):
            ensure_transition(current.value, target, actor_with(role))
    with pytest.raises(PermissionDenied):
        ensure_transition(current.value, target, actor_with(*(ALL_ROLES - allowed)))
    with pytest.raises(PermissionDenied):
        ensure_transition(current.value, target, Actor())


@pytest.mark.parametrize("status", [s for s in OrgStatus if s != OrgStatus.APPROVED])
def test_roles_only_once_approved(status):
    assert roles_of(status.value, ["bidder", "tenderer"]) == frozenset()


def test_an_approved_organisation_holds_a_role_per_kind():
    assert roles_of("approved", ["bidder"]) == {Role.BIDDER}
    assert roles_of(OrgStatus.APPROVED, [k.value for k in OrgKind]) == {
        Role.BIDDER,
        Role.TENDERER,
        Role.AGENCY,
        Role.GUARANTOR,
        Role.SUPERVISOR,
        Role.OPERATOR,
        Role.WITNESS,
    }
    assert roles_of("approved", []) == frozenset()


ACCREDITATION_MOVES = {
    (SystemStatus.ACCREDITED, SystemStatus.SUSPENDED): "suspend",
    (SystemStatus.SUSPENDED, SystemStatus.ACCREDITED): "reinstate",
    (SystemStatus.ACCREDITED, SystemStatus.REVOKED): "revoke",
    (SystemStatus.SUSPENDED, SystemStatus.REVOKED): "revoke",
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(SystemStatus, SystemStatus)))
def test_an_accreditation_moves_only_as_the_table_says_and_only_by_an_operator(current, target):
    # given the pair and what the table leads to
    move = ACCREDITATION.leading(current.value, target)

    # then exactly the listed pairs lead anywhere, an operator fires them, nobody else does; revoked is final
    assert (move.name if move else None) == ACCREDITATION_MOVES.get((current, target))
    if move is not None:
        assert ACCREDITATION.fire(current.value, move.name, by=actor_with(Role.OPERATOR)) is target
        for role in ALL_ROLES - {Role.OPERATOR}:
            with pytest.raises(PermissionDenied):
                ACCREDITATION.fire(current.value, move.name, by=actor_with(role))


def test_an_accreditation_is_created_accredited_by_an_operator_and_a_revoked_one_stays_revoked():
    assert ACCREDITATION.fire(None, "accredit", by=actor_with(Role.OPERATOR)) is SystemStatus.ACCREDITED
    with pytest.raises(PermissionDenied):
        ACCREDITATION.fire(None, "accredit", by=actor_with(Role.TENDERER))
    for name in ("suspend", "reinstate", "revoke"):
        with pytest.raises(InvalidTransition) as raised:
            ACCREDITATION.fire("revoked", name, by=actor_with(Role.OPERATOR))
        assert raised.value.params == {"state": "revoked"}
    assert ACCREDITATION.problems() == []
