"""A registration for a lot (报名) as data: registered until withdrawn, and registered again.

Facts the service passes: `lot_status`, `now`, `opens_at` / `closes_at` (the registration window,
None when the lot has no deadline yet), `ineligible` (the first eligibility rule the organisation
fails, in words, or None), `deadline` (the bid deadline, or None).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.common.lifecycle import Facts, Lifecycle, guard, move
from domain.publication.states import LotStatus
from domain.registration.errors import NotEligible, RegistrationClosed, RegistrationLocked


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WITHDRAWN = "withdrawn"


@guard("the lot is open and now is inside its registration window (RegistrationClosed)")
def window_open(facts: Facts) -> DomainError | None:
    now, opens, closes = facts["now"], facts["opens_at"], facts["closes_at"]
    if facts["lot_status"] != LotStatus.OPEN.value or opens is None or closes is None or not opens <= now < closes:
        return RegistrationClosed(opens_at=opens or now, closes_at=closes or now)
    return None


@guard("the organisation is approved, a bidder, not under joint punishment and meets the lot's rules (NotEligible)")
def eligible(facts: Facts) -> DomainError | None:
    return None if facts["ineligible"] is None else NotEligible(rule=facts["ineligible"])


@guard("before the bid deadline (RegistrationLocked)")
def before_deadline(facts: Facts) -> DomainError | None:
    deadline = facts["deadline"]
    return RegistrationLocked() if deadline is not None and facts["now"] >= deadline else None


S = RegistrationStatus
TABLE: Lifecycle[RegistrationStatus] = Lifecycle(
    name="Registration",
    states=RegistrationStatus,
    doc="Approval is automatic when the entity may trade; registering again while registered changes nothing.",
    transitions=(
        move("register", None, S.REGISTERED, by={Role.BIDDER}, guards=[window_open, eligible]),
        move("register_again", S.WITHDRAWN, S.REGISTERED, by={Role.BIDDER}, guards=[window_open, eligible]),
        move("withdraw", S.REGISTERED, S.WITHDRAWN, guards=[before_deadline], note="the registration's organisation"),
    ),
    initial=frozenset({S.REGISTERED}),
)
