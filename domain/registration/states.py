"""A registration for a lot (报名) as data: registered until withdrawn, and registered again.

Facts the service passes: `lot_status`, `now`, `opens_at` / `closes_at` (the registration window,
None when the lot has no deadline yet), `ineligible` (the first eligibility rule the organisation
fails, in words, or None), `deadline` (the bid deadline, or None), `invited` (False only for an organisation an
invited tender did not invite). A question (答疑): `now` and `closes_at` (the lot's question deadline, or None).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.common.lifecycle import Facts, Lifecycle, guard, move
from domain.publication.states import LotStatus
from domain.registration.errors import NotEligible, NotInvited, QuestionsClosed, RegistrationClosed, RegistrationLocked


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


# 招标投标法 第十七条: an invited tender is open only to the entities it invited
@guard("an invited tender: the organisation is on its invitation list (NotInvited)")
def invited(facts: Facts) -> DomainError | None:
    return None if facts.get("invited", True) else NotInvited()


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
        move("register", None, S.REGISTERED, by={Role.BIDDER}, guards=[window_open, invited, eligible]),
        move("register_again", S.WITHDRAWN, S.REGISTERED, by={Role.BIDDER}, guards=[window_open, invited, eligible]),
        move("withdraw", S.REGISTERED, S.WITHDRAWN, guards=[before_deadline], note="the registration's organisation"),
    ),
    initial=frozenset({S.REGISTERED}),
)


class QuestionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


@guard("before the lot's question deadline: question_cutoff_days before the bid deadline (QuestionsClosed)")
def questions_open(facts: Facts) -> DomainError | None:
    closes = facts["closes_at"]
    return QuestionsClosed(deadline=closes or facts["now"]) if closes is None or facts["now"] >= closes else None


Q = QuestionStatus
QUESTION: Lifecycle[QuestionStatus] = Lifecycle(
    name="Question",
    states=QuestionStatus,
    doc="A registered bidder's question (答疑), answered in a clarification published to every registrant.",
    transitions=(
        move("ask", None, Q.OPEN, by={Role.BIDDER}, guards=[questions_open], note="a registered bidder of the lot"),
        move(
            "answer",
            Q.OPEN,
            Q.ANSWERED,
            note="the lot's tenderer or agency, in a clarification (domain/tendering/clarifications)",
        ),
    ),
    initial=frozenset({Q.OPEN}),
    final=frozenset({Q.ANSWERED}),
)
