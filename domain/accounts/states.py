"""The review lifecycle of a market entity, and the accreditation of a third-party e-trading system."""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Actor, Role
from domain.common.errors import InvalidTransition
from domain.common.lifecycle import Lifecycle, move


class OrgStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class OrgKind(StrEnum):
    BIDDER = "bidder"
    TENDERER = "tenderer"
    AGENCY = "agency"
    GUARANTOR = "guarantor"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    WITNESS = "witness"


SELF_SERVICE_KINDS = frozenset({OrgKind.BIDDER, OrgKind.TENDERER, OrgKind.AGENCY, OrgKind.GUARANTOR})

TABLE: Lifecycle[OrgStatus] = Lifecycle(
    name="Organisation",
    states=OrgStatus,
    doc="The review of a market entity: an operator approves, rejects, suspends and reinstates it.",
    transitions=(
        move("apply", None, OrgStatus.PENDING, note="the applicant registers the organisation"),
        move("approve", OrgStatus.PENDING, OrgStatus.APPROVED, by={Role.OPERATOR}),
        move("reject", OrgStatus.PENDING, OrgStatus.REJECTED, by={Role.OPERATOR}),
        move("resubmit", OrgStatus.REJECTED, OrgStatus.PENDING, note="resubmission by the applicant"),
        move("suspend", OrgStatus.APPROVED, OrgStatus.SUSPENDED, by={Role.OPERATOR}),
        move("reinstate", OrgStatus.SUSPENDED, OrgStatus.APPROVED, by={Role.OPERATOR}),
    ),
    initial=frozenset({OrgStatus.PENDING}),
)


class SystemStatus(StrEnum):
    ACCREDITED = "accredited"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


S = SystemStatus
# 市场化电子交易系统接入: the operator accredits a system, may suspend and reinstate it, and revokes it for good
ACCREDITATION: Lifecycle[SystemStatus] = Lifecycle(
    name="AccreditedSystem",
    states=SystemStatus,
    doc=(
        "A third-party e-trading system acts for the tenderers that authorised it only while accredited and before"
        " its validity ends (checked on every request, so a suspension or revocation refuses its tokens at once)."
    ),
    transitions=(
        move("accredit", None, S.ACCREDITED, by={Role.OPERATOR}, note="behind an integrator client with a write scope"),
        move("suspend", S.ACCREDITED, S.SUSPENDED, by={Role.OPERATOR}, note="with a reason"),
        move("reinstate", S.SUSPENDED, S.ACCREDITED, by={Role.OPERATOR}, note="with a reason"),
        move("revoke", (S.ACCREDITED, S.SUSPENDED), S.REVOKED, by={Role.OPERATOR}, note="with a reason; final"),
    ),
    initial=frozenset({S.ACCREDITED}),
    final=frozenset({S.REVOKED}),
)

# (from, to) -> roles that may fire it (a view of TABLE)
TRANSITIONS: dict[tuple[OrgStatus, OrgStatus], frozenset[Role]] = {
    (src, t.target): frozenset(Role(r) for r in t.by) for t in TABLE.transitions for src in t.sources
}


def ensure_transition(current: str, target: OrgStatus, actor: Actor) -> None:
    """Raises unless the table allows `current -> target` for one of the actor's roles."""
    t = TABLE.leading(current, target)
    if t is None:
        raise InvalidTransition(state=current)
    TABLE.fire(current, t.name, by=actor)


def roles_of(status: str, kinds: list[str]) -> frozenset[Role]:
    """An organisation trades in every category once approved (一次登录、全网办理)."""
    if status != OrgStatus.APPROVED:
        return frozenset()
    return frozenset(Role(k) for k in kinds)
