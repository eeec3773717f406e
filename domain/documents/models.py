"""Stored files: content-addressed objects, the documents that name them, uploads under way and downloads."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class StoredObject(Model):
    """Bytes kept once in the blob store under their SHA-256, however many documents name them."""

    sha256 = fields.CharField(max_length=64, primary_key=True)
    size = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "stored_object"


class Document(Model):
    """A file as the platform knows it: what it is for, whose it is, what it is, and whether it was scanned.

    Never deleted: a newer version supersedes it (`superseded_by_id`), the bytes stay for the archive.
    """

    id = fields.BigIntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    size = fields.BigIntField()
    name = fields.CharField(max_length=255)
    media_type = fields.CharField(max_length=128)
    kind = fields.CharField(max_length=16)
    purpose = fields.CharField(max_length=32)
    owner_type = fields.CharField(max_length=32)
    owner_id = fields.BigIntField()
    lot_id = fields.BigIntField(null=True, db_index=True)
    organisation_id = fields.BigIntField(null=True)
    uploaded_by = fields.BigIntField(null=True)
    scan_status = fields.CharField(max_length=16)
    scan_signature = fields.CharField(max_length=200, null=True)
    scanned_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    supersedes_id = fields.BigIntField(null=True)
    superseded_by_id = fields.BigIntField(null=True)
    # a bid file: the document it was decrypted into at the opening, or why it could not be
    opened_id = fields.BigIntField(null=True)
    open_error = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "document"
        indexes = (("owner_type", "owner_id", "purpose"), ("purpose", "scan_status"))


class Upload(Model):
    """An upload granted by a mutation and fed by the resumable endpoint (tus 1.0) until its bytes are all in."""

    id = fields.CharField(max_length=32, primary_key=True)
    purpose = fields.CharField(max_length=32)
    owner_type = fields.CharField(max_length=32)
    owner_id = fields.BigIntField()
    lot_id = fields.BigIntField(null=True)
    name = fields.CharField(max_length=255)
    declared_size = fields.BigIntField()
    declared_sha256 = fields.CharField(max_length=64)
    supersedes_id = fields.BigIntField(null=True)
    user_id = fields.BigIntField()
    organisation_id = fields.BigIntField(null=True)
    received = fields.BigIntField(default=0)
    parts: list[dict[str, Any]] = fields.JSONField(default=list)
    status = fields.CharField(max_length=16, db_index=True)
    error_code = fields.CharField(max_length=64, null=True)
    document_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "document_upload"


class DocumentDownload(Model):
    """Who was let download which document, from where: supervisors read it, collusion checks use it."""

    id = fields.BigIntField(primary_key=True)
    document_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField(null=True, db_index=True)
    purpose = fields.CharField(max_length=32)
    user_id = fields.BigIntField(null=True)
    organisation_id = fields.BigIntField(null=True)
    expert_id = fields.BigIntField(null=True)
    terminal_id = fields.BigIntField(null=True)
    device_id = fields.CharField(max_length=128, null=True)
    ip = fields.CharField(max_length=64, null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "document_download"
