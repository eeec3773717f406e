"""Uploads granted by a mutation and fed over the resumable endpoint (tus): the grant, the bytes received at
their offset, the checks once the last byte arrives (size, SHA-256, the kind sniffed from the bytes, malware where
the purpose is scanned), termination, and the chronograph's expiry of abandoned uploads."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import DomainError, NotFound, raises
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.documents import access
from domain.documents.adapters import blob_store, deps
from domain.documents.blobs import Part, staging_path
from domain.documents.errors import (
    DeclaredHashInvalid,
    DocumentNotReady,
    FileHashMismatch,
    FileInfected,
    FileNameInvalid,
    FileTooLarge,
    FileTypeRefused,
    PurposeUnknown,
    TooManyFiles,
    UploadChecksumMismatch,
    UploadExpired,
    UploadOffsetMismatch,
)
from domain.documents.events import UploadRefused, UploadStarted
from domain.documents.links import upload_grant
from domain.documents.malware import scan
from domain.documents.models import Document, Upload
from domain.documents.purposes import PURPOSES, purpose_of
from domain.documents.sniffing import SNIFF_BYTES, sniff
from domain.documents.storing import Made, new_document
from domain.publication.errors import AnnouncementImmutable
from domain.tendering.bid_files import BidFileEnvelopeInvalid, check_envelope
from domain.tendering.errors import BidDeadlinePassed

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FORBIDDEN_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


@dataclass(frozen=True, slots=True)
class UploadForm:
    purpose: str
    owner_id: int
    name: str
    size: int
    sha256: str
    supersedes_id: int | None = None


def clean_name(name: str) -> str:
    """A file name as shown and stored: NFC, no path, no control or reserved characters, 1 to 200 characters."""
    text = unicodedata.normalize("NFC", name or "").strip()
    if not text or len(text) > 200 or _FORBIDDEN_NAME.search(text) or text in (".", "..") or text.startswith("."):
        raise FileNameInvalid()
    return text


@dataclass(frozen=True, slots=True)
class Grant:
    upload: Upload
    grant: str


@raises(
    PurposeUnknown,
    FileNameInvalid,
    DeclaredHashInvalid,
    FileTooLarge,
    TooManyFiles,
    DocumentNotReady,
    BidDeadlinePassed,
    AnnouncementImmutable,
)
@use_case("document.upload_start", "Upload")
async def start_upload(actor: Actor, form: UploadForm, idempotency_key: str | None = None) -> Grant:
    """Grants one upload of a declared file for an object the caller may hand files in for; nothing is stored
    until every declared byte has arrived and matches the declared size and SHA-256."""
    purpose = purpose_of(form.purpose)
    name = clean_name(form.name)
    sha = (form.sha256 or "").strip().lower()
    if not _HEX64.fullmatch(sha):
        raise DeclaredHashInvalid()
    if form.size > purpose.max_bytes:
        raise FileTooLarge(max_bytes=purpose.max_bytes)
    if form.size < 0:
        raise FileTooLarge(max_bytes=purpose.max_bytes)
    lot_id = await access.may_upload(actor, purpose, form.owner_id)

    async def create() -> dict[str, Any]:
        now = clock.now()
        current = Document.filter(
            owner_type=purpose.owner_type, owner_id=form.owner_id, purpose=purpose.name, superseded_by_id=None
        )
        if purpose.name == "bid_file":
            current = current.filter(organisation_id=actor.org_id)
        if form.supersedes_id is not None:
            if not await current.filter(id=form.supersedes_id).exists():
                raise DocumentNotReady()
        else:
            pending = await Upload.filter(
                owner_type=purpose.owner_type,
                owner_id=form.owner_id,
                purpose=purpose.name,
                status="open",
                user_id=actor.user_id,
            ).count()
            if await current.count() + pending >= purpose.max_count:
                raise TooManyFiles(max_count=purpose.max_count)
        upload = await Upload.create(
            id=secrets.token_hex(16),
            purpose=purpose.name,
            owner_type=purpose.owner_type,
            owner_id=form.owner_id,
            lot_id=lot_id,
            name=name,
            declared_size=form.size,
            declared_sha256=sha,
            supersedes_id=form.supersedes_id,
            user_id=int(actor.user_id or 0),
            organisation_id=actor.org_id,
            received=0,
            parts=[],
            status="open",
            created_at=now,
            expires_at=now + deps.upload_ttl,
        )
        await events.record(
            UploadStarted(
                object_id=upload.id,
                purpose=purpose.name,
                owner_type=purpose.owner_type,
                owner_id=form.owner_id,
                lot_id=lot_id,
                name=name,
                size=None if purpose.name == "bid_file" else form.size,  # no size of a sealed bid file, even hashed
                sha256=sha,
                audience=Audience(users=(int(actor.user_id or 0),), roles=()),
            ),
            actor,
        )
        return {"id": upload.id}

    request = {
        "purpose": purpose.name,
        "owner": form.owner_id,
        "name": name,
        "size": form.size,
        "sha256": sha,
        "supersedes": form.supersedes_id,
    }
    result, _ = await run_once(actor, idempotency_key, "document.upload_start", request, create)
    upload = await Upload.get(id=result["id"])
    return Grant(upload=upload, grant=upload_grant(upload.id, upload.expires_at))


_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


async def _upload(upload_id: str) -> Upload | None:
    """The upload of a well-formed id (128 random bits in hex); None for anything else."""
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        return None
    return await Upload.get_or_none(id=upload_id)


async def open_upload(upload_id: str) -> Upload:
    """An upload that may still take bytes; UploadExpired, or NotFound for an unknown id."""
    upload = await _upload(upload_id)
    if upload is None:
        raise NotFound()
    if upload.status == "open" and upload.expires_at <= clock.now():
        raise UploadExpired()
    if upload.status in ("expired", "terminated"):
        raise UploadExpired()
    return upload


def _lock(upload_id: str) -> asyncio.Lock:
    held = deps.locks.get(upload_id)
    if held is None:
        held = deps.locks[upload_id] = asyncio.Lock()
    return held


async def _bounded(chunks: AsyncIterator[bytes], limit: int, hasher: Any, checksum: Any) -> AsyncIterator[bytes]:
    """The request body up to `limit` bytes, feeding the running hash and the chunk's checksum."""
    left = limit
    async for chunk in chunks:
        if not chunk:
            continue
        if len(chunk) > left:
            chunk = chunk[:left]
        left -= len(chunk)
        if hasher is not None:
            hasher.update(chunk)
        if checksum is not None:
            checksum.update(chunk)
        yield chunk
        if left <= 0:
            return


