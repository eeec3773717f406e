"""Recognised CAs, bound certificates, sign-in challenges and the signatures of trading acts."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.certificates import services, signatures
from domain.certificates.models import ActSignature as ActSignatureModel
from domain.certificates.models import BoundCertificate as BoundCertificateModel
from domain.certificates.models import CertificateAuthority as AuthorityModel
from domain.certificates.models import RevocationList as RevocationListModel
from domain.common.errors import DomainError
from schema import fields
from schema.relay import Node, node_resolver


@strawberry.input(
    description="A certificate signature over an act's canonical content (mobile_contract/SIGNATURES.md)."
)
class SignatureInput:
    certificate: str = strawberry.field(
        description="The signing certificate, PEM or base64 DER, bound to your account."
    )
    signature: str = strawberry.field(
        description="Base64 signature over the UTF-8 canonical content: ECDSA P-256 (DER or raw r||s) or RSA, SHA-256."
    )

    def to_domain(self) -> signatures.Signed:
        return signatures.Signed(certificate=self.certificate, signature=self.signature)


def signed(value: SignatureInput | None) -> signatures.Signed | None:
    return value.to_domain() if value is not None else None


@strawberry.type(description="A certificate revocation list (CRL) of a recognised CA.")
class RevocationList:
    sha256: str = strawberry.field(description="SHA-256 of the DER CRL.")
    this_update: datetime = strawberry.field(description="When the CA issued this CRL.")
    next_update: datetime | None = strawberry.field(description="After this the CRL is stale and validates nothing.")
    revoked_count: int = strawberry.field(description="How many certificates it revokes.")
    uploaded_at: datetime = strawberry.field(description="When it was uploaded to the platform.")

    @classmethod
    def from_model(cls, m: RevocationListModel) -> "RevocationList":
        return cls(
            sha256=m.sha256,
            this_update=m.this_update,
            next_update=m.next_update,
            revoked_count=m.revoked_count,
            uploaded_at=m.uploaded_at,
        )


@strawberry.type(description="A certificate authority the platform recognises (CA互认): a root or an intermediate.")
class CertificateAuthority(Node):
    name: str = strawberry.field(description="A name for people, e.g. 山东CA 根证书.")
    subject: str = strawberry.field(description="The CA certificate's subject (RFC 4514).")
    fingerprint: str = strawberry.field(description="SHA-256 of the DER certificate.")
    is_root: bool = strawberry.field(description="A self-signed root: a trust anchor.")
    not_before: datetime = strawberry.field(description="When the CA certificate becomes valid.")
    not_after: datetime = strawberry.field(description="When the CA certificate expires.")
    crl_url: str | None = strawberry.field(description="Where its CRL is fetched from, if configured.")
    is_active: bool = strawberry.field(description="A withdrawn CA validates nothing.")
    created_at: datetime = strawberry.field(description="When the platform recognised it.")

    @classmethod
    def from_model(cls, m: AuthorityModel) -> "CertificateAuthority":
        return cls(
            _pk=m.id,
            name=m.name,
            subject=m.subject,
            fingerprint=m.fingerprint,
            is_root=m.is_root,
            not_before=m.not_before,
            not_after=m.not_after,
            crl_url=m.crl_url,
            is_active=m.is_active,
            created_at=m.created_at,
        )

    @fields.field(description="The CRL in force (the newest uploaded); none: its certificates do not validate.")
    async def crl(self) -> RevocationList | None:
        latest = await services.latest_crl(self._pk)
        return RevocationList.from_model(latest) if latest else None


@strawberry.type(description="A certificate bound to the signed-in user's account.")
class BoundCertificate(Node):
    fingerprint: str = strawberry.field(description="SHA-256 of the DER certificate.")
    subject: str = strawberry.field(description="The certificate's subject (RFC 4514).")
    issuer: str = strawberry.field(description="The issuing CA's subject (RFC 4514).")
    serial: str = strawberry.field(description="Serial number, hex.")
    credit_code: str | None = strawberry.field(
        description="The organisation's credit code it carries (none: personal)."
    )
    key_type: str = strawberry.field(description="ec-p256, rsa-<bits> or sm2.")
    not_before: datetime = strawberry.field(description="When the certificate becomes valid.")
    not_after: datetime = strawberry.field(description="When the certificate expires.")
    bound_at: datetime = strawberry.field(description="When it was bound to the account.")

    @classmethod
    def from_model(cls, m: BoundCertificateModel) -> "BoundCertificate":
        return cls(
            _pk=m.id,
            fingerprint=m.fingerprint,
            subject=m.subject,
            issuer=m.issuer,
            serial=m.serial,
            credit_code=m.credit_code,
            key_type=m.key_type,
            not_before=m.not_before,
            not_after=m.not_after,
            bound_at=m.bound_at,
        )


@strawberry.type(description="A one-time challenge: sign `toSign` with the certificate's key within 2 minutes.")
class CertificateChallenge:
    challenge: str = strawberry.field(description="256 random bits, URL-safe base64.")
    to_sign: str = strawberry.field(
        description="The exact text to sign (UTF-8): canonical JSON naming act and challenge."
    )
    expires_at: datetime = strawberry.field(description="When the challenge expires (2 minutes after it was made).")


@strawberry.type(description="The electronic signature a trading act carried, as verified when the act was done.")
class ActSignature(Node):
    act: str = strawberry.field(description="sealed_bid.submit, sealed_bid.decrypt, auction.bid, guarantee.issue, ...")
    object_type: str = strawberry.field(
        description="What was signed: SealedBid, AuctionBid, Guarantee, Objection, Complaint."
    )
    object_id: str = strawberry.field(description="The database id of the object signed.")
    content: str = strawberry.field(description="The canonical content signed (UTF-8 JSON).")
    content_sha256: str = strawberry.field(description="SHA-256 of the canonical content, in hex.")
    signature: str = strawberry.field(description="Base64.")
    algorithm: str = strawberry.field(
        description="ES256, RS256 (RSA PKCS#1 v1.5 or PSS) or SM3withSM2 (SM2 with SM3, GB/T 35276)."
    )
    certificate: str = strawberry.field(description="The signing certificate, base64 DER.")
    certificate_sha256: str = strawberry.field(description="SHA-256 of the signing certificate (DER), in hex.")
    subject: str = strawberry.field(description="The signing certificate's subject.")
    verified: bool = strawberry.field(description="The signature, path and binding verified at the time of the act.")
    verification: JSON = strawberry.field(description="The validated path, key usage and time of the check.")
    signed_at: datetime = strawberry.field(description="Server time the signed act was accepted.")

    @classmethod
    def from_model(cls, m: ActSignatureModel) -> "ActSignature":
        return cls(
            _pk=m.id,
            act=m.act,
            object_type=m.object_type,
            object_id=m.object_id,
            content=m.content,
            content_sha256=m.content_sha256,
            signature=m.signature,
            algorithm=m.algorithm,
            certificate=m.certificate_der,
            certificate_sha256=m.fingerprint,
            subject=m.subject,
            verified=m.verified,
            verification=JSON(m.verification),
            signed_at=m.signed_at,
        )


@node_resolver("ActSignature")
async def _signature_node(info: Info, pk: str) -> ActSignature | None:
    if not pk.isdigit():
        return None
    try:
        row = await signatures.visible_signature(info.context.actor, int(pk))
    except DomainError:
        return None
    return ActSignature.from_model(row)


@node_resolver("CertificateAuthority")
async def _authority_node(info: Info, pk: str) -> CertificateAuthority | None:
    if not pk.isdigit():
        return None
    try:
        found = await services.authorities(info.context.actor).get_or_none(id=int(pk))
    except DomainError:
        return None
    return CertificateAuthority.from_model(found) if found else None


@strawberry.type(description="A stored signature checked again now.")
class SignatureVerification:
    ok: bool = strawberry.field(description="The signature verifies and its audit entry's digest matches.")
    signature_valid: bool = strawberry.field(
        description="The signature verifies over the content with the certificate."
    )
    audit_digest_matches: bool | None = strawberry.field(
        description="The audit entry's digest equals the digest of the stored signature (null: not audited yet)."
    )
    audit_seq: int | None = strawberry.field(description="The audit entry recording the signature.")
    signature: ActSignature = strawberry.field(description="The act signature checked.")

    @classmethod
    def from_domain(cls, r: Any) -> "SignatureVerification":
        return cls(
            ok=r.ok,
            signature_valid=r.signature_valid,
            audit_digest_matches=r.audit_digest_matches,
            audit_seq=r.audit_seq,
            signature=ActSignature.from_model(r.signature),
        )


@node_resolver("BoundCertificate")
async def _bound_node(info: Info, pk: str) -> BoundCertificate | None:
    actor = info.context.actor
    if not pk.isdigit() or actor.user_id is None:
        return None
    found = await BoundCertificateModel.get_or_none(id=int(pk), user_id=actor.user_id)
    return BoundCertificate.from_model(found) if found else None
