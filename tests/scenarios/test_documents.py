"""Files through the platform as phones and kiosks meet them: tender documents uploaded over tus (resumable),
published, fetched by anyone with Range; and every bad file refused with a typed error, nothing kept."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from tusclient.exceptions import TusCommunicationError

from domain.documents import adapters, malware
from domain.documents.models import Document, DocumentDownload, StoredObject, Upload
from domain.documents.scanning import ClamdScanner
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_guarantees import AMOUNT, open_tender
from tests.scenarios.test_guarantees import registered_bidder as guarantee_bidder
from tests.scenarios.test_publication import DRAFT, PROJECT_CREATE, PUBLISH, publish, road_project
from tests.scenarios.test_results import inbox, today
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.support import documents as docs
from tests.support.clamav import EICAR
from tests.support.complaints import COMPLAINT_FILE, evidence_input
from tests.support.guarantor import apply


def pdf(path: Path, size: int, marker: bytes = b"") -> Path:
    """A file that sniffs as a PDF, of `size` bytes, random after its header."""
    head = b"%PDF-1.7\n" + marker
    path.write_bytes(head + os.urandom(size - len(head)))
    return path


async def draft_lot(api: Any, clock: Any, operator: str) -> tuple[dict[str, Any], str]:
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    form = road_project(clock.now() + timedelta(days=25))
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    return created["project"], tenderer


async def nothing_stored(upload_id: str) -> None:
    upload = await Upload.get(id=upload_id)
    assert upload.document_id is None
    assert await Document.filter(name=upload.name).count() == 0


async def test_tender_documents_are_uploaded_resumably_published_and_fetched_by_anyone(api, manual_clock, tmp_path):
    # given a tenderer's draft lot and a 6 MB tender document (招标文件) with a Chinese name
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    source = pdf(tmp_path / "招标文件（第一标段）.pdf", 6 * 1024 * 1024 + 123)

    # when the tenderer is granted an upload and sends it with the tus client in 1 MiB chunks
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, source)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, source, chunk_size=1024 * 1024)

    # then the upload is complete and the document is stored once, named by its SHA-256, sniffed as a PDF
    upload = (await api.gql(docs.UPLOAD, {"id": granted["upload"]["id"]}, token=tenderer))["data"]["documentUpload"]
    assert upload["status"] == "COMPLETE", upload
    assert upload["received"] == source.stat().st_size
    listed = (await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id}, token=tenderer))["data"]
    [doc] = listed["documents"]
    assert (doc["name"], doc["sha256"], doc["mediaType"], doc["scanStatus"]) == (
        source.name,
        docs.sha256_file(source),
        "application/pdf",
        "CLEAN",
    )
    assert await StoredObject.filter(sha256=doc["sha256"]).count() == 1

    # and before the lot is announced nobody else sees it
    hidden = await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id})
    assert hidden["data"]["documents"] == []
    assert (await docs.link(api, None, doc["id"]))["code"] == "NOT_FOUND"

    # when the tender is published
    await publish(api, tenderer, project, "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>黄岛区。</p>")

    # then an anonymous kiosk lists and downloads it: whole, with its ETag and the Chinese name (RFC 5987)
    public = (await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id}))["data"]["documents"]
    assert [d["id"] for d in public] == [doc["id"]]
    granted_link = await docs.link(api, None, doc["id"], **{"X-Device-Id": "kiosk-hall-3"})
    assert granted_link["__typename"] == "DocumentDownloadGranted", granted_link
    url = granted_link["link"]["url"]
    whole = await docs.fetch(url)
    assert whole.status_code == 200
    assert hashlib.sha256(whole.content).hexdigest() == doc["sha256"]
    if "X-Amz-Signature" not in url:  # the platform's own link (a presigned object-store URL is the store's)
        assert whole.headers["etag"] == f'"{doc["sha256"]}"'
        assert "filename*=UTF-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6" in whole.headers["content-disposition"]

    # and a bidder whose download broke at 4 MB resumes it with Range and gets the same bytes
    _, _, bidder = await f.approved_org(api, operator)
    bidder_link = (await docs.link(api, bidder, doc["id"], **{"X-Device-Id": "phone-7"}))["link"]["url"]
    first = (await docs.fetch(bidder_link, Range="bytes=0-4194303")).content
    rest = await docs.fetch(bidder_link, Range="bytes=4194304-")
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 4194304-{doc['size'] - 1}/{doc['size']}"
    assert hashlib.sha256(first + rest.content).hexdigest() == doc["sha256"]

    # and every download of the lot's tender documents was recorded with who, device and address
    downloads = await DocumentDownload.all().order_by("id")
    assert [(d.device_id, d.organisation_id is not None) for d in downloads] == [
        ("kiosk-hall-3", False),
        ("phone-7", True),
    ]
    assert all(d.ip == "127.0.0.1" and d.lot_id is not None for d in downloads)


async def test_an_upload_cut_halfway_resumes_from_the_last_byte_stored(api, manual_clock, tmp_path):
    # given a granted 12 MB upload
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    source = pdf(tmp_path / "工程量清单.pdf", 12 * 1024 * 1024)
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", project["lots"][0]["id"], source)
    data = source.read_bytes()

    # when the connection drops after 60% of one PATCH has been sent
    cut = int(len(data) * 0.6)
    offset = await docs.dropped_patch(granted, [data[: cut // 2], data[cut // 2 : cut]])
    # then HEAD reports what was stored (the server kept every byte that arrived)
    assert 0 < offset <= cut

    # when the tus client resumes from that URL
    await docs.tus_upload(granted, source, chunk_size=2 * 1024 * 1024, resume=True)

    # then the document is complete and identical, the first 60% not sent twice
    upload = await Upload.get(id=granted["upload"]["id"])
    assert upload.status == "complete"
    stored = await Document.get(id=upload.document_id)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)


async def test_bad_files_are_refused_with_typed_errors_and_nothing_is_kept(api, manual_clock, tmp_path):
    # given a tenderer's draft lot
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]

    # when a file is declared with a path-traversal name, a bad hash or more than the purpose allows
    sample = pdf(tmp_path / "ok.pdf", 1000)
    bad_name = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, sample, name="../../etc/passwd")
    bad_hash = await api.gql(
        docs.START,
        {"input": {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id, "name": "a.pdf", "size": 10, "sha256": "zz"}},
        token=tenderer,
    )
    too_big = await api.gql(
        docs.START,
        {
            "input": {
                "purpose": "COMPLAINT_EVIDENCE",
                "ownerId": "Q29tcGxhaW50OjE",
                "name": "a.pdf",
                "size": 2 * 1024 * 1024 * 1024 - 1,
                "sha256": "0" * 64,
            }
        },
        token=tenderer,
    )

    # then each is a typed error before a byte is sent
    assert (bad_name["__typename"], bad_name["code"], bad_name["field"]) == (
        "FileNameInvalid",
        "DOCUMENT_NAME_INVALID",
        "name",
    )
    assert bad_hash["data"]["documentUploadStart"]["code"] == "DOCUMENT_HASH_INVALID"
    assert too_big["data"]["documentUploadStart"]["code"] == "DOCUMENT_TOO_LARGE"

    # when the bytes sent are not the bytes declared
    declared = pdf(tmp_path / "declared.pdf", 5000)
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, declared)
    async with httpx.AsyncClient(timeout=30) as http:
        swapped = await docs.patch(http, granted, 0, b"%PDF-1.7\n" + os.urandom(5000 - 9))
    # then the last byte's answer is a typed refusal and nothing is stored
    assert swapped.status_code == 422
    assert swapped.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_HASH_MISMATCH"
    await nothing_stored(granted["upload"]["id"])

    # when an executable is disguised as a PDF
    exe = tmp_path / "报价单.pdf"
    exe.write_bytes(b"MZ\x90\x00" + os.urandom(4000))
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, exe)
    async with httpx.AsyncClient(timeout=30) as http:
        refused = await docs.patch(http, granted, 0, exe.read_bytes())
    assert refused.status_code == 415
    assert refused.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_TYPE_REFUSED"
    assert refused.json()["errors"][0]["extensions"]["detected"] == "executable"
    await nothing_stored(granted["upload"]["id"])

    # when the EICAR test file arrives inside a zip container
    eicar = tmp_path / "图纸.zip"
    eicar.write_bytes(_stored_zip("readme.txt", EICAR))
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, eicar)
    async with httpx.AsyncClient(timeout=30) as http:
        infected = await docs.patch(http, granted, 0, eicar.read_bytes())
    assert infected.status_code == 422, infected.text
    assert infected.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_INFECTED"
    await nothing_stored(granted["upload"]["id"])

    # when a grant is used for another upload, forged, or after it expired
    one = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, pdf(tmp_path / "one.pdf", 2000))
    two = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, pdf(tmp_path / "two.pdf", 2000))
    async with httpx.AsyncClient(timeout=30) as http:
        crossed = await docs.patch(http, {**one, "grant": two["grant"]}, 0, b"%PDF-")
        forged = await docs.patch(http, {**one, "grant": one["grant"][:-4] + "AAAA"}, 0, b"%PDF-")
        manual_clock.advance(timedelta(hours=25))
        expired = await docs.patch(http, one, 0, b"%PDF-")
    assert [r.status_code for r in (crossed, forged, expired)] == [403, 403, 403]
    assert {r.json()["errors"][0]["extensions"]["code"] for r in (crossed, forged, expired)} == {"UPLOAD_GRANT_INVALID"}
    await nothing_stored(one["upload"]["id"])
    assert await Document.all().count() == 0


def _stored_zip(name: str, data: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(name, data)
    return out.getvalue()


async def test_the_tus_endpoint_speaks_the_protocol(api):
    # when a client asks what the server supports
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.options(f"{api.base_url}/files/uploads")
        wrong_version = await http.post(f"{api.base_url}/files/uploads", headers={"Tus-Resumable": "0.2.2"})
    # then it names version 1.0.0 and the extensions this server implements
    assert answer.status_code == 204
    assert answer.headers["tus-version"] == "1.0.0"
    assert set(answer.headers["tus-extension"].split(",")) == {"creation", "checksum", "expiration", "termination"}
    assert "sha1" in answer.headers["tus-checksum-algorithm"]
    assert wrong_version.status_code == 412


async def test_tus_client_errors_surface(api, manual_clock, tmp_path):
    # given an upload whose grant is refused by the server
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    source = pdf(tmp_path / "a.pdf", 3000)
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", project["lots"][0]["id"], source)
    # when the tus client sends it with a forged grant
    try:
        await docs.tus_upload({**granted, "grant": "x.1.y"}, source)
    except TusCommunicationError as err:
        status = err.status_code
    # then it reports the 403
    assert status == 403


async def test_a_scanner_that_is_down_holds_publication_until_the_file_is_scanned(api, manual_clock, tmp_path):
    # given a draft lot and clamd unreachable when its tender document arrives
    operator = await f.operator_token(api)
    project, tenderer = await draft_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    working = adapters.deps.scanner
    adapters.deps.scanner = ClamdScanner(f"unix:{tmp_path / 'no-clamd.ctl'}", timeout=1)
    try:
        source = pdf(tmp_path / "图纸.pdf", 20_000)
        granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, source)
        await docs.tus_upload(granted, source)
        # when the tenderer publishes the tender
        held = await publish_raw(api, tenderer, project)
    finally:
        adapters.deps.scanner = working

    # then the file is stored but held, and the publication refused, saying why
    [doc] = (await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id}, token=tenderer))["data"][
        "documents"
    ]
    assert doc["scanStatus"] == "PENDING"
    assert held["code"] == "DOCUMENT_SCAN_PENDING"

    # when the scanner is back and the chronograph scans again, the same publication goes through
    assert await malware.rescan_pending(manual_clock.now()) == 1
    published = await publish_raw(api, tenderer, project, draft=held["draftId"])
    assert published["__typename"] == "AnnouncementPublished", published
    [public] = (await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id}))["data"]["documents"]
    assert public["scanStatus"] == "CLEAN"


async def publish_raw(api: Any, token: str, project: dict[str, Any], draft: str | None = None) -> dict[str, Any]:
    """Drafts (unless given) and publishes the lot's tender notice; the publish result with the draft's id."""
    if draft is None:
        drafted = await api.gql(
            DRAFT,
            {
                "input": {
                    "projectId": project["id"],
                    "lotId": project["lots"][0]["id"],
                    "type": "TENDER",
                    "title": "2026年青岛市道路维修工程施工招标公告",
                    "bodyHtml": "<p>黄岛区。</p>",
                }
            },
            token=token,
        )
        draft = drafted["data"]["announcementDraft"]["announcement"]["id"]
    done = await api.gql(PUBLISH, {"input": {"announcementId": draft}}, token=token)
    return {**done["data"]["announcementPublish"], "draftId": draft}


async def test_complaint_evidence_reaches_the_supervisor_of_the_category_only(api, manual_clock, tmp_path):
    # given a bidder's complaint on an engineering lot, its supervisor and a supervisor of procurement
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    supervisor_at = await supervisor_phone(api, operator)
    other_form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=["GOVERNMENT_PROCUREMENT"])
    org = (await api.gql(f.REGISTER, {"input": other_form}, token=operator))["data"]["organisationRegister"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org["organisation"]["id"]}}, token=operator)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, bidder = await registered_bidder(api, operator, lot_id)
    _, rival = await registered_bidder(api, operator, lot_id)
    form = {
        "lotId": lot_id,
        "subject": "OTHER",
        "knewOn": today(manual_clock),
        "reasons": "招标人与某投标人存在利害关系",
        "requests": "暂停招标并调查",
        "evidence": evidence_input(),
    }
    filed = (await api.gql(COMPLAINT_FILE, {"input": form}, token=bidder))["data"]["complaintFile"]
    complaint_id = filed["complaint"]["id"]

    # when the complainant uploads its evidence (a scanned letter) for the complaint
    letter = pdf(tmp_path / "证据一：往来函件.pdf", 300_000)
    granted = await docs.grant(api, bidder, "COMPLAINT_EVIDENCE", complaint_id, letter)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, letter)
    # and a rival bidder tries to hand in evidence for someone else's complaint
    foreign = await docs.grant(api, rival, "COMPLAINT_EVIDENCE", complaint_id, letter)

    # then the supervisor of the category lists and downloads it, intact
    supervisor = await f.login(api, supervisor_at)
    [doc] = (await api.gql(docs.LIST, {"purpose": "COMPLAINT_EVIDENCE", "ownerId": complaint_id}, token=supervisor))[
        "data"
    ]["documents"]
    fetched = await docs.fetch((await docs.link(api, supervisor, doc["id"]))["link"]["url"])
    assert hashlib.sha256(fetched.content).hexdigest() == docs.sha256_file(letter)
    # and the tenderer, a party to it, may read it too; the other supervisor, the rival and anonymous callers not
    assert (await docs.link(api, tenderer, doc["id"]))["__typename"] == "DocumentDownloadGranted"
    other = await f.login(api, str(other_form["phone"]))
    for token in (other, rival, None):
        assert (await docs.link(api, token, doc["id"]))["code"] == "NOT_FOUND"
        listed = await api.gql(docs.LIST, {"purpose": "COMPLAINT_EVIDENCE", "ownerId": complaint_id}, token=token)
        assert listed["data"]["documents"] == []
    assert foreign["code"] == "NOT_FOUND"


async def test_a_new_version_of_the_tender_documents_supersedes_the_old_and_registrants_are_told(
    api, manual_clock, tmp_path
):
    # given a published tender with its documents, and a registered bidder
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    first = pdf(tmp_path / "招标文件.pdf", 50_000)
    await docs.tus_upload(await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, first), first)
    [v1] = (await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id}))["data"]["documents"]
    _, bidder = await registered_bidder(api, operator, lot_id)
    await api.dispatch()

    # when the tenderer uploads a corrected version (with its change notice) that supersedes the first
    second = pdf(tmp_path / "招标文件（修改后）.pdf", 60_000)
    granted = await docs.grant(api, tenderer, "TENDER_DOCUMENT", lot_id, second, supersedesId=v1["id"])
    await docs.tus_upload(granted, second)
    await api.dispatch()

    # then anyone lists only the new version, and the bidder is told in its inbox
    [v2] = (await api.gql(docs.LIST, {"purpose": "TENDER_DOCUMENT", "ownerId": lot_id}))["data"]["documents"]
    assert (v2["name"], v2["version"], v2["superseded"]) == (second.name, 2, False)
    told = [n for n in await inbox(api, bidder) if n["kind"] == "TENDER_DOCUMENT_CHANGED"]
    assert len(told) == 1
    assert "第 2 版" in told[0]["body"]


async def test_a_guarantee_letter_as_pdf_reaches_its_parties_only(api, manual_clock, tmp_path):
    # given a guarantee issued to a bidder, a rival bidder on the same lot
    t = await open_tender(api, manual_clock)
    _, _, bidder = await guarantee_bidder(api, t)
    _, _, rival = await guarantee_bidder(api, t)
    await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until)
    [application] = await t.guarantor.applications("APPLIED")
    assert (await t.guarantor.issue_for(application))["__typename"] == "GuaranteeIssued"

    # when the guarantor uploads the letter's PDF (电子保函版式文件) for the guarantee, and the bidder tries to
    letter = pdf(tmp_path / "投标保函.pdf", 40_000)
    granted = await docs.grant(api, t.guarantor.token, "GUARANTEE_LETTER", application["id"], letter)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, letter)
    by_bidder = await docs.grant(api, bidder, "GUARANTEE_LETTER", application["id"], letter)

    # then the bidder and the tenderer (the beneficiary) fetch it, the rival does not see it
    [doc] = (await api.gql(docs.LIST, {"purpose": "GUARANTEE_LETTER", "ownerId": application["id"]}, token=bidder))[
        "data"
    ]["documents"]
    for token in (bidder, await f.login(api, t.tenderer_phone)):
        fetched = await docs.fetch((await docs.link(api, token, doc["id"]))["link"]["url"])
        assert hashlib.sha256(fetched.content).hexdigest() == docs.sha256_file(letter)
    assert (await docs.link(api, rival, doc["id"]))["code"] == "NOT_FOUND"
    assert by_bidder["code"] == "NOT_FOUND"


async def test_an_applicant_hands_in_its_business_licence_and_the_operator_reviews_it(api, tmp_path):
    # given an organisation whose registration waits for review, and another organisation
    operator = await f.operator_token(api)
    form = f.registration()
    registered = (await api.gql(f.REGISTER, {"input": form}, token=operator))["data"]["organisationRegister"]
    org_id = registered["organisation"]["id"]
    applicant = await f.login(api, str(form["phone"]))
    _, _, stranger = await f.approved_org(api, operator)

    # when the applicant uploads its business licence (营业执照) as a scanned image
    scan = tmp_path / "营业执照.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(30_000))
    granted = await docs.grant(api, applicant, "ORGANISATION_LICENCE", org_id, scan)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, scan)

    # then the operator reviewing it downloads it; another organisation neither lists nor fetches it
    [doc] = (await api.gql(docs.LIST, {"purpose": "ORGANISATION_LICENCE", "ownerId": org_id}, token=operator))["data"][
        "documents"
    ]
    assert doc["mediaType"] == "image/png"
    fetched = await docs.fetch((await docs.link(api, operator, doc["id"]))["link"]["url"])
    assert fetched.content == scan.read_bytes()
    assert (await docs.link(api, stranger, doc["id"]))["code"] == "NOT_FOUND"
    listed = await api.gql(docs.LIST, {"purpose": "ORGANISATION_LICENCE", "ownerId": org_id}, token=stranger)
    assert listed["data"]["documents"] == []
