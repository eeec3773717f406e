"""Digital certificates over HTTP (CA互认): the operator recognises two independent CAs, a bidder binds its
certificate, signs in with it and an SMS code, submits a signed sealed bid on a lot that requires signatures
and two factors, and a supervisor verifies the signature from the audit trail and the evidence package."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from domain.accounts import adapters
from domain.certificates import signatures
from domain.common.actors import Role
from mobile_contract.gate import OPERATIONS
from mobile_contract.sealed_bid import new_key, seal
from mobile_contract.signing import (
    auction_bid_content,
    bid_submit_content,
    guarantee_claim_content,
    guarantee_issue_content,
)
from tests import factories as f
from tests.scenarios.test_auction import START_PRICE, STATE, STEP, at, auction_lot, bidders
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_guarantees import AMOUNT, open_tender, registered_bidder
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_sealed_bids import REGISTER, SUBMIT
from tests.support.commitments import commit_over_api
from tests.support.commitments import content as commitment_content
from tests.support.guarantor import CLAIM, ISSUE, MINE, apply
from tests.support.pki import Leaf, TestCA

CA_REGISTER = """mutation($input: CertificateAuthorityRegisterInput!) { certificateAuthorityRegister(input: $input) {
  __typename ... on CertificateAuthorityRegistered { authority { id isRoot fingerprint } }
  ... on Error { code message } } }"""
CRL_UPLOAD = """mutation($input: CertificateCrlUploadInput!) { certificateCrlUpload(input: $input) {
  __typename ... on CertificateCrlUploaded { crl { revokedCount nextUpdate } } ... on Error { code message } } }"""
CHALLENGE = """mutation($input: CertificateChallengeInput!) { certificateChallenge(input: $input) {
  __typename ... on CertificateChallengeIssued { challenge { challenge toSign expiresAt } }
  ... on Error { code message } } }"""
BIND = """mutation($input: CertificateBindInput!) { certificateBind(input: $input) {
  __typename ... on CertificateBound { certificate { id creditCode keyType } } ... on Error { code message } } }"""
CERT_LOGIN = """mutation($input: AuthCertificateLoginInput!) { authCertificateLogin(input: $input) {
  __typename ... on SignedIn { session { accessToken authenticationMethods withheldRoles } }
  ... on Error { code message } } }"""
SMS_REQUEST = """mutation($input: AuthSmsCodeRequestInput!) { authSmsCodeRequest(input: $input) { __typename } }"""
ME = "{ me { organisation { name creditCode } } }"
TRAIL = """query($lotId: ID!) { lotAuditTrail(lotId: $lotId, first: 50) { edges { node {
  action objectType digest signature { id act content signature certificate certificateSha256 verified } } } } }"""
SIGNATURE_VERIFY = """query($id: ID!) { signatureVerify(signatureId: $id) {
  ok signatureValid auditDigestMatches auditSeq } }"""
PACKAGE = "query($lotId: ID!) { evidencePackage(lotId: $lotId) { jws } }"
PACKAGE_VERIFY = "query($jws: String!) { evidencePackageVerify(jws: $jws) { ok reason } }"
SUPERVISED = "{ collusionAlerts(first: 1) { edges { node { id } } } }"
LOT = """query($id: ID!) { node(id: $id) { ... on Lot {
  tradeCode config { requireSignedBids requireTwoFactorForBids } } } }"""
# the supervisor app's own document, as the phone sends it
APP_AUDIT_TRAIL = (OPERATIONS / "app" / "LotAuditTrail.graphql").read_text(encoding="utf-8").rstrip("\n")


def pem(cert: Any) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


async def recognise(api: Any, operator: str, ca: TestCA, at: datetime | None = None) -> list[str]:
    """The operator registers a CA's root and intermediate and uploads the CRL of each (issued an hour before
    `at`, for a clock moved days ahead; by default an hour ago). Returns the two authorities' ids."""
    ids = []
    for cert in (ca.root, ca.intermediate):
        made = (await api.gql(CA_REGISTER, {"input": {"name": ca.name, "certificate": pem(cert)}}, token=operator))[
            "data"
        ]["certificateAuthorityRegister"]
        assert made["__typename"] == "CertificateAuthorityRegistered", made
        ids.append(made["authority"]["id"])
    await renew_crls(api, operator, ca, ids, at)
    return ids


