"""Documents naming stored bytes: one created in the caller's transaction with its document.stored event (a new
version of another if it supersedes it), and the files the platform makes itself, kept the same way.

The bytes never pass through the database: a Document names a stored object by its SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO

from tortoise.transactions import in_transaction

from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor
from domain.common.events import Audience
from domain.documents.adapters import blob_store
from domain.documents.blobs import object_path
from domain.documents.events import DocumentStored
from domain.documents.models import Document, StoredObject
from domain.documents.sniffing import SNIFF_BYTES, Sniffed, sniff


@dataclass(frozen=True, slots=True)
class Made:
    """A file the platform made (a decrypted bid file, a rendered record, a lot archive), to keep as a document."""

    name: str
    purpose: str
    owner_type: str
    owner_id: int
    lot_id: int | None
    organisation_id: int | None = None
    kind: str | None = None  # a kind the platform knows and bytes cannot tell (csv); None: sniffed


async def new_document(
    made: Made,
    sha: str,
    size: int,
    kind: Sniffed,
    scan_status: str,
    *,
    actor: Actor,
    audience: Audience,
    uploaded_by: int | None = None,
    previous: Document | None = None,
) -> Document:
    """A document naming stored bytes (kept once per SHA-256), a new version of `previous` if given, and its
    document.stored event; inside the caller's transaction."""
    now = clock.now()
    if not await StoredObject.exists(sha256=sha):
        await StoredObject.create(sha256=sha, size=size, created_at=now)
    doc = await Document.create(
        sha256=sha,
        size=size,
        name=made.name,
        media_type=kind.media_type,
        kind=kind.kind,
        purpose=made.purpose,
        owner_type=made.owner_type,
        owner_id=made.owner_id,
        lot_id=made.lot_id,
        organisation_id=made.organisation_id,
        uploaded_by=uploaded_by,
        scan_status=scan_status,
        scanned_at=now if scan_status == "clean" else None,
        version=(previous.version + 1) if previous else 1,
        supersedes_id=previous.id if previous else None,
        created_at=now,
    )
    if previous is not None:
        previous.superseded_by_id = doc.id
        await previous.save(update_fields=["superseded_by_id"])
    await events.record(
        DocumentStored(
            object_id=str(doc.id),
            purpose=doc.purpose,
            owner_type=doc.owner_type,
            owner_id=doc.owner_id,
            lot_id=doc.lot_id,
            name=doc.name,
            size=None if doc.purpose == "bid_file" else size,  # the audit chain hashes it: no bucket to match
            sha256=sha,
            media_type=doc.media_type,
            scan_status=scan_status,
            version=doc.version,
            supersedes=doc.supersedes_id,
            audience=audience,
        ),
        actor,
    )
    return doc


async def keep_file(source: BinaryIO, made: Made) -> Document:
    """Stores a file the platform made (read from a seekable file, streamed) under its SHA-256, as a document with
    its sniffed kind; its hash enters the audit chain (document.stored) in the same transaction."""
    store = blob_store()
    source.seek(0)
    hasher, size = hashlib.sha256(), 0
    while block := await asyncio.to_thread(source.read, 1024 * 1024):
        hasher.update(block)
        size += len(block)
    sha = hasher.hexdigest()
    source.seek(0)
    head = source.read(SNIFF_BYTES)
    source.seek(max(0, size - SNIFF_BYTES))
    tail = source.read(SNIFF_BYTES)
    source.seek(0)

    async def chunks() -> AsyncIterator[bytes]:
        while block := await asyncio.to_thread(source.read, 1024 * 1024):
            yield block

    if await store.size(object_path(sha)) is None:
        await store.write_part(object_path(sha), chunks())
    async with in_transaction():
        kind = Sniffed(made.kind) if made.kind else sniff(head, tail)
        return await new_document(made, sha, size, kind, "not_required", actor=SYSTEM, audience=Audience())
