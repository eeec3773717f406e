"""The life of a guarantee as data: its states and which party moves it from which state to which.

    applied -> issued -> claimed -> paid | rejected
            |        -> released (the lot has its result)
            |        -> expired  (valid_until passed; the chronograph)
            -> declined

A guarantee is claimed at most once: paid and rejected are final. An application nobody decided
stays `applied` (it never expires by itself); the guarantor may still decline it.

Facts the claim passes: `now`, `valid_until`, `deadline` (the lot's bid deadline, or None),
`amount_fen` (claimed) and `guaranteed_fen`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from domain.common.errors import DomainError, InvalidTransition
from domain.common.lifecycle import Facts, Lifecycle, guard, move
from domain.common.money import Money
from domain.guarantees.errors import ClaimExceedsGuarantee, ClaimTooEarly, GuaranteeAlreadyClaimed


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
# a claim was made: never again
CLAIMED_ONCE = frozenset({S.CLAIMED, S.PAID, S.REJECTED})


def _claim_refused(state: str) -> DomainError:
    return GuaranteeAlreadyClaimed() if state in CLAIMED_ONCE else InvalidTransition(state=state)


@guard("still valid: valid_until not passed (InvalidTransition(state=expired) before the chronograph expires it)")
def still_valid(facts: Facts) -> DomainError | None:
    return InvalidTransition(state=S.EXPIRED.value) if facts["valid_until"] <= facts["now"] else None


# 实施条例 第三十五条: the bid may be withdrawn freely until the deadline, so nothing is owed before it
@guard("the lot's bid deadline has passed (ClaimTooEarly)")
def after_deadline(facts: Facts) -> DomainError | None:
    deadline = facts["deadline"]
    return ClaimTooEarly(deadline=deadline) if deadline is not None and facts["now"] < deadline else None


@guard("at most the guaranteed amount (ClaimExceedsGuarantee)")
def within_amount(facts: Facts) -> DomainError | None:
    guaranteed = facts["guaranteed_fen"]
    if facts["amount_fen"] > guaranteed:
        return ClaimExceedsGuarantee(amount_fen=guaranteed, amount_text=Money(guaranteed).yuan_text())
    return None


TABLE: Lifecycle[GuaranteeStatus] = Lifecycle(
    name="Guarantee",
    states=GuaranteeStatus,
    doc="An electronic guarantee letter (电子保函): applied for by a bidder, decided by its guarantor, "
    "claimed at most once by the beneficiary, released with the lot's result or expired.",
    transitions=(
        move("apply", None, S.APPLIED, by={Party.APPLICANT}),
        move("issue", S.APPLIED, S.ISSUED, by={Party.GUARANTOR}),
        move("decline", S.APPLIED, S.DECLINED, by={Party.GUARANTOR}),
        move(
            "claim",
            S.ISSUED,
            S.CLAIMED,
            by={Party.BENEFICIARY},
            guards=[still_valid, after_deadline, within_amount],
            refusal=_claim_refused,
            note="at most once (GuaranteeAlreadyClaimed once claimed, paid or rejected)",
        ),
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
# states that carry an accepted letter (letter number, verification code)
WITH_LETTER = frozenset({S.ISSUED, S.CLAIMED, S.PAID, S.REJECTED, S.RELEASED, S.EXPIRED})
FINAL = TABLE.final


def ensure_transition(current: str, target: GuaranteeStatus, party: Party, **facts: Any) -> None:
    """Raises InvalidTransition unless the table has `current -> target`, PermissionDenied unless
    `party` is the one that may fire it, then the first failing guard's error on `facts`."""
    t = TABLE.leading(current, target)
    if t is None:
        raise InvalidTransition(state=current)
    TABLE.fire(current, t.name, by=party, **facts)
