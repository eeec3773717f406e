"""Signed evaluation (评审签章): experts bind certificates, read what they sign, sign (certificate or face), and who
signed what."""

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.access import scope
from domain.common.errors import DomainError
from domain.evaluation import signing
from domain.evaluation.models import Evaluation as EvaluationModel
from domain.evaluation.records import EvaluationSignature as SignatureModel
from domain.evaluation.records import ExpertCertificate as ExpertCertificateModel
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsExpert
from schema.relay import int_id, to_global_id

EvaluationSignKind: TypeAlias = signing.SignKind
strawberry.enum(EvaluationSignKind, name="EvaluationSignKind", description="What a committee member signs.")
describe_values(
    EvaluationSignKind,
    {"SHEET": "The member's own score sheet, as handed in.", "REPORT": "The evaluation report, once made."},
)
EvaluationSignMethod: TypeAlias = signing.SignMethod
strawberry.enum(EvaluationSignMethod, name="EvaluationSignMethod", description="How a member signed.")
describe_values(
    EvaluationSignMethod,
    {
        "CERTIFICATE": "With a personal certificate bound to the expert (CA互认), over the canonical content.",
        "FACE": "With a face verification (刷脸签章) bound to the content's SHA-256, by the provider's attestation.",
    },
)


def _expert_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("Expert", pk))


@strawberry.type(description="A personal certificate bound to the signed-in expert.")
class ExpertCertificate:
    id: strawberry.ID = strawberry.field(description="Global id of the binding.")
    fingerprint: str = strawberry.field(description="SHA-256 of the certificate (DER), hex.")
    subject: str = strawberry.field(description="The certificate's subject.")
    issuer: str = strawberry.field(description="The certificate's issuer.")
    not_after: datetime = strawberry.field(description="End of the certificate's validity.")

    @classmethod
    def from_model(cls, m: ExpertCertificateModel) -> "ExpertCertificate":
        return cls(
            id=strawberry.ID(to_global_id("ExpertCertificate", m.id)),
            fingerprint=m.fingerprint,
            subject=m.subject,
            issuer=m.issuer,
            not_after=m.not_after,
        )


@strawberry.type(description="The exact text a member signs (UTF-8) and its SHA-256.")
class EvaluationToSign:
    kind: EvaluationSignKind = strawberry.field(description="Sheet or report.")
    to_sign: str = strawberry.field(description="Canonical JSON to sign, byte for byte.")
    sha256: str = strawberry.field(description="SHA-256 of toSign, hex.")


@strawberry.type(description="A member's signature of its sheet or of the report.")
class EvaluationSignature:
    id: strawberry.ID = strawberry.field(description="Global id of the signature.")
    expert_id: strawberry.ID = strawberry.field(description="The signing member (an Expert's global id).")
    kind: EvaluationSignKind = strawberry.field(description="Sheet or report.")
    method: EvaluationSignMethod = strawberry.field(description="Certificate or face verification.")
    content: str = strawberry.field(description="The canonical content signed.")
    content_sha256: str = strawberry.field(description="SHA-256 of the content, hex.")
    certificate_sha256: str | None = strawberry.field(description="The certificate's SHA-256 (certificate only).")
    subject: str | None = strawberry.field(description="The certificate's subject (certificate only).")
    signature: str | None = strawberry.field(description="Base64 signature over the content (certificate only).")
    signed_at: datetime = strawberry.field(description="When the platform verified and stored it.")
    superseded: bool = strawberry.field(description="The sheet was replaced after this signature.")

    @classmethod
    def from_model(cls, m: SignatureModel) -> "EvaluationSignature":
        return cls(
            id=strawberry.ID(to_global_id("EvaluationSignature", m.id)),
            expert_id=_expert_id(m.expert_id),
            kind=signing.SignKind(m.kind),
            method=signing.SignMethod(m.method),
            content=m.content,
            content_sha256=m.content_sha256,
            certificate_sha256=m.fingerprint,
            subject=m.subject,
            signature=m.signature,
            signed_at=m.signed_at,
            superseded=m.superseded_at is not None,
        )


@strawberry.type(description="Who of the committee signed its sheet and the report; the report is final once all did.")
class EvaluationSignatures:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    members: list[strawberry.ID] = strawberry.field(description="The committee (Experts' global ids).")
    sheets_signed: list[strawberry.ID] = strawberry.field(description="Members whose current sheet is signed.")
    report_signed: list[strawberry.ID] = strawberry.field(description="Members who signed the report.")
    report_final: bool = strawberry.field(description="Every member signed the report (签章完毕).")
    signatures: list[EvaluationSignature] = strawberry.field(description="Every current signature, oldest first.")


@strawberry.input(description="Bind a personal certificate to the signed-in expert.")
class ExpertCertificateBindInput:
    certificate: str = strawberry.field(description="The certificate, PEM or base64 DER.")
    challenge: str = strawberry.field(description="A BIND challenge from certificateChallenge.")
    signature: str = strawberry.field(description="Base64 signature over the challenge's toSign text.")


@strawberry.type(description="The certificate is bound: the expert may sign with it.")
class ExpertCertificateBound:
    certificate: ExpertCertificate = strawberry.field(description="The binding.")


ExpertCertificateBindResult = result_union(
    "ExpertCertificateBindResult", ExpertCertificateBound, [signing.bind_certificate]
)


@strawberry.input(description="Start a face verification to sign without a certificate (刷脸签章).")
class EvaluationFaceStartInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot evaluated.")
    kind: EvaluationSignKind = strawberry.field(description="Sign the sheet or the report.")


