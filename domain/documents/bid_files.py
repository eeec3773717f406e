"""Bid files at the opening: each decrypted (streamed, authenticated, on the CPU pool) with the key its bidder
handed over, kept as a document of its own, and its outcome recorded on the audit chain."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from domain.common import cpu, events
from domain.common.actors import SYSTEM
from domain.common.errors import DomainError
from domain.common.events import Audience
from domain.documents.adapters import blob_store
from domain.documents.blobs import object_path
from domain.documents.events import BidFileOpened
from domain.documents.models import Document
from domain.documents.storing import Made, keep_file


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


async def _open_bid_file(doc: Document, key_jwk: dict[str, Any]) -> None:
    import tempfile

    from domain.tendering.bid_files import open_file
    from domain.tendering.sealing import CannotDecrypt

    with tempfile.TemporaryFile() as sealed, tempfile.TemporaryFile() as plain:
        async for block in blob_store().read(object_path(doc.sha256)):
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
