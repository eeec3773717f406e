"""Sealing a bid file (投标文件) on the bidder's side: what the apps do, for tests, integrators and the demo.

See BID_FILES.md. The bid key is the one that seals the price (sealed_bid.new_key()); the file is
padded to its size bucket and encrypted with age to the recipient derived from that key, so the
key handed over at the opening opens the price and every file, and the size tells nothing finer
than the bucket.

    key = sealed_bid.new_key()                        # keep it on the device until the opening
    with open("商务标.pdf", "rb") as src, open("商务标.pdf.age", "wb") as dst:
        sealed = seal_file(src, dst, key)             # upload dst, declaring sealed.size and sealed.sha256
    ...the sealed bid's documents: [{"name": "商务标.pdf", "sha256": sealed.sha256}]
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyrage

from domain.tendering.bid_files import identity_for, padded_size, recipient_for

__all__ = ["SealedFile", "identity_for", "padded_size", "recipient_for", "seal_file"]


@dataclass(frozen=True, slots=True)
class SealedFile:
    size: int
    sha256: str
    plaintext_size: int
    plaintext_sha256: str


def _write_all(dst: BinaryIO, data: bytes) -> None:
    done = 0
    while done < len(data):
        n = dst.write(data[done:] if done else data)
        done += len(data) if n is None else n


class _PaddedReader(io.RawIOBase):
    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.error: Exception | None = None
        self._padding = 0
        self._left: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left is None:
            try:
                data = self._src.read(len(buffer))
            except Exception as e:
                self.error = e
                raise
            if data:
                buffer[: len(data)] = data
                self.sha256.update(data)
                self.size += len(data)
                return len(data)
            self._padding = self._left = padded_size(self.size) - self.size
        n = min(self._left, len(buffer))
        buffer[:n] = bytes(n)
        if n and self._left == self._padding:
            buffer[0] = 0x80
        self._left -= n
        return n


class _HashingWriter(io.RawIOBase):
    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.error: Exception | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        try:
            _write_all(self._dst, bytes(data))
        except Exception as e:
            self.error = e
            raise
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def seal_file(src: BinaryIO, dst: BinaryIO, key_jwk: Mapping[str, Any]) -> SealedFile:
    """Pads and encrypts src into dst in one streaming pass; returns the size and SHA-256 of both sides."""
    recipient = pyrage.x25519.Recipient.from_str(recipient_for(key_jwk))
    reader, writer = _PaddedReader(src), _HashingWriter(dst)
    try:
        pyrage.encrypt_io(reader, writer, [recipient])
    except pyrage.EncryptError:
        _raise_own(reader.error or writer.error)
        raise
    _raise_own(reader.error or writer.error)
    return SealedFile(writer.size, writer.sha256.hexdigest(), reader.size, reader.sha256.hexdigest())


def _raise_own(error: Exception | None) -> None:
    if error is not None:
        raise error
