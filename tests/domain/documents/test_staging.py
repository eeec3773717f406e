"""A folder's staged upload after the failures its durability rule allows for (domain/documents/blobs.py): bytes a
PATCH acknowledged but a power loss took (the offset reported is what the file really holds), bytes written by a
process that died before recording them (cut off before the next PATCH), an upload resumed in another process
(no running hash there: it reads the staged file back in a thread while the new bytes arrive), and a PATCH
refused for its checksum (its bytes written over by the next)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.documents import adapters
from domain.documents.models import Document, Upload
from tests import factories as f
from tests.scenarios.test_documents import draft_lot, pdf
from tests.support import documents as docs

KiB = 1024


@pytest.fixture
def folder() -> Path:
    store = adapters.deps.store
    if store is None or store.root is None:
        pytest.skip("staged files on a folder only (STORAGE_URL names an object store)")
    return store.root


async def _granted(api: Any, clock: Any, source: Path) -> dict[str, Any]:
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, clock, operator)
    return await docs.grant(api, tenderer, "TENDER_DOCUMENT", project["lots"][0]["id"], source)


async def _staged(folder: Path, upload_id: str) -> Path:
    upload = await Upload.get(id=upload_id)
    [part] = upload.parts
    return folder / part["path"]


async def _complete(upload_id: str, data: bytes) -> None:
    upload = await Upload.get(id=upload_id)
    assert upload.status == "complete", (upload.status, upload.error_code)
    stored = await Document.get(id=upload.document_id)
    assert (stored.sha256, stored.size) == (hashlib.sha256(data).hexdigest(), len(data))


async def test_bytes_a_crash_lost_are_asked_for_again(api, manual_clock, tmp_path, folder):
    # given an upload whose first 300 kB were acknowledged
    source = pdf(tmp_path / "招标文件.pdf", 500 * KiB)
    data = source.read_bytes()
    granted = await _granted(api, manual_clock, source)
    async with httpx.AsyncClient(timeout=30) as http:
        first = await docs.patch(http, granted, 0, data[: 300 * KiB])
        assert first.headers["upload-offset"] == str(300 * KiB)

        # when a power loss leaves only 200 kB of them in the staged file (nothing is fsynced before the end)
        staged = await _staged(folder, granted["upload"]["id"])
        os.truncate(staged, 200 * KiB)
        adapters.deps.hashers.clear()  # and the server that restarted has no running hash

        # then HEAD reports what is really there, a PATCH at the acknowledged offset is refused with it
        assert (await docs.head(http, granted)).headers["upload-offset"] == str(200 * KiB)
        stale = await docs.patch(http, granted, 300 * KiB, data[300 * KiB :])
        assert stale.status_code == 409
        # and the client resuming from there finishes with the very file
        resumed = await docs.patch(http, granted, 200 * KiB, data[200 * KiB :])
    assert resumed.status_code == 204
    await _complete(granted["upload"]["id"], data)


async def test_bytes_written_but_never_recorded_are_cut_off(api, manual_clock, tmp_path, folder):
    # given an upload with 100 kB recorded
    source = pdf(tmp_path / "图纸.pdf", 400 * KiB)
    data = source.read_bytes()
    granted = await _granted(api, manual_clock, source)
    async with httpx.AsyncClient(timeout=30) as http:
        await docs.patch(http, granted, 0, data[: 100 * KiB])
        # when a process died after writing 50 kB of garbage it never recorded
        staged = await _staged(folder, granted["upload"]["id"])
        with staged.open("ab") as out:
            out.write(os.urandom(50 * KiB))
        # then the offset is still the recorded one, and the next PATCH writes over the garbage
        assert (await docs.head(http, granted)).headers["upload-offset"] == str(100 * KiB)
        rest = await docs.patch(http, granted, 100 * KiB, data[100 * KiB :])
    assert rest.status_code == 204
    await _complete(granted["upload"]["id"], data)


async def test_an_upload_resumed_in_another_process_is_hashed_from_its_file(api, manual_clock, tmp_path, folder):
    # given half of an upload received by one process
    source = pdf(tmp_path / "清单.pdf", 3 * 1024 * KiB)
    data = source.read_bytes()
    granted = await _granted(api, manual_clock, source)
    half = len(data) // 2
    async with httpx.AsyncClient(timeout=30) as http:
        await docs.patch(http, granted, 0, data[:half])
        # when the rest reaches a process that never saw the first half (no running hash there)
        adapters.deps.hashers.clear()
        three_quarters = len(data) * 3 // 4
        more = await docs.patch(http, granted, half, data[half:three_quarters])
        # then that process has read the first half back from the staged file and hashed the new bytes too
        assert more.status_code == 204
        digest = adapters.deps.hashers[granted["upload"]["id"]]
        assert await digest.settled() == three_quarters
        assert digest.sha.digest() == hashlib.sha256(data[:three_quarters]).digest()
        rest = await docs.patch(http, granted, three_quarters, data[three_quarters:])
    # and the file is accepted
    assert rest.status_code == 204
    await _complete(granted["upload"]["id"], data)


async def test_a_patch_refused_for_its_checksum_is_written_over(api, manual_clock, tmp_path, folder):
    # given an upload under way in one process
    source = pdf(tmp_path / "合同.pdf", 600 * KiB)
    data = source.read_bytes()
    granted = await _granted(api, manual_clock, source)

    def with_checksum(of: bytes) -> dict[str, str]:
        return {
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Grant": granted["grant"],
            "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(of).digest()).decode(),
        }

    async with httpx.AsyncClient(timeout=30) as http:
        await docs.patch(http, granted, 0, data[: 200 * KiB])
        # when a PATCH arrives damaged (its checksum is not its bytes')
        damaged = bytearray(data[200 * KiB : 400 * KiB])
        damaged[1000] ^= 0xFF
        headers = with_checksum(data[200 * KiB : 400 * KiB])
        refused = await http.patch(
            granted["uploadUrl"], content=bytes(damaged), headers={**headers, "Upload-Offset": str(200 * KiB)}
        )
        # then it is refused and the offset stays
        assert refused.status_code == 460
        assert (await docs.head(http, granted)).headers["upload-offset"] == str(200 * KiB)
        # and the same bytes sent again, then the rest, make the very file (the running hash left the damage out)
        good = data[200 * KiB : 400 * KiB]
        again = await http.patch(
            granted["uploadUrl"], content=good, headers={**with_checksum(good), "Upload-Offset": str(200 * KiB)}
        )
        assert again.status_code == 204
        digest = adapters.deps.hashers[granted["upload"]["id"]]
        assert digest.at == 400 * KiB
        rest = await docs.patch(http, granted, 400 * KiB, data[400 * KiB :])
    assert rest.status_code == 204
    await _complete(granted["upload"]["id"], data)
