"""Witnesses (见证) over HTTP: the operator opens a witness organisation and assigns one of its people to a lot
(a bidder cannot be assigned); the witness reads the lot's evaluation read-only (an unassigned witness sees
nothing, and no witness may score), records an observation of the opening and an anomaly of the evaluation, binds
its certificate and signs the record (a signature over other bytes refused); the signed record is closed, seen by the
supervisor of the category, on the audit chain, and in the evidence package inside the lot's electronic archive,
which verifies offline."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from typing import Any

from pypdf import PdfReader

from domain.common.models import OutboxEvent
from domain.documents import records as record_files
from domain.supervision import archive
from schema.relay import to_global_id
from tests import factories as f
from tests.scenarios.test_certificates import bind, recognise
from tests.scenarios.test_deposits import supervisor_phone
from tests.schema.test_scoring import BIDS, QUERY, START, SUBMIT, entries
from tests.support import documents as docs
from tests.support.pki import TestCA
from tests.support.tendering import evaluating_tender

ME = "{ me { user { id } } }"
ASSIGN = """mutation($input: WitnessAssignInput!) { witnessAssign(input: $input) {
  __typename ... on WitnessAssigned { lotId witnessId } ... on Error { code message } } }"""
RECORD = """id status contentSha256 signatureId entries { seq stage kind text }"""
OBSERVE = f"""mutation($input: WitnessObserveInput!) {{ witnessObserve(input: $input) {{
  __typename ... on WitnessObserved {{ record {{ {RECORD} }} }} ... on Error {{ code message }} }} }}"""
TO_SIGN = "query($lotId: ID!) { witnessRecordToSign(lotId: $lotId) }"
SIGN = f"""mutation($input: WitnessRecordSignInput!) {{ witnessRecordSign(input: $input) {{
  __typename ... on WitnessRecordSigned {{ record {{ {RECORD} }} }} ... on Error {{ code message }} }} }}"""
RECORDS = f"query($lotId: ID!) {{ witnessRecords(lotId: $lotId) {{ {RECORD} }} }}"
MY_LOTS = "{ myWitnessLots }"
TRAIL = """query($lotId: ID!) { lotAuditTrail(lotId: $lotId, first: 100) { edges { node { action objectType } } } }"""
ARCHIVE = """mutation($input: LotArchiveBuildInput!) { lotArchiveBuild(input: $input) {
  __typename ... on LotArchiveBuilt { document { id } } ... on Error { code message } } }"""


async def witness(api: Any, operator: str) -> tuple[str, str, str]:
    """(credit code, token, user global id) of a person of a witness organisation the operator opened."""
    form = f.registration(kinds=["WITNESS"], name="青岛市公共资源交易见证中心")
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    approved = await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    assert approved["data"]["organisationApprove"]["__typename"] == "OrganisationReviewed", approved
    token = await f.login(api, form["phone"])
    user = (await api.gql(ME, token=token))["data"]["me"]["user"]["id"]
    return str(form["creditCode"]), token, user


async def observe(api: Any, token: str, lot_id: str, stage: str, kind: str, text: str) -> dict[str, Any]:
    form = {"lotId": lot_id, "stage": stage, "kind": kind, "text": text}
    return (await api.gql(OBSERVE, {"input": form}, token=token))["data"]["witnessObserve"]  # type: ignore[no-any-return]


async def test_a_witness_attends_a_lot_records_what_it_saw_and_signs_the_record_into_the_archive(api, manual_clock):
    # given a tender whose opening closed, the operator, a supervisor of its category and two witnesses
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 765_000_00])
    lot_id = to_global_id("Lot", t.lot.id)
    operator = await f.operator_token(api)
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    code, present, present_id = await witness(api, operator)
    _, absent, _ = await witness(api, operator)
    _, _, bidder = await f.approved_org(api, operator)
    bidder_id = (await api.gql(ME, token=bidder))["data"]["me"]["user"]["id"]

    # when the operator assigns the first witness, and tries a bidder
    assigned = (await api.gql(ASSIGN, {"input": {"lotId": lot_id, "userId": present_id}}, token=operator))["data"]
    refused = (await api.gql(ASSIGN, {"input": {"lotId": lot_id, "userId": bidder_id}}, token=operator))["data"]
    # and the operator starts the evaluation, which the witnesses try to read and to score
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    seen = (await api.gql(QUERY, {"lotId": lot_id}, token=present))["data"]["evaluation"]
    bids = (await api.gql(BIDS, {"lotId": lot_id}, token=present))["data"]["evaluationBids"]
    unseen = (await api.gql(QUERY, {"lotId": lot_id}, token=absent))["data"]["evaluation"]
    sheet = {"input": {"lotId": lot_id, "entries": entries(bids)}}
    scoring = await api.gql(SUBMIT, sheet, token=present, expect_errors=True)

    # then the assigned witness reads the evaluation, the other nothing, and no witness scores
    assert assigned["witnessAssign"] == {"__typename": "WitnessAssigned", "lotId": lot_id, "witnessId": present_id}
    assert refused["witnessAssign"]["code"] == "NOT_A_WITNESS"
    assert started["__typename"] == "EvaluationStarted"
    assert (seen["status"], seen["members"]) == ("SCORING", 5)
    assert len(bids) == 3
    assert unseen is None
    assert scoring["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api.gql(MY_LOTS, token=present))["data"]["myWitnessLots"] == [lot_id]

    # when the witness records an observation and an anomaly, and the other witness tries to write in the lot
    await observe(
        api, present, lot_id, "OPENING", "OBSERVATION", "开标于 9:30 准时开始，三家投标人均在解密时限内完成解密。"
    )
    noted = await observe(api, present, lot_id, "EVALUATION", "ANOMALY", "专家 3 号在评审期间多次离开视频画面。")
    intruder = await observe(api, absent, lot_id, "EVALUATION", "OBSERVATION", "无")
    # then
    assert noted["__typename"] == "WitnessObserved", noted
    assert [(e["seq"], e["stage"], e["kind"]) for e in noted["record"]["entries"]] == [
        (1, "OPENING", "OBSERVATION"),
        (2, "EVALUATION", "ANOMALY"),
    ]
    assert intruder["__typename"] == "NotFound"

    # when the witness binds its certificate and signs other bytes, then the record
    ca = TestCA("见证CA")
    await recognise(api, operator, ca, at=manual_clock.now())
    leaf = ca.issue("青岛市公共资源交易见证中心", code, person="见证人")
    assert (await bind(api, present, leaf))["__typename"] == "CertificateBound"
    text = (await api.gql(TO_SIGN, {"lotId": lot_id}, token=present))["data"]["witnessRecordToSign"]
    wrong = {"lotId": lot_id, "certificate": leaf.pem, "signature": leaf.sign(text + " ")}
    bad = (await api.gql(SIGN, {"input": wrong}, token=present))["data"]["witnessRecordSign"]
    right = {"lotId": lot_id, "certificate": leaf.pem, "signature": leaf.sign(text)}
    signed = (await api.gql(SIGN, {"input": right}, token=present))["data"]["witnessRecordSign"]
    late = await observe(api, present, lot_id, "OTHER", "OBSERVATION", "补记")
    # then the record is signed over its canonical content and closed
    assert bad["code"] == "CERTIFICATE_SIGNATURE_INVALID"
    assert signed["__typename"] == "WitnessRecordSigned", signed
    assert signed["record"]["status"] == "SIGNED"
    assert signed["record"]["contentSha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert json.loads(text)["act"] == "witness.record"
    assert late["code"] == "WITNESS_RECORD_CLOSED"

    # when the worker renders the signed record to a file of the lot (见证记录), and the supervisor of the category
    # reads the records and the trail, and packs the lot's archive
    await api.dispatch()
    assert await record_files.render_due(manual_clock.now()) >= 1
    await api.dispatch()
    records = (await api.gql(RECORDS, {"lotId": lot_id}, token=supervisor))["data"]["witnessRecords"]
    outsider = (await api.gql(RECORDS, {"lotId": lot_id}, token=bidder))["data"]["witnessRecords"]
    trail = (await api.gql(TRAIL, {"lotId": lot_id}, token=supervisor))["data"]["lotAuditTrail"]["edges"]
    built = (await api.gql(ARCHIVE, {"input": {"lotId": lot_id}}, token=supervisor))["data"]["lotArchiveBuild"]
    assert built["__typename"] == "LotArchiveBuilt", built
    fetched = await docs.fetch((await docs.link(api, supervisor, built["document"]["id"]))["link"]["url"])
    jwks = (await api.http.get("/.well-known/jwks.json")).json()
    manifest = archive.verify(io.BytesIO(fetched.content), jwks)

    # then the record is there, signed, on the chain and in the archive's evidence, which verifies offline
    assert [r["status"] for r in records] == ["SIGNED"]
    assert outsider == []
    actions = {e["node"]["action"] for e in trail}
    assert {"witness.assigned", "witness.observed", "witness.record_signed", "signature.recorded"} <= actions
    assert manifest["lot"]["id"] == t.lot.id
    package = _archive_evidence(fetched.content)
    [kept] = package["witnessRecords"]
    assert (kept["status"], kept["contentSha256"]) == ("signed", signed["record"]["contentSha256"])
    assert any(s["act"] == "witness.record" and s["content"] == text for s in package["signatures"])
    # and the record is a file of its own in the archive: listed in the signed manifest, its bytes as stored, the
    # witness's entries in its Chinese text, its SHA-256 on the audit chain
    [listed] = [item for item in manifest["files"] if item["purpose"] == "witness_record"]
    pdf = zipfile.ZipFile(io.BytesIO(fetched.content)).read(listed["path"])
    assert hashlib.sha256(pdf).hexdigest() == listed["sha256"]
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert all(w in words for w in ("见证记录", t.lot.trade_code, "异常情况", signed["record"]["contentSha256"])), words
    stored = await OutboxEvent.filter(type="document.stored", object_id=str(listed["documentId"])).first()
    assert stored is not None
    assert stored.payload["sha256"] == listed["sha256"]
    # and the supervisor and the witness fetch it, an outsider does not see it
    record_id = signed["record"]["id"]
    for who in (supervisor, present):
        [doc] = (await api.gql(docs.LIST, {"purpose": "WITNESS_RECORD", "ownerId": record_id}, token=who))["data"][
            "documents"
        ]
        assert doc["id"] == to_global_id("Document", listed["documentId"])
    unseen = await api.gql(docs.LIST, {"purpose": "WITNESS_RECORD", "ownerId": record_id}, token=bidder)
    assert unseen["data"]["documents"] == []


def _archive_evidence(content: bytes) -> dict[str, Any]:
    import zipfile

    token = zipfile.ZipFile(io.BytesIO(content)).read("evidence.jws").decode()
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]
