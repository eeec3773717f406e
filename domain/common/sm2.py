"""SM2 signatures with SM3 (GB/T 32918.2, GB/T 35276): the key of a SubjectPublicKeyInfo and the check of a
signature over bytes, shared by certificates, CRLs and signed acts (domain/certificates/sm2.py) and by the credit
exchange's SM2 packages (domain/credit/sm2_jws.py).

The arithmetic is Tongsuo's (the OpenAtom Foundation's OpenSSL fork, through tongsuopy). The user ID is the default
of GB/T 35276 ("1234567812345678"), the one Chinese CAs and client SDKs use unless told otherwise; a signature made
with another ID does not verify.
"""

from __future__ import annotations

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from tongsuopy.crypto import exceptions as tongsuo_errors
from tongsuopy.crypto import hashes as tongsuo_hashes
from tongsuopy.crypto.asymciphers import ec as tongsuo_ec

EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SM2_CURVE = "1.2.156.10197.1.301"  # GM/T 0006: the SM2 elliptic curve (sm2p256v1)
SM2_WITH_SM3 = "1.2.156.10197.1.501"  # GM/T 0006: sm2sign-with-sm3
DEFAULT_USER_ID = b"1234567812345678"  # GB/T 35276-2017: the default user ID, which Tongsuo applies
ORDER = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


def is_sm2_key(spki: keys.PublicKeyInfo) -> bool:
    """An EC public key on the SM2 curve (id-ecPublicKey with the sm2p256v1 parameters, GM/T 0015)."""
    try:
        algorithm = spki["algorithm"]
        if algorithm["algorithm"].dotted != EC_PUBLIC_KEY:
            return False
        parameters = algorithm["parameters"]
        return bool(parameters.name == "named" and parameters.chosen.dotted == SM2_CURVE)
    except (KeyError, ValueError, AttributeError, TypeError):
        return False


def public_key(spki: keys.PublicKeyInfo) -> tongsuo_ec.EllipticCurvePublicKey:
    """The SM2 key of a SubjectPublicKeyInfo; ValueError when it is not a point of the SM2 curve."""
    if not is_sm2_key(spki):
        raise ValueError("not an SM2 key")
    point = spki["public_key"].native
    if not isinstance(point, bytes) or len(point) != 65 or point[0] != 0x04:
        raise ValueError("an SM2 key is an uncompressed point")
    try:
        return tongsuo_ec.EllipticCurvePublicKey.from_encoded_point(tongsuo_ec.SM2(), point)
    except (ValueError, tongsuo_errors.InternalError) as err:
        raise ValueError("not a point of the SM2 curve") from err


def der_signature(signature: bytes) -> bytes:
    """The DER SEQUENCE {r, s} (GB/T 35276) of an SM2 signature given as DER or as raw r||s (64 bytes, as
    several JavaScript and mini-program SDKs give it); InvalidSignature unless 1 <= r, s < n."""
    try:
        if len(signature) == 64 and signature[0] != 0x30:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        else:
            parsed = algos.DSASignature.load(signature, strict=True)
            r, s = parsed["r"].native, parsed["s"].native
            if parsed.dump(force=True) != signature:
                raise InvalidSignature()
    except (ValueError, TypeError, KeyError):
        raise InvalidSignature() from None
    if not (isinstance(r, int) and isinstance(s, int) and 0 < r < ORDER and 0 < s < ORDER):
        raise InvalidSignature()
    return bytes(algos.DSASignature({"r": r, "s": s}).dump())


def verify(spki: keys.PublicKeyInfo, signature: bytes, data: bytes) -> None:
    """InvalidSignature unless `signature` is SM2 with SM3 over `data` by the key, with the default user ID."""
    try:
        key = public_key(spki)
    except ValueError:
        raise InvalidSignature() from None
    der = der_signature(signature)
    try:
        key.verify(der, data, tongsuo_ec.ECDSA(tongsuo_hashes.SM3()))
    except (tongsuo_errors.InvalidSignature, tongsuo_errors.InternalError, ValueError):
        raise InvalidSignature() from None
