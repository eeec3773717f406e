"""Signed evaluation (评审签章) and witnesses (见证): experts' certificates, score sheets as signed, the
signatures of sheets and reports (by certificate or by an attested face verification, 刷脸签章), witness
assignments and witness records."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class ExpertCertificate(Model):
    """A personal certificate an expert of the pool bound after proving it holds the key (experts are not users of
    an organisation, so their certificates are bound here, not in bound_certificate)."""

    id = fields.BigIntField(primary_key=True)
    expert_id = fields.BigIntField(db_index=True)
    fingerprint = fields.CharField(max_length=64, unique=True)
    der = fields.TextField()
    subject = fields.TextField()
    issuer = fields.TextField()
    serial = fields.CharField(max_length=64)
    key_type = fields.CharField(max_length=16)
    not_before = fields.DatetimeField()
    not_after = fields.DatetimeField()
    bound_at = fields.DatetimeField()

    class Meta:
        table = "expert_certificate"


class ScoreSheet(Model):
    """One member's sheet of an evaluation as a whole: when the member first opened the bids, when it handed the
    sheet in, and the sheet's canonical content (what the member signs) with its SHA-256."""

    id = fields.BigIntField(primary_key=True)
    evaluation_id = fields.BigIntField()
    lot_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField()
    opened_at = fields.DatetimeField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    content = fields.TextField(null=True)
    content_sha256 = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "score_sheet"
        unique_together = (("evaluation_id", "expert_id"),)


class EvaluationSignature(Model):
    """A member's signature of its score sheet or of the evaluation report: the canonical content, and either the
    certificate with the signature over the content, or the face-verification provider's attested result bound to
    the content's SHA-256. A sheet replaced after signing leaves its signature superseded."""

    id = fields.BigIntField(primary_key=True)
    evaluation_id = fields.BigIntField()
    lot_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField()
    kind = fields.CharField(max_length=16)
    method = fields.CharField(max_length=16)
    content = fields.TextField()
    content_sha256 = fields.CharField(max_length=64)
    fingerprint = fields.CharField(max_length=64, null=True)
    certificate_der = fields.TextField(null=True)
    subject = fields.TextField(null=True)
    algorithm = fields.CharField(max_length=32, null=True)
    signature = fields.TextField(null=True)
    face_provider = fields.CharField(max_length=16, null=True)
    face_token = fields.CharField(max_length=128, null=True)
    face_result: dict[str, Any] | None = fields.JSONField(null=True)
    verification: dict[str, Any] = fields.JSONField()
    signed_at = fields.DatetimeField()
    superseded_at = fields.DatetimeField(null=True)
    event_id = fields.UUIDField(unique=True)

    class Meta:
        table = "evaluation_signature"
        indexes = (("evaluation_id", "kind"),)


class FaceVerification(Model):
    """A face verification (刷脸) started for one member to sign one content: the provider's token and link, used
    once, by the signature it attests."""

    id = fields.BigIntField(primary_key=True)
    evaluation_id = fields.BigIntField()
    lot_id = fields.BigIntField()
    expert_id = fields.BigIntField()
    kind = fields.CharField(max_length=16)
    content_sha256 = fields.CharField(max_length=64)
    provider = fields.CharField(max_length=16)
    biz_token = fields.CharField(max_length=128, unique=True)
    url = fields.TextField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "face_verification"


class WitnessAssignment(Model):
    """A witness (见证人员) assigned by an operator to attend one lot's opening and evaluation remotely."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    user_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    assigned_by = fields.BigIntField()
    assigned_at = fields.DatetimeField()

    class Meta:
        table = "witness_assignment"
        unique_together = (("lot_id", "user_id"),)


class WitnessRecord(Model):
    """A witness's record of one lot: observations and anomalies as they were entered, then signed with the
    witness's certificate (the ActSignature signature_id), after which it is closed."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    user_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    entries: list[dict[str, Any]] = fields.JSONField()
    status = fields.CharField(max_length=16)
    content_sha256 = fields.CharField(max_length=64, null=True)
    signature_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    signed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "witness_record"
        unique_together = (("lot_id", "user_id"),)