async def renew_crls(api: Any, operator: str, ca: TestCA, ids: list[str], at: datetime | None = None) -> None:
    """Uploads the current CRLs of a recognised CA's root and intermediate (`ids`, as recognise returned them)."""
    this_update = at - timedelta(hours=1) if at is not None else None
    for authority_id, crl in zip(ids, (ca.root_crl(this_update), ca.intermediate_crl(this_update)), strict=True):
        up = await api.gql(CRL_UPLOAD, {"input": {"authorityId": authority_id, "crl": crl}}, token=operator)
        assert up["data"]["certificateCrlUpload"]["__typename"] == "CertificateCrlUploaded", up


async def challenge(api: Any, purpose: str) -> dict[str, Any]:
    issued = (await api.gql(CHALLENGE, {"input": {"purpose": purpose}}))["data"]["certificateChallenge"]
    return issued["challenge"]  # type: ignore[no-any-return]


async def bind(api: Any, token: str, leaf: Leaf) -> dict[str, Any]:
    c = await challenge(api, "BIND")
    body = await api.gql(
        BIND,
        {"input": {"certificate": leaf.pem, "challenge": c["challenge"], "signature": leaf.sign(c["toSign"])}},
        token=token,
    )
    return body["data"]["certificateBind"]  # type: ignore[no-any-return]


async def sms_code(api: Any, phone: str) -> str:
    await api.gql(SMS_REQUEST, {"input": {"phone": phone}})
    text = [t for to, t in api.sms if to == phone][-1]
    return re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]


async def cert_login(api: Any, leaf: Leaf, code: str | None = None) -> dict[str, Any]:
    c = await challenge(api, "SIGN_IN")
    data = {"challenge": c["challenge"], "certificate": leaf.pem, "signature": leaf.sign(c["toSign"])}
    if code is not None:
        data["smsCode"] = code
    return (await api.gql(CERT_LOGIN, {"input": data}))["data"]["authCertificateLogin"]  # type: ignore[no-any-return]


async def signed_lot(api: Any, clock: Any, operator: str) -> dict[str, Any]:
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = (clock.now() + timedelta(days=25)).isoformat()
    config = {"bidDeadline": deadline, "depositRequired": False, "requireSignedBids": True}
    config["requireTwoFactorForBids"] = True
    created = (await api.gql(PROJECT_CREATE, {"input": road_project(clock.now(), config=config)}, token=tenderer))[
        "data"
    ]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    await publish(api, tenderer, created["project"], "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>.</p>")
    return created["project"]["lots"][0]  # type: ignore[no-any-return]


