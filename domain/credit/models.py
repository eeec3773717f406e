"""Credit records and the joint-punishment list (失信联合惩戒)."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class CreditRecord(Model):
    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="credit_records", on_delete=fields.RESTRICT
    )
    organisation_id: int
    kind = fields.CharField(max_length=8)
    category = fields.CharField(max_length=64)
    description = fields.TextField()
    source = fields.CharField(max_length=200)
    recorded_by = fields.BigIntField()
    recorded_at = fields.DatetimeField()
    # imported from another platform of the credit alliance (信用联盟): its code and its own reference; null: ours
    source_platform = fields.CharField(max_length=64, null=True)
    source_ref = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "credit_record"


class JointPunishment(Model):
    """An entry of the joint-punishment list: barred from registering anywhere while in force."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="punishments", on_delete=fields.RESTRICT
    )
    organisation_id: int
    reason = fields.TextField()
    authority = fields.CharField(max_length=200)
    document_no = fields.CharField(max_length=100)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(null=True)
    lifted_at = fields.DatetimeField(null=True)
    lifted_reason = fields.TextField(null=True)
    recorded_by = fields.BigIntField()
    recorded_at = fields.DatetimeField()
    # imported from another platform of the credit alliance (一处失信、处处受限): its code and its own reference
    source_platform = fields.CharField(max_length=64, null=True)
    source_ref = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "joint_punishment"
        indexes = (("organisation_id", "starts_at"),)


class CreditPublication(Model):
    """A bad-conduct record or a joint punishment in public view (信用信息公示) until `public_until`, or until a
    repair or a lift withdraws it early; kept for officials after it is withdrawn."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="credit_publications", on_delete=fields.RESTRICT
    )
    organisation_id: int
    record_id = fields.BigIntField(null=True, unique=True)
    punishment_id = fields.BigIntField(null=True, unique=True)
    lot_id = fields.BigIntField(null=True, db_index=True)
    category = fields.CharField(max_length=32, null=True)
    severity = fields.CharField(max_length=16)
    title = fields.CharField(max_length=300)
    summary = fields.TextField()
    announcement_id = fields.BigIntField(null=True)
    published_at = fields.DatetimeField()
    public_until = fields.DatetimeField()
    repairable_from = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)
    withdrawn_reason = fields.CharField(max_length=16, null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "credit_publication"
        indexes = (("withdrawn_at", "published_at"),)


class CreditCommitment(Model):
    """A credit commitment (信用承诺书) an organisation signed for a lot, at registration or with its bid."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="credit_commitments", on_delete=fields.RESTRICT
    )
    organisation_id: int
    lot_id = fields.BigIntField(db_index=True)
    stage = fields.CharField(max_length=16)
    version = fields.IntField()
    text_sha256 = fields.CharField(max_length=64)
    signature_id = fields.BigIntField(null=True)
    signed_by = fields.BigIntField()
    signed_at = fields.DatetimeField()
    breached_at = fields.DatetimeField(null=True)
    breach_record_id = fields.BigIntField(null=True)

    class Meta:
        table = "credit_commitment"
        unique_together = (("organisation_id", "lot_id", "stage"),)


class CreditRepair(Model):
    """An application for credit repair (信用修复) of one public record, with its documents and the decision."""

    id = fields.BigIntField(primary_key=True)
    publication: fields.ForeignKeyRelation[CreditPublication] = fields.ForeignKeyField(
        "palmtrade.CreditPublication", related_name="repairs", on_delete=fields.RESTRICT
    )
    publication_id: int
    organisation_id = fields.BigIntField(db_index=True)
    statement = fields.TextField()
    document_ids: list[int] = fields.JSONField()
    status = fields.CharField(max_length=16)
    applied_by = fields.BigIntField()
    applied_at = fields.DatetimeField()
    decided_by = fields.BigIntField(null=True)
    decided_at = fields.DatetimeField(null=True)
    decision_note = fields.TextField(null=True)

    class Meta:
        table = "credit_repair"


# ---------------------------------------------------------------- rating, incentives, exchange (issue 23)


class CreditRatingRules(Model):
    """A published version of the rating rule table (weights per category, decay, grades): public, never edited."""

    id = fields.BigIntField(primary_key=True)
    version = fields.IntField(unique=True)
    rules: dict[str, Any] = fields.JSONField()
    note = fields.TextField()
    published_by = fields.BigIntField()
    published_at = fields.DatetimeField()

    class Meta:
        table = "credit_rating_rules"


