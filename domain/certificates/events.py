"""What happens to recognised CAs, bound certificates and signed acts (audit trail)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AuthorityRegistered(DomainEvent):
    type = "certificate_authority.registered"
    object_type = "CertificateAuthority"
    name: str
    subject: str
    fingerprint: str
    is_root: bool


@dataclass(frozen=True, kw_only=True)
class AuthorityWithdrawn(DomainEvent):
    type = "certificate_authority.withdrawn"
    object_type = "CertificateAuthority"


@dataclass(frozen=True, kw_only=True)
class AuthorityReinstated(DomainEvent):
    type = "certificate_authority.reinstated"
    object_type = "CertificateAuthority"


@dataclass(frozen=True, kw_only=True)
class CrlUploaded(DomainEvent):
    type = "certificate_authority.crl_uploaded"
    object_type = "CertificateAuthority"
    sha256: str
    this_update: str
    next_update: str | None
    revoked: int


@dataclass(frozen=True, kw_only=True)
class CertificateBound(DomainEvent):
    type = "certificate.bound"
    object_type = "BoundCertificate"
    user_id: int
    fingerprint: str
    subject: str
    issuer: str
    serial: str


@dataclass(frozen=True, kw_only=True)
class CertificateUnbound(DomainEvent):
    type = "certificate.unbound"
    object_type = "BoundCertificate"
    user_id: int
    fingerprint: str


@dataclass(frozen=True, kw_only=True)
class ActSigned(DomainEvent):
    """A trading act carried a verified signature: the digest of this event covers the signature, the
    SHA-256 of the signed content and of the certificate, so the audit chain fixes all three."""

    type = "signature.recorded"
    object_type = "ActSignature"
    act: str
    signed_object_type: str
    signed_object_id: str
    lot_id: int | None
    content_sha256: str
    signature: str
    certificate_sha256: str
    algorithm: str
    verified: bool
