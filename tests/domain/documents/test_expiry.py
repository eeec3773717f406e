"""Abandoned uploads: the chronograph expires them and deletes their staged bytes; the resumable endpoint then
answers 410 Gone, and nothing was stored."""

from __future__ import annotations

import os
from datetime import timedelta

import httpx

from domain.documents import adapters, uploads
from domain.documents.blobs import Part
from domain.documents.models import Document, Upload
from tests import factories as f
from tests.scenarios.test_documents import draft_lot, pdf
from tests.support import documents as docs


async def test_an_abandoned_upload_expires_and_its_staged_bytes_are_deleted(api, manual_clock, tmp_path):
    # given an upload that stopped after its first 100 kB
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    source = pdf(tmp_path / "清单.pdf", 300_000)
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", project["lots"][0]["id"], source)
    async with httpx.AsyncClient(timeout=30) as http:
        first = await docs.patch(http, granted, 0, source.read_bytes()[:100_000])
    assert first.status_code == 204
    upload = await Upload.get(id=granted["upload"]["id"])
    [part] = [Part(**p) for p in upload.parts]
    assert await adapters.deps.store.size(part.path) == 100_000  # type: ignore[union-attr]

    # when its time runs out and the chronograph runs
    manual_clock.advance(timedelta(hours=24, seconds=1))
    expired = await uploads.expire_uploads(manual_clock.now())

    # then it is expired, its bytes are gone, the endpoint says so, and no document exists
    assert expired == 1
    assert (await Upload.get(id=upload.id)).status == "expired"
    assert await adapters.deps.store.size(part.path) is None  # type: ignore[union-attr]
    async with httpx.AsyncClient(timeout=30) as http:
        late = await docs.patch(http, granted, 100_000, os.urandom(10))
    assert late.status_code in (403, 410)  # the grant expired with the upload
    assert late.json()["errors"][0]["extensions"]["code"] in ("UPLOAD_EXPIRED", "UPLOAD_GRANT_INVALID")
    assert await Document.all().count() == 0


async def test_a_terminated_upload_keeps_nothing(api, manual_clock, tmp_path):
    # given an upload under way
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    source = pdf(tmp_path / "图纸.pdf", 200_000)
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", project["lots"][0]["id"], source)
    async with httpx.AsyncClient(timeout=30) as http:
        await docs.patch(http, granted, 0, source.read_bytes()[:50_000])
        # when the client ends it (tus termination)
        ended = await http.delete(
            granted["uploadUrl"], headers={"Tus-Resumable": "1.0.0", "Upload-Grant": granted["grant"]}
        )
        after = await docs.head(http, granted)
    # then it is gone: 204, then 410 for the resource
    assert ended.status_code == 204
    assert after.status_code == 410
    assert (await Upload.get(id=granted["upload"]["id"])).status == "terminated"
