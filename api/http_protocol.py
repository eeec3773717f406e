"""One socket write per response: uvicorn's httptools protocol, with the head of a response held back and written
together with its first (usually only) body chunk.

Stock uvicorn writes a response in at least two `transport.write` calls, the head on `http.response.start` and the
body on `http.response.body`; uvloop sends each at once when its buffer is empty, so every GraphQL answer cost two
write syscalls, and on a virtual machine a loopback write is expensive (the sender runs the receiver's TCP stack).
Here the head of a response whose body is not chunked (a Content-Length, or none at all as for 204 and 304) waits
for the body's first write and leaves with it (`writelines`, one syscall); a chunked response, a HEAD request (no
body follows) and an informational `100 Continue` are written as stock uvicorn writes them. The bytes on the wire
and their order are the same; only how they are grouped into writes changes. A held head is written before the
connection closes (an app that fails or returns between the head and the body), as stock uvicorn would have.
A request body's chunk that finds no other waiting for the app is handed on as the bytes object httptools made, not
copied twice (into the cycle's bytearray, then out of it) as stock uvicorn does (issue 17: an upload's every byte).

Coupled to uvicorn's `uvicorn/protocols/http/httptools_impl.py` (uvicorn pinned in requirements.lock): the cycle's
`transport`, `response_started`, `chunked_encoding` and `scope`, and the head being the first write of a cycle once
its response has started (`RequestResponseCycle.send`), and the cycle's `body`, which `receive` hands on with
`bytes(...)` and then sets to a new bytearray, and its `message_event`. The cycle is stock (its class is named
inside the 60 lines of `HttpToolsProtocol.on_headers_complete`, which are not copied here): only its transport is
wrapped.
tests/api/test_http_protocol.py serves the app with both protocols and compares the bytes and counts the writes,
so an upgrade that changes any of this fails there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
except ImportError:  # no httptools (uvicorn[standard] not installed): uvicorn's h11 protocol serves, as stock
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


class HeadHeld:
    """A request-response cycle's transport that holds the response head's write until the body's first write."""

    __slots__ = ("_cycle", "_head", "_transport")

    def __init__(self, cycle: RequestResponseCycle, transport: asyncio.Transport) -> None:
        self._cycle: RequestResponseCycle | None = cycle  # until the head has come
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.writelines((head, data))
            return
        cycle = self._cycle
        if cycle is not None and cycle.response_started:  # the head: the first write once the response started
            # let go of the cycle: kept, cycle and transport would refer to each other, and every request's objects
            # would wait for the garbage collector instead of going when the request does (measured: +9 us a request)
            self._cycle = None
            if cycle.chunked_encoding is not True and cycle.scope["method"] != "HEAD":
                self._head = data  # a body follows, of a known length (or none: 204, 304)
                return
        self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def flush(self) -> None:
        """Writes a held head now (the response ends without a body write)."""
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


if HttpToolsProtocol is not None:

    class OneWriteProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol answering each response of known length in one write."""

        def on_headers_complete(self) -> None:
            previous = self.cycle
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not previous:  # a request (an upgrade to WebSocket makes no cycle)
                cycle.transport = HeadHeld(cycle, cycle.transport)  # type: ignore[assignment]

        def on_body(self, body: bytes) -> None:
            """Stock `on_body` appends each chunk httptools parsed to the cycle's bytearray, and `receive` copies that
            into a new bytes object: two copies of every byte of a request body. A chunk that finds nothing waiting
            is kept as the bytes object it is, which `receive`'s `bytes(...)` hands on as it is; chunks that arrive
            before the app asks for the first are joined as stock uvicorn joins them (issue 17: an upload's 256 KiB
            chunks are taken one at a time by a reading app)."""
            cycle = self.cycle
            if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
                return
            waiting: bytes | bytearray = cycle.body  # bytes once a chunk was kept as it came
            if not waiting:
                cycle.body = body  # type: ignore[assignment]
            elif isinstance(waiting, bytearray):
                waiting += body
            else:
                cycle.body = bytearray(waiting)
                cycle.body += body
            if len(cycle.body) > HIGH_WATER_LIMIT:
                self.flow.pause_reading()
            cycle.message_event.set()


def protocol(one_write: bool) -> type[asyncio.Protocol] | str:
    """What uvicorn's `Config(http=...)` takes: OneWriteProtocol with HTTP_ONE_WRITE on and httptools installed;
    else "auto", uvicorn's own choice (httptools, or h11 without it)."""
    if one_write and HttpToolsProtocol is not None:
        return OneWriteProtocol
    return "auto"
