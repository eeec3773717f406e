"""SM2 certificates (GB/T 32918 with SM3, GB/T 35276) beside ECDSA and RSA ones: an SM2 hierarchy validates and
is revoked by its SM2-signed CRLs; SM2 act signatures verify with the default user ID, including those of an
independent SM2 implementation (tests/support/sm2.py); a bad signature, another user ID, a key on the wrong
curve and a signature algorithm that does not match its key are each refused with a typed error."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from cryptography.x509.oid import NameOID

from domain.certificates import errors, pki, services, signatures, sm2
from domain.common.errors import DomainError
from tests.domain.certificates.test_services import OPERATOR, bidder, bind, recognise, ring, sign_in
from tests.support import sm2 as reference
from tests.support.pki import Leaf, TestCA, build_certificate, new_key, public_key_info

__all__ = ["ring"]

CONTENT = '{"act":"auth.sign_in","challenge":"挑战","v":1}'


@pytest.fixture(scope="module")
def gm() -> TestCA:
    """An SM2 CA: root and intermediate SM2 keys, SM2-with-SM3 certificates and CRLs, the credit code in
    serialNumber."""
    return TestCA("国密CA", key_kind="sm2", code_attribute=NameOID.SERIAL_NUMBER)


def trust(*cas: TestCA) -> pki.Trust:
    return pki.Trust(
        roots=[pki.der_of(ca.root) for ca in cas],
        intermediates=[pki.der_of(ca.intermediate) for ca in cas],
        crls=[base64.b64decode(crl) for ca in cas for crl in (ca.root_crl(), ca.intermediate_crl())],
    )


def now() -> datetime:
    return datetime.now(UTC)


def code_of(call: Any) -> str:
    try:
        call()
    except DomainError as err:
        return err.code
    return "accepted"


async def test_an_sm2_path_validates_and_its_certificates_are_sm2(gm):
    # given an SM2 leaf of the SM2 CA
    leaf = gm.issue("青岛测试建设有限公司", "91370200MA3C5R4X2P")
    # when its path is validated against the SM2 root and intermediate with their current CRLs
    path = await pki.validate(leaf.cert, trust(gm), now())
    # then the path reaches the root, the keys are SM2 and the root is self-signed (its SM2 signature checks)
    assert len(path.subjects) == 3
    assert [pki.key_type(c) for c in (gm.root, gm.intermediate, leaf.cert)] == ["sm2", "sm2", "sm2"]
    assert pki.algorithm_of(leaf.cert) == "SM3withSM2"
    assert pki.is_self_signed(gm.root)
    assert not pki.is_self_signed(gm.intermediate)


async def test_all_three_cas_validate_side_by_side():
    # given three CAs: ECDSA P-256, RSA and SM2
    cas = (TestCA("山东CA"), TestCA("湖北CA", key_kind="rsa"), TestCA("国密CA", key_kind="sm2"))
    recognised = trust(*cas)
    # when a leaf of each is validated against all three at once
    kinds = []
    for ca in cas:
        leaf = ca.issue()
        await pki.validate(leaf.cert, recognised, now())
        kinds.append(pki.key_type(leaf.cert))
    # then each validates
    assert kinds == ["ec-p256", "rsa-2048", "sm2"]


async def test_a_revoked_sm2_certificate_and_a_foreign_sm2_crl_are_refused(gm):
    # given an SM2 leaf, revoked on its intermediate's next CRL
    ca = TestCA("国密CA", key_kind="sm2")
    leaf = ca.issue()
    await pki.validate(leaf.cert, trust(ca), now())
    ca.revoke(leaf)
    # when it is validated again, and a CRL of another SM2 CA is checked against this intermediate
    with pytest.raises(errors.CertificateRevoked):
        await pki.validate(leaf.cert, trust(ca), now())
    # then it is revoked, and only the issuer's own SM2 signature makes a CRL its
    assert pki.crl_issued_by(pki.load_crl(ca.intermediate_crl()), ca.intermediate)
    assert not pki.crl_issued_by(pki.load_crl(gm.intermediate_crl()), ca.intermediate)
    assert not pki.crl_issued_by(pki.load_crl(ca.intermediate_crl()), ca.root)


def test_sm2_signatures_of_an_independent_implementation_verify_with_the_default_user_id(gm):
    # given an SM2 leaf
    leaf = gm.issue()
    data = CONTENT.encode()
    # when the content is signed by Tongsuo and by the plain-Python signer, DER and raw r||s
    made = [leaf.sign(data), reference.sign_b64(leaf.key, data), reference.sign_b64(leaf.key, data, raw=True)]
    # then each verifies
    assert [code_of(lambda s=s: pki.verify_signature(leaf.cert, data, s)) for s in made] == ["accepted"] * 3


def test_a_bad_sm2_signature_or_another_user_id_is_refused(gm):
    # given an SM2 leaf and content
    leaf = gm.issue()
    data = CONTENT.encode()
    good = base64.b64decode(leaf.sign(data))
    parsed = algos.DSASignature.load(good)
    r, s = parsed["r"].native, parsed["s"].native
    longer = algos.DSASignature({"r": r, "s": s}).dump() + b"\x00"
    cases = {
        "another content": leaf.sign(data + b" "),
        "another key": gm.issue().sign(data),
        "another user ID": reference.sign_b64(leaf.key, data, user_id=b"ALICE123@YAHOO.COM"),
        "empty user ID": reference.sign_b64(leaf.key, data, user_id=b""),
        "s + n": base64.b64encode(algos.DSASignature({"r": r, "s": s + sm2.ORDER}).dump()).decode(),
        "r = 0": base64.b64encode(algos.DSASignature({"r": 0, "s": s}).dump()).decode(),
        "trailing byte": base64.b64encode(longer).decode(),
        "not DER": base64.b64encode(b"\x30\x02\x01").decode(),
        "flipped bit": base64.b64encode(good[:-1] + bytes([good[-1] ^ 1])).decode(),
    }
    # when each is checked
    found = {name: code_of(lambda v=value: pki.verify_signature(leaf.cert, data, v)) for name, value in cases.items()}
    # then each is CERTIFICATE_SIGNATURE_INVALID
    assert found == dict.fromkeys(cases, "CERTIFICATE_SIGNATURE_INVALID")


def test_an_sm2_signature_under_an_ecdsa_certificate_is_refused(gm):
    # given a P-256 leaf, and an SM2 signature over the content made with another (SM2) key
    leaf = TestCA("山东CA").issue()
    data = CONTENT.encode()
    # when the SM2 signature is presented with the P-256 certificate
    # then it does not verify
    assert code_of(lambda: pki.verify_signature(leaf.cert, data, gm.issue().sign(data))) == (
        "CERTIFICATE_SIGNATURE_INVALID"
    )


def _spki_on_sm2_curve_with(point: bytes) -> asn1_keys.PublicKeyInfo:
    spki = public_key_info(new_key("sm2"))
    return asn1_keys.PublicKeyInfo({"algorithm": spki["algorithm"], "public_key": point})


async def test_keys_on_the_wrong_curve_are_unsupported(gm):
    # given an SM2 intermediate issuing a P-384 leaf, and a leaf whose key names the SM2 curve but is no point on it
    p384 = gm.issue(key_kind="ec-p384")
    now_ = now()
    off_curve = build_certificate(
        p384.cert.subject,
        gm.intermediate.subject,
        _spki_on_sm2_curve_with(b"\x04" + b"\x01" * 64),
        gm.inter_key,
        not_before=now_ - timedelta(days=1),
        not_after=now_ + timedelta(days=30),
        key_usage={"digital_signature"},
    )
    # when their key types are read and a signature by them is checked
    # then both are CERTIFICATE_ALGORITHM_UNSUPPORTED
    assert code_of(lambda: pki.key_type(p384.cert)) == "CERTIFICATE_ALGORITHM_UNSUPPORTED"
    assert code_of(lambda: pki.key_type(off_curve)) == "CERTIFICATE_ALGORITHM_UNSUPPORTED"
    signed = p384.sign(b"x")
    assert code_of(lambda: pki.verify_signature(off_curve, b"x", signed)) == "CERTIFICATE_ALGORITHM_UNSUPPORTED"


async def test_a_signature_algorithm_that_does_not_match_the_issuer_key_breaks_the_path(gm):
    # given two leaves under the SM2 intermediate: one signed by a P-256 key but labelled sm2sign-with-sm3,
    # one signed with SM2 but labelled ecdsa-with-SHA256; and a leaf of a P-256 CA labelled SM2
    ecdsa_ca = TestCA("山东CA")
    now_ = now()
    subject = gm.issue().cert.subject

    def leaf(issuer: TestCA, algorithm: str, signer: Any = None) -> Any:
        return build_certificate(
            subject,
            issuer.intermediate.subject,
            new_key("sm2"),
            signer or issuer.inter_key,
            not_before=now_ - timedelta(days=1),
            not_after=now_ + timedelta(days=30),
            key_usage={"digital_signature"},
            algorithm=algorithm,
            issuer_key=issuer.inter_key,
        )

    made = {
        "P-256 signature labelled SM2": leaf(gm, sm2.SM2_WITH_SM3, ecdsa_ca.inter_key),
        "SM2 signature labelled ECDSA": leaf(gm, "sha256_ecdsa"),
        "P-256 issuer, SM2 label": leaf(ecdsa_ca, sm2.SM2_WITH_SM3),
    }
    found = {}
    # when each path is validated against both CAs
    for name, cert in made.items():
        try:
            await pki.validate(cert, trust(gm, ecdsa_ca), now_)
            found[name] = "accepted"
        except DomainError as err:
            found[name] = err.code
    # then none validates: the signature check fails with a typed error
    assert found == dict.fromkeys(made, "CERTIFICATE_INVALID")


def test_an_sm2_signature_carried_by_an_evidence_package_verifies_offline(gm):
    # given an SM2 signature as an evidence package carries it
    leaf = gm.issue()
    item = {
        "certificate": pki.b64(pki.der_of(leaf.cert)),
        "certificateSha256": pki.fingerprint(leaf.cert),
        "content": CONTENT,
        "contentSha256": hashlib.sha256(CONTENT.encode()).hexdigest(),
        "signature": leaf.sign(CONTENT),
    }
    # when it is verified, and verified with another content
    signatures.verify_evidence(item)
    tampered = {**item, "content": CONTENT + " ", "contentSha256": hashlib.sha256((CONTENT + " ").encode()).hexdigest()}
    # then the first verifies and the second is CERTIFICATE_SIGNATURE_INVALID
    assert code_of(lambda: signatures.verify_evidence(tampered)) == "CERTIFICATE_SIGNATURE_INVALID"


async def test_an_sm2_ca_is_recognised_and_its_certificate_binds_and_signs_in(ring, gm):
    # given the SM2 CA recognised by the operator (root detected by its SM2 self-signature, CRLs checked)
    await recognise(gm)
    person, actor = await bidder()
    org = await person.organisation
    leaf: Leaf = gm.issue(org.name, org.credit_code)
    # when the bidder binds its SM2 certificate and signs in with it
    bound = await bind(actor, leaf)
    session = await sign_in(leaf)
    # then the binding carries the credit code from serialNumber and the key type sm2, and the session is the bidder's
    assert (bound.credit_code, bound.key_type) == (org.credit_code, "sm2")
    assert session.user.id == person.id
    assert ring.verify(session.access_token)["amr"] == ["cert"]
    # and a CRL of the root uploaded for the intermediate is refused
    inter = next(ca for ca in await services.authorities(OPERATOR) if not ca.is_root)
    with pytest.raises(errors.CrlWrongIssuer):
        await services.upload_crl(OPERATOR, inter.id, gm.root_crl())
