"""Bid files (投标文件) sealed on the phone: a 50 MB file uploaded over a connection that breaks halfway, unreadable
by every role (and in the database and the store) until the bidder hands its key over at the opening, then
decrypted for the evaluation committee, whose download matches the bidder's original byte for byte."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.common import chronograph, clock
from domain.common.models import OutboxEvent
from domain.documents import bid_files, downloads
from domain.documents.models import Document
from domain.supervision import archive
from domain.supervision.evidence import EvidenceInvalid
from domain.tendering.models import SealedBid
from mobile_contract.bid_files import seal_file
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import to_global_id
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_expert_draw import COMMIT, SPECIALTY, add_expert, new_secret, reveal
from tests.scenarios.test_opening import decrypt
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit
from tests.support import documents as docs

MB = 1024 * 1024
ARCHIVE = """mutation($input: LotArchiveBuildInput!) { lotArchiveBuild(input: $input) {
  __typename ... on LotArchiveBuilt { document { id name purpose sha256 } } ... on Error { code message } } }"""


def plain_bid(path: Path, size: int, marker: bytes) -> Path:
    """A technical bid (技术标) as a PDF with a marker that must never be found before the opening."""
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n" + marker + b"\n")
        left = size - len(marker) - 10
        while left > 0:
            block = os.urandom(min(left, 4 * MB))
            out.write(block)
            left -= len(block)
    return path


def halves(sealed: Path) -> Iterator[bytes]:
    """The first half of the file, a megabyte at a time."""
    half = sealed.stat().st_size // 2
    with sealed.open("rb") as fh:
        sent = 0
        while sent < half:
            block = fh.read(min(MB, half - sent))
            sent += len(block)
            yield block


async def cut_then_resume(granted: dict[str, Any], sealed: Path) -> int:
    """Sends half the file in one PATCH whose connection drops, then lets the tus client resume from the offset
    the server kept; returns that offset."""
    offset = await docs.dropped_patch(granted, halves(sealed))
    await docs.tus_upload(granted, sealed, chunk_size=8 * MB, resume=True)
    return offset


async def test_a_sealed_bid_file_is_read_by_nobody_until_the_opening_then_by_the_committee(api, manual_clock, tmp_path):
    # given a sealed tender, three registered bidders, an expert pool and a draw committed before the deadline
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    supervisor_at = await supervisor_phone(api, operator)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    bidders = [await registered_bidder(api, operator, lot_id) for _ in range(3)]
    (a_at, a), (b_at, b), (_, c) = bidders
    for n in range(7):
        await add_expert(api, operator, f"专家{n}", [SPECIALTY])
    secret, commitment = new_secret()
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    assert (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]["__typename"] == (
        "ExpertDrawCommitted"
    )

    # when bidder A seals a 50 MB technical bid on its phone with its bid key and uploads it, the link breaking
    marker = b"TECHNICAL-BID-" + secrets.token_hex(8).encode()
    original = plain_bid(tmp_path / "技术标.pdf", 50 * MB, marker)
    key = new_key()
    sealed = tmp_path / "技术标.pdf.age"
    with original.open("rb") as src, sealed.open("wb") as dst:
        receipt = seal_file(src, dst, key)
    granted = await docs.grant(api, a, "BID_FILE", lot_id, sealed)
    assert granted["__typename"] == "UploadGrant", granted
    resumed_from = await cut_then_resume(granted, sealed)
    # and seals its bid naming the file by its ciphertext hash; B and C bid without files
    bid = seal(key, code, 1_250_000_000, {}, sealed_files={sealed.name: receipt.sha256})
    assert (await submit(api, a, lot_id, bid))["__typename"] == "BidSubmitted"
    for token, price in ((b, 1_199_000_000), (c, 1_230_000_000)):
        assert (await submit(api, token, lot_id, seal(new_key(), code, price, {})))["__typename"] == "BidSubmitted"
    await api.dispatch()  # the tender's publication scheduled the opening

    # then the upload resumed from the bytes already stored, and the stored file is the ciphertext, padded
    assert 0 < resumed_from <= sealed.stat().st_size // 2
    stored = await Document.get(purpose="bid_file")
    assert (stored.sha256, stored.size, stored.kind) == (receipt.sha256, sealed.stat().st_size, "age")
    assert stored.size > 50 * MB  # padded to its bucket: the size tells nothing but that
    # and its events carry no size: the audit trail hashes them, and a hash of a payload with a size could be
    # matched by anyone holding the other fields against the few buckets
    kept = await OutboxEvent.filter(type__in=("document.upload_started", "document.stored")).values_list(
        "payload", flat=True
    )
    bid_file_events = [p for p in kept if p["purpose"] == "bid_file"]
    assert len(bid_file_events) == 2
    assert [p["size"] for p in bid_file_events] == [None, None]
    # and nobody can read it before the opening: every role asks, the store and the database hold no plaintext
    supervisor = await f.login(api, supervisor_at)
    doc_id = (await api.gql(docs.LIST, {"purpose": "BID_FILE", "ownerId": lot_id}, token=a))["data"]
    assert doc_id["documents"] == []  # not even its bidder lists it as readable
    gid = to_global_id("Document", stored.id)
    answers = {
        role: (await docs.link(api, token, gid)).get("code")
        for role, token in {
            "anonymous": None,
            "bidder B": b,
            "tenderer": tenderer,
            "operator": operator,
            "supervisor": supervisor,
            "bidder A": a,
        }.items()
    }
    assert answers == {
        "anonymous": "NOT_FOUND",
        "bidder B": "NOT_FOUND",
        "tenderer": "NOT_FOUND",
        "operator": "NOT_FOUND",
        "supervisor": "NOT_FOUND",
        "bidder A": "BID_FILE_SEALED",
    }
    in_store = b"".join([block async for block in downloads.read(stored)])
    assert marker not in in_store
    assert hashlib.sha256(in_store).hexdigest() == receipt.sha256
    assert not await SealedBid.filter(ciphertext__contains=marker.decode()).exists()

    # when the deadline passes and A hands its key over in the decryption window (B and C too)
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    assert (await decrypt(api, await f.login(api, a_at), lot_id, key))["__typename"] == "BidDecrypted"
    # and the worker opens the bid files of opened bids
    assert await bid_files.open_bid_files(clock.now()) == 1

    # then the committee, once revealed, downloads the decrypted file and it is A's original byte for byte
    operator = await f.login(api, operator_at)
    revealed = await reveal(api, operator, secret, lotId=lot_id, round=1)
    member = revealed["draw"]["selected"][0]["poolNumber"]
    expert = await f.expert_token(api, member)
    await stored.refresh_from_db()
    opened_gid = to_global_id("Document", int(stored.opened_id or 0))
    link = await docs.link(api, expert, opened_gid)
    assert link["__typename"] == "DocumentDownloadGranted", link
    got = await docs.fetch(link["link"]["url"])
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == receipt.plaintext_sha256 == docs.sha256_file(original)
    assert link["link"]["document"]["mediaType"] == "application/pdf"
    # and another bidder still cannot read it
    assert (await docs.link(api, await f.login(api, b_at), opened_gid))["code"] == "NOT_FOUND"

    # when the supervisor of the category packs the lot's electronic archive (电子档案) and downloads it
    supervisor = await f.login(api, supervisor_at)
    built = (await api.gql(ARCHIVE, {"input": {"lotId": lot_id}}, token=supervisor))["data"]["lotArchiveBuild"]
    assert built["__typename"] == "LotArchiveBuilt", built
    fetched = await docs.fetch((await docs.link(api, supervisor, built["document"]["id"]))["link"]["url"])
    jwks = (await api.http.get("/.well-known/jwks.json")).json()

    # then it verifies offline against the published keys: signed manifest, every file, the evidence package
    manifest = archive.verify(io.BytesIO(fetched.content), jwks)
    by_purpose = {item["purpose"]: item for item in manifest["files"]}
    assert by_purpose["bid_file"]["sha256"] == receipt.sha256
    assert by_purpose["bid_file_opened"]["sha256"] == receipt.plaintext_sha256
    # and a single byte changed in one file is caught
    tampered = bytearray(fetched.content)
    tampered[tampered.find(marker) + 3] ^= 0x01
    with pytest.raises(EvidenceInvalid):
        archive.verify(io.BytesIO(bytes(tampered)), jwks)
    # and bidders may not take it
    assert (await docs.link(api, await f.login(api, a_at), built["document"]["id"]))["code"] == "NOT_FOUND"


async def test_a_bid_file_after_the_deadline_is_refused_as_the_bid_itself_is(api, manual_clock, tmp_path):
    # given a registered bidder of a sealed tender whose deadline is in 25 days
    operator = await f.login(api, await operator_phone())
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    phone, _ = await registered_bidder(api, operator, lot_id)
    sealed = tmp_path / "商务标.pdf.age"
    with io.BytesIO(b"%PDF-1.7\n" + os.urandom(4000)) as src, sealed.open("wb") as dst:
        seal_file(src, dst, new_key())

    # when it starts a bid file upload a minute after the deadline
    manual_clock.advance(timedelta(days=25, minutes=1))
    late = await docs.grant(api, await f.login(api, phone), "BID_FILE", lot_id, sealed)

    # then it hears the deadline passed (the code bidSubmit answers), and no upload was started
    assert (late["__typename"], late["code"]) == ("BidDeadlinePassed", "BID_DEADLINE_PASSED"), late
    assert await Document.filter(purpose="bid_file").count() == 0
