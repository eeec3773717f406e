"""Malware scanning of uploaded files by ClamAV's clamd, over its documented socket protocol (zINSTREAM, zPING).

A file is clean only when clamd received all of it and answered `stream: OK`. A signature found is a verdict;
anything else (unreachable daemon, timeout, an ERROR answer, an answer not understood) raises ScannerUnavailable
and is never a verdict. clamd answers OK for bytes beyond its MaxFileSize or MaxScanSize that it did not scan, so
a daemon used here sets both at least as large as its StreamMaxLength (or sets AlertExceedsMax yes).
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

PIECE = 1024 * 1024
_LENGTH = struct.Struct(">I")
_UNIX_PATH_MAX = 107
_REPLY_MAX = 64 * 1024


@dataclass(frozen=True)
class ScanResult:
    """A verdict: clean with no signature, or not clean with the name of the signature that matched."""

    clean: bool
    signature: str | None

    def __post_init__(self) -> None:
        if self.clean != (self.signature is None):
            raise ValueError("a clean result has no signature; a result that is not clean names one")


class ScannerUnavailable(Exception):
    """The scanner gave no verdict (unreachable, timed out, or answered an error): the file is not known to be clean."""


class Scanner(Protocol):
    """Scans a file given as a stream of byte chunks."""

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanResult:
        """The verdict on the concatenated chunks; ScannerUnavailable when there is none; the source's errors pass."""
        ...

    async def ping(self) -> bool:
        """Whether the scanner answers now; never raises."""
        ...


class ClamdScanner:
    """A Scanner on clamd at `unix:/absolute/path` or `tcp://host:port`; one connection per call, safe to share.

    `timeout` (seconds) bounds connecting, each write and the wait for the answer; waiting for the next chunk of
    the source is not bounded here (clamd's own ReadTimeout closes a stream left idle).
    """

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        if not timeout > 0:
            raise ValueError(f"the scanner timeout must be positive, not {timeout!r}")
        self._path, self._host, self._port = _parse_address(address)
        self.address = address
        self.timeout = timeout

    async def scan(self, chunks: AsyncIterator[bytes]) -> ScanResult:
        """The verdict on all the chunks' bytes in order (empty chunks are skipped, large ones sent in 1 MiB pieces)."""
        with await self._connect() as sock:
            await self._send(sock, b"zINSTREAM\0")
            async for chunk in chunks:
                for start in range(0, len(chunk), PIECE):
                    piece = chunk[start : start + PIECE]
                    await self._send(sock, _LENGTH.pack(len(piece)) + piece)
            await self._send(sock, _LENGTH.pack(0))
            return self._verdict(await self._reply(sock))

    async def ping(self) -> bool:
        """True when clamd answers PONG within the timeout; False otherwise."""
        try:
            with await self._connect() as sock:
                await self._send(sock, b"zPING\0")
                return await self._reply(sock) == "PONG"
        except ScannerUnavailable:
            return False

    async def _connect(self) -> socket.socket:
        try:
            async with asyncio.timeout(self.timeout):
                if self._path is not None:
                    return await _connected(socket.AF_UNIX, socket.SOCK_STREAM, 0, self._path)
                found = await asyncio.get_running_loop().getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)
                failure = OSError(f"{self._host} has no address")
                for family, kind, proto, _, sockaddr in found:
                    try:
                        return await _connected(family, kind, proto, sockaddr)
                    except OSError as exc:
                        failure = exc
                raise failure
        except TimeoutError as exc:
            raise ScannerUnavailable(f"clamd at {self.address}: no connection within {self.timeout} s") from exc
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.address} is unreachable: {exc}") from exc

    async def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.get_running_loop().sock_sendall(sock, data)
        except TimeoutError as exc:
            raise ScannerUnavailable(f"clamd at {self.address}: a write took over {self.timeout} s") from exc
        except OSError as exc:
            raise await self._refusal(sock, exc) from exc

    async def _refusal(self, sock: socket.socket, exc: OSError) -> ScannerUnavailable:
        """Why clamd closed the connection mid-stream: its ERROR answer when it sent one before closing."""
        try:
            reply = await self._reply(sock)
        except ScannerUnavailable:
            return ScannerUnavailable(f"clamd at {self.address} closed the connection: {exc}")
        try:
            self._verdict(reply)
        except ScannerUnavailable as refused:
            return refused
        return ScannerUnavailable(f"clamd at {self.address} answered {reply!r} before the stream ended")

    async def _reply(self, sock: socket.socket) -> str:
        """clamd's answer up to its NUL terminator, decoded and stripped."""
        loop = asyncio.get_running_loop()
        received = bytearray()
        try:
            async with asyncio.timeout(self.timeout):
                while not received.endswith(b"\0"):
                    data = await loop.sock_recv(sock, 4096)
                    if not data:
                        raise ScannerUnavailable(f"clamd at {self.address} closed the connection without an answer")
                    received += data
                    if len(received) > _REPLY_MAX:
                        raise ScannerUnavailable(f"clamd at {self.address} sent an answer too long to read")
        except TimeoutError as exc:
            raise ScannerUnavailable(f"clamd at {self.address}: no answer within {self.timeout} s") from exc
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.address}: the connection failed: {exc}") from exc
        return received[:-1].decode("utf-8", errors="replace").strip()

    def _verdict(self, reply: str) -> ScanResult:
        """The verdict in a zINSTREAM answer; ScannerUnavailable for an ERROR or anything not understood."""
        if reply == "stream: OK":
            return ScanResult(clean=True, signature=None)
        body = reply.removeprefix("stream: ")
        signature = body.removesuffix(" FOUND").strip()
        if reply.startswith("stream: ") and body.endswith(" FOUND") and signature:
            return ScanResult(clean=False, signature=signature)
        if reply.endswith(" ERROR"):
            raise ScannerUnavailable(f"clamd at {self.address}: {body.removesuffix(' ERROR')}")
        raise ScannerUnavailable(f"clamd at {self.address} answered {reply!r}")


def scanner_from_address(address: str | None) -> Scanner | None:
    """A ClamdScanner for the address; None when the address is missing or blank; ValueError when malformed."""
    if address is None or not address.strip():
        return None
    return ClamdScanner(address.strip())


async def _connected(family: int, kind: int, proto: int, address: str | tuple[Any, ...]) -> socket.socket:
    """A non-blocking socket connected to the address; closed again when connecting fails or is cancelled."""
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


def _parse_address(address: str) -> tuple[str | None, str, int]:
    """(unix socket path, "", 0) or (None, host, port); ValueError unless `unix:/absolute/path` or `tcp://host:port`."""
    if address.startswith("unix:"):
        path = address.removeprefix("unix:")
        if not path.startswith("/"):
            raise ValueError(f"clamd address {address!r}: a unix socket needs an absolute path (unix:/path/clamd.ctl)")
        if len(os.fsencode(path)) > _UNIX_PATH_MAX:
            raise ValueError(f"clamd address {address!r}: a unix socket path is at most {_UNIX_PATH_MAX} bytes")
        return path, "", 0
    if address.startswith("tcp://"):
        parts = urlsplit(address)
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"clamd address {address!r}: the port is not a number in 1-65535") from exc
        extra = parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password
        if not parts.hostname or not port or extra:
            raise ValueError(f"clamd address {address!r}: expected tcp://host:port")
        return None, parts.hostname, port
    raise ValueError(f"clamd address {address!r}: expected unix:/path/clamd.ctl or tcp://host:port")
