"""Uploads granted by a mutation and fed over the resumable endpoint (tus): the grant, the bytes received at
their offset, the checks once the last byte arrives (size, SHA-256, the kind sniffed from the bytes, malware where
the purpose is scanned), termination, and the chronograph's expiry of abandoned uploads."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
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
from domain.documents.blobs import CHUNK, Part, Sink, staging_path
from domain.documents.errors import (
    DeclaredHashInvalid,
    DocumentNotReady,
    FileHashMismatch,
    FileInfected,
    FileNameInvalid,
    FileTooLarge,
    FileTypeRefused,
    PurposeUnknown,
    StorageUnavailable,
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
from domain.negotiation.errors import (
    FinalOfferOutsideWindow,
    FinalOffersNotCalled,
    NegotiationClosed,
    SupplierEliminated,
)
from domain.publication.errors import AnnouncementImmutable
from domain.tendering.bid_files import BidFileEnvelopeInvalid, check_envelope
from domain.tendering.errors import BidDeadlinePassed

log = logging.getLogger("palmtrade.documents")

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
    SupplierEliminated,
    NegotiationClosed,
    FinalOffersNotCalled,
    FinalOfferOutsideWindow,
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


class RunningDigest:
    """The SHA-256 of an upload's first `at` bytes, kept by the process that receives them so that finishing the
    upload need not read the file again (hashlib's state cannot be stored for another process). Fed in order by
    the thread that writes the bytes (a folder) or by the loop (an object store); `written` is how far the staged
    file is known to be written. A process that receives a later PATCH of an upload begun elsewhere (a phone
    reconnecting to another server) starts one behind (`at` 0, `written` the offset) and catches up in a thread,
    reading the staged file while the new bytes arrive, which it then hashes from memory (`catch_up`)."""

    __slots__ = ("at", "catching", "lock", "sha", "written")

    def __init__(self, written: int = 0) -> None:
        self.sha = hashlib.sha256()
        self.at = 0
        self.written = written
        self.lock = threading.Lock()
        self.catching: Future[None] | None = None

    def usable(self, offset: int) -> bool:
        """It covers the staged file's first `offset` bytes: hashed, or being read to be hashed."""
        return self.written == offset and (self.at == offset or self.catching is not None)

    def wrote(self, position: int, chunks: list[bytes]) -> None:
        """The staged file holds these bytes (the writing thread, while another `hash`es them)."""
        with self.lock:
            self.written = max(self.written, position + sum(map(len, chunks)))

    def hash(self, position: int, chunks: list[bytes]) -> None:
        """Hashes bytes at `position` from memory, in a thread of its own while another writes them: for a running
        hash that is not catching up (only this thread moves `at` then, so it hashes without the lock and the
        writing thread's `wrote` never waits for it)."""
        if position != self.at:
            return
        n = 0
        for chunk in chunks:
            self.sha.update(chunk)  # lets go of the GIL for more than 2 KiB: the loop runs meanwhile
            n += len(chunk)
        with self.lock:
            self.at += n

    def feed(self, position: int, chunks: list[bytes]) -> None:
        with self.lock:
            end = position + sum(len(c) for c in chunks)
            self.written = max(self.written, end)
            if position != self.at:
                return  # behind: the catch-up reads these bytes from the file
            for chunk in chunks:
                self.sha.update(chunk)  # lets go of the GIL for more than 2 KiB: the loop runs meanwhile
                self.at += len(chunk)

    def catch_up(self, file: Path) -> None:
        """Hashes the staged file from `at` to `written` (which grows as bytes are written), until caught up."""
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        with file.open("rb", buffering=0) as src:
            while True:
                with self.lock:
                    at, left = self.at, self.written - self.at
                if left <= 0:
                    with self.lock:
                        if self.at >= self.written:
                            return
                    continue
                # read without the lock (bytes below `written` stay as they are): the writer's feed never waits
                # for the disk
                n = os.preadv(src.fileno(), [view[: min(CHUNK, left)]], at)
                if not n:
                    raise OSError(f"{file} ends at {at}, {at + left} bytes written")
                with self.lock:
                    if self.at == at:  # else the feed hashed these bytes from memory meanwhile: read again
                        self.sha.update(view[:n])
                        self.at += n

    async def settled(self) -> int:
        """The bytes hashed once a catch-up is done (-1 when it failed)."""
        if self.catching is not None:
            try:
                await asyncio.wrap_future(self.catching)
            except OSError:
                return -1
        return self.at

    def snapshot(self) -> tuple[Any, int, int]:
        with self.lock:
            return self.sha.copy(), self.at, self.written

    def restore(self, state: tuple[Any, int, int]) -> None:
        with self.lock:
            self.sha, self.at, self.written = state


def _checking(check: Any) -> Sink:
    """A request's Upload-Checksum hasher fed batch by batch."""

    def update(at: int, batch: list[bytes]) -> None:
        for chunk in batch:
            check.update(chunk)

    return update


async def _bounded(chunks: AsyncIterator[bytes], limit: int, feed: Any = None) -> AsyncIterator[bytes]:
    """The request body up to `limit` bytes, each chunk given to `feed` (when set) as it passes."""
    left = limit
    async for chunk in chunks:
        if not chunk:
            continue
        if len(chunk) > left:
            chunk = chunk[:left]
        left -= len(chunk)
        if feed is not None:
            feed(chunk)
        yield chunk
        if left <= 0:
            return


async def _kept(upload: Upload) -> int:
    """The offset a client may resume from: the recorded one, or less where a crash (power, kernel) lost bytes
    of the staged file that a PATCH had acknowledged (a folder: nothing is fsynced before the upload finishes,
    domain/documents/blobs.py)."""
    store = blob_store()
    if upload.status != "open" or not store.writes_at or len(upload.parts) != 1:
        return int(upload.received)
    size = await store.staged_size(str(upload.parts[0]["path"]))
    return min(int(upload.received), size or 0)


async def resume_offset(upload: Upload) -> int:
    """Upload-Offset for a HEAD: the bytes really staged (see `_kept`)."""
    return await _kept(upload)


async def receive(
    upload_id: str,
    offset: int,
    chunks: AsyncIterator[bytes],
    checksum: tuple[str, bytes] | None = None,
) -> Upload:
    """Writes the bytes of one request at `offset` (which must be what the server holds); what arrived before a
    broken connection is kept, so the client resumes from there. The last byte finishes the upload."""
    store = blob_store()
    async with _lock(upload_id):
        upload = await open_upload(upload_id)
        if upload.status != "open":
            return upload
        kept = await _kept(upload)
        if kept != upload.received:  # a crash lost acknowledged bytes: resume from what is there
            log.warning("upload %s: %d of %d received bytes are staged", upload.id, kept, upload.received)
            upload.received = kept
            upload.parts = [{"path": upload.parts[0]["path"], "size": kept}]
            await upload.save(update_fields=["received", "parts"])
            deps.hashers.pop(upload_id, None)
        if offset != upload.received:
            raise UploadOffsetMismatch(received=upload.received)
        digest: RunningDigest | None = deps.hashers.get(upload_id)
        if digest is not None and not digest.usable(offset):
            digest = None
        parts = [Part(**p) for p in upload.parts]
        if digest is None and offset == 0:
            digest = RunningDigest()
        elif digest is None and store.writes_at and len(parts) == 1:
            # begun in another process: hash what it staged in a thread while this PATCH's bytes arrive
            digest = RunningDigest(written=offset)
            digest.catching = store.in_thread(digest.catch_up, store.local_path(parts[0].path))
        check = hashlib.new(checksum[0]) if checksum is not None else None
        limit = upload.declared_size - offset
        if store.writes_at and len(parts) <= 1:
            # a folder: one staged file, written at the offset from a thread that also hashes
            path = staging_path(upload.id, 0)
            before = digest.snapshot() if digest is not None and check is not None else None

            # the running hash and the request's checksum each in a thread of their own while a third writes the
            # same bytes (blobs._Lanes); a running hash still catching up on the staged file is fed by the writing
            # thread, in order with what is written (`RunningDigest.feed`)
            lanes: list[Sink] = []
            sink: Sink | None = None
            if digest is not None and digest.catching is None:
                sink = digest.wrote
                lanes.append(digest.hash)
            elif digest is not None:
                sink = digest.feed
            if check is not None:
                lanes.append(_checking(check))
            written = await store.write_at(path, offset, _bounded(chunks, limit), sink, lanes=lanes)
            if check is not None and checksum is not None and check.digest() != checksum[1]:
                if digest is not None and before is not None:
                    digest.restore(before)  # the next PATCH writes over these bytes
                raise UploadChecksumMismatch()
            parts = [Part(path=path, size=offset + written)]
        else:
            # an object store (or a folder upload staged in parts by an earlier version): one part per request
            def feed(chunk: bytes) -> None:
                if digest is not None:
                    digest.feed(digest.at, [chunk])
                if check is not None:
                    check.update(chunk)

            append = store.can_append and check is None and len(parts) == 1
            path = parts[0].path if append else staging_path(upload.id, len(parts))
            written = await store.write_part(path, _bounded(chunks, limit, feed), append=append)
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
        if digest is not None:
            deps.hashers[upload_id] = digest
        if upload.received == upload.declared_size:
            try:
                await finish(upload)
            finally:
                deps.locks.pop(upload_id, None)
        return upload


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as src:
        while n := src.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


async def _sha256_of(parts: list[Part]) -> str:
    """The SHA-256 of the staged bytes, read again (an object store's upload fed to another process too, or a
    folder's whose catch-up failed): a folder's one file from a thread, otherwise streamed from the store."""
    store = blob_store()
    if store.writes_at and len(parts) == 1 and store.root is not None:
        try:
            return await asyncio.to_thread(_hash_file, store.root / parts[0].path)
        except OSError as err:
            raise StorageUnavailable() from err
    hasher = hashlib.sha256()
    async for block in _stream_parts(parts):
        hasher.update(block)
    return hasher.hexdigest()


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
    known: RunningDigest | None = deps.hashers.pop(upload.id, None)
    if known is not None and await known.settled() == upload.received:
        sha = known.sha.hexdigest()
    else:
        sha = await _sha256_of(parts)
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
