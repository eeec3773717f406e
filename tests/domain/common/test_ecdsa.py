"""ES256 signatures in one canonical form (issue 19): the platform signs low-S and refuses the high-S twin of a
valid signature, in access tokens, evidence packages and archive manifests."""

from __future__ import annotations

import base64

import pytest
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey

from domain.accounts.tokens import KeyRing
from domain.common import ecdsa
from domain.supervision import evidence
from tests import factories as f

ME = "query { me { user { name } } }"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def flipped(token: str) -> str:
    """The same compact JWS with s replaced by n - s: still a valid ECDSA signature, in its other form."""
    header, payload, signature = token.split(".")
    other = base64.urlsafe_b64encode(ecdsa.high_s(_unb64(signature))).decode().rstrip("=")
    return f"{header}.{payload}.{other}"


def test_the_platform_signs_low_s_and_refuses_high_s():
    key = ECKey.generate_key("P-256")
    for n in range(40):  # OpenSSL draws s high about half the time
        token = jws.serialize_compact({"alg": "ES256"}, f"payload {n}", key, registry=ecdsa.ES256)
        assert ecdsa.is_low_s(_unb64(token.split(".")[2]))
        assert jws.deserialize_compact(token, key, registry=ecdsa.ES256).payload == f"payload {n}".encode()
        with pytest.raises(BadSignatureError):
            jws.deserialize_compact(flipped(token), key, registry=ecdsa.ES256)


async def test_an_access_token_with_its_signature_flipped_to_high_s_is_refused(api):
    # given a signed-in operator's token, which works
    token = await f.operator_token(api)
    assert (await api.gql(ME, token=token))["data"]["me"]["user"]
    # when the same token is sent with s replaced by n - s
    body = await api.gql(ME, token=flipped(token), expect_errors=True)
    # then it is refused as a bad token
    assert body.get("data") is None or body["data"].get("me") is None, body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


async def test_an_evidence_package_with_its_signature_flipped_to_high_s_does_not_verify(db):
    # given a package signed by the platform
    ring = KeyRing()
    await ring.load()
    token, _ = await evidence.sign({"format": "none"}, ring, evidence.TYP)
    with pytest.raises(evidence.EvidenceInvalid) as signed:
        evidence.verify_package(token, ring.jwks())
    assert "signature" not in signed.value.params["reason"]  # the signature held; the made-up content did not
    # when its signature is flipped, then it does not verify
    with pytest.raises(evidence.EvidenceInvalid) as refused:
        evidence.verify_package(flipped(token), ring.jwks())
    assert "signature" in refused.value.params["reason"]
