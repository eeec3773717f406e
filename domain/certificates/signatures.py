"""Electronic signatures on trading acts (电子签名): checked before the act, stored with it.

A signed act carries the actor's signature over the act's canonical content (domain/certificates/acts.py,
mobile_contract/SIGNATURES.md) made with a certificate bound to the actor's account. The signature, the
certificate, the content and the verification result are stored in `act_signature`, and a
`signature.recorded` event in the act's transaction puts their digest on the audit chain.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from cryptography import x509

from domain.access import scope
from domain.certificates import acts, errors, pki
from domain.certificates import events as ev
from domain.certificates import services as certificates
from domain.certificates.models import ActSignature, BoundCertificate
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, NotFound, raises
from domain.common.events import Audience, digest


@dataclass(frozen=True, slots=True)
class Signed:
    """What a client sends with a signed act."""

    certificate: str  # PEM or base64 DER, a certificate bound to the signer's account
    signature: str  # base64, over acts.encode(content)


@dataclass(frozen=True, slots=True)
class Verified:
    act: str
    content: str
    signature: str
    cert: x509.Certificate
    bound: BoundCertificate
    path: pki.ValidPath

    @property
    def fingerprint(self) -> str:
        return pki.fingerprint(self.cert)


@raises(*errors.SIGNATURE_ERRORS)
async def check(actor: Actor, content: dict[str, Any], signed: Signed | None, *, required: bool) -> Verified | None:
    """The verified signature of an act (None when unsigned and not required): the certificate is bound
    to the actor, belongs to the actor's organisation, validates now, and signed exactly `content`."""
    if signed is None:
        if required:
            raise errors.SignatureRequired()
        return None
    if actor.user_id is None:
        raise errors.CertificateNotBound()
    cert = pki.load_certificate(signed.certificate)
    bound = await BoundCertificate.get_or_none(fingerprint=pki.fingerprint(cert))
    if bound is None:
        raise errors.CertificateNotBound()
    if bound.organisation_id != actor.org_id:
        raise errors.CertificateWrongOrganisation()
    if bound.user_id != actor.user_id:
        raise errors.CertificateNotBound()
    data = acts.encode(content)
    pki.verify_signature(cert, data, signed.signature)
    path = await certificates.validate(cert)
    return Verified(
        act=str(content["act"]),
        content=data.decode(),
        signature="".join(signed.signature.split()),
        cert=cert,
        bound=bound,
        path=path,
    )


async def record(
    actor: Actor, verified: Verified, object_type: str, object_id: int | str, lot_id: int | None
) -> ActSignature:
    """Stores the signature with its act; call it inside the act's transaction."""
    event_id = uuid.uuid4()
    row = await ActSignature.create(
        act=verified.act,
        object_type=object_type,
        object_id=str(object_id),
        lot_id=lot_id,
        user_id=actor.user_id,
        organisation_id=actor.org_id,
        certificate_id=verified.bound.id,
        fingerprint=verified.fingerprint,
        certificate_der=pki.b64(pki.der_of(verified.cert)),
        subject=pki.subject_text(verified.cert.subject),
        algorithm=pki.algorithm_of(verified.cert),
        content=verified.content,
        content_sha256=hashlib.sha256(verified.content.encode()).hexdigest(),
        signature=verified.signature,
        verified=True,
        verification=verified.path.as_json(),
        signed_at=clock.now(),
        event_id=event_id,
    )
    await events.record(_event(row), actor, event_id=event_id)
    return row


def _event(row: ActSignature) -> ev.ActSigned:
    orgs = (row.organisation_id,) if row.organisation_id else ()
    return ev.ActSigned(
        object_id=str(row.id),
        act=row.act,
        signed_object_type=row.object_type,
        signed_object_id=row.object_id,
        lot_id=row.lot_id,
        content_sha256=row.content_sha256,
        signature=row.signature,
        certificate_sha256=row.fingerprint,
        algorithm=row.algorithm,
        verified=row.verified,
        audience=Audience(orgs=orgs),
    )


def audit_digest(row: ActSignature) -> str:
    """The digest the audit entry of this signature carries, recomputed from the stored row."""
    return digest(_event(row).payload())


def as_evidence(row: ActSignature) -> dict[str, Any]:
    """A signature as an evidence package carries it: enough to verify it offline."""
    return {
        "id": row.id,
        "act": row.act,
        "objectType": row.object_type,
        "objectId": row.object_id,
        "eventId": str(row.event_id),
        "userId": row.user_id,
        "organisationId": row.organisation_id,
        "signedAt": row.signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "content": row.content,
        "contentSha256": row.content_sha256,
        "algorithm": row.algorithm,
        "signature": row.signature,
        "certificate": row.certificate_der,
        "certificateSha256": row.fingerprint,
        "subject": row.subject,
        "verified": row.verified,
        "verification": row.verification,
    }


def verify_evidence(item: dict[str, Any]) -> None:
    """Checks a signature as carried by an evidence package: the certificate's SHA-256, the content's
    SHA-256 and the signature over the content; CertificateSignatureInvalid otherwise."""
    try:
        cert = pki.load_certificate(str(item["certificate"]))
        content = str(item["content"]).encode()
        if pki.fingerprint(cert) != item["certificateSha256"]:
            raise errors.CertificateSignatureInvalid()
        if hashlib.sha256(content).hexdigest() != item["contentSha256"]:
            raise errors.CertificateSignatureInvalid()
        pki.verify_signature(cert, content, str(item["signature"]))
    except (KeyError, TypeError, DomainError):
        raise errors.CertificateSignatureInvalid() from None


@dataclass(frozen=True, slots=True)
class Recheck:
    """A stored signature checked again: the signature over the content, and the audit entry's digest."""

    signature: ActSignature
    signature_valid: bool
    audit_digest_matches: bool | None
    audit_seq: int | None

    @property
    def ok(self) -> bool:
        return self.signature_valid and self.audit_digest_matches is not False


async def recheck(row: ActSignature) -> Recheck:
    """Verifies a stored signature again and compares it with its audit entry (None: not audited yet)."""
    from domain.audit.models import AuditEntry

    try:
        verify_evidence(as_evidence(row))
        valid = True
    except errors.CertificateSignatureInvalid:
        valid = False
    entry = await AuditEntry.get_or_none(event_id=row.event_id)
    matches = None if entry is None else entry.digest == audit_digest(row)
    return Recheck(row, valid, matches, entry.seq if entry else None)


async def signature_of_entry(object_type: str, object_id: str) -> ActSignature | None:
    """The signature an audit entry of object ActSignature is about."""
    if object_type != ev.ActSigned.object_type or not object_id.isdigit():
        return None
    return await ActSignature.get_or_none(id=int(object_id))


async def visible_signature(actor: Actor, signature_id: int) -> ActSignature:
    """A stored signature for its signer's organisation, operators, and the supervisors of its lot's
    category (who see it in the lot's audit trail); NotFound otherwise."""
    row = await ActSignature.get_or_none(id=signature_id)
    if row is None:
        raise NotFound()
    if actor.has(Role.OPERATOR) or (actor.org_id is not None and actor.org_id == row.organisation_id):
        return row
    if row.lot_id is not None and await scope.keeps_lot(actor, row.lot_id):
        return row
    raise NotFound()