async def receive(
    upload_id: str,
    offset: int,
    chunks: AsyncIterator[bytes],
    checksum: tuple[str, bytes] | None = None,
) -> Upload:
    """Appends the bytes of one request at `offset` (which must be what the server holds); what arrived before a
    broken connection is kept, so the client resumes from there. The last byte finishes the upload."""
    store = blob_store()
    async with _lock(upload_id):
        upload = await open_upload(upload_id)
        if upload.status != "open":
            return upload
        if offset != upload.received:
            raise UploadOffsetMismatch(received=upload.received)
        known = deps.hashers.get(upload_id)
        hasher = known[1] if known is not None and known[0] == offset else None
        if hasher is None and offset == 0:
            hasher = hashlib.sha256()
        check = hashlib.new(checksum[0]) if checksum is not None else None
        parts = [Part(**p) for p in upload.parts]
        # one staged file appended to where the store can append (unless a checksum may make us drop the chunk)
        append = store.can_append and check is None and len(parts) == 1
        path = parts[0].path if append else staging_path(upload.id, len(parts))
        written = await store.write_part(
            path, _bounded(chunks, upload.declared_size - offset, hasher, check), append=append
        )
        if check is not None and checksum is not None and check.digest() != checksum[1]:
            if not append:
                await store.delete(path)
            deps.hashers.pop(upload_id, None)
            raise UploadChecksumMismatch()
        if append:
            parts[0] = Part(path=path, size=parts[0].size + written)
        elif written:
            parts.append(Part(path=path, size=written))
        upload.received = offset + written
        upload.parts = [{"path": p.path, "size": p.size} for p in parts]
        await upload.save(update_fields=["received", "parts"])
        if hasher is not None:
            deps.hashers[upload_id] = (upload.received, hasher)
        if upload.received == upload.declared_size:
            try:
                await finish(upload)
            finally:
                deps.locks.pop(upload_id, None)
        return upload


async def _read_parts(parts: list[Part], offset: int, length: int) -> bytes:
    """Bytes `offset` .. `offset + length` of the staged upload, across its parts."""
    out, at = [], 0
    store = blob_store()
    for part in parts:
        if at + part.size > offset and at < offset + length:
            start = max(0, offset - at)
            take = min(part.size - start, offset + length - at - start)
            out.extend([b async for b in store.read(part.path, start, take)])
        at += part.size
    return b"".join(out)


async def _stream_parts(parts: list[Part]) -> AsyncIterator[bytes]:
    store = blob_store()
    for part in parts:
        async for block in store.read(part.path):
            yield block


