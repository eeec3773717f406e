"""An application to join the expert pool (专家入库申请) as data: submitted, then approved (the person joins the
pool, or a former expert of the same identity is taken back) or rejected with a reason, once (Yunnan 九: 专家的
申请、审核入库; citation unverified)."""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError, InvalidInput
from domain.common.lifecycle import Facts, Lifecycle, guard, move
from domain.experts.errors import ApplicationReviewed


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


def _reviewed(status: str) -> DomainError:
    return ApplicationReviewed(status=status)


@guard("a rejection gives its reason (InvalidInput reason)")
def reason_given(facts: Facts) -> DomainError | None:
    return InvalidInput(field="reason") if not facts.get("reason") else None


A = ApplicationStatus
APPLICATION: Lifecycle[ApplicationStatus] = Lifecycle(
    name="ExpertApplication",
    states=ApplicationStatus,
    doc="Reviewed once by an operator; a person with an application submitted or approved cannot apply again.",
    transitions=(
        move("submit", None, A.SUBMITTED, note="a signed-in user, for itself"),
        move("approve", A.SUBMITTED, A.APPROVED, by={Role.OPERATOR}, refusal=_reviewed),
        move("reject", A.SUBMITTED, A.REJECTED, by={Role.OPERATOR}, guards=[reason_given], refusal=_reviewed),
    ),
    initial=frozenset({A.SUBMITTED}),
    final=frozenset({A.APPROVED, A.REJECTED}),
)