async def test_two_cas_a_signed_sealed_bid_and_a_supervisor_verifying_it(api, manual_clock):
    # given two independent CAs recognised by the operator, and a registered bidder on a lot that requires
    # signed bids from two-factor sessions
    operator = await f.operator_token(api)
    shandong = TestCA("山东CA")
    hubei = TestCA("湖北CA", key_kind="rsa", code_attribute=NameOID.ORGANIZATIONAL_UNIT_NAME)
    await recognise(api, operator, shandong)
    await recognise(api, operator, hubei)
    lot = await signed_lot(api, manual_clock, operator)
    _, phone, password_token = await f.approved_org(api, operator)
    _, _, other_token = await f.approved_org(api, operator)
    org = (await api.gql(ME, token=password_token))["data"]["me"]["organisation"]
    other = (await api.gql(ME, token=other_token))["data"]["me"]["organisation"]
    await commit_over_api(api, password_token, lot["id"], "registration")
    registered = await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=password_token)
    assert registered["data"]["lotRegister"]["__typename"] == "LotRegistered"
    leaf = shandong.issue(org["name"], org["creditCode"])
    other_leaf = hubei.issue(other["name"], other["creditCode"])
    # when the bidder binds its certificate, and another organisation's certificate
    bound = await bind(api, password_token, leaf)
    foreign = await bind(api, password_token, other_leaf)
    # then its own is bound, the other organisation's is refused
    assert bound["__typename"] == "CertificateBound", bound
    assert (bound["certificate"]["creditCode"], bound["certificate"]["keyType"]) == (org["creditCode"], "ec-p256")
    assert foreign["code"] == "CERTIFICATE_WRONG_ORGANISATION"
    # and the other organisation's user binds the RSA certificate of the second CA (mutual recognition)
    assert (await bind(api, other_token, other_leaf))["__typename"] == "CertificateBound"
    assert (await cert_login(api, other_leaf))["session"]["authenticationMethods"] == ["cert"]

    # when the bidder signs the bid-stage commitment with its certificate, bids from a password session, then signs
    # in with the certificate and an SMS code
    committed = {"certificate": leaf.pem, "signature": leaf.sign(commitment_content(lot["tradeCode"], "bid"))}
    await commit_over_api(api, password_token, lot["id"], "bid", committed)
    sealed = seal(new_key(), lot["tradeCode"], 1_234_500_00, {"商务标.pdf": b"%PDF-1.7"})
    content = bid_submit_content(lot["tradeCode"], sealed)
    signature = {"certificate": leaf.pem, "signature": leaf.sign(content)}
    password_bid = await api.gql(
        SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed, "signature": signature}}, token=password_token
    )
    signed_in = await cert_login(api, leaf, await sms_code(api, phone))
    token = signed_in["session"]["accessToken"]
    unsigned = await api.gql(SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed}}, token=token)
    forged = {"certificate": leaf.pem, "signature": leaf.sign(content.replace("sealed_bid", "sealed_bix"))}
    bad = await api.gql(SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed, "signature": forged}}, token=token)
    submitted = await api.gql(
        SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed, "signature": signature}}, token=token
    )
    # then only the two-factor session's correctly signed bid is taken
    assert password_bid["data"]["bidSubmit"]["code"] == "TWO_FACTOR_REQUIRED"
    assert signed_in["session"]["authenticationMethods"] == ["cert", "sms"]
    assert unsigned["data"]["bidSubmit"]["code"] == "SIGNATURE_REQUIRED"
    assert bad["data"]["bidSubmit"]["code"] == "CERTIFICATE_SIGNATURE_INVALID"
    assert submitted["data"]["bidSubmit"]["__typename"] == "BidSubmitted", submitted

    # when a supervisor of the lot's category reads the lot's audit trail and its evidence package
    await api.dispatch()
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    trail = (await api.gql(TRAIL, {"lotId": lot["id"]}, token=supervisor))["data"]["lotAuditTrail"]
    signed = [e["node"] for e in trail["edges"] if e["node"]["signature"]]
    entries = [e for e in signed if e["signature"]["act"] == "sealed_bid.submit"]
    # then the signature is there with its content, certificate and verification, and verifies again (beside the
    # signed credit commitment, act credit.commit)
    assert sorted(e["signature"]["act"] for e in signed) == ["credit.commit", "sealed_bid.submit"]
    assert len(entries) == 1
    found = entries[0]["signature"]
    assert found["act"] == "sealed_bid.submit"
    assert found["content"] == content
    assert found["verified"] is True
    checked = (await api.gql(SIGNATURE_VERIFY, {"id": found["id"]}, token=supervisor))["data"]["signatureVerify"]
    assert checked["ok"], checked
    assert checked["signatureValid"]
    assert checked["auditDigestMatches"]
    assert (
        signatures.verify_evidence(
            {
                "certificate": found["certificate"],
                "certificateSha256": found["certificateSha256"],
                "content": found["content"],
                "contentSha256": hashlib.sha256(found["content"].encode()).hexdigest(),
                "signature": found["signature"],
            }
        )
        is None
    )
    jws = (await api.gql(PACKAGE, {"lotId": lot["id"]}, token=supervisor))["data"]["evidencePackage"]["jws"]
    verified = (await api.gql(PACKAGE_VERIFY, {"jws": jws}, token=supervisor))["data"]["evidencePackageVerify"]
    assert verified == {"ok": True, "reason": None}
    payload = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "=="))
    bid_signatures = [(s["act"], s["content"]) for s in payload["signatures"] if s["act"] != "credit.commit"]
    assert bid_signatures == [("sealed_bid.submit", content)]