async def _refuse(upload: Upload, error: DomainError) -> None:
    store = blob_store()
    await store.discard_staging(upload.id, [Part(**p) for p in upload.parts])
    deps.hashers.pop(upload.id, None)
    async with in_transaction():
        upload.status, upload.error_code = "refused", error.code
        await upload.save(update_fields=["status", "error_code"])
        await events.record(
            UploadRefused(object_id=upload.id, purpose=upload.purpose, code=error.code),
            Actor(user_id=upload.user_id, org_id=upload.organisation_id),
        )
    raise error


async def finish(upload: Upload) -> Document:
    """Checks a complete upload (size, SHA-256, the kind sniffed from its bytes, malware where the purpose is
    scanned) and stores it as a document; a refused file is deleted and the upload records why."""
    store = blob_store()
    purpose = PURPOSES[upload.purpose]
    parts = [Part(**p) for p in upload.parts]
    known = deps.hashers.pop(upload.id, None)
    if known is not None and known[0] == upload.received:
        sha = known[1].hexdigest()
    else:
        hasher = hashlib.sha256()
        async for block in _stream_parts(parts):
            hasher.update(block)
        sha = hasher.hexdigest()
    if upload.received != upload.declared_size or sha != upload.declared_sha256:
        await _refuse(upload, FileHashMismatch())
    size = upload.received
    head = await _read_parts(parts, 0, min(SNIFF_BYTES, size))
    tail = head if size <= SNIFF_BYTES else await _read_parts(parts, size - SNIFF_BYTES, SNIFF_BYTES)
    kind = sniff(head, tail)
    if kind.kind not in purpose.kinds:
        await _refuse(upload, FileTypeRefused(detected=kind.kind, allowed=", ".join(sorted(purpose.kinds))))
    if purpose.name == "bid_file":
        try:
            check_envelope(head, size)
        except BidFileEnvelopeInvalid as err:
            await _refuse(upload, err)
    scan_status, signature = ("not_required", None)
    if purpose.scanned:
        scan_status, signature = await scan(_stream_parts(parts))
        if scan_status == "infected":
            await _refuse(upload, FileInfected(signature=signature or "?"))
    await store.promote(parts, sha)
    await store.discard_staging(upload.id, [Part(**p) for p in upload.parts])
    actor = Actor(user_id=upload.user_id, org_id=upload.organisation_id)
    async with in_transaction():
        locked = await lock(Upload.filter(id=upload.id)).get()
        if locked.status != "open":  # another process finished it first
            return await Document.get(id=int(locked.document_id or 0))
        previous = await Document.get_or_none(id=upload.supersedes_id) if upload.supersedes_id else None
        doc = await new_document(
            Made(
                name=upload.name,
                purpose=purpose.name,
                owner_type=upload.owner_type,
                owner_id=upload.owner_id,
                lot_id=upload.lot_id,
                organisation_id=upload.organisation_id,
            ),
            sha,
            size,
            kind,
            scan_status,
            uploaded_by=upload.user_id,
            previous=previous,
            actor=actor,
            audience=Audience(users=(upload.user_id,), roles=()),
        )
        locked.status, locked.document_id = "complete", doc.id
        await locked.save(update_fields=["status", "document_id"])
    upload.status, upload.document_id = "complete", doc.id
    return doc


async def terminate(upload_id: str) -> None:
    """Ends an upload at the client's request (tus termination): its staged bytes are deleted."""
    async with _lock(upload_id):
        upload = await _upload(upload_id)
        if upload is None or upload.status != "open":
            raise NotFound()
        upload.status = "terminated"
        await upload.save(update_fields=["status"])
        deps.hashers.pop(upload_id, None)
        deps.locks.pop(upload_id, None)
        await blob_store().discard_staging(upload_id, [Part(**p) for p in upload.parts])


async def upload_of(actor: Actor, upload_id: str) -> Upload:
    """The caller's own upload, with its outcome."""
    upload = await _upload(upload_id)
    if upload is None or upload.user_id != actor.user_id:
        raise NotFound()
    return upload


async def expire_uploads(now: datetime) -> int:
    """Abandoned uploads past their time: marked expired, their staged bytes deleted."""
    expired = await Upload.filter(status="open", expires_at__lte=now).limit(500)
    for upload in expired:
        upload.status = "expired"
        await upload.save(update_fields=["status"])
        deps.hashers.pop(upload.id, None)
        deps.locks.pop(upload.id, None)
        await blob_store().discard_staging(upload.id, [Part(**p) for p in upload.parts])
    return len(expired)
