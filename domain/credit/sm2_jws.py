"""Credit-exchange packages signed with SM2 (GM/T 0003 / GB/T 32918.2, SM3 digest, the default user ID
1234567812345678 of GB/T 35276): the compact JWS of RFC 7515 with this platform's names for what JOSE has not
registered (mobile_contract/CREDIT_EXCHANGE.md, "SM2 packages"):

- the header's `alg` is "SM2SM3";
- a key is the JWK {"kty": "EC", "crv": "SM2", "x", "y"}, the coordinates base64url without padding, 32 bytes each;
  its `kid` is the RFC 7638 thumbprint (SHA-256 over {"crv", "kty", "x", "y"}, as for any EC key);
- the signature is SM2 with SM3 over the ASCII signing input BASE64URL(header) "." BASE64URL(payload), encoded as
  ES256's is (RFC 7518 §3.4): r || s, 32 bytes each, big-endian, then base64url.

Verification is domain/common/sm2.py's (Tongsuo, as for certificates); signing uses the same library (tongsuopy).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec

from domain.common import sm2

ALG = "SM2SM3"
CRV = "SM2"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: Any) -> bytes:
    """Strict base64url without padding; ValueError for anything else."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError("not base64url") from err


def is_sm2_jwk(jwk: Any) -> bool:
    return isinstance(jwk, dict) and jwk.get("kty") == "EC" and jwk.get("crv") == CRV


def _spki(point: bytes) -> keys.PublicKeyInfo:
    return keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": ("named", sm2.SM2_CURVE)}, "public_key": point}
    )


def _point(public: dict[str, Any]) -> bytes:
    x, y = unb64url(public.get("x")), unb64url(public.get("y"))
    if len(x) != 32 or len(y) != 32:
        raise ValueError("an SM2 coordinate is 32 bytes")
    return b"\x04" + x + y


def thumbprint(public: dict[str, Any]) -> str:
    """RFC 7638: base64url SHA-256 of the required members in lexicographic order, no whitespace."""
    members = {"crv": public["crv"], "kty": public["kty"], "x": public["x"], "y": public["y"]}
    return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


def public_jwk(jwk: Any) -> tuple[str, dict[str, Any]]:
    """(kid, the public JWK as stored) of an SM2 public key; ValueError unless it is a point of the SM2 curve and
    carries no private part."""
    if not is_sm2_jwk(jwk) or "d" in jwk:
        raise ValueError("not a public SM2 JWK")
    sm2.public_key(_spki(_point(jwk)))  # ValueError off the curve
    public = {"kty": "EC", "crv": CRV, "x": jwk["x"], "y": jwk["y"]}
    return thumbprint(public), public


def verify(token: str, public: dict[str, Any]) -> bytes:
    """The payload of a compact JWS signed "SM2SM3" by the key; InvalidSignature otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidSignature()
    try:
        signature = unb64url(parts[2])
        payload = unb64url(parts[1])
        point = _point(public)
    except ValueError:
        raise InvalidSignature() from None
    if len(signature) != 64:  # r || s as in ES256; a DER signature is not this format
        raise InvalidSignature()
    sm2.verify(_spki(point), signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    return payload


def load_private_key(pem: bytes) -> sm_ec.EllipticCurvePrivateKey:
    """An SM2 private key from PKCS#8 PEM; ValueError for any other key."""
    key = sm_serialization.load_pem_private_key(pem, None)
    if not isinstance(key, sm_ec.EllipticCurvePrivateKey) or key.curve.name.upper() != CRV:
        raise ValueError("not an SM2 private key")
    return key


def jwk_of(key: sm_ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The public JWK of a private SM2 key (what a partner registers for this platform)."""
    point = key.public_key().public_bytes(
        sm_serialization.Encoding.X962, sm_serialization.PublicFormat.UncompressedPoint
    )
    return {"kty": "EC", "crv": CRV, "x": b64url(point[1:33]), "y": b64url(point[33:65])}


def sign(header: dict[str, Any], payload: bytes, key: sm_ec.EllipticCurvePrivateKey) -> str:
    """The compact JWS of `payload` under `header` (whose alg must be SM2SM3), signed with the SM2 key."""
    assert header.get("alg") == ALG
    head = b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
    body = b64url(payload)
    der = key.sign(f"{head}.{body}".encode("ascii"), sm_ec.ECDSA(sm_hashes.SM3()))
    parsed = algos.DSASignature.load(der)
    raw = parsed["r"].native.to_bytes(32, "big") + parsed["s"].native.to_bytes(32, "big")
    return f"{head}.{body}.{b64url(raw)}"