async def test_a_platform_setting_keeps_supervisor_powers_for_two_factor_sessions(api, manual_clock):
    # given the platform grants the supervisor role to two-factor sessions only
    operator = await f.operator_token(api)
    ca = TestCA("山东CA")
    await recognise(api, operator, ca)
    phone = await supervisor_phone(api, operator)
    before = adapters.deps.two_factor_roles
    adapters.deps.two_factor_roles = frozenset({Role.SUPERVISOR})
    try:
        # when the supervisor signs in by password, binds a certificate, then signs in with it and an SMS code
        password = await f.login(api, phone)
        refused = await api.gql(SUPERVISED, token=password, expect_errors=True)
        org = (await api.gql(ME, token=password))["data"]["me"]["organisation"]
        leaf = ca.issue(org["name"], org["creditCode"])
        assert (await bind(api, password, leaf))["__typename"] == "CertificateBound"
        session = (await cert_login(api, leaf, await sms_code(api, phone)))["session"]
        allowed = await api.gql(SUPERVISED, token=session["accessToken"])
    finally:
        adapters.deps.two_factor_roles = before
    # then the password session is refused with TWO_FACTOR_REQUIRED, the two-factor one is let in
    assert refused["errors"][0]["extensions"]["code"] == "TWO_FACTOR_REQUIRED"
    assert session["withheldRoles"] == []
    assert "collusionAlerts" in allowed["data"]


@pytest.mark.parametrize("purpose", ["SIGN_IN"])
async def test_a_challenge_signs_in_once(api, manual_clock, purpose):
    operator = await f.operator_token(api)
    ca = TestCA("山东CA")
    await recognise(api, operator, ca)
    _, _, token = await f.approved_org(api, operator)
    org = (await api.gql(ME, token=token))["data"]["me"]["organisation"]
    leaf = ca.issue(org["name"], org["creditCode"])
    await bind(api, token, leaf)
    c = await challenge(api, purpose)
    data = {"challenge": c["challenge"], "certificate": leaf.pem, "signature": leaf.sign(c["toSign"])}
    first = (await api.gql(CERT_LOGIN, {"input": data}))["data"]["authCertificateLogin"]
    second = (await api.gql(CERT_LOGIN, {"input": data}))["data"]["authCertificateLogin"]
    assert first["__typename"] == "SignedIn"
    assert second["code"] == "CERTIFICATE_CHALLENGE_REPLAYED"


async def supervisor_of(api: Any, operator: str, category: str) -> str:
    """A signed-in supervisor of one category."""
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=[category])
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    return await f.login(api, str(form["phone"]))


async def signatures_in_trail(api: Any, lot_id: str, token: str) -> list[dict[str, Any]]:
    """The signatures a supervisor finds in a lot's audit trail with the app's LotAuditTrail, oldest first."""
    body = await api.gql(APP_AUDIT_TRAIL, {"lotId": lot_id}, token=token)
    edges = body["data"]["lotAuditTrail"]["edges"]
    return [e["node"]["signature"] for e in reversed(edges) if e["node"]["signature"]]


def verifies_offline(found: dict[str, Any]) -> bool:
    """What a supervisor checks without the server: hashes of certificate and content, and the signature."""
    signatures.verify_evidence({**found, "contentSha256": hashlib.sha256(found["content"].encode()).hexdigest()})
    return found["contentSha256"] == hashlib.sha256(found["content"].encode()).hexdigest()


