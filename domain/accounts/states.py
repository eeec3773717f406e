"""The review lifecycle of a market entity."""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Actor, Role
from domain.common.errors import InvalidTransition, PermissionDenied


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


SELF_SERVICE_KINDS = frozenset({OrgKind.BIDDER, OrgKind.TENDERER, OrgKind.AGENCY, OrgKind.GUARANTOR})

# (from, to) -> roles that may fire it
TRANSITIONS: dict[tuple[OrgStatus, OrgStatus], frozenset[Role]] = {
    (OrgStatus.PENDING, OrgStatus.APPROVED): frozenset({Role.OPERATOR}),
    (OrgStatus.PENDING, OrgStatus.REJECTED): frozenset({Role.OPERATOR}),
    (OrgStatus.REJECTED, OrgStatus.PENDING): frozenset(),  # resubmission by the applicant
    (OrgStatus.APPROVED, OrgStatus.SUSPENDED): frozenset({Role.OPERATOR}),
    (OrgStatus.SUSPENDED, OrgStatus.APPROVED): frozenset({Role.OPERATOR}),
}


def ensure_transition(current: str, target: OrgStatus, actor: Actor) -> None:
    """Raises unless the table allows `current -> target` for one of the actor's roles."""
    allowed = TRANSITIONS.get((OrgStatus(current), target))
    if allowed is None:
        raise InvalidTransition(state=current)
    if allowed and not actor.has(*allowed):
        raise PermissionDenied()


def roles_of(status: str, kinds: list[str]) -> frozenset[Role]:
    """An organisation trades in every category once approved (一次登录、全网办理)."""
    if status != OrgStatus.APPROVED:
        return frozenset()
    return frozenset(Role(k) for k in kinds)
