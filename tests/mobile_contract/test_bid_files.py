"""Bid files sealed on the phone open at the opening with the bid key, and only with it, unaltered and whole."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pyrage
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from domain.tendering.bid_files import BadBidFile, OpenedFile, open_file
from domain.tendering.sealing import CannotDecrypt
from mobile_contract.bid_files import identity_for, padded_size, recipient_for, seal_file
from mobile_contract.sealed_bid import new_key

MIB = 1 << 20
DOC = (Path(__file__).resolve().parents[2] / "mobile_contract" / "BID_FILES.md").read_text()
VECTOR_KEY = {"kty": "oct", "k": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}
VECTOR_SCALAR = "935faa13027d44e8cf9fa4829eb7325d0bd5fe1fb729e24d55540f7a410af2c2"
VECTOR_PUBLIC = "ed726de9c9ec078c9617b93e65a33fd7f8b9de461f63087c413a218dd6206e42"
VECTOR_IDENTITY = "AGE-SECRET-KEY-1JD065YCZ04ZW3NUL5JPFADEJT59ATLSLKU57YN242S8H5SG27TPQDAJU4K"
VECTOR_RECIPIENT = "age1a4exm6wfasrce9shhylxtgel6lutnhjxra3sslzp8gscm43qdepqhvvtts"
VECTOR_SIZES = [
    (0, 1_048_576, 1_048_848),
    (1, 1_048_576, 1_048_848),
    (1_048_575, 1_048_576, 1_048_848),
    (1_048_576, 2_097_152, 2_097_680),
    (3_670_016, 4_194_304, 4_195_344),
    (16_777_215, 16_777_216, 16_781_328),
    (16_777_216, 18_874_368, 18_878_992),
    (20_000_000, 20_971_520, 20_976_656),
    (50_000_000, 50_331_648, 50_343_952),
    (300_000_000, 301_989_888, 302_063_632),
]


def _bech32_data(text: str) -> bytes:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    words = text.lower().rpartition("1")[2][:-6]
    bits = "".join(f"{charset.index(c):05b}" for c in words)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - 7, 8))


def _header_length(sealed: bytes) -> int:
    return sealed.index(b"\n", sealed.index(b"\n--- ") + 1) + 1


def _seal(data: bytes, key: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    seal_file(io.BytesIO(data), out, key)
    return out.getvalue()


def _open(sealed: bytes, key: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    open_file(io.BytesIO(sealed), out, key)
    return out.getvalue()


def test_the_published_vector_holds() -> None:
    prk = hmac.new(bytes(32), bytes(range(32)), hashlib.sha256).digest()
    scalar = hmac.new(prk, b"palmtrade bid-file v1 x25519\x01", hashlib.sha256).digest()
    public = X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes_raw()

    assert (scalar.hex(), public.hex()) == (VECTOR_SCALAR, VECTOR_PUBLIC)
    assert identity_for(VECTOR_KEY) == VECTOR_IDENTITY
    assert recipient_for(VECTOR_KEY) == VECTOR_RECIPIENT
    assert _bech32_data(VECTOR_IDENTITY) == scalar
    assert _bech32_data(VECTOR_RECIPIENT) == public
    assert str(pyrage.x25519.Identity.from_str(VECTOR_IDENTITY)) == VECTOR_IDENTITY
    for value in (VECTOR_KEY["k"], VECTOR_SCALAR, VECTOR_PUBLIC, VECTOR_IDENTITY, VECTOR_RECIPIENT):
        assert value in DOC
    for n, padded, payload in VECTOR_SIZES:
        assert padded_size(n) == padded
        assert 16 + padded + 16 * -(-padded // 65536) == payload
        assert f"| {n:,} | {padded:,} | {payload:,} |" in DOC


def test_padded_sizes_are_buckets_with_bounded_overhead() -> None:
    sizes = sorted({0, 1, 2, 7} | {k * MIB + d for k in range(1, 70) for d in (-2, -1, 0, 1)} | {10**9, 2**31})
    padded = [padded_size(n) for n in sizes]

    assert padded == sorted(padded)
    for n, p in zip(sizes, padded, strict=True):
        assert p > n
        assert p % MIB == 0
        assert p - n <= (MIB if n < 16 * MIB else (n + 1) / 8)
    assert len({padded_size(n) for n in range(16 * MIB, 32 * MIB, 4096)}) == 8
    with pytest.raises(ValueError, match="negative"):
        padded_size(-1)


ROUND_TRIPS = {
    "empty": b"",
    "one byte": b"\x01",
    "1 MiB - 1": os.urandom(MIB - 1),
    "1 MiB": os.urandom(MIB),
    "3.5 MiB": os.urandom(3 * MIB + MIB // 2),
    "a lone 0x80": b"\x80",
    "a lone zero": b"\x00",
    "ends like padding": b"ab\x80\x00\x80\x00",
    "zeros across chunks": bytes(70_000),
    "0x80s across chunks": b"\x80" * 70_000,
    "0x80 then zeros to a chunk end": os.urandom(65_535) + b"\x80" + bytes(MIB - 65_537),
}


@pytest.mark.parametrize("data", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_a_file_comes_back_exactly(data: bytes) -> None:
    key = new_key()
    sealed_out = io.BytesIO()

    sealed = seal_file(io.BytesIO(data), sealed_out, key)
    ciphertext, out = sealed_out.getvalue(), io.BytesIO()
    opened = open_file(io.BytesIO(ciphertext), out, key)

    assert out.getvalue() == data
    assert (sealed.plaintext_size, sealed.plaintext_sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (sealed.size, sealed.sha256) == (len(ciphertext), hashlib.sha256(ciphertext).hexdigest())
    assert opened == OpenedFile(sealed.size, sealed.sha256, sealed.plaintext_size, sealed.plaintext_sha256)


def test_a_large_file_streams_from_disk_to_disk_in_bounded_memory(tmp_path: Path) -> None:
    key, size = new_key(), 20_000_000
    plain, sealed_path, opened_path = tmp_path / "商务标.pdf", tmp_path / "商务标.pdf.age", tmp_path / "opened.pdf"
    digest = hashlib.sha256()
    with plain.open("wb") as f:
        for _ in range(size // MIB):
            chunk = os.urandom(MIB)
            digest.update(chunk)
            f.write(chunk)
        tail = os.urandom(size % MIB)
        digest.update(tail)
        f.write(tail)

    tracemalloc.start()
    try:
        with plain.open("rb") as src, sealed_path.open("wb") as dst:
            sealed = seal_file(src, dst, key)
        seal_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with sealed_path.open("rb") as src, opened_path.open("wb") as dst:
            opened = open_file(src, dst, key)
        open_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert sealed.plaintext_sha256 == opened.plaintext_sha256 == digest.hexdigest()
    assert sealed.size == opened.size == sealed_path.stat().st_size
    assert sealed.size - _header_length(sealed_path.read_bytes()[:4096]) == 20_976_656
    assert opened_path.stat().st_size == size
    assert seal_peak < 2 * MIB
    assert open_peak < 2 * MIB


def test_sizes_in_one_bucket_give_payloads_of_one_size() -> None:
    key = new_key()
    small, large = _seal(b"x" * 10, key), _seal(os.urandom(MIB - 1), key)
    other = _seal(os.urandom(MIB), key)

    assert len(small) - _header_length(small) == len(large) - _header_length(large) == 1_048_848
    assert len(other) - _header_length(other) == 2_097_680


def test_another_key_cannot_open_a_file() -> None:
    sealed = _seal(b"price list", new_key())

    with pytest.raises(CannotDecrypt):
        _open(sealed, new_key())
    for bad in ({"kty": "oct", "k": "short"}, {"kty": "RSA", "k": VECTOR_KEY["k"]}, {}):
        with pytest.raises(CannotDecrypt):
            _open(sealed, bad)


def test_a_cut_short_file_does_not_open() -> None:
    key = new_key()
    sealed = _seal(os.urandom(2 * MIB), key)
    header = _header_length(sealed)

    for cut in (0, 40, header, header + 16, header + 16 + 65_536 + 16, len(sealed) - 17, len(sealed) - 1):
        with pytest.raises(CannotDecrypt):
            _open(sealed[:cut], key)
    with pytest.raises(CannotDecrypt):
        _open(sealed + b"\x00", key)


def test_a_flipped_byte_does_not_open() -> None:
    key = new_key()
    sealed = _seal(os.urandom(200_000), key)
    header = _header_length(sealed)

    for at in (3, 40, header - 5, header + 2, header + 16 + 70_000, len(sealed) - 1):
        altered = bytearray(sealed)
        altered[at] ^= 0x01
        with pytest.raises(CannotDecrypt):
            _open(bytes(altered), key)


@pytest.mark.parametrize("plaintext", [b"", b"no padding", b"ab\x00\x00", b"ab\x80\x01"])
def test_an_unpadded_file_is_refused(plaintext: bytes) -> None:
    key = new_key()
    sealed = pyrage.encrypt(plaintext, [pyrage.x25519.Recipient.from_str(recipient_for(key))])

    with pytest.raises(BadBidFile) as raised:
        _open(sealed, key)
    assert raised.value.code == "BID_FILE_INVALID"


def test_a_failing_destination_is_not_reported_as_a_wrong_key() -> None:
    class DiskFull(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    key = new_key()
    sealed = _seal(b"x" * 300_000, key)

    with pytest.raises(OSError, match="No space") as raised:
        open_file(io.BytesIO(sealed), DiskFull(), key)
    assert not isinstance(raised.value, CannotDecrypt)


class _Stingy(io.BytesIO):
    def read(self, size: int | None = -1, /) -> bytes:
        return super().read(min(777, size) if size is not None and size >= 0 else 777)

    def write(self, data: Any, /) -> int:
        return super().write(bytes(data)[:1000])


def test_short_reads_and_writes_lose_nothing() -> None:
    key, data = new_key(), os.urandom(300_000)
    sealed_out, out = _Stingy(), _Stingy()

    sealed = seal_file(_Stingy(data), sealed_out, key)
    opened = open_file(_Stingy(sealed_out.getvalue()), out, key)

    assert out.getvalue() == data
    assert sealed.sha256 == opened.sha256 == hashlib.sha256(sealed_out.getvalue()).hexdigest()
