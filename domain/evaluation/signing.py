"""Signed evaluation (评审签章): each member signs its score sheet and the evaluation report.

What is signed is canonical JSON (keys sorted, no spaces, UTF-8, as every signed act, domain/certificates/acts.py):
- a sheet: {"act": "evaluation.sheet", "lotTradeCode", "expertId", "method", "entries": [{"bid", "compliant",
  "reason", "technicalCenti", "commercialCenti"} by bid id], "v": 1}, stored with the sheet when it is handed in;
- the report: {"act": "evaluation.report", "lotTradeCode", "reportSha256", "v": 1}.

A member signs with a personal certificate bound to its pool entry (proved by a signed `bind` challenge; the path must
validate now: a revoked, expired or unknown certificate is refused), or, without one, with a face verification
(刷脸签章, domain/evaluation/face.py) bound to the content's SHA-256. A sheet replaced after it was signed leaves that
signature superseded; the report is final (签章完毕) only once every member of the committee signed it. Every signature
enters the audit chain (evaluation.signed, the digest of the signed content and of the signature or attestation) and
the lot's evidence package, where it can be verified offline.

Legal basis: the committee members sign the evaluation report (《招标投标法实施条例》第五十三条); electronic signatures
are reliable under 《电子签名法》第十三条 and carry a handwritten signature's effect (第十四条).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from tortoise.exceptions import IntegrityError

from domain.accounts import adapters as account_adapters
from domain.accounts.models import Expert
from domain.certificates import acts, pki
from domain.certificates import errors as cert_errors
from domain.certificates import services as certificates
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, canonical_json, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.evaluation import face
from domain.evaluation.errors import EvaluationNotStarted, NotCommitteeMember
from domain.evaluation.models import Evaluation, Score
from domain.evaluation.records import EvaluationSignature, ExpertCertificate, FaceVerification, ScoreSheet
from domain.evaluation.states import EvaluationStatus
from domain.publication.models import Lot

VERSION = 1
ACT_SHEET = "evaluation.sheet"
ACT_REPORT = "evaluation.report"
FACE_TTL = timedelta(hours=2)  # Tencent FaceID: a BizToken is valid for 7,200 seconds
FINISHED = frozenset({EvaluationStatus.REPORTED.value, EvaluationStatus.FAILED.value})


class SignKind(StrEnum):
    SHEET = "sheet"
    REPORT = "report"


class SignMethod(StrEnum):
    CERTIFICATE = "certificate"
    FACE = "face"


# ---------------------------------------------------------------- errors


class SheetNotSubmitted(DomainError):
    code = "SHEET_NOT_SUBMITTED"
    message_zh = "尚未提交评分表，无可签章的内容"
    message_en = "No score sheet has been handed in to sign"


class ReportNotReady(DomainError):
    code = "REPORT_NOT_READY"
    message_zh = "评标报告尚未形成，不能签章"
    message_en = "The evaluation report does not exist yet"


class CertificateOfAnotherExpert(DomainError):
    code = "CERTIFICATE_OF_ANOTHER_EXPERT"
    message_zh = "该证书绑定的是其他专家，不能用于本人签章"
    message_en = "The certificate is bound to another expert"


class SigningMethodMissing(DomainError):
    code = "SIGNING_METHOD_MISSING"
    message_zh = "请提供证书签名或刷脸核验结果（二者择一）"
    message_en = "Give either a certificate signature or a face verification, not both or neither"


class FaceVerificationUnavailable(DomainError):
    code = "FACE_VERIFICATION_UNAVAILABLE"
    message_zh = "刷脸核验服务暂不可用"
    message_en = "Face verification is not available"


class FaceVerificationUnknown(DomainError):
    code = "FACE_VERIFICATION_UNKNOWN"
    message_zh = "刷脸核验记录不存在、已使用或已过期"
    message_en = "The face verification is unknown, used or expired"


class FaceVerificationStale(DomainError):
    code = "FACE_VERIFICATION_STALE"
    message_zh = "刷脸核验针对的内容已变更，请重新核验"
    message_en = "The face verification was made for content that has changed since"


class FaceVerificationFailed(DomainError):
    code = "FACE_VERIFICATION_FAILED"
    message_zh = "刷脸核验未通过（{reason}）"
    message_en = "The face verification did not pass ({reason})"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


class FaceVerificationWrongPerson(DomainError):
    code = "FACE_VERIFICATION_WRONG_PERSON"
    message_zh = "刷脸核验的身份与专家本人不符"
    message_en = "The person verified is not the expert"


FACE_ERRORS: tuple[type[DomainError], ...] = (
    FaceVerificationUnknown,
    FaceVerificationStale,
    FaceVerificationFailed,
    FaceVerificationWrongPerson,
    FaceVerificationUnavailable,
)
CONTENT_ERRORS: tuple[type[DomainError], ...] = (
    EvaluationNotStarted,
    NotCommitteeMember,
    SheetNotSubmitted,
    ReportNotReady,
)


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class ExpertCertificateBound(DomainEvent):
    type = "expert.certificate_bound"
    object_type = "ExpertCertificate"
    expert_id: int
    fingerprint: str
    subject: str
    issuer: str
    serial: str


@dataclass(frozen=True, kw_only=True)
class EvaluationSigned(DomainEvent):
    """A member signed its sheet or the report: the digest of what it signed and of the signature (or of the
    provider's attestation) are what the audit chain keeps."""

    type = "evaluation.signed"
    object_type = "EvaluationSignature"
    lot_id: int
    evaluation_id: int
    expert_id: int
    kind: str
    method: str
    content_sha256: str
    proof_sha256: str
    certificate_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class EvaluationReportFinal(DomainEvent):
    """Every member signed the report: it is final."""

    type = "evaluation.report_final"
    object_type = "Evaluation"
    lot_id: int
    report_sha256: str
    signatures: int


KEEPERS = (Role.OPERATOR.value, Role.SUPERVISOR.value)


# ---------------------------------------------------------------- canonical content


def sheet_content(trade_code: str, expert_id: int, method: str, scores: Sequence[Score]) -> dict[str, Any]:
    """A member's sheet as it signs it: every judgement by bid id."""
    return {
        "act": ACT_SHEET,
        "lotTradeCode": trade_code,
        "expertId": expert_id,
        "method": method,
        "entries": [
            {
                "bid": s.sealed_bid_id,
                "compliant": s.compliant,
                "reason": s.reason,
                "technicalCenti": s.technical_centi,
                "commercialCenti": s.commercial_centi,
            }
            for s in sorted(scores, key=lambda s: s.sealed_bid_id)
        ],
        "v": VERSION,
    }


def report_content(trade_code: str, report_sha256: str) -> dict[str, Any]:
    return {"act": ACT_REPORT, "lotTradeCode": trade_code, "reportSha256": report_sha256, "v": VERSION}


def encode(content: dict[str, Any]) -> str:
    return canonical_json(content).decode()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def sheet_handed_in(evaluation: Evaluation, lot: Lot, expert_id: int, now: datetime) -> None:
    """Keeps the member's sheet as it will be signed, and supersedes a signature of an earlier sheet; in the
    transaction that stores the sheet (scoring.submit_sheet)."""
    scores = await Score.filter(evaluation_id=evaluation.id, expert_id=expert_id)
    text = encode(sheet_content(lot.trade_code, expert_id, evaluation.method, scores))
    row = await ScoreSheet.get_or_none(evaluation_id=evaluation.id, expert_id=expert_id)
    if row is None:
        row = ScoreSheet(evaluation_id=evaluation.id, lot_id=lot.id, expert_id=expert_id)
    row.submitted_at, row.content, row.content_sha256 = now, text, sha256_text(text)
    await row.save()
    await (
        EvaluationSignature.filter(
            evaluation_id=evaluation.id,
            expert_id=expert_id,
            kind=SignKind.SHEET.value,
            superseded_at=None,
        )
        .exclude(content_sha256=row.content_sha256)
        .update(superseded_at=now)
    )


async def bids_opened(evaluation: Evaluation, expert_id: int) -> None:
    """Notes when a member first opened the bids (the start of its sheet's time, read by the alerts)."""
    if await ScoreSheet.exists(evaluation_id=evaluation.id, expert_id=expert_id):
        return
    try:
        await ScoreSheet.create(
            evaluation_id=evaluation.id, lot_id=evaluation.lot_id, expert_id=expert_id, opened_at=clock.now()
        )
    except IntegrityError:  # a concurrent first read made it: the earlier time stands
        return


# ---------------------------------------------------------------- what a member signs


@dataclass(frozen=True, slots=True)
class ToSign:
    evaluation: Evaluation
    lot: Lot
    expert_id: int
    kind: SignKind
    text: str

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


def _member(actor: Actor) -> int:
    if actor.expert_id is None or not actor.has(Role.EXPERT):
        raise PermissionDenied()
    return actor.expert_id


@raises(*CONTENT_ERRORS)
async def to_sign(actor: Actor, lot_id: int, kind: SignKind) -> ToSign:
    """The exact text a member signs: its own sheet as handed in, or the report once it exists."""
    expert_id = _member(actor)
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NotFound()
    evaluation = await Evaluation.get_or_none(lot_id=lot.id)
    if evaluation is None:
        raise EvaluationNotStarted()
    if expert_id not in [int(m) for m in evaluation.committee]:
        raise NotCommitteeMember()
    if kind is SignKind.SHEET:
        sheet = await ScoreSheet.get_or_none(evaluation_id=evaluation.id, expert_id=expert_id)
        if sheet is None or sheet.content is None:
            raise SheetNotSubmitted()
        return ToSign(evaluation, lot, expert_id, kind, sheet.content)
    if evaluation.status not in FINISHED or evaluation.report_sha256 is None:
        raise ReportNotReady()
    return ToSign(evaluation, lot, expert_id, kind, encode(report_content(lot.trade_code, evaluation.report_sha256)))


# ---------------------------------------------------------------- experts' certificates


@raises(*cert_errors.PATH_ERRORS, *cert_errors.CHALLENGE_ERRORS, cert_errors.CertificateAlreadyBound)
@use_case("expert.certificate_bind", "ExpertCertificate")
async def bind_certificate(actor: Actor, certificate: str, challenge: str, signature: str) -> ExpertCertificate:
    """Binds a personal certificate to the signed-in expert once it proved it holds the key (a signed `bind`
    challenge) and the certificate validates now; binding it again returns the same binding."""
    expert_id = _member(actor)
    cert = pki.load_certificate(certificate)
    pki.key_type(cert)
    now = clock.now()
    await certificates._consume(challenge, "bind", now)
    pki.verify_signature(cert, acts.encode(acts.bind(challenge)), signature)
    await certificates.validate(cert, now)
    fingerprint = pki.fingerprint(cert)

    async def create() -> dict[str, Any]:
        existing = await ExpertCertificate.get_or_none(fingerprint=fingerprint)
        if existing is not None:
            if existing.expert_id != expert_id:
                raise cert_errors.CertificateAlreadyBound()
            return {"id": existing.id}
        not_before, not_after = pki.valid_dates(cert)
        bound = await ExpertCertificate.create(
            expert_id=expert_id,
            fingerprint=fingerprint,
            der=pki.b64(pki.der_of(cert)),
            subject=pki.subject_text(cert.subject),
            issuer=pki.subject_text(cert.issuer),
            serial=format(cert.serial_number, "x"),
            key_type=pki.key_type(cert),
            not_before=not_before,
            not_after=not_after,
            bound_at=now,
        )
        await events.record(
            ExpertCertificateBound(
                object_id=str(bound.id),
                expert_id=expert_id,
                fingerprint=fingerprint,
                subject=bound.subject,
                issuer=bound.issuer,
                serial=bound.serial,
                audience=Audience(roles=(Role.OPERATOR.value,)),
            ),
            actor,
        )
        return {"id": bound.id}

    result, _ = await run_once(actor, None, "expert.certificate_bind", {"fingerprint": fingerprint}, create)
    return await ExpertCertificate.get(id=result["id"])


async def my_certificates(actor: Actor) -> list[ExpertCertificate]:
    return list(await ExpertCertificate.filter(expert_id=_member(actor)).order_by("-id"))


# ---------------------------------------------------------------- face verification


@raises(*CONTENT_ERRORS, FaceVerificationUnavailable)
@use_case("evaluation.face_start", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def start_face(actor: Actor, lot_id: int, kind: SignKind) -> FaceVerification:
    """Starts a face verification for the member to sign the content it would sign now."""
    target = await to_sign(actor, lot_id, kind)
    verifier = face.deps.verifier
    if verifier is None:
        raise FaceVerificationUnavailable()
    expert = await Expert.get(id=target.expert_id)
    try:
        session = await verifier.start(extra=target.sha256, name=expert.name)
    except face.FaceProviderError:
        raise FaceVerificationUnavailable() from None
    now = clock.now()
    return await FaceVerification.create(
        evaluation_id=target.evaluation.id,
        lot_id=target.lot.id,
        expert_id=target.expert_id,
        kind=kind.value,
        content_sha256=target.sha256,
        provider=verifier.name,
        biz_token=session.token,
        url=session.url,
        created_at=now,
        expires_at=now + FACE_TTL,
    )


def _id_hash(number: str) -> str:
    return hmac.new(account_adapters.deps.code_secret, number.encode(), hashlib.sha256).hexdigest()


def _masked(number: str | None) -> str | None:
    return None if not number else f"{number[:3]}{'*' * max(0, len(number) - 7)}{number[-4:]}"


async def _face_proof(target: ToSign, token: str, now: datetime) -> tuple[FaceVerification, face.FaceResult]:
    found = await FaceVerification.get_or_none(biz_token=token, expert_id=target.expert_id)
    if found is None or found.used_at is not None or found.expires_at <= now or found.kind != target.kind.value:
        raise FaceVerificationUnknown()
    if found.content_sha256 != target.sha256 or found.evaluation_id != target.evaluation.id:
        raise FaceVerificationStale()
    verifier = face.deps.verifier
    if verifier is None:
        raise FaceVerificationUnavailable()
    try:
        result = await verifier.result(token)
    except face.FaceProviderError:
        raise FaceVerificationUnavailable() from None
    if not result.passed:
        raise FaceVerificationFailed(reason=f"{result.code} {result.message}".strip()[:120])
    if result.extra != target.sha256:
        raise FaceVerificationStale()
    expert = await Expert.get(id=target.expert_id)
    if not result.id_number or not hmac.compare_digest(_id_hash(result.id_number.upper()), expert.id_number_hash):
        raise FaceVerificationWrongPerson()
    return found, result


# ---------------------------------------------------------------- signing


@dataclass(frozen=True, slots=True)
class Signed:
    certificate: str | None = None
    signature: str | None = None
    face_token: str | None = None


@raises(
    *CONTENT_ERRORS,
    *cert_errors.PATH_ERRORS,
    cert_errors.CertificateNotBound,
    CertificateOfAnotherExpert,
    SigningMethodMissing,
    *FACE_ERRORS,
)
@use_case("evaluation.sign", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def sign(
    actor: Actor, lot_id: int, kind: SignKind, signed: Signed, idempotency_key: str | None = None
) -> EvaluationSignature:
    """Stores a member's signature of its sheet or of the report once it verifies (certificate bound to this expert,
    valid now, over exactly the content; or a passed face verification of this expert bound to the content); nothing
    is stored on a refusal. The member's last signature of the report makes the report final."""
    target = await to_sign(actor, lot_id, kind)
    by_certificate = bool(signed.certificate or signed.signature)
    if by_certificate == bool(signed.face_token) or (by_certificate and not (signed.certificate and signed.signature)):
        raise SigningMethodMissing()
    now = clock.now()
    proof: dict[str, Any]
    if by_certificate:
        assert signed.certificate is not None
        assert signed.signature is not None
        cert = pki.load_certificate(signed.certificate)
        bound = await ExpertCertificate.get_or_none(fingerprint=pki.fingerprint(cert))
        if bound is None:
            raise cert_errors.CertificateNotBound()
        if bound.expert_id != target.expert_id:
            raise CertificateOfAnotherExpert()
        pki.verify_signature(cert, target.text.encode(), signed.signature)
        path = await certificates.validate(cert, now)
        signature_text = "".join(signed.signature.split())
        proof = {
            "method": SignMethod.CERTIFICATE.value,
            "fingerprint": pki.fingerprint(cert),
            "certificate_der": pki.b64(pki.der_of(cert)),
            "subject": pki.subject_text(cert.subject),
            "algorithm": pki.algorithm_of(cert),
            "signature": signature_text,
            "verification": path.as_json(),
            "proof_sha256": sha256_text(signature_text),
        }
    else:
        assert signed.face_token is not None
        verification, attestation = await _face_proof(target, signed.face_token, now)
        attested = {
            "provider": verification.provider,
            "bizToken": verification.biz_token,
            "code": attestation.code,
            "message": attestation.message,
            "idNumber": _masked(attestation.id_number),
            "extra": attestation.extra,
            "similarity": attestation.similarity,
            "requestId": attestation.request_id,
        }
        proof = {
            "method": SignMethod.FACE.value,
            "face_provider": verification.provider,
            "face_token": verification.biz_token,
            "face_result": attested,
            "verification": {"checkedAt": now.astimezone(UTC).isoformat(), "identity": "id_number_hash matches"},
            "proof_sha256": events.digest(attested),
            "face_id": verification.id,
        }

    async def store() -> dict[str, Any]:
        await lock(Evaluation.filter(id=target.evaluation.id)).first()
        existing = await EvaluationSignature.get_or_none(
            evaluation_id=target.evaluation.id,
            expert_id=target.expert_id,
            kind=kind.value,
            content_sha256=target.sha256,
            superseded_at=None,
        )
        if existing is not None:
            return {"id": existing.id}
        if "face_id" in proof and not await FaceVerification.filter(id=proof["face_id"], used_at=None).update(
            used_at=now
        ):
            raise FaceVerificationUnknown()
        event_id = uuid.uuid4()
        row = await EvaluationSignature.create(
            evaluation_id=target.evaluation.id,
            lot_id=target.lot.id,
            expert_id=target.expert_id,
            kind=kind.value,
            method=proof["method"],
            content=target.text,
            content_sha256=target.sha256,
            fingerprint=proof.get("fingerprint"),
            certificate_der=proof.get("certificate_der"),
            subject=proof.get("subject"),
            algorithm=proof.get("algorithm"),
            signature=proof.get("signature"),
            face_provider=proof.get("face_provider"),
            face_token=proof.get("face_token"),
            face_result=proof.get("face_result"),
            verification=proof["verification"],
            signed_at=now,
            event_id=event_id,
        )
        await events.record(_event(row), actor, event_id=event_id)
        if kind is SignKind.REPORT:
            await _maybe_final(target.evaluation)
        return {"id": row.id}

    request = {"lot": target.lot.id, "kind": kind.value, "content": target.sha256, "proof": proof["proof_sha256"]}
    result, _ = await run_once(actor, idempotency_key, "evaluation.sign", request, store)
    return await EvaluationSignature.get(id=result["id"])


def _event(row: EvaluationSignature) -> EvaluationSigned:
    proof = row.signature if row.method == SignMethod.CERTIFICATE.value else None
    return EvaluationSigned(
        object_id=str(row.id),
        lot_id=row.lot_id,
        evaluation_id=row.evaluation_id,
        expert_id=row.expert_id,
        kind=row.kind,
        method=row.method,
        content_sha256=row.content_sha256,
        proof_sha256=sha256_text(proof) if proof is not None else events.digest(row.face_result),
        certificate_sha256=row.fingerprint,
        audience=Audience(roles=KEEPERS),
    )


async def _maybe_final(evaluation: Evaluation) -> None:
    members = {int(m) for m in evaluation.committee}
    signed = await EvaluationSignature.filter(
        evaluation_id=evaluation.id, kind=SignKind.REPORT.value, superseded_at=None
    ).values_list("expert_id", flat=True)
    if members <= {int(str(e)) for e in signed}:
        await events.record(
            EvaluationReportFinal(
                object_id=str(evaluation.id),
                lot_id=evaluation.lot_id,
                report_sha256=str(evaluation.report_sha256),
                signatures=len(members),
                audience=Audience(roles=KEEPERS),
            ),
            SYSTEM,
        )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Status:
    """Who signed what: the report is final once every member signed it."""

    members: list[int]
    sheets_signed: list[int]
    report_signed: list[int]
    signatures: list[EvaluationSignature]

    @property
    def final(self) -> bool:
        return bool(self.members) and set(self.members) <= set(self.report_signed)


async def status(evaluation: Evaluation) -> Status:
    rows = list(
        await EvaluationSignature.filter(evaluation_id=evaluation.id, superseded_at=None).order_by("signed_at", "id")
    )
    return Status(
        members=[int(m) for m in evaluation.committee],
        sheets_signed=sorted({r.expert_id for r in rows if r.kind == SignKind.SHEET.value}),
        report_signed=sorted({r.expert_id for r in rows if r.kind == SignKind.REPORT.value}),
        signatures=rows,
    )


# the lot setting (domain/publication/procedures FLAG_SETTINGS): the result waits for the report signed by all
SIGNATURES_REQUIRED = "evaluation_signatures_required"


async def report_pending(lot: Lot) -> bool:
    """Whether the lot's result must still wait for its evaluation report: the lot requires the report signed
    (evaluation_signatures_required, on by default for tenders) and not every member of the committee has signed the
    report as it now stands (招标投标法实施条例 第五十三条: the committee members sign the report). A lot without a
    committee's evaluation (a negotiation panel's report) or configured before the setting waits for nothing here."""
    if not lot.config.get(SIGNATURES_REQUIRED):
        return False
    evaluation = await Evaluation.get_or_none(lot_id=lot.id)
    if evaluation is None:
        return False
    if evaluation.report_sha256 is None:
        return True
    current = sha256_text(encode(report_content(lot.trade_code, evaluation.report_sha256)))
    signed = await EvaluationSignature.filter(
        evaluation_id=evaluation.id, kind=SignKind.REPORT.value, content_sha256=current, superseded_at=None
    ).values_list("expert_id", flat=True)
    members = {int(m) for m in evaluation.committee}
    return not members or not members <= {int(str(e)) for e in signed}


def as_evidence(row: EvaluationSignature) -> dict[str, Any]:
    """A member's signature as the evidence package carries it: enough to verify it offline."""
    return {
        "id": row.id,
        "evaluationId": row.evaluation_id,
        "expertId": row.expert_id,
        "kind": row.kind,
        "method": row.method,
        "eventId": str(row.event_id),
        "signedAt": row.signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "supersededAt": row.superseded_at.astimezone(UTC).isoformat() if row.superseded_at else None,
        "content": row.content,
        "contentSha256": row.content_sha256,
        "algorithm": row.algorithm,
        "signature": row.signature,
        "certificate": row.certificate_der,
        "certificateSha256": row.fingerprint,
        "subject": row.subject,
        "faceResult": row.face_result,
        "verification": row.verification,
    }


def verify_evidence(item: dict[str, Any]) -> None:
    """Checks a member's signature as the evidence package carries it: the content's SHA-256, and for a certificate
    signature the certificate's SHA-256 and the signature over the content (a face attestation: its pass-through
    field is the content's SHA-256); CertificateSignatureInvalid otherwise."""
    try:
        content = str(item["content"])
        if sha256_text(content) != item["contentSha256"]:
            raise cert_errors.CertificateSignatureInvalid()
        if item["method"] == SignMethod.FACE.value:
            if (item.get("faceResult") or {}).get("extra") != item["contentSha256"]:
                raise cert_errors.CertificateSignatureInvalid()
            return
        cert = pki.load_certificate(str(item["certificate"]))
        if pki.fingerprint(cert) != item["certificateSha256"]:
            raise cert_errors.CertificateSignatureInvalid()
        pki.verify_signature(cert, content.encode(), str(item["signature"]))
    except (KeyError, TypeError, AttributeError, DomainError):
        raise cert_errors.CertificateSignatureInvalid() from None