async def test_an_auction_lot_requiring_signed_bids_from_two_factor_sessions_holds_every_bid_to_both(api, manual_clock):
    # given an online auction whose lot requires signed bids from two-factor sessions, and two registered bidders
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    rules = {"requireSignedBids": True, "requireTwoFactorForBids": True}
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE, config=rules)
    a, b = await bidders(api, operator, lot_id, 2)
    lot = (await api.gql(LOT, {"id": lot_id}))["data"]["node"]
    assert lot["config"] == {"requireSignedBids": True, "requireTwoFactorForBids": True}
    # and, once bidding opened, a CA the operator recognises, and A's certificate of it bound to A's account
    await at(manual_clock, starts)
    operator = await f.login(api, operator_at)
    ca = TestCA("山东CA")
    await recognise(api, operator, ca, at=manual_clock.now())
    for bidder in (a, b):
        await bidder.fresh()
    org = (await api.gql(ME, token=a.token))["data"]["me"]["organisation"]
    leaf = ca.issue(org["name"], org["creditCode"])
    assert (await bind(api, a.token, leaf))["__typename"] == "CertificateBound"
    content = auction_bid_content(lot["tradeCode"], START_PRICE)
    signature = {"certificate": leaf.pem, "signature": leaf.sign(content)}

    # when A bids, signed, from its password session, and B, unsigned, from its own
    a_by_password = await a.bid(lot_id, START_PRICE, signature=signature)
    b_by_password = await b.bid(lot_id, START_PRICE)
    # and A signs in with the certificate and an SMS code, then bids unsigned, with its signature of another price,
    # and signed (its phone sending that bid twice)
    session = (await cert_login(api, leaf, await sms_code(api, a.phone)))["session"]
    a.token = session["accessToken"]
    unsigned = await a.bid(lot_id, START_PRICE)
    other = {"certificate": leaf.pem, "signature": leaf.sign(auction_bid_content(lot["tradeCode"], START_PRICE + STEP))}
    other_price = await a.bid(lot_id, START_PRICE, signature=other)
    placed = await a.bid(lot_id, START_PRICE, signature=signature, key="signed-bid-1")
    resent = await a.bid(lot_id, START_PRICE, signature=signature, key="signed-bid-1")

    # then only the two-factor session's bid signed over its own price is taken, once
    assert a_by_password["code"] == b_by_password["code"] == "TWO_FACTOR_REQUIRED"
    assert session["authenticationMethods"] == ["cert", "sms"]
    assert unsigned["code"] == "SIGNATURE_REQUIRED"
    assert other_price["code"] == "CERTIFICATE_SIGNATURE_INVALID"
    assert placed["__typename"] == "BidPlaced", placed
    assert resent == placed
    state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]
    assert (state["seq"], state["currentPriceFen"]) == (1, START_PRICE)

    # when a supervisor of land-use rights reads the lot's audit trail on the app
    await api.dispatch()
    supervisor = await supervisor_of(api, operator, "LAND_USE_RIGHTS")
    [found] = await signatures_in_trail(api, lot_id, supervisor)
    # then the bid's signature is there, over the content A signed, and verifies offline and on the server
    assert (found["act"], found["objectType"], found["content"]) == ("auction.bid", "AuctionBid", content)
    assert (found["verified"], found["algorithm"]) == (True, "ES256")
    assert verifies_offline(found)
    checked = (await api.gql(SIGNATURE_VERIFY, {"id": found["id"]}, token=supervisor))["data"]["signatureVerify"]
    assert (checked["ok"], checked["signatureValid"], checked["auditDigestMatches"]) == (True, True, True)


