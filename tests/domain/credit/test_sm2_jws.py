"""SM2 packages (domain/credit/sm2_jws.py): keys as JWKs with crv SM2, signatures r||s over the JWS signing input,
checked against tests/support/sm2.py, an SM2 written independently of Tongsuo."""

from __future__ import annotations

import pytest
from asn1crypto import algos
from cryptography.exceptions import InvalidSignature
from tongsuopy.crypto.asymciphers import ec as sm_ec

from domain.credit import sm2_jws
from tests.support import sm2


def test_a_package_signed_here_verifies_with_the_independent_implementation_and_back():
    # given a key
    key = sm_ec.generate_private_key(sm_ec.SM2())
    kid, public = sm2_jws.public_jwk(sm2_jws.jwk_of(key))
    # when a payload is signed
    token = sm2_jws.sign({"alg": "SM2SM3", "kid": kid}, b'{"v":1}', key)
    head, body, signature = token.split(".")
    point = (int.from_bytes(sm2_jws.unb64url(public["x"]), "big"), int.from_bytes(sm2_jws.unb64url(public["y"]), "big"))
    # then both implementations accept it, over exactly the signing input
    assert sm2.verify(point, sm2_jws.unb64url(signature), f"{head}.{body}".encode())
    assert sm2_jws.verify(token, public) == b'{"v":1}'
    with pytest.raises(InvalidSignature):
        sm2_jws.verify(f"{head}.{sm2_jws.b64url(b'{}')}.{signature}", public)


def test_a_signature_made_with_another_user_id_does_not_verify():
    # given a key and a payload signed with a user ID other than the default one
    key = sm_ec.generate_private_key(sm_ec.SM2())
    _, public = sm2_jws.public_jwk(sm2_jws.jwk_of(key))
    head, body = sm2_jws.b64url(b'{"alg":"SM2SM3"}'), sm2_jws.b64url(b"{}")
    der = sm2.sign(key.private_numbers().private_value, f"{head}.{body}".encode(), user_id=b"ALICE123@YAHOO.COM")
    r_s = _rs(der)
    # then
    with pytest.raises(InvalidSignature):
        sm2_jws.verify(f"{head}.{body}.{sm2_jws.b64url(r_s)}", public)


def _rs(der: bytes) -> bytes:
    parsed = algos.DSASignature.load(der)
    return bytes(parsed["r"].native.to_bytes(32, "big") + parsed["s"].native.to_bytes(32, "big"))


@pytest.mark.parametrize(
    "change",
    [
        {"crv": "P-256"},
        {"kty": "RSA"},
        {"d": "AAAA"},
        {"x": "AAAA"},
        {"y": sm2_jws.b64url((7).to_bytes(32, "big"))},
        {"x": "not base64!"},
    ],
)
def test_a_key_that_is_not_a_public_sm2_point_is_refused(change):
    # given a good key, changed
    good = sm2_jws.jwk_of(sm_ec.generate_private_key(sm_ec.SM2()))
    # when / then
    with pytest.raises(ValueError):  # noqa: PT011
        sm2_jws.public_jwk({**good, **change})
