"""ES256 in one canonical form: an ECDSA signature (r, s) is as valid as (r, n - s), so the platform signs with
the low s (s <= n/2) and accepts no other. Without this, anyone holding a token, an evidence package or an
archive manifest could make a second, different string that verifies (a token that escapes a cache or a list
keyed by its text, a package that hashes differently).

Pass ES256 where joserfc takes a registry; joserfc's own ES256 signs with whichever s OpenSSL drew.
"""

from __future__ import annotations

from joserfc.jwa import ESAlgorithm
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF = P256_ORDER // 2
_LENGTH = 32  # bytes of r and of s in a P-256 signature


def split(signature: bytes) -> tuple[int, int]:
    """(r, s) of a P-256 signature in compact form (r || s, 32 bytes each)."""
    return int.from_bytes(signature[:_LENGTH], "big"), int.from_bytes(signature[_LENGTH:], "big")


def is_low_s(signature: bytes) -> bool:
    """Whether a compact P-256 signature is in the canonical form: 64 bytes, 0 < s <= n/2."""
    return len(signature) == 2 * _LENGTH and 0 < split(signature)[1] <= _HALF


def low_s(signature: bytes) -> bytes:
    """The canonical form of a compact P-256 signature (the same signature with s replaced by n - s if high)."""
    r, s = split(signature)
    if s > _HALF:
        s = P256_ORDER - s
    return r.to_bytes(_LENGTH, "big") + s.to_bytes(_LENGTH, "big")


def high_s(signature: bytes) -> bytes:
    """The other form of a compact P-256 signature: s replaced by n - s (what an attacker would send)."""
    r, s = split(signature)
    return r.to_bytes(_LENGTH, "big") + (P256_ORDER - s).to_bytes(_LENGTH, "big")


class CanonicalES256(ESAlgorithm):
    """joserfc's ES256, signing low-S and verifying low-S only."""

    def __init__(self) -> None:
        super().__init__("ES256", "P-256", 256, recommended=True)

    def sign(self, msg: bytes, key: ECKey) -> bytes:
        return low_s(super().sign(msg, key))

    def verify(self, msg: bytes, sig: bytes, key: ECKey) -> bool:
        return is_low_s(sig) and super().verify(msg, sig, key)


class _Registry(JWSRegistry):
    algorithms = {**JWSRegistry.algorithms, "ES256": CanonicalES256()}  # noqa: RUF012 (joserfc's class attribute)


ES256 = _Registry(algorithms=["ES256"])
"""The JWS registry of every ES256 signature the platform makes or checks: ES256 only, canonical only."""
