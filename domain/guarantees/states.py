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

from domain.common.errors import InvalidTransition
from domain.common.lifecycle import Lifecycle, move


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
TABLE: Lifecycle[GuaranteeStatus] = Lifecycle(
    name="Guarantee",
    states=GuaranteeStatus,
    doc="An electronic guarantee letter (电子保函): applied for by a bidder, decided by its guarantor, "
    "claimed at most once by the beneficiary, released with the lot's result or expired.",
    transitions=(
        move("apply", None, S.APPLIED, by={Party.APPLICANT}),
        move("issue", S.APPLIED, S.ISSUED, by={Party.GUARANTOR}),
        move("decline", S.APPLIED, S.DECLINED, by={Party.GUARANTOR}),
        move("claim", S.ISSUED, S.CLAIMED, by={Party.BENEFICIARY}),
        move("pay", S.CLAIMED, S.PAID, by={Party.GUARANTOR}),
        move("reject", S.CLAIMED, S.REJECTED, by={Party.GUARANTOR}),
        move("release", S.ISSUED, S.RELEASED, by={Party.SYSTEM}, note="the lot has its result"),
        move("expire", S.ISSUED, S.EXPIRED, by={Party.SYSTEM}, timed=True, note="valid_until passed"),
    ),
    initial=frozenset({S.APPLIED}),
    final=frozenset({S.DECLINED, S.PAID, S.REJECTED, S.RELEASED, S.EXPIRED}),
)
# (from, to) -> the one party that may fire it (a view of TABLE)
TRANSITIONS: dict[tuple[GuaranteeStatus, GuaranteeStatus], Party] = {
    (src, t.target): Party(next(iter(t.by))) for t in TABLE.transitions for src in t.sources
}

# one guarantee per bidder and lot may be pending or in force at a time
LIVE = frozenset({S.APPLIED, S.ISSUED})
# a claim was made: never again
CLAIMED_ONCE = frozenset({S.CLAIMED, S.PAID, S.REJECTED})
# states that carry an accepted letter (letter number, verification code)
WITH_LETTER = frozenset({S.ISSUED, S.CLAIMED, S.PAID, S.REJECTED, S.RELEASED, S.EXPIRED})
FINAL = TABLE.final


def ensure_transition(current: str, target: GuaranteeStatus, party: Party) -> None:
    """Raises InvalidTransition unless the table has `current -> target`, PermissionDenied unless
    `party` is the one that may fire it."""
    t = TABLE.leading(current, target)
    if t is None:
        raise InvalidTransition(state=current)
    TABLE.fire(current, t.name, by=party)
