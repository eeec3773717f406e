"""SM2 signing with SM3 written from GB/T 32918.2 in plain Python, independent of Tongsuo: the tests sign with
it as a client SDK would (any user ID, any nonce), so the platform's verification is checked against a
second implementation, and a client that used another user ID can be played."""

from __future__ import annotations

import base64
import secrets

from asn1crypto import algos
from cryptography.hazmat.primitives import hashes

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)
DEFAULT_USER_ID = b"1234567812345678"

Point = tuple[int, int] | None


def _add(p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    rise, run = (3 * x1 * x1 + A, 2 * y1) if p1 == p2 else (y2 - y1, x2 - x1)
    slope = rise * pow(run, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def multiply(k: int, point: Point = G) -> Point:
    result: Point = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _z(public: tuple[int, int], user_id: bytes) -> bytes:
    """Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A), GB/T 32918.2 §5.5."""
    parts = [(8 * len(user_id)).to_bytes(2, "big"), user_id]
    parts += [v.to_bytes(32, "big") for v in (A, B, G[0], G[1], public[0], public[1])]
    return _sm3(b"".join(parts))


def sign(private_value: int, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """The DER SEQUENCE {r, s} of SM2 with SM3 over `data` (GB/T 32918.2 §6.1)."""
    public = multiply(private_value)
    assert public is not None
    e = int.from_bytes(_sm3(_z(public, user_id) + data), "big")
    while True:
        k = secrets.randbelow(N - 1) + 1
        point = multiply(k)
        assert point is not None
        r = (e + point[0]) % N
        if r == 0 or r + k == N:
            continue
        s = pow(1 + private_value, -1, N) * (k - r * private_value) % N
        if s:
            return bytes(algos.DSASignature({"r": r, "s": s}).dump())


def sign_b64(key: object, data: str | bytes, user_id: bytes = DEFAULT_USER_ID, *, raw: bool = False) -> str:
    """A base64 signature by a tongsuopy SM2 private key, DER or raw r||s (64 bytes)."""
    private_value = key.private_numbers().private_value  # type: ignore[attr-defined]
    der = sign(private_value, data.encode() if isinstance(data, str) else data, user_id)
    if raw:
        parsed = algos.DSASignature.load(der)
        der = parsed["r"].native.to_bytes(32, "big") + parsed["s"].native.to_bytes(32, "big")
    return base64.b64encode(der).decode()


def public_point(private_value: int) -> tuple[int, int]:
    point = multiply(private_value)
    assert point is not None
    return point


def verify(public: tuple[int, int], signature_rs: bytes, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bool:
    """SM2 with SM3 verification of r||s (GB/T 32918.2 §7.1), independent of Tongsuo."""
    if len(signature_rs) != 64:
        return False
    r, s = int.from_bytes(signature_rs[:32], "big"), int.from_bytes(signature_rs[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    t = (r + s) % N
    if t == 0:
        return False
    point = _add(multiply(s), multiply(t, public))
    if point is None:
        return False
    e = int.from_bytes(_sm3(_z(public, user_id) + data), "big")
    return (e + point[0]) % N == r
