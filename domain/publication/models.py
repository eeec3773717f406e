"""Regions, projects and lots, announcements, saved searches and the integrator change feed."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class Region(Model):
    """An administrative division by GB/T 2260 code."""

    code = fields.CharField(max_length=6, primary_key=True)
    name = fields.CharField(max_length=64)
    parent_code = fields.CharField(max_length=6, null=True, db_index=True)
    level = fields.SmallIntField()

    class Meta:
        table = "region"


class Project(Model):
    """A project (项目) of a tenderer, with one or more lots."""

    id = fields.BigIntField(primary_key=True)
    trade_code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=200)
    category = fields.CharField(max_length=32, db_index=True)
    region_code = fields.CharField(max_length=6, db_index=True)
    # 招标项目类型 of an engineering project (domain/provincial/spec.py TENDER_PROJECT_TYPE_CODES: A01 房屋建筑 ...);
    # null for other trades and for projects made before it was asked
    industry = fields.CharField(max_length=3, null=True)
    tenderer_id = fields.BigIntField(db_index=True)
    agency_id = fields.BigIntField(null=True, db_index=True)
    created_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    lots: fields.ReverseRelation[Lot]

    class Meta:
        table = "project"


class Lot(Model):
    """A lot (标段/包/标的) with its procedure and per-procedure configuration."""

    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "palmtrade.Project", related_name="lots", on_delete=fields.RESTRICT
    )
    project_id: int
    lot_no = fields.IntField()
    trade_code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=200)
    procedure = fields.CharField(max_length=32)
    estimated_price_fen = fields.BigIntField()
    config: dict[str, Any] = fields.JSONField()
    eligibility: list[dict[str, Any]] = fields.JSONField(default=list)
    status = fields.CharField(max_length=24, db_index=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "lot"
        unique_together = (("project_id", "lot_no"),)


class Announcement(Model):
    """A public notice (公告). Once published it never changes: corrections are new notices."""

    id = fields.BigIntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "palmtrade.Project", related_name="announcements", on_delete=fields.RESTRICT
    )
    project_id: int
    lot: fields.ForeignKeyNullableRelation[Lot] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="announcements", null=True, on_delete=fields.RESTRICT
    )
    lot_id: int | None
    trade_code = fields.CharField(max_length=32, db_index=True)
    type = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16)
    title = fields.CharField(max_length=300)
    body_html = fields.TextField()
    body_text = fields.TextField()
    search_text = fields.TextField()
    category = fields.CharField(max_length=32)
    region_code = fields.CharField(max_length=6)
    lot_status = fields.CharField(max_length=24, null=True)
    corrects: fields.ForeignKeyNullableRelation[Announcement] = fields.ForeignKeyField(
        "palmtrade.Announcement", related_name="corrections", null=True, on_delete=fields.RESTRICT
    )
    corrects_id: int | None
    publicity_starts_at = fields.DatetimeField(null=True)
    publicity_ends_at = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True)
    published_by = fields.BigIntField(null=True)
    created_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "announcement"
        indexes = (
            ("status", "published_at"),
            ("status", "category", "published_at"),
            ("status", "region_code", "published_at"),
            ("status", "type", "published_at"),
        )


class AnnouncementAttachment(Model):
    id = fields.BigIntField(primary_key=True)
    announcement: fields.ForeignKeyRelation[Announcement] = fields.ForeignKeyField(
        "palmtrade.Announcement", related_name="attachments", on_delete=fields.CASCADE
    )
    announcement_id: int
    name = fields.CharField(max_length=255)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    content_type = fields.CharField(max_length=128)

    class Meta:
        table = "announcement_attachment"


class SavedSearch(Model):
    """A standing query of a user: new matching announcements produce an event for them."""

    id = fields.BigIntField(primary_key=True)
    user_id = fields.BigIntField(db_index=True)
    org_id = fields.BigIntField()
    name = fields.CharField(max_length=100)
    keywords = fields.CharField(max_length=200)
    terms: list[str] = fields.JSONField()
    categories: list[str] = fields.JSONField()
    regions: list[str] = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "saved_search"


class FeedEntry(Model):
    """The integrator change feed: `seq` is assigned in commit order, so readers never miss one."""

    seq = fields.BigIntField(primary_key=True, generated=False)
    event_id = fields.UUIDField(unique=True)
    kind = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=64)
    object_id = fields.CharField(max_length=64)
    trade_code = fields.CharField(max_length=32, null=True)
    payload: dict[str, Any] = fields.JSONField()
    committed_at = fields.DatetimeField()

    class Meta:
        table = "feed_entry"


class Question(Model):
    """A registered bidder's question on a lot (答疑), until the lot's question deadline; answered in a clarification.
    Who asked is kept for the lot's keepers and, where the registrants are not secret, its managers; nobody else."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    organisation_id = fields.BigIntField()
    asked_by = fields.BigIntField()
    text = fields.TextField()
    status = fields.CharField(max_length=16)
    asked_at = fields.DatetimeField()
    answer = fields.TextField(null=True)
    answered_by = fields.BigIntField(null=True)
    answered_at = fields.DatetimeField(null=True)
    clarification_id = fields.BigIntField(null=True)

    class Meta:
        table = "lot_question"
        indexes = (("lot_id", "status"),)


class Clarification(Model):
    """A clarification or change (澄清、修改) of a lot's documents, published as a change notice: the answers it
    gives, whether it alters the documents, and the deadline it moved by law."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    announcement_id = fields.BigIntField(unique=True)
    changes_documents = fields.BooleanField()
    deadline_before = fields.DatetimeField(null=True)
    deadline_after = fields.DatetimeField(null=True)
    minimum_days = fields.IntField(null=True)
    working_days = fields.BooleanField(default=False)
    legal_basis = fields.CharField(max_length=200, default="")
    flagged_bids = fields.IntField(default=0)
    published_by = fields.BigIntField(null=True)
    published_at = fields.DatetimeField()

    class Meta:
        table = "clarification"
