"""What happens in single sign-on: every step reaches the audit trail through the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SsoClientRegistered(DomainEvent):
    type = "sso_client.registered"
    object_type = "SsoClient"
    name: str
    kind: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    public: bool


@dataclass(frozen=True, kw_only=True)
class SsoClientUpdated(DomainEvent):
    type = "sso_client.updated"
    object_type = "SsoClient"
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SsoClientActivation(DomainEvent):
    type = "sso_client.activation"
    object_type = "SsoClient"
    active: bool


@dataclass(frozen=True, kw_only=True)
class SsoConsentGranted(DomainEvent):
    type = "sso_consent.granted"
    object_type = "SsoConsent"
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SsoConsentDenied(DomainEvent):
    type = "sso_consent.denied"
    object_type = "SsoClient"
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SsoConsentRevoked(DomainEvent):
    type = "sso_consent.revoked"
    object_type = "SsoConsent"
    client_id: str
    tokens_revoked: int


@dataclass(frozen=True, kw_only=True)
class SsoCodeIssued(DomainEvent):
    type = "sso_code.issued"
    object_type = "SsoGrant"
    client_id: str
    scope: str
    amr: str


@dataclass(frozen=True, kw_only=True)
class SsoCodeRedeemed(DomainEvent):
    type = "sso_code.redeemed"
    object_type = "SsoGrant"
    client_id: str


@dataclass(frozen=True, kw_only=True)
class SsoCodeReused(DomainEvent):
    type = "sso_code.reused"
    object_type = "SsoGrant"
    client_id: str
    tokens_revoked: int


@dataclass(frozen=True, kw_only=True)
class SsoTokenRefreshed(DomainEvent):
    type = "sso_token.refreshed"
    object_type = "SsoGrant"
    client_id: str


@dataclass(frozen=True, kw_only=True)
class SsoTokensRevoked(DomainEvent):
    type = "sso_token.revoked"
    object_type = "SsoGrant"
    client_id: str
    reason: str
    tokens_revoked: int


@dataclass(frozen=True, kw_only=True)
class SsoSignedOut(DomainEvent):
    type = "sso.signed_out"
    object_type = "Session"
    client_id: str
    tokens_revoked: int


@dataclass(frozen=True, kw_only=True)
class SsoCertificateSignInApproved(DomainEvent):
    type = "sso_certificate_sign_in.approved"
    object_type = "SsoClient"
    client_id: str
