"""What happens to documents (audit trail; the hashes enter the audit chain)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class UploadStarted(DomainEvent):
    type = "document.upload_started"
    object_type = "Upload"
    purpose: str
    owner_type: str
    owner_id: int
    lot_id: int | None
    name: str
    size: int | None  # None for a sealed bid file: nobody learns its size before the opening
    sha256: str


@dataclass(frozen=True, kw_only=True)
class DocumentStored(DomainEvent):
    type = "document.stored"
    object_type = "Document"
    purpose: str
    owner_type: str
    owner_id: int
    lot_id: int | None
    name: str
    size: int | None  # None for a sealed bid file: nobody learns its size before the opening
    sha256: str
    media_type: str
    scan_status: str
    version: int
    supersedes: int | None


@dataclass(frozen=True, kw_only=True)
class UploadRefused(DomainEvent):
    type = "document.upload_refused"
    object_type = "Upload"
    purpose: str
    code: str


@dataclass(frozen=True, kw_only=True)
class DocumentScanned(DomainEvent):
    type = "document.scanned"
    object_type = "Document"
    scan_status: str
    signature: str | None


@dataclass(frozen=True, kw_only=True)
class DocumentDownloaded(DomainEvent):
    type = "document.downloaded"
    object_type = "Document"
    purpose: str
    lot_id: int | None
    device_id: str | None


@dataclass(frozen=True, kw_only=True)
class BidFileOpened(DomainEvent):
    type = "document.bid_file_opened"
    object_type = "Document"
    lot_id: int | None
    opened_id: int | None
    sha256: str | None
    error: str | None
