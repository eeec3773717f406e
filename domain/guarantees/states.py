"""The life of a guarantee as data: its states and which party moves it from which state to which.

    applied -> issued -> claimed -> paid | rejected
            |        -> released (the lot has its result)
            |        -> expired  (valid_until passed; the chronograph)
            -> declined

A guarantee is claimed at most once: paid and rejected are final. An application nobody decided
stays `applied` (it never expires by itself); the guarantor may still decline it.
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.errors import InvalidTransition, PermissionDenied


class GuaranteeStatus(StrEnum):
    APPLIED = "applied"  # the bidder asked a guarantor
    ISSUED = "issued"  # the guarantor's signed letter passed the platform's checks: security in place
    DECLINED = "declined"  # the guarantor said no, with a reason
    CLAIMED = "claimed"  # the beneficiary claimed (索赔); waits for the guarantor's decision
    PAID = "paid"  # the guarantor paid the claim
    REJECTED = "rejected"  # the guarantor rejected the claim, with a reason
    RELEASED = "released"  # the lot has its result (contract, failure, termination): liability ends
    EXPIRED = "expired"  # valid_until passed while issued


class Party(StrEnum):
    APPLICANT = "applicant"
    GUARANTOR = "guarantor"
    BENEFICIARY = "beneficiary"
    SYSTEM = "system"  # the dispatcher (a lot's result) and the chronograph (expiry)


S = GuaranteeStatus
# (from, to) -> the one party that may fire it
TRANSITIONS: dict[tuple[GuaranteeStatus, GuaranteeStatus], Party] = {
    (S.APPLIED, S.ISSUED): Party.GUARANTOR,
    (S.APPLIED, S.DECLINED): Party.GUARANTOR,
    (S.ISSUED, S.CLAIMED): Party.BENEFICIARY,
    (S.CLAIMED, S.PAID): Party.GUARANTOR,
    (S.CLAIMED, S.REJECTED): Party.GUARANTOR,
    (S.ISSUED, S.RELEASED): Party.SYSTEM,
    (S.ISSUED, S.EXPIRED): Party.SYSTEM,
}

# one guarantee per bidder and lot may be pending or in force at a time
LIVE = frozenset({S.APPLIED, S.ISSUED})
# a claim was made: never again
CLAIMED_ONCE = frozenset({S.CLAIMED, S.PAID, S.REJECTED})
# states that carry an accepted letter (letter number, verification code)
WITH_LETTER = frozenset({S.ISSUED, S.CLAIMED, S.PAID, S.REJECTED, S.RELEASED, S.EXPIRED})
FINAL = frozenset({S.DECLINED, S.PAID, S.REJECTED, S.RELEASED, S.EXPIRED})


def ensure_transition(current: str, target: GuaranteeStatus, party: Party) -> None:
    """Raises InvalidTransition unless the table has `current -> target`, PermissionDenied unless
    `party` is the one that may fire it."""
    allowed = TRANSITIONS.get((GuaranteeStatus(current), target))
    if allowed is None:
        raise InvalidTransition(state=current)
    if allowed is not party:
        raise PermissionDenied()
