"""Bid files (投标文件), as the server opens them: age files under a key derived from the bid key.

    identity   HKDF-SHA256(ikm = the 32 bytes of the bid key's "k", salt = empty,
               info = "palmtrade bid-file v1 x25519") -> 32 bytes, an age X25519 identity
               (AGE-SECRET-KEY-1..., Bech32) whose recipient (age1...) the phone encrypts to
    plaintext  the file, then 0x80, then zeros up to padded_size(len(file)) (ISO/IEC 7816-4)
    ciphertext age-encryption.org/v1, binary, to that one recipient

The same key that opens the sealed price (sealing.py) opens the files, and it is handed over only
at the opening. mobile_contract/BID_FILES.md documents it for app developers;
mobile_contract/bid_files.py seals.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyrage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.common.errors import DomainError
from domain.tendering.padding import bucket_size
from domain.tendering.sealing import CannotDecrypt

HKDF_INFO = b"palmtrade bid-file v1 x25519"
MIB = 1 << 20
_B64URL = re.compile(r"^[A-Za-z0-9_-]{43}$")
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_ZEROS = bytes(64 * 1024)


class BadBidFile(DomainError):
    code = "BID_FILE_INVALID"
    message_zh = "解密后的投标文件填充格式不正确"
    message_en = "The decrypted bid file is not padded as required"


def padded_size(n: int) -> int:
    """The padded length of n bytes: n + 1 rounded up to whole MiB up to 16 MiB, above it adding at most (n + 1) / 8."""
    return bucket_size(n, MIB)


class BidFileEnvelopeInvalid(DomainError):
    code = "BID_FILE_ENVELOPE_INVALID"
    message_zh = "投标文件须在本机以 age 格式加密给唯一的派生接收方，且按规定填充（见 BID_FILES.md）"
    message_en = "A bid file must be an age file to exactly one derived X25519 recipient, padded to a size bucket"


AGE_CHUNK = 64 * 1024
_HEADER_END = re.compile(rb"\n--- [A-Za-z0-9+/]{43}\n")


def check_envelope(head: bytes, size: int) -> None:
    """Checks, before the opening and without the key, that an uploaded bid file is sealed as BID_FILES.md says:
    an age file to exactly one X25519 recipient (rage's random grease stanzas allowed, nothing another key could
    open) whose payload is that of a padded size, so its size tells nothing but the bucket."""
    end = _HEADER_END.search(head)
    if not head.startswith(b"age-encryption.org/v1\n") or end is None:
        raise BidFileEnvelopeInvalid()
    header = head[: end.end()].decode("ascii", "replace")
    kinds = [line.split(" ")[1] for line in header.split("\n") if line.startswith("-> ") and " " in line[3:]]
    if kinds.count("X25519") != 1 or any(k != "X25519" and not k.endswith("-grease") for k in kinds):
        raise BidFileEnvelopeInvalid()
    payload = size - end.end() - 16  # the 16-byte stream nonce
    if payload <= 0:
        raise BidFileEnvelopeInvalid()
    chunks = -(-payload // (AGE_CHUNK + 16))
    padded = payload - 16 * chunks
    if padded <= 0 or padded_size(padded - 1) != padded:
        raise BidFileEnvelopeInvalid()


def _key_bytes(key_jwk: Mapping[str, Any]) -> bytes:
    k = key_jwk.get("k") if isinstance(key_jwk, Mapping) and key_jwk.get("kty") == "oct" else None
    if not isinstance(k, str) or not _B64URL.fullmatch(k):
        raise ValueError("a bid key is a JWK {'kty': 'oct', 'k': <32 bytes, base64url>}")
    return base64.urlsafe_b64decode(k + "=")


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    return chk


def _bech32(hrp: str, data: bytes) -> str:
    """BIP-173 Bech32 of data (8-bit groups regrouped to 5, zero-padded) under a lowercase hrp."""
    bits = "".join(f"{b:08b}" for b in data)
    bits += "0" * (-len(bits) % 5)
    words = [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _polymod(expanded + words + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words + checksum)


def identity_for(key_jwk: Mapping[str, Any]) -> str:
    """The age X25519 identity (AGE-SECRET-KEY-1...) derived from a bid key; ValueError if it is not one."""
    scalar = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(_key_bytes(key_jwk))
    return _bech32("age-secret-key-", scalar).upper()


def recipient_for(key_jwk: Mapping[str, Any]) -> str:
    """The age recipient (age1...) that bid files under this bid key are encrypted to."""
    return str(pyrage.x25519.Identity.from_str(identity_for(key_jwk)).to_public())


def _write_all(dst: BinaryIO, data: bytes) -> None:
    done = 0
    while done < len(data):
        n = dst.write(data[done:] if done else data)
        done += len(data) if n is None else n


class _Reader(io.RawIOBase):
    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.error: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._src.read(len(buffer))
        except Exception as e:
            self.error = e
            raise
        buffer[: len(data)] = data
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


class _Unpadder(io.RawIOBase):
    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.error: Exception | None = None
        self._marker = False
        self._zeros = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        try:
            self._take(bytes(data))
        except Exception as e:
            self.error = e
            raise
        return len(data)

    def _emit(self, data: bytes) -> None:
        if data:
            _write_all(self._dst, data)
            self.sha256.update(data)
            self.size += len(data)

    def _release(self) -> None:
        if self._marker:
            self._emit(b"\x80")
        while self._zeros:
            n = min(self._zeros, len(_ZEROS))
            self._emit(_ZEROS[:n])
            self._zeros -= n
        self._marker = False

    def _take(self, data: bytes) -> None:
        last = len(data) - 1 if data and data[-1] else len(data.rstrip(b"\x00")) - 1
        if last < 0:
            if self._marker:
                self._zeros += len(data)
            else:
                self._emit(data)
            return
        self._release()
        if data[last] == 0x80:
            self._emit(data[:last])
            self._marker, self._zeros = True, len(data) - last - 1
        else:
            self._emit(data)

    def finish(self) -> None:
        if not self._marker:
            raise BadBidFile()


def _raise_own(error: Exception | None) -> None:
    if error is not None:
        raise error


@dataclass(frozen=True, slots=True)
class OpenedFile:
    size: int
    sha256: str
    plaintext_size: int
    plaintext_sha256: str


def open_file(src: BinaryIO, dst: BinaryIO, key_jwk: Mapping[str, Any]) -> OpenedFile:
    """Streams src decrypted and unpadded into dst; CannotDecrypt or BadBidFile leave in dst a prefix to discard."""
    try:
        identity = pyrage.x25519.Identity.from_str(identity_for(key_jwk))
    except ValueError:
        raise CannotDecrypt() from None
    reader, writer = _Reader(src), _Unpadder(dst)
    try:
        pyrage.decrypt_io(reader, writer, [identity])
    except (pyrage.DecryptError, OSError):
        _raise_own(reader.error or writer.error)
        raise CannotDecrypt() from None
    _raise_own(reader.error or writer.error)
    writer.finish()
    return OpenedFile(reader.size, reader.sha256.hexdigest(), writer.size, writer.sha256.hexdigest())
