"""Signed evaluation (评审签章) over HTTP: four members bind personal certificates and sign their score sheets and
the report over the canonical content; the fifth, without a certificate, signs by face verification (刷脸签章)
through the official Tencent FaceID SDK against a local stub; a replaced sheet leaves its signature superseded; the
report is final once every member signed it; the signatures are on the audit chain and in the evidence package,
which verifies. Bad input: another expert's certificate, a revoked certificate, a face verified for someone else,
signing the report before it exists: typed errors, nothing stored."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from api.faceid import TencentFaceId
from domain.accounts import adapters as account_adapters
from domain.accounts.models import Expert
from domain.common.actors import Actor, Role
from domain.evaluation import face
from schema.relay import to_global_id
from tests.scenarios.test_certificates import challenge, recognise, renew_crls
from tests.schema.test_scoring import BIDS, START, entries, expert, sheet, token
from tests.support.pki import Leaf, TestCA
from tests.support.tencent_faceid_stub import running_stub
from tests.support.tendering import OPERATOR, evaluating_tender

BIND = """mutation($input: ExpertCertificateBindInput!) { expertCertificateBind(input: $input) {
  __typename ... on ExpertCertificateBound { certificate { id fingerprint } } ... on Error { code message } } }"""
TO_SIGN = """query($lotId: ID!, $kind: EvaluationSignKind!) { evaluationToSign(lotId: $lotId, kind: $kind) {
  toSign sha256 } }"""
SIGN = """mutation($input: EvaluationSignInput!) { evaluationSign(input: $input) {
  __typename ... on EvaluationSigned { reportFinal signature { kind method contentSha256 certificateSha256 } }
  ... on Error { code message } } }"""
FACE_START = """mutation($input: EvaluationFaceStartInput!) { evaluationFaceStart(input: $input) {
  __typename ... on EvaluationFaceStarted { token url contentSha256 } ... on Error { code message } } }"""
STATUS = """query($lotId: ID!) { evaluationSignatures(lotId: $lotId) { members sheetsSigned reportSigned reportFinal
  signatures { expertId kind method superseded contentSha256 } } }"""
TRAIL = """query($lotId: ID!) { lotAuditTrail(lotId: $lotId, first: 100) { edges { node { action objectType } } } }"""
PACKAGE = "query($lotId: ID!) { evidencePackage(lotId: $lotId) { jws } }"
PACKAGE_VERIFY = "query($jws: String!) { evidencePackageVerify(jws: $jws) { ok reason } }"
ID_NUMBER = "37020219800101123X"


async def bind(api: Any, who: str, leaf: Leaf) -> dict[str, Any]:
    c = await challenge(api, "BIND")
    form = {"certificate": leaf.pem, "challenge": c["challenge"], "signature": leaf.sign(c["toSign"])}
    return (await api.gql(BIND, {"input": form}, token=who))["data"]["expertCertificateBind"]  # type: ignore[no-any-return]


async def to_sign(api: Any, who: str, lot_id: str, kind: str) -> dict[str, Any]:
    return (await api.gql(TO_SIGN, {"lotId": lot_id, "kind": kind}, token=who))["data"]["evaluationToSign"]  # type: ignore[no-any-return]


async def sign_with(api: Any, who: str, lot_id: str, kind: str, leaf: Leaf, text: str | None = None) -> dict[str, Any]:
    content = text if text is not None else (await to_sign(api, who, lot_id, kind))["toSign"]
    form = {"lotId": lot_id, "kind": kind, "certificate": leaf.pem, "signature": leaf.sign(content)}
    return (await api.gql(SIGN, {"input": form}, token=who))["data"]["evaluationSign"]  # type: ignore[no-any-return]


async def sign_by_face(api: Any, who: str, lot_id: str, kind: str, stub: Any, id_number: str) -> dict[str, Any]:
    started = (await api.gql(FACE_START, {"input": {"lotId": lot_id, "kind": kind}}, token=who))["data"][
        "evaluationFaceStart"
    ]
    assert started["__typename"] == "EvaluationFaceStarted", started
    stub.complete(started["token"], id_number, "专家五")  # the expert passes liveness on the phone
    form = {"lotId": lot_id, "kind": kind, "faceToken": started["token"]}
    return (await api.gql(SIGN, {"input": form}, token=who))["data"]["evaluationSign"]  # type: ignore[no-any-return]


async def test_the_committee_signs_its_sheets_and_the_report_by_certificate_and_by_face(api, manual_clock):
    # given a closed opening, a drawn committee, a started evaluation and a recognised CA
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    lot_id = to_global_id("Lot", t.lot.id)
    operator = token(api, OPERATOR)
    supervisor = token(
        api,
        Actor(
            user_id=7,
            org_id=7,
            roles=frozenset({Role.SUPERVISOR}),
            supervised_categories=frozenset({"engineering_construction"}),
        ),
    )
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    assert started["__typename"] == "EvaluationStarted", started
    ca = TestCA("评标CA")
    authorities = await recognise(api, operator, ca, at=manual_clock.now())
    members = [expert(api, e) for e in t.committee]
    leaves = [ca.issue(f"专家{n}", person=f"专家{n}") for n in range(4)]
    # the fifth member has no certificate; its identity number is on record as the pool keeps it (a keyed hash)
    keyed = hmac.new(account_adapters.deps.code_secret, ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    await Expert.filter(id=t.committee[4]).update(id_number_hash=keyed)
    async with running_stub() as stub:
        face.configure(
            TencentFaceId(stub.secret_id, stub.secret_key, stub.rule_id, endpoint=stub.endpoint, scheme="http")
        )
        try:
            # when four members bind their certificates
            bound = [await bind(api, members[n], leaves[n]) for n in range(4)]
            # then
            assert [b["__typename"] for b in bound] == ["ExpertCertificateBound"] * 4, bound

            # when every member but the last hands in its sheet, and the first signs it
            bids = (await api.gql(BIDS, {"lotId": lot_id}, token=members[0]))["data"]["evaluationBids"]
            for n in range(4):
                assert (await sheet(api, members[n], lot_id, entries(bids, technical=4000 + n)))["__typename"] == (
                    "ScoreSheetSubmitted"
                )
            first = await sign_with(api, members[0], lot_id, "SHEET", leaves[0])
            early_report = await sign_with(api, members[0], lot_id, "REPORT", leaves[0], text="{}")
            # then the signature covers the sheet as handed in; the report cannot be signed yet
            assert first["__typename"] == "EvaluationSigned", first
            assert (first["signature"]["method"], first["signature"]["kind"]) == ("CERTIFICATE", "SHEET")
            assert early_report["code"] == "REPORT_NOT_READY"
            text = (await to_sign(api, members[0], lot_id, "SHEET"))["toSign"]
            assert json.loads(text)["act"] == "evaluation.sheet"
            assert hashlib.sha256(text.encode()).hexdigest() == first["signature"]["contentSha256"]

            # when the first member replaces its sheet, then signs it again
            assert (await sheet(api, members[0], lot_id, entries(bids, technical=4100)))["__typename"] == (
                "ScoreSheetSubmitted"
            )
            again = await sign_with(api, members[0], lot_id, "SHEET", leaves[0])
            status = (await api.gql(STATUS, {"lotId": lot_id}, token=operator))["data"]["evaluationSignatures"]
            # then only the new signature counts
            assert again["__typename"] == "EvaluationSigned"
            assert again["signature"]["contentSha256"] != first["signature"]["contentSha256"]
            assert [s["superseded"] for s in status["signatures"]] == [False]

            # when the second member signs with the first member's certificate, and the third with a revoked one
            other = await sign_with(api, members[1], lot_id, "SHEET", leaves[0])
            ca.revoke(leaves[2])
            manual_clock.advance(minutes=5)
            await renew_crls(api, operator, ca, authorities, at=manual_clock.now())
            revoked = await sign_with(api, members[2], lot_id, "SHEET", leaves[2])
            status = (await api.gql(STATUS, {"lotId": lot_id}, token=operator))["data"]["evaluationSignatures"]
            # then typed errors, nothing stored
            assert other["code"] == "CERTIFICATE_OF_ANOTHER_EXPERT"
            assert revoked["code"] == "CERTIFICATE_REVOKED"
            assert status["sheetsSigned"] == [to_global_id("Expert", t.committee[0])]

            # when the third member binds a new certificate and the others sign their sheets
            leaves[2] = ca.issue("专家2", person="专家2")
            assert (await bind(api, members[2], leaves[2]))["__typename"] == "ExpertCertificateBound"
            for n in (1, 2, 3):
                assert (await sign_with(api, members[n], lot_id, "SHEET", leaves[n]))["__typename"] == (
                    "EvaluationSigned"
                )
            # and the last member hands in its sheet (which makes the report) and tries a face verified for someone
            # else, then signs by its own face
            assert (await sheet(api, members[4], lot_id, entries(bids, technical=4050)))["__typename"] == (
                "ScoreSheetSubmitted"
            )
            stranger = await sign_by_face(api, members[4], lot_id, "SHEET", stub, "110101199003077777")
            by_face = await sign_by_face(api, members[4], lot_id, "SHEET", stub, ID_NUMBER)
            # then
            assert stranger["code"] == "FACE_VERIFICATION_WRONG_PERSON"
            assert (by_face["__typename"], by_face["signature"]["method"]) == ("EvaluationSigned", "FACE")

            # when every member signs the report
            finals = [await sign_with(api, members[n], lot_id, "REPORT", leaves[n]) for n in range(4)]
            last = await sign_by_face(api, members[4], lot_id, "REPORT", stub, ID_NUMBER)
        finally:
            face.configure(None)

    await api.dispatch()  # the audit chain is written by the outbox
    status = (await api.gql(STATUS, {"lotId": lot_id}, token=supervisor))["data"]["evaluationSignatures"]
    trail = (await api.gql(TRAIL, {"lotId": lot_id}, token=supervisor))["data"]["lotAuditTrail"]["edges"]
    package = (await api.gql(PACKAGE, {"lotId": lot_id}, token=supervisor))["data"]["evidencePackage"]["jws"]
    verified = (await api.gql(PACKAGE_VERIFY, {"jws": package}, token=supervisor))["data"]["evidencePackageVerify"]
    outsider = (await api.gql(STATUS, {"lotId": lot_id}, token=token(api, t.bidders[0].actor)))["data"]

    # then the report is final only with the last signature; the supervisor sees every signature on the chain
    assert [f["reportFinal"] for f in finals] == [False] * 4
    assert (last["__typename"], last["reportFinal"]) == ("EvaluationSigned", True)
    assert status["reportFinal"] is True
    assert sorted(status["reportSigned"]) == sorted(status["members"])
    actions = [e["node"]["action"] for e in trail]
    assert actions.count("evaluation.signed") == 11  # 6 sheets (one superseded) and 5 report signatures
    assert "evaluation.report_final" in actions
    assert verified["ok"] is True, verified
    payload = json.loads(_payload(package))
    assert len(payload["evaluationSignatures"]) == 11
    assert {s["method"] for s in payload["evaluationSignatures"]} == {"certificate", "face"}
    assert outsider["evaluationSignatures"] is None


def _payload(jws: str) -> str:
    import base64

    part = jws.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