class CreditRating(Model):
    """An organisation's current credit score and grade, with the contribution of each record behind it."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Organisation", related_name="credit_rating", on_delete=fields.RESTRICT
    )
    organisation_id: int
    score = fields.IntField()
    grade = fields.CharField(max_length=2)
    rules_version = fields.IntField()
    contributions: list[dict[str, Any]] = fields.JSONField()
    computed_at = fields.DatetimeField()

    class Meta:
        table = "credit_rating"


class CreditRatingChange(Model):
    """The rating history: a row each time an organisation's score, grade or rule version changed, and why."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="credit_rating_changes", on_delete=fields.RESTRICT
    )
    organisation_id: int
    score = fields.IntField()
    grade = fields.CharField(max_length=2)
    rules_version = fields.IntField()
    trigger = fields.CharField(max_length=48)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "credit_rating_change"
        indexes = (("organisation_id", "computed_at"),)


class LotCreditIncentive(Model):
    """The credit incentives (守信激励) a lot applies by grade, set while it is a draft: part of its documents."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Lot", related_name="credit_incentive", on_delete=fields.CASCADE
    )
    lot_id: int
    rules: list[dict[str, Any]] = fields.JSONField()
    set_by = fields.BigIntField()
    set_at = fields.DatetimeField()

    class Meta:
        table = "lot_credit_incentive"


class SecurityRelief(Model):
    """A lot's incentive applied to one bidder at registration: the security it owes instead of the lot's amount."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="security_reliefs", on_delete=fields.CASCADE
    )
    lot_id: int
    organisation_id = fields.BigIntField()
    grade = fields.CharField(max_length=2)
    score = fields.IntField()
    rules_version = fields.IntField()
    kind = fields.CharField(max_length=24)
    percent = fields.IntField()
    base_fen = fields.BigIntField()
    amount_due_fen = fields.BigIntField()
    granted_at = fields.DatetimeField()

    class Meta:
        table = "credit_security_relief"
        unique_together = (("lot_id", "organisation_id"),)


class CreditPartner(Model):
    """A platform of the credit alliance accredited by an operator: its code, the integrator client it imports
    through, and (CreditPartnerKey) the public keys its packages are signed with."""

    id = fields.BigIntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    client_id = fields.CharField(max_length=64, db_index=True)
    accredited_by = fields.BigIntField()
    accredited_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "credit_partner"


class CreditPartnerKey(Model):
    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[CreditPartner] = fields.ForeignKeyField(
        "palmtrade.CreditPartner", related_name="keys", on_delete=fields.RESTRICT
    )
    partner_id: int
    kid = fields.CharField(max_length=128, unique=True)
    public_jwk: dict[str, Any] = fields.JSONField()
    created_by = fields.BigIntField()
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "credit_partner_key"


class CreditImport(Model):
    """One package received from a partner, once: a package sent again is recognised by its SHA-256."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[CreditPartner] = fields.ForeignKeyField(
        "palmtrade.CreditPartner", related_name="imports", on_delete=fields.RESTRICT
    )
    partner_id: int
    package_sha256 = fields.CharField(max_length=64)
    kid = fields.CharField(max_length=128)
    issued_at = fields.DatetimeField()
    counts: dict[str, Any] = fields.JSONField()
    imported_by = fields.CharField(max_length=64)
    imported_at = fields.DatetimeField()

    class Meta:
        table = "credit_import"
        unique_together = (("partner_id", "package_sha256"),)


class CreditImportItem(Model):
    """An item a partner sent (a record or a punishment), by its own reference: the local row it became, or none yet
    while the entity is not registered here (attached when it is)."""

    id = fields.BigIntField(primary_key=True)
    partner: fields.ForeignKeyRelation[CreditPartner] = fields.ForeignKeyField(
        "palmtrade.CreditPartner", related_name="items", on_delete=fields.RESTRICT
    )
    partner_id: int
    kind = fields.CharField(max_length=16)
    source_ref = fields.CharField(max_length=128)
    credit_code = fields.CharField(max_length=18, db_index=True)
    item: dict[str, Any] = fields.JSONField()
    digest = fields.CharField(max_length=64)
    record_id = fields.BigIntField(null=True)
    punishment_id = fields.BigIntField(null=True)
    received_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "credit_import_item"
        unique_together = (("partner_id", "kind", "source_ref"),)
