"""SM2 certificates over HTTP (国密, CA互认): the operator recognises an ECDSA, an RSA and an SM2 CA at once; a
bidder binds its SM2 certificate, signs in with it and an SMS code, submits a sealed bid signed with SM2 with
SM3, and a supervisor verifies that signature; a signature made with another user ID is refused, and once the
SM2 CA revokes the certificate it signs in no more."""

from __future__ import annotations

from datetime import timedelta

from cryptography.x509.oid import NameOID

from mobile_contract.sealed_bid import new_key, seal
from mobile_contract.signing import bid_submit_content
from tests import factories as f
from tests.scenarios.test_certificates import (
    ME,
    PACKAGE,
    PACKAGE_VERIFY,
    SIGNATURE_VERIFY,
    bind,
    cert_login,
    challenge,
    recognise,
    renew_crls,
    signed_lot,
    sms_code,
)
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_sealed_bids import REGISTER, SUBMIT
from tests.support import sm2
from tests.support.commitments import commit_over_api
from tests.support.commitments import content as commitment_content
from tests.support.pki import TestCA

CERT_LOGIN = """mutation($input: AuthCertificateLoginInput!) { authCertificateLogin(input: $input) {
  __typename ... on Error { code } } }"""
TRAIL = """query($lotId: ID!) { lotAuditTrail(lotId: $lotId, first: 50) { edges { node {
  signature { id act content algorithm verified } } } } }"""


async def test_three_cas_recognised_at_once_and_an_sm2_signed_sealed_bid(api, manual_clock):
    # given an ECDSA, an RSA and an SM2 CA recognised by the operator, and a bidder of each on a lot that
    # requires signed bids from two-factor sessions
    operator = await f.operator_token(api)
    cas = [
        TestCA("山东CA"),
        TestCA("湖北CA", key_kind="rsa", code_attribute=NameOID.ORGANIZATIONAL_UNIT_NAME),
        TestCA("国密CA", key_kind="sm2", code_attribute=NameOID.SERIAL_NUMBER),
    ]
    for ca in cas:
        await recognise(api, operator, ca)
    lot = await signed_lot(api, manual_clock, operator)
    bidders = [await f.approved_org(api, operator) for _ in cas]
    orgs = [(await api.gql(ME, token=token))["data"]["me"]["organisation"] for _, _, token in bidders]
    leaves = [ca.issue(org["name"], org["creditCode"]) for ca, org in zip(cas, orgs, strict=True)]
    # when each binds the certificate its CA issued and signs in with it
    bound = [await bind(api, token, leaf) for (_, _, token), leaf in zip(bidders, leaves, strict=True)]
    signed_in = [await cert_login(api, leaf) for leaf in leaves]
    # then the three CAs are recognised side by side, the SM2 certificate among them
    assert [b["certificate"]["keyType"] for b in bound] == ["ec-p256", "rsa-2048", "sm2"], bound
    assert [s["__typename"] for s in signed_in] == ["SignedIn"] * 3, signed_in

    # when the SM2 bidder registers, signs in with its certificate and an SMS code, and submits a sealed bid
    # signed with SM2, after one signed with another user ID
    _, phone, password_token = bidders[2]
    leaf = leaves[2]
    for stage in ("registration", "bid"):  # its certificate is bound: the commitments are signed with it
        committed = {"certificate": leaf.pem, "signature": leaf.sign(commitment_content(lot["tradeCode"], stage))}
        await commit_over_api(api, password_token, lot["id"], stage, committed)
        if stage == "registration":
            registered = await api.gql(REGISTER, {"input": {"lotId": lot["id"]}}, token=password_token)
            assert registered["data"]["lotRegister"]["__typename"] == "LotRegistered"
    token = (await cert_login(api, leaf, await sms_code(api, phone)))["session"]["accessToken"]
    sealed = seal(new_key(), lot["tradeCode"], 1_234_500_00, {"商务标.pdf": b"%PDF-1.7"})
    content = bid_submit_content(lot["tradeCode"], sealed)
    other_id = {"certificate": leaf.pem, "signature": sm2.sign_b64(leaf.key, content, user_id=b"ALICE123@YAHOO.COM")}
    refused = await api.gql(
        SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed, "signature": other_id}}, token=token
    )
    signature = {"certificate": leaf.pem, "signature": leaf.sign(content)}
    submitted = await api.gql(
        SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed, "signature": signature}}, token=token
    )
    # then only the default user ID's signature is taken
    assert refused["data"]["bidSubmit"]["code"] == "CERTIFICATE_SIGNATURE_INVALID"
    assert submitted["data"]["bidSubmit"]["__typename"] == "BidSubmitted", submitted

    # when a supervisor of the lot's category reads the audit trail, checks the signature and the evidence package
    await api.dispatch()
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    trail = (await api.gql(TRAIL, {"lotId": lot["id"]}, token=supervisor))["data"]["lotAuditTrail"]
    signed = [e["node"]["signature"] for e in trail["edges"] if e["node"]["signature"]]
    found = [s for s in signed if s["act"] != "credit.commit"]  # beside its signed credit commitment
    checked = (await api.gql(SIGNATURE_VERIFY, {"id": found[0]["id"]}, token=supervisor))["data"]["signatureVerify"]
    jws = (await api.gql(PACKAGE, {"lotId": lot["id"]}, token=supervisor))["data"]["evidencePackage"]["jws"]
    verified = (await api.gql(PACKAGE_VERIFY, {"jws": jws}, token=supervisor))["data"]["evidencePackageVerify"]
    # then the SM2 signature is there, named SM3withSM2, and verifies again, alone and in the package
    assert [(s["act"], s["content"], s["algorithm"], s["verified"]) for s in found] == [
        ("sealed_bid.submit", content, "SM3withSM2", True)
    ]
    assert (checked["ok"], checked["signatureValid"], checked["auditDigestMatches"]) == (True, True, True)
    assert verified == {"ok": True, "reason": None}


async def test_a_revoked_sm2_certificate_no_longer_signs_in(api, manual_clock):
    # given a bidder signed in with its SM2 certificate
    operator = await f.operator_token(api)
    ca = TestCA("国密CA", key_kind="sm2")
    ids = await recognise(api, operator, ca)
    _, _, token = await f.approved_org(api, operator)
    org = (await api.gql(ME, token=token))["data"]["me"]["organisation"]
    leaf = ca.issue(org["name"], org["creditCode"])
    assert (await bind(api, token, leaf))["__typename"] == "CertificateBound"
    assert (await cert_login(api, leaf))["__typename"] == "SignedIn"
    # when the SM2 CA revokes it and the operator uploads the CA's new CRLs
    ca.revoke(leaf)
    await renew_crls(api, operator, ca, ids, at=manual_clock.now() + timedelta(minutes=30))
    issued = await challenge(api, "SIGN_IN")
    data = {"challenge": issued["challenge"], "certificate": leaf.pem, "signature": leaf.sign(issued["toSign"])}
    refused = (await api.gql(CERT_LOGIN, {"input": data}))["data"]["authCertificateLogin"]
    # then signing in with it is refused as revoked
    assert refused == {"__typename": "CertificateRevoked", "code": "CERTIFICATE_REVOKED"}
