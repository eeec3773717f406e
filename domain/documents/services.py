"""Uploads granted by a mutation and fed over the resumable endpoint, checked before anything may name them;
download links for those allowed; the chronograph's clean-up and re-scans.

The bytes never pass through the database: a Document names a stored object by its SHA-256.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import quote

from tortoise.transactions import in_transaction

from domain.common import clock, cpu, events
from domain.common.actors import SYSTEM, Actor
from domain.common.errors import DomainError, NotFound, raises
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.documents import access
from domain.documents.blobs import BlobStore, Part, object_path, staging_path
from domain.documents.errors import (
    BidFileSealed,
    DeclaredHashInvalid,
    DocumentNotReady,
    FileHashMismatch,
    FileInfected,
    FileNameInvalid,
    FileTooLarge,
    FileTypeRefused,
    PurposeUnknown,
    ScanPending,
    TooManyFiles,
    UploadChecksumMismatch,
    UploadExpired,
    UploadGrantInvalid,
    UploadOffsetMismatch,
)
from domain.documents.events import (
    BidFileOpened,
    DocumentDownloaded,
    DocumentScanned,
    DocumentStored,
    UploadRefused,
    UploadStarted,
)
from domain.documents.models import Document, DocumentDownload, StoredObject, Upload
from domain.documents.purposes import PURPOSES, Purpose, purpose_of
from domain.documents.scanning import Scanner, ScannerUnavailable
from domain.documents.sniffing import SNIFF_BYTES, Sniffed, sniff
from domain.publication.errors import AnnouncementImmutable
from domain.tendering.bid_files import BidFileEnvelopeInvalid, check_envelope
from domain.tendering.errors import BidDeadlinePassed

log = logging.getLogger("palmtrade.documents")

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FORBIDDEN_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


@dataclass
class Deps:
    """Wired once by the composition root (api/services.py)."""

    store: BlobStore | None = None
    scanner: Scanner | None = None
    secret: bytes = b""
    upload_ttl: timedelta = timedelta(hours=24)
    link_ttl: timedelta = timedelta(minutes=10)
    presigned_downloads: bool = True
    # per process: the running SHA-256 of an upload fed here, so finishing it need not read it all again
    hashers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)


deps = Deps()


def configure(
    store: BlobStore,
    scanner: Scanner | None,
    secret: bytes,
    *,
    presigned_downloads: bool = True,
    upload_ttl: timedelta = timedelta(hours=24),
) -> None:
    deps.store, deps.scanner, deps.secret = store, scanner, secret
    deps.presigned_downloads, deps.upload_ttl = presigned_downloads, upload_ttl


def _store() -> BlobStore:
    if deps.store is None:
        raise RuntimeError("documents.configure() was not called")
    return deps.store


# ---------------------------------------------------------------- signed grants and links


def _mac(*parts: str) -> str:
    digest = hmac.new(deps.secret, "\n".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def upload_grant(upload_id: str, expires_at: datetime) -> str:
    """The short-lived credential the resumable endpoint takes for one upload."""
    exp = str(int(expires_at.timestamp()))
    return f"{upload_id}.{exp}.{_mac('upload', upload_id, exp)}"


def check_grant(grant: str, upload_id: str | None = None) -> str:
    """The upload a grant is for; UploadGrantInvalid when forged, expired or for another upload."""
    parts = grant.strip().split(".") if isinstance(grant, str) else []
    if len(parts) != 3 or not parts[1].isdigit():
        raise UploadGrantInvalid()
    uid, exp, mac = parts
    if not hmac.compare_digest(mac, _mac("upload", uid, exp)) or (upload_id is not None and uid != upload_id):
        raise UploadGrantInvalid()
    if int(exp) < clock.now().timestamp():
        raise UploadGrantInvalid()
    return uid


def download_signature(doc_id: int, exp: int) -> str:
    return _mac("download", str(doc_id), str(exp))


def check_download_signature(doc_id: int, exp: str, sig: str) -> bool:
    """Whether a download link is ours, for this document, and still valid."""
    if not exp.isdigit() or int(exp) < clock.now().timestamp():
        return False
    return hmac.compare_digest(sig, download_signature(doc_id, int(exp)))


def content_disposition(name: str, inline: bool = False) -> str:
    """RFC 6266 with the RFC 5987 UTF-8 form, so a Chinese name arrives intact and old clients get an ASCII one."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or "download"
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", fallback)
    if fallback.startswith("."):
        fallback = "download" + fallback
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# ---------------------------------------------------------------- uploads


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
    store = _store()
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
    store = _store()
    for part in parts:
        if at + part.size > offset and at < offset + length:
            start = max(0, offset - at)
            take = min(part.size - start, offset + length - at - start)
            out.extend([b async for b in store.read(part.path, start, take)])
        at += part.size
    return b"".join(out)


async def _stream_parts(parts: list[Part]) -> AsyncIterator[bytes]:
    store = _store()
    for part in parts:
        async for block in store.read(part.path):
            yield block