async def test_a_signed_guarantee_issue_and_claim_over_http(api, manual_clock):
    # given an open tender asking security, a bidder's application to a guarantor, and a CA the operator
    # recognises, whose certificates the guarantor's and the tenderer's users bind
    t = await open_tender(api, manual_clock)
    ca = TestCA("湖北CA", key_kind="rsa", code_attribute=NameOID.ORGANIZATIONAL_UNIT_NAME)
    authority_ids = await recognise(api, t.operator, ca)
    _, bidder_phone, bidder = await registered_bidder(api, t)
    applied = await apply(api, bidder, t.lot_id, t.guarantor.org_id, AMOUNT, t.valid_until)
    application = applied["guarantee"]
    guarantor_org = (await api.gql(ME, token=t.guarantor.token))["data"]["me"]["organisation"]
    guarantor_leaf = ca.issue(guarantor_org["name"], guarantor_org["creditCode"])
    assert (await bind(api, t.guarantor.token, guarantor_leaf))["__typename"] == "CertificateBound"
    tenderer = await f.login(api, t.tenderer_phone)
    tenderer_org = (await api.gql(ME, token=tenderer))["data"]["me"]["organisation"]
    tenderer_leaf = ca.issue(tenderer_org["name"], tenderer_org["creditCode"])
    assert (await bind(api, tenderer, tenderer_leaf))["__typename"] == "CertificateBound"
    letter = t.guarantor.sign(t.guarantor.letter(application))
    content = guarantee_issue_content(application["applicationNo"], letter)

    def issue(signed_content: str, leaf: Leaf) -> dict[str, Any]:
        signature = {"certificate": leaf.pem, "signature": leaf.sign(signed_content)}
        return {"input": {"guaranteeId": application["id"], "letterJws": letter, "signature": signature}}

    # when the guarantor issues the letter with a signature over another letter, then over this one
    wrong = await api.gql(
        ISSUE,
        issue(guarantee_issue_content(application["applicationNo"], letter + "x"), guarantor_leaf),
        token=t.guarantor.token,
    )
    untouched = (await api.gql(MINE, {"lotId": t.lot_id}, token=bidder))["data"]["myGuarantees"]["edges"]
    issued = await api.gql(ISSUE, issue(content, guarantor_leaf), token=t.guarantor.token)
    # then the wrong one is refused as data and changes nothing; the right one issues the guarantee
    assert wrong["data"]["guaranteeIssue"]["code"] == "CERTIFICATE_SIGNATURE_INVALID", wrong
    assert [e["node"]["status"] for e in untouched] == ["APPLIED"]
    assert issued["data"]["guaranteeIssue"]["__typename"] == "GuaranteeIssued", issued

    # when, after the bid deadline (the CA's CRLs renewed), the tenderer claims with a signature over another
    # reason, then over its own
    manual_clock.set(t.deadline + timedelta(days=1))
    operator = await f.login(api, t.operator_phone)
    await renew_crls(api, operator, ca, authority_ids, at=manual_clock.now())
    tenderer = await f.login(api, t.tenderer_phone)
    reason = "投标截止后撤销投标文件（实施条例第三十五条）"
    claim_content = guarantee_claim_content(application["applicationNo"], reason)

    def claim(signed_content: str) -> dict[str, Any]:
        signature = {"certificate": tenderer_leaf.pem, "signature": tenderer_leaf.sign(signed_content)}
        fields = {"guaranteeId": application["id"], "amountFen": AMOUNT, "reason": reason, "signature": signature}
        return {"input": fields}

    wrong_claim = await api.gql(
        CLAIM, claim(guarantee_claim_content(application["applicationNo"], "另一理由")), token=tenderer
    )
    bidder = await f.login(api, bidder_phone)
    still = (await api.gql(MINE, {"lotId": t.lot_id}, token=bidder))["data"]["myGuarantees"]["edges"]
    claimed = await api.gql(CLAIM, claim(claim_content), token=tenderer)
    # then the wrong one changes nothing, the right one claims it
    assert wrong_claim["data"]["guaranteeClaim"]["code"] == "CERTIFICATE_SIGNATURE_INVALID", wrong_claim
    assert claimed["data"]["guaranteeClaim"]["__typename"] == "GuaranteeClaimed", claimed
    assert [(e["node"]["status"], e["node"]["claimReason"]) for e in still] == [("ISSUED", None)]
    assert claimed["data"]["guaranteeClaim"]["guarantee"]["claimReason"] == reason

    # when a supervisor of the lot's category reads its audit trail on the app
    await api.dispatch()
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    found = await signatures_in_trail(api, t.lot_id, supervisor)
    # then both signatures are there, over what was signed, and verify offline and on the server
    assert [(s["act"], s["objectType"], s["content"]) for s in found] == [
        ("guarantee.issue", "Guarantee", content),
        ("guarantee.claim", "Guarantee", claim_content),
    ]
    for s in found:
        assert (s["verified"], s["algorithm"]) == (True, "RS256")
        assert verifies_offline(s)
        checked = (await api.gql(SIGNATURE_VERIFY, {"id": s["id"]}, token=supervisor))["data"]["signatureVerify"]
        assert (checked["ok"], checked["auditDigestMatches"]) == (True, True)
