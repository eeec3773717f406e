"""The guarantee lifecycle table, walked pair by pair."""

from __future__ import annotations

import itertools

import pytest

from domain.common.errors import InvalidTransition, PermissionDenied
from domain.guarantees.states import (
    CLAIMED_ONCE,
    FINAL,
    TRANSITIONS,
    WITH_LETTER,
    GuaranteeStatus,
    Party,
    ensure_transition,
)

S = GuaranteeStatus
ALLOWED = {
    (S.APPLIED, S.ISSUED, Party.GUARANTOR),
    (S.APPLIED, S.DECLINED, Party.GUARANTOR),
    (S.ISSUED, S.CLAIMED, Party.BENEFICIARY),
    (S.CLAIMED, S.PAID, Party.GUARANTOR),
    (S.CLAIMED, S.REJECTED, Party.GUARANTOR),
    (S.ISSUED, S.RELEASED, Party.SYSTEM),
    (S.ISSUED, S.EXPIRED, Party.SYSTEM),
}


def test_the_table_is_exactly_the_documented_lifecycle():
    # then
    assert {(a, b, p) for (a, b), p in TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair_is_allowed_only_to_its_party(current, target):
    for party in Party:
        # when / then
        if (current, target, party) in ALLOWED:
            ensure_transition(current.value, target, party)
        elif (current, target) in TRANSITIONS:
            with pytest.raises(PermissionDenied):
                ensure_transition(current.value, target, party)
        else:
            with pytest.raises(InvalidTransition) as caught:
                ensure_transition(current.value, target, party)
            assert caught.value.params == {"state": current.value}


def test_final_states_lead_nowhere_and_a_claim_happens_once():
    # then
    assert not any(a in FINAL for a, _ in TRANSITIONS)
    assert not any(a in CLAIMED_ONCE and b == S.CLAIMED for a, b in TRANSITIONS)
    assert S.APPLIED not in WITH_LETTER
    assert S.DECLINED not in WITH_LETTER