async def _scan(chunks: AsyncIterator[bytes]) -> tuple[str, str | None]:
    """(scan status, signature): clean, infected, pending (scanner down: held and retried), unscanned (none set)."""
    if deps.scanner is None:
        return "unscanned", None
    try:
        result = await deps.scanner.scan(chunks)
    except ScannerUnavailable as err:
        log.warning("malware scanner unavailable, the document is held: %s", err)
        return "pending", None
    return ("clean", None) if result.clean else ("infected", result.signature)


async def _refuse(upload: Upload, error: DomainError) -> None:
    store = _store()
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
    store = _store()
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
        scan_status, signature = await _scan(_stream_parts(parts))
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
        doc = await _new_document(
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
        await _store().discard_staging(upload_id, [Part(**p) for p in upload.parts])


async def upload_of(actor: Actor, upload_id: str) -> Upload:
    """The caller's own upload, with its outcome."""
    upload = await _upload(upload_id)
    if upload is None or upload.user_id != actor.user_id:
        raise NotFound()
    return upload


# ---------------------------------------------------------------- documents and downloads


async def documents_of(actor: Actor, purpose: str, owner_id: int) -> list[Document]:
    """The current (not superseded) documents of an object the caller may read, oldest first."""
    p = PURPOSES.get(purpose)
    if p is None:
        raise NotFound()
    docs = await Document.filter(
        owner_type=p.owner_type, owner_id=owner_id, purpose=p.name, superseded_by_id=None
    ).order_by("id")
    shown = []
    for doc in docs:
        try:
            await access.may_download(actor, doc)
        except DomainError:
            continue
        shown.append(doc)
    return shown


async def document(actor: Actor, doc_id: int) -> Document:
    """A document the caller may see (its metadata; a sealed bid file only to its bidder)."""
    doc = await Document.get_or_none(id=doc_id)
    if doc is None:
        raise NotFound()
    with contextlib.suppress(BidFileSealed):
        await access.may_download(actor, doc)
    return doc


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    expires_at: datetime
    document: Document


@raises(BidFileSealed, ScanPending)
@use_case("document.download", "Document", lambda actor, doc_id, *a, **k: str(doc_id))
async def download_link(actor: Actor, doc_id: int, base_url: str = "") -> Link:
    """A short-lived link to the document's bytes for a caller allowed to fetch it, recorded (who, organisation,
    device, address) when the document belongs to a lot."""
    doc = await Document.get_or_none(id=doc_id)
    if doc is None:
        raise NotFound()
    await access.may_download(actor, doc)
    if doc.scan_status == "pending" and doc.purpose in ("announcement_attachment", "tender_document"):
        raise ScanPending(state=doc.scan_status)
    now = clock.now()
    expires = now + deps.link_ttl
    if doc.lot_id is not None or doc.purpose == "bid_file_opened":
        async with in_transaction():
            await DocumentDownload.create(
                document_id=doc.id,
                lot_id=doc.lot_id,
                purpose=doc.purpose,
                user_id=actor.user_id,
                organisation_id=actor.org_id,
                expert_id=actor.expert_id,
                terminal_id=actor.terminal_id,
                device_id=actor.device_id,
                ip=actor.ip,
                at=now,
            )
            if doc.purpose == "bid_file_opened":  # every read of a bid is on the audit chain
                await events.record(
                    DocumentDownloaded(
                        object_id=str(doc.id),
                        purpose=doc.purpose,
                        lot_id=doc.lot_id,
                        device_id=actor.device_id,
                        audience=Audience(),
                    ),
                    actor,
                )
    store = _store()
    url = None
    if deps.presigned_downloads:
        url = await store.presigned_read(
            object_path(doc.sha256), int(deps.link_ttl.total_seconds()), content_disposition(doc.name), doc.media_type
        )
    if url is None:
        exp = int(expires.timestamp())
        url = f"{base_url}/files/{doc.id}/{quote(doc.name, safe='')}?e={exp}&s={download_signature(doc.id, exp)}"
    return Link(url=url, expires_at=expires, document=doc)


async def served(doc_id: int) -> Document:
    """The document a valid signed link names."""
    doc = await Document.get_or_none(id=doc_id)
    if doc is None:
        raise NotFound()
    return doc


def read(doc: Document, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
    return _store().read(object_path(doc.sha256), offset, length)


async def held_for_scan(owner_type: str, owner_id: int) -> list[Document]:
    """Documents of an object that may not be published yet: not scanned (scanner down) or infected."""
    return await Document.filter(owner_type=owner_type, owner_id=owner_id, superseded_by_id=None, scan_status="pending")


async def ensure_publishable(owner_type: str, owner_id: int) -> None:
    """Publication waits for every scanned document of the object; never skips the scan silently."""
    if await held_for_scan(owner_type, owner_id):
        await rescan_pending(clock.now(), owner=(owner_type, owner_id))
        if await held_for_scan(owner_type, owner_id):
            raise ScanPending(state="pending")


# ---------------------------------------------------------------- chronograph jobs


async def expire_uploads(now: datetime) -> int:
    """Abandoned uploads past their time: marked expired, their staged bytes deleted."""
    expired = await Upload.filter(status="open", expires_at__lte=now).limit(500)
    for upload in expired:
        upload.status = "expired"
        await upload.save(update_fields=["status"])
        deps.hashers.pop(upload.id, None)
        deps.locks.pop(upload.id, None)
        await _store().discard_staging(upload.id, [Part(**p) for p in upload.parts])
    return len(expired)


async def rescan_pending(now: datetime, owner: tuple[str, int] | None = None) -> int:
    """Scans the documents held while the scanner was down; an infected one is marked and never served."""
    if deps.scanner is None:
        return 0
    query = Document.filter(scan_status="pending")
    if owner is not None:
        query = query.filter(owner_type=owner[0], owner_id=owner[1])
    done = 0
    for doc in await query.limit(100):
        status, signature = await _scan(read(doc))
        if status == "pending":
            break
        async with in_transaction():
            doc.scan_status, doc.scan_signature, doc.scanned_at = status, signature, now
            await doc.save(update_fields=["scan_status", "scan_signature", "scanned_at"])
            await events.record(
                DocumentScanned(object_id=str(doc.id), scan_status=status, signature=signature, audience=Audience()),
                SYSTEM,
            )
        done += 1
    return done


def purpose_label(purpose: Purpose) -> str:
    return purpose.label_zh


# ---------------------------------------------------------------- bid files at the opening


async def open_bid_files(now: datetime) -> int:
    """Decrypts the bid files of bids opened at their opening with the key the bidder handed over (streamed,
    authenticated); a file the sealed bid does not name, or of a bid that was never opened, is never opened."""
    from domain.tendering.models import SealedBid

    opened_lots = SealedBid.filter(status="decrypted").values_list("lot_id", flat=True)
    candidates = await Document.filter(
        purpose="bid_file", opened_id=None, open_error=None, lot_id__in=list(set(await opened_lots))
    ).limit(20)
    done = 0
    for doc in candidates:
        bids = await SealedBid.filter(lot_id=doc.lot_id, organisation_id=doc.organisation_id).order_by("-id")
        final = next((b for b in bids if b.status in ("decrypted", "invalid", "platform_fault", "withdrawn")), None)
        if final is None:
            continue
        if final.status != "decrypted" or not final.opened_key:
            await _bid_file_outcome(doc, None, "BID_NOT_OPENED")
        elif not any(d.get("sha256") == doc.sha256 for d in final.documents or []):
            await _bid_file_outcome(doc, None, "NOT_IN_SEALED_BID")
        else:
            await _open_bid_file(doc, dict(final.opened_key))
        done += 1
    return done


@dataclass(frozen=True, slots=True)
class Made:
    """A file the platform made (a decrypted bid file, a rendered record, a lot archive), to keep as a document."""

    name: str
    purpose: str
    owner_type: str
    owner_id: int
    lot_id: int | None
    organisation_id: int | None = None


async def _new_document(
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
    store = _store()
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
        return await _new_document(
            made, sha, size, sniff(head, tail), "not_required", actor=SYSTEM, audience=Audience()
        )


async def _open_bid_file(doc: Document, key_jwk: dict[str, Any]) -> None:
    import tempfile

    from domain.tendering.bid_files import open_file
    from domain.tendering.sealing import CannotDecrypt

    with tempfile.TemporaryFile() as sealed, tempfile.TemporaryFile() as plain:
        async for block in _store().read(object_path(doc.sha256)):
            await asyncio.to_thread(sealed.write, block)
        sealed.seek(0)
        try:
            await cpu.run(open_file, sealed, plain, key_jwk)
        except (CannotDecrypt, DomainError) as err:
            await _bid_file_outcome(doc, None, err.code)
            return
        made = Made(
            name=doc.name.removesuffix(".age"),
            purpose="bid_file_opened",
            owner_type="Document",
            owner_id=doc.id,
            lot_id=doc.lot_id,
            organisation_id=doc.organisation_id,
        )
        await _bid_file_outcome(doc, await keep_file(plain, made), None)


async def _bid_file_outcome(doc: Document, opened: Document | None, error: str | None) -> None:
    async with in_transaction():
        doc.opened_id, doc.open_error = (opened.id if opened else None), error
        await doc.save(update_fields=["opened_id", "open_error"])
        await events.record(
            BidFileOpened(
                object_id=str(doc.id),
                lot_id=doc.lot_id,
                opened_id=opened.id if opened else None,
                sha256=opened.sha256 if opened else None,
                error=error,
                audience=Audience(orgs=(int(doc.organisation_id or 0),), roles=()),
            ),
            SYSTEM,
        )
