"""What happens to market entities, users and sessions."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrganisationRegistered(DomainEvent):
    type = "organisation.registered"
    object_type = "Organisation"
    credit_code: str
    name: str
    kinds: tuple[str, ...]
    user_id: int


@dataclass(frozen=True, kw_only=True)
class OrganisationApproved(DomainEvent):
    type = "organisation.approved"
    object_type = "Organisation"


@dataclass(frozen=True, kw_only=True)
class OrganisationRejected(DomainEvent):
    type = "organisation.rejected"
    object_type = "Organisation"
    reason: str


@dataclass(frozen=True, kw_only=True)
class UserSignedIn(DomainEvent):
    type = "user.signed_in"
    object_type = "User"
    method: str


@dataclass(frozen=True, kw_only=True)
class UserLocked(DomainEvent):
    type = "user.locked"
    object_type = "User"
    locked_until: str


@dataclass(frozen=True, kw_only=True)
class UserUnlocked(DomainEvent):
    type = "user.unlocked"
    object_type = "User"


@dataclass(frozen=True, kw_only=True)
class SessionRevoked(DomainEvent):
    type = "session.revoked"
    object_type = "Session"
    reason: str


@dataclass(frozen=True, kw_only=True)
class IntegratorClientCreated(DomainEvent):
    type = "integrator_client.created"
    object_type = "IntegratorClient"
    name: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ExpertAdded(DomainEvent):
    type = "expert.added"
    object_type = "Expert"
    specialties: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ExpertSignedIn(DomainEvent):
    type = "expert.signed_in"
    object_type = "Expert"
    method: str


@dataclass(frozen=True, kw_only=True)
class SystemAccredited(DomainEvent):
    type = "accredited_system.accredited"
    object_type = "AccreditedSystem"
    client_id: str
    accreditation_no: str
    valid_until: str


@dataclass(frozen=True, kw_only=True)
class SystemStatusChanged(DomainEvent):
    type = "accredited_system.status_changed"
    object_type = "AccreditedSystem"
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SystemAuthorised(DomainEvent):
    type = "system_authorisation.granted"
    object_type = "SystemAuthorisation"
    system_id: int
    tenderer_id: int
    scopes: tuple[str, ...]
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class SystemAuthorisationRevoked(DomainEvent):
    type = "system_authorisation.revoked"
    object_type = "SystemAuthorisation"
    system_id: int
    tenderer_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(DomainEvent):
    type = "user.password_changed"
    object_type = "User"
    refresh_tokens_revoked: int
    client_tokens_revoked: int
    reset: bool = False  # by SMS code (忘记密码), not with the current password