@strawberry.type(description="Open the provider's link on the phone, then sign with the token.")
class EvaluationFaceStarted:
    token: str = strawberry.field(description="The provider's token (BizToken): give it as faceToken to sign.")
    url: str = strawberry.field(description="The provider's verification link.")
    expires_at: datetime = strawberry.field(description="The token's end of validity.")
    content_sha256: str = strawberry.field(description="SHA-256 of the content the verification is bound to.")


EvaluationFaceStartResult = result_union("EvaluationFaceStartResult", EvaluationFaceStarted, [signing.start_face])


@strawberry.input(description="Sign the member's sheet or the report: certificate and signature, or faceToken.")
class EvaluationSignInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot evaluated.")
    kind: EvaluationSignKind = strawberry.field(description="Sign the sheet or the report.")
    certificate: str | None = strawberry.field(default=None, description="A certificate bound to the expert.")
    signature: str | None = strawberry.field(default=None, description="Base64 signature over evaluationToSign.")
    face_token: str | None = strawberry.field(default=None, description="A passed face verification's token.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Signed: the signature is verified, stored and on the audit chain.")
class EvaluationSigned:
    signature: EvaluationSignature = strawberry.field(description="The stored signature.")
    report_final: bool = strawberry.field(description="Every member has signed the report.")


EvaluationSignResult = result_union("EvaluationSignResult", EvaluationSigned, [signing.sign])


async def _status(evaluation: EvaluationModel) -> EvaluationSignatures:
    found = await signing.status(evaluation)
    return EvaluationSignatures(
        lot_id=strawberry.ID(to_global_id("Lot", evaluation.lot_id)),
        members=[_expert_id(m) for m in found.members],
        sheets_signed=[_expert_id(m) for m in found.sheets_signed],
        report_signed=[_expert_id(m) for m in found.report_signed],
        report_final=found.final,
        signatures=[EvaluationSignature.from_model(s) for s in found.signatures],
    )


@strawberry.type
class SigningQueries:
    @fields.field(
        description="The exact text the signed-in member signs for a lot (its sheet, or the report); null when "
        "there is nothing to sign yet.",
        permission_classes=[IsExpert],
    )
    async def evaluation_to_sign(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        kind: Annotated[EvaluationSignKind, strawberry.argument(description="Sheet or report.")],
    ) -> EvaluationToSign | None:
        try:
            target = await signing.to_sign(info.context.actor, int_id(lot_id, "Lot", "lotId"), kind)
        except DomainError:
            return None
        return EvaluationToSign(kind=kind, to_sign=target.text, sha256=target.sha256)

    @fields.field(
        description="Who signed a lot's sheets and report: for operators, supervisors of its category and the "
        "members of its committee; null for anyone else and before the evaluation starts."
    )
    async def evaluation_signatures(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> EvaluationSignatures | None:
        actor = info.context.actor
        pk = int_id(lot_id, "Lot", "lotId")
        evaluation = await EvaluationModel.get_or_none(lot_id=pk)
        if evaluation is None:
            return None
        member = actor.expert_id is not None and actor.expert_id in [int(m) for m in evaluation.committee]
        if not member and not await scope.keeps_lot(actor, pk):
            return None
        return await _status(evaluation)

    @fields.field(description="The signed-in expert's bound certificates, newest first.", permission_classes=[IsExpert])
    async def my_expert_certificates(self, info: Info) -> list[ExpertCertificate]:
        return [ExpertCertificate.from_model(c) for c in await signing.my_certificates(info.context.actor)]


@strawberry.type
class SigningMutations:
    @mutation(
        ExpertCertificateBindResult,
        description="Bind a personal certificate to the signed-in expert (a signed BIND challenge).",
        permission_classes=[IsExpert],
    )
    async def expert_certificate_bind(
        self,
        info: Info,
        input: Annotated[ExpertCertificateBindInput, strawberry.argument(description="The certificate and proof.")],
    ) -> ExpertCertificateBound:
        bound = await signing.bind_certificate(info.context.actor, input.certificate, input.challenge, input.signature)
        return ExpertCertificateBound(certificate=ExpertCertificate.from_model(bound))

    @mutation(
        EvaluationFaceStartResult,
        description="Start a face verification bound to what the member would sign now (刷脸签章).",
        permission_classes=[IsExpert],
    )
    async def evaluation_face_start(
        self,
        info: Info,
        input: Annotated[EvaluationFaceStartInput, strawberry.argument(description="What to sign.")],
    ) -> EvaluationFaceStarted:
        made = await signing.start_face(info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.kind)
        return EvaluationFaceStarted(
            token=made.biz_token, url=made.url, expires_at=made.expires_at, content_sha256=made.content_sha256
        )

    @mutation(
        EvaluationSignResult,
        description="Sign the member's score sheet or the evaluation report (committee member): with a bound "
        "certificate over evaluationToSign, or with a passed face verification; nothing is stored on a refusal.",
        permission_classes=[IsExpert],
    )
    async def evaluation_sign(
        self,
        info: Info,
        input: Annotated[EvaluationSignInput, strawberry.argument(description="What to sign and the proof.")],
    ) -> EvaluationSigned:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        proof = signing.Signed(certificate=input.certificate, signature=input.signature, face_token=input.face_token)
        row = await signing.sign(info.context.actor, lot_id, input.kind, proof, input.idempotency_key)
        evaluation = await EvaluationModel.get(id=row.evaluation_id)
        return EvaluationSigned(
            signature=EvaluationSignature.from_model(row), report_final=(await signing.status(evaluation)).final
        )
