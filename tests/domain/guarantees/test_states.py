"""The guarantee lifecycle table, walked pair by pair."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from domain.common.errors import InvalidTransition, PermissionDenied
from domain.guarantees.errors import ClaimExceedsGuarantee, ClaimTooEarly, GuaranteeAlreadyClaimed
from domain.guarantees.states import (
    CLAIMED_ONCE,
    FINAL,
    TABLE,
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

# facts under which a claim's guards pass: valid, after the deadline, within the amount
CLAIM_OK = {
    "now": datetime(2026, 6, 1, tzinfo=UTC),
    "valid_until": datetime(2026, 9, 1, tzinfo=UTC),
    "deadline": datetime(2026, 5, 1, tzinfo=UTC),
    "amount_fen": 100,
    "guaranteed_fen": 100,
}


def test_the_table_is_exactly_the_documented_lifecycle():
    # then
    assert {(a, b, p) for (a, b), p in TRANSITIONS.items()} == ALLOWED


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair_is_allowed_only_to_its_party(current, target):
    for party in Party:
        # when / then
        if (current, target, party) in ALLOWED:
            ensure_transition(current.value, target, party, **CLAIM_OK)
        elif (current, target) in TRANSITIONS:
            with pytest.raises(PermissionDenied):
                ensure_transition(current.value, target, party, **CLAIM_OK)
        else:
            with pytest.raises(InvalidTransition) as caught:
                ensure_transition(current.value, target, party, **CLAIM_OK)
            assert caught.value.params == {"state": current.value}


def test_final_states_lead_nowhere_and_a_claim_happens_once():
    # then
    assert not any(a in FINAL for a, _ in TRANSITIONS)
    assert not any(a in CLAIMED_ONCE and b == S.CLAIMED for a, b in TRANSITIONS)
    assert S.APPLIED not in WITH_LETTER
    assert S.DECLINED not in WITH_LETTER


def test_a_claim_is_refused_once_made_then_expired_then_early_then_too_large_in_that_order():
    # given facts that fail every guard at once
    late = {**CLAIM_OK, "valid_until": CLAIM_OK["now"]}
    early = {**CLAIM_OK, "deadline": datetime(2026, 7, 1, tzinfo=UTC)}
    large = {**CLAIM_OK, "amount_fen": 101}
    by = Party.BENEFICIARY
    # when / then
    for made in CLAIMED_ONCE:
        with pytest.raises(GuaranteeAlreadyClaimed):
            TABLE.fire(made.value, "claim", by=by, **late)
    with pytest.raises(InvalidTransition) as expired:
        TABLE.fire(S.ISSUED.value, "claim", by=by, **{**early, **large, "valid_until": CLAIM_OK["now"]})
    assert expired.value.params == {"state": "expired"}
    with pytest.raises(ClaimTooEarly):
        TABLE.fire(S.ISSUED.value, "claim", by=by, **{**large, "deadline": early["deadline"]})
    with pytest.raises(ClaimExceedsGuarantee) as exceeds:
        TABLE.fire(S.ISSUED.value, "claim", by=by, **large)
    assert exceeds.value.params["amount_fen"] == 100
    assert TABLE.fire(S.ISSUED.value, "claim", by=by, **CLAIM_OK) is S.CLAIMED
