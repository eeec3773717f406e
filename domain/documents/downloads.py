"""Reading documents: the current documents of an object, one document's metadata, short-lived download links for
those allowed (recorded when the document belongs to a lot), and the bytes a valid link names."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from tortoise.transactions import in_transaction

from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import DomainError, NotFound, raises
from domain.common.events import Audience, use_case
from domain.documents import access
from domain.documents.adapters import blob_store, deps
from domain.documents.blobs import object_path
from domain.documents.errors import BidFileSealed, ScanPending
from domain.documents.events import DocumentDownloaded
from domain.documents.links import content_disposition, download_signature
from domain.documents.models import Document, DocumentDownload
from domain.documents.purposes import PURPOSES


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
    store = blob_store()
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
    return blob_store().read(object_path(doc.sha256), offset, length)
