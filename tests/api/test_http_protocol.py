"""One write per response (api/http_protocol.py): the app served by a real uvicorn with stock uvicorn's httptools
protocol and with OneWriteProtocol, side by side over loopback sockets. Each server counts its socket writes
(`transport.write` / `writelines`, each one syscall on uvloop when its buffer is empty); the bytes a raw client reads
from both must be the same, with only the `date` header and the request id told apart."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import weakref
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from api import http_protocol
from api.app import create_app
from api.http_protocol import HeadHeld, OneWriteProtocol
from api.services import Services
from api.settings import Settings
from domain.accounts import adapters
from domain.common import clock
from domain.documents.adapters import blob_store
from domain.documents.blobs import object_path
from domain.documents.links import download_signature
from domain.documents.models import Document
from tests.conftest import free_port
from tests.support.processes import Process

GRAPHQL = b'{"query":"query Probe { __typename }"}'


class Counted:
    """A connection's transport that notes the size of each write."""

    def __init__(self, transport: asyncio.Transport, writes: list[int]) -> None:
        self._transport = transport
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(len(data))
        self._transport.write(data)

    def writelines(self, parts: Iterable[bytes]) -> None:
        parts = list(parts)
        self._writes.append(sum(len(part) for part in parts))
        self._transport.writelines(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def counting(base: type[HttpToolsProtocol], writes: list[int]) -> type[HttpToolsProtocol]:
    class Counting(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(Counted(transport, writes))  # type: ignore[arg-type]

    return Counting


@dataclass
class Served:
    """One uvicorn server of the app, and the sizes of the socket writes it made since `writes` was cleared."""

    port: int
    writes: list[int] = field(default_factory=list)

    async def exchange(self, *requests: bytes) -> bytes:
        """Sends the requests on one connection, each once the answer to the one before has come (the last asks
        `connection: close`), and returns everything the server wrote until it closed."""
        self.writes.clear()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        answered = b""
        try:
            for request in requests[:-1]:
                writer.write(request)
                answered += await _one_response(reader)
            writer.write(requests[-1])
            return answered + await asyncio.wait_for(reader.read(), timeout=20)
        finally:
            writer.close()


async def _one_response(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=20)
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    assert length is not None, head
    return head + await asyncio.wait_for(reader.readexactly(int(length.group(1))), timeout=20)


@dataclass
class Pair:
    stock: Served
    one_write: Served

    async def both(self, *requests: bytes) -> tuple[bytes, bytes]:
        """What each server answered, with what differs from one request to the next masked."""
        return _masked(await self.stock.exchange(*requests)), _masked(await self.one_write.exchange(*requests))


def _masked(raw: bytes) -> bytes:
    raw = re.sub(rb"(?im)^date: [^\r]*\r\n", b"date: -\r\n", raw)
    return re.sub(rb"(?im)^x-request-id: [^\r]*\r\n", b"x-request-id: -\r\n", raw)


def request(method: str, path: str, body: bytes = b"", close: bool = True, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
    if body:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _streamed(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"first,", b"second,", b"third"):
            yield part

    return StreamingResponse(parts(), media_type="text/plain")  # no length: chunked


async def _fails(request: Request) -> Response:
    raise RuntimeError("a bug (test_http_protocol)")


async def _no_content(request: Request) -> Response:
    return Response(status_code=204)


async def _plain(request: Request) -> Response:
    return PlainTextResponse("plain")


@pytest.fixture(scope="module")
async def pair(server: tuple[str, Services]) -> AsyncIterator[Pair]:
    """The app (a second one on the test database, with a few routes of its own) served twice: by stock uvicorn
    (which runs its lifespan) and by OneWriteProtocol."""
    _, services = server
    app = create_app(replace(services.settings))
    for path, endpoint in (("/t/stream", _streamed), ("/t/fail", _fails), ("/t/empty", _no_content)):
        app.router.routes.insert(0, Route(path, endpoint, methods=["GET", "POST"]))
    stock, one_write = Served(free_port()), Served(free_port())
    servers = [
        uvicorn.Server(uvicorn.Config(app, **_config(stock, HttpToolsProtocol), lifespan="on")),
        uvicorn.Server(uvicorn.Config(app, **_config(one_write, OneWriteProtocol), lifespan="off")),
    ]
    tasks = []
    try:
        for each in servers:
            tasks.append(asyncio.create_task(each.serve()))
            for _ in range(200):
                if each.started:
                    break
                await asyncio.sleep(0.05)
            assert each.started
        yield Pair(stock, one_write)
    finally:
        for each in servers:
            each.should_exit = True
        for task in tasks:
            await asyncio.wait_for(task, timeout=10)
        # the second app's start() pointed the accounts services at its key ring: give them back
        adapters.configure(services.keyring, adapters.deps.sms, services.settings.secret_key)


def _config(served: Served, base: type[HttpToolsProtocol]) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": served.port,
        "log_level": "critical",  # the failing route's traceback, logged by uvicorn, is expected
        "http": counting(base, served.writes),
        "ws": "websockets-sansio",
    }


async def test_a_graphql_answer_leaves_in_one_write_the_same_bytes_as_stock_uvicorns_two(pair, db):
    # given a GraphQL request, when both servers answer it
    stock, mine = await pair.both(request("POST", "/graphql", GRAPHQL))

    # then the bytes are the same, and the answer left in one write instead of two
    assert mine == stock
    assert stock.startswith(b"HTTP/1.1 200 OK\r\n"), stock
    assert stock.endswith(b'{"data":{"__typename":"Query"}}'), stock
    assert len(pair.stock.writes) == 2
    assert pair.one_write.writes == [sum(pair.stock.writes)]


async def test_health_and_a_small_json_answer_in_one_write(pair, db):
    # when the liveness probe answers (its body tells the time: only the number of writes is compared)
    await pair.both(request("GET", "/healthz"))

    # then one write where stock uvicorn makes two
    assert (len(pair.stock.writes), len(pair.one_write.writes)) == (2, 1)


async def test_an_empty_204_and_304_are_one_write_with_the_same_bytes(pair, db):
    # when a 204 without a body and the tus OPTIONS (204, tus headers) are answered
    stock, mine = await pair.both(request("GET", "/t/empty"))
    options_stock, options_mine = await pair.both(request("OPTIONS", "/files/uploads"))

    # then the bytes are stock uvicorn's, and each is the one write of its head
    assert mine == stock, stock
    assert stock.startswith(b"HTTP/1.1 204 No Content\r\n"), stock
    assert options_mine == options_stock, options_stock
    assert options_stock.startswith(b"HTTP/1.1 204"), options_stock
    assert pair.one_write.writes == [sum(pair.stock.writes)]


async def test_a_head_request_is_answered_as_before(pair, db):
    # when a HEAD request is answered (a head announcing a length, and no body)
    stock, mine = await pair.both(request("HEAD", "/graphql?query=%7B__typename%7D"))

    # then the same bytes in the same single write: the head is not held for a body that never comes
    assert mine == stock, stock
    assert b"content-length: " in stock, stock
    assert stock.endswith(b"\r\n\r\n"), stock
    assert len(pair.stock.writes) == 1
    assert pair.one_write.writes == pair.stock.writes


async def stored_document(size: int) -> tuple[Document, bytes]:
    content = os.urandom(size)
    sha = hashlib.sha256(content).hexdigest()

    async def chunks() -> AsyncIterator[bytes]:
        yield content

    await blob_store().write_part(object_path(sha), chunks())
    doc = await Document.create(
        sha256=sha,
        size=size,
        name="招标文件.pdf",
        media_type="application/pdf",
        kind="pdf",
        purpose="tender_document",
        owner_type="lot",
        owner_id=1,
        scan_status="clean",
        created_at=clock.now(),
    )
    return doc, content


def download_path(doc: Document) -> str:
    exp = int((clock.now() + timedelta(minutes=10)).timestamp())
    return f"/files/{doc.id}/{quote(doc.name, safe='')}?e={exp}&s={download_signature(doc.id, exp)}"


async def test_a_document_streamed_with_range_is_the_same_bytes_its_head_sent_with_the_first_chunk(pair, db):
    # given a stored 2.5 MiB document (read from storage 1 MiB at a time) and a signed link to it
    doc, content = await stored_document(2 * 1024 * 1024 + 512 * 1024)
    path = download_path(doc)

    # when a range of it and the whole of it are fetched
    stock, mine = await pair.both(request("GET", path, range="bytes=1000-2600000"))
    stock_writes, mine_writes = list(pair.stock.writes), list(pair.one_write.writes)
    whole_stock, whole_mine = await pair.both(request("GET", path))

    # then the bytes are stock uvicorn's (206 with its Content-Range, then 200), the body the file's
    assert mine == stock, stock[:200]
    assert stock.startswith(b"HTTP/1.1 206 Partial Content\r\n"), stock[:200]
    assert b"content-range: bytes 1000-2600000/2621440\r\n" in stock
    assert stock.endswith(content[1000:2600001])
    assert whole_mine == whole_stock
    assert whole_stock.endswith(content)
    # and the head left with the first chunk: stock uvicorn writes the head alone, this protocol with body bytes
    assert mine_writes[0] > stock_writes[0]  # stock's first write is the head alone
    assert sum(mine_writes) == sum(stock_writes)
    if not os.environ.get("STORAGE_URL"):  # a folder is read 1 MiB at a time; an S3 body comes as the network gives it
        assert mine_writes == [stock_writes[0] + stock_writes[1], *stock_writes[2:]]
        assert stock_writes[1:] == [1024 * 1024, 1024 * 1024, 2600001 - 1000 - 2 * 1024 * 1024, 0]  # an empty last


async def test_a_document_not_modified_is_one_write_with_the_same_bytes(pair, db):
    # given a stored document, when it is asked for again with its ETag
    doc, _ = await stored_document(1000)
    stock, mine = await pair.both(request("GET", download_path(doc), if_none_match=f'"{doc.sha256}"'))

    # then 304, the same bytes, in one write
    assert mine == stock, stock
    assert stock.startswith(b"HTTP/1.1 304 Not Modified\r\n"), stock
    assert pair.one_write.writes == [sum(pair.stock.writes)]


async def test_a_chunked_streaming_response_is_written_as_before(pair, db):
    # when a response of no announced length is streamed (chunked)
    stock, mine = await pair.both(request("GET", "/t/stream"))

    # then the same bytes, written as they come: the head first, alone, then each chunk
    assert mine == stock, stock
    assert b"transfer-encoding: chunked\r\n" in stock, stock
    assert stock.endswith(b"6\r\nfirst,\r\n7\r\nsecond,\r\n5\r\nthird\r\n0\r\n\r\n"), stock
    assert pair.one_write.writes == pair.stock.writes
    assert len(pair.one_write.writes) == 5


async def test_a_500_is_the_same_bytes_in_one_write(pair, db):
    # when a route fails (Starlette answers 500, then uvicorn closes the connection)
    stock, mine = await pair.both(request("GET", "/t/fail", close=False))

    # then the same bytes, in one write
    assert mine == stock, stock
    assert stock.startswith(b"HTTP/1.1 500 Internal Server Error\r\n"), stock
    assert stock.endswith(b"\r\n\r\nInternal Server Error")
    assert (len(pair.stock.writes), len(pair.one_write.writes)) == (2, 1)


async def test_two_requests_on_a_kept_alive_connection_are_one_write_each(pair, db):
    # when two GraphQL requests follow each other on one connection
    stock, mine = await pair.both(
        request("POST", "/graphql", GRAPHQL, close=False), request("POST", "/graphql", GRAPHQL)
    )

    # then both answers, the same bytes, one write each
    assert mine == stock, stock
    assert stock.count(b"HTTP/1.1 200 OK\r\n") == 2, stock
    assert b"connection: close\r\n" in stock.split(b"HTTP/1.1 200 OK")[2]
    assert (len(pair.stock.writes), len(pair.one_write.writes)) == (4, 2)


async def test_pipelined_requests_are_answered_in_order_one_write_each(pair, db):
    # when two requests arrive in one segment, before the first is answered
    both = request("POST", "/graphql", GRAPHQL, close=False) + request("GET", "/t/stream")
    stock, mine = await pair.both(both)

    # then the GraphQL answer then the stream, the same bytes as stock uvicorn's
    assert mine == stock, stock
    assert stock.index(b'"Query"') < stock.index(b"first,"), stock
    assert len(pair.one_write.writes) == len(pair.stock.writes) - 1


async def test_100_continue_then_the_answer_in_one_write(pair, db):
    # given a client that waits for 100 Continue before it sends its body
    head, _, body = request("POST", "/graphql", GRAPHQL, expect="100-continue").partition(b"\r\n\r\n")

    async def ask(served: Served) -> bytes:
        served.writes.clear()
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        try:
            writer.write(head + b"\r\n\r\n")
            interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=20)
            writer.write(body)
            return _masked(interim + await asyncio.wait_for(reader.read(), timeout=20))
        finally:
            writer.close()

    # when both servers are asked
    stock, mine = await ask(pair.stock), await ask(pair.one_write)

    # then 100 Continue is written at once as before, and the answer in one write
    assert mine == stock, stock
    assert stock.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), stock
    assert (len(pair.stock.writes), len(pair.one_write.writes)) == (3, 2)


def test_the_switch_and_the_fallback_without_httptools(monkeypatch):
    # HTTP_ONE_WRITE on: the protocol; off, or without httptools: uvicorn's own choice (httptools, else h11)
    assert http_protocol.protocol(True) is OneWriteProtocol
    assert http_protocol.protocol(False) == "auto"
    monkeypatch.setattr(http_protocol, "HttpToolsProtocol", None)
    assert http_protocol.protocol(True) == "auto"


async def _raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app misbehaving as the path says, for what uvicorn itself does then."""
    if scope["type"] != "http":
        return
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    body = {"type": "http.response.body", "body": b"hello"}
    path = scope["path"]
    if path.startswith("/echo"):  # the body's SHA-256, read after a pause on /echo-late (chunks pile up)
        if path == "/echo-late":
            await asyncio.sleep(0.3)
        digest, more = hashlib.sha256(), True
        while more:
            message = await receive()
            digest.update(message["body"])
            more = message.get("more_body", False)
        answer = digest.hexdigest().encode()
        await send({**start, "headers": [(b"content-length", str(len(answer)).encode())]})
        await send({**body, "body": answer})
        return
    if path == "/fails-before-start":
        raise RuntimeError("before the response (test_http_protocol)")
    if path == "/returns-before-start":
        return
    await send(start)
    if path == "/fails-after-start":
        raise RuntimeError("after the head (test_http_protocol)")
    if path == "/too-long":
        await send({**body, "body": b"hello, world"})
    if path == "/ok":
        await send(body)
    # "/returns-after-start": the head sent, no body


@pytest.fixture(scope="module")
async def raw_pair() -> AsyncIterator[Pair]:
    """A bare ASGI app served by both protocols."""
    stock, one_write = Served(free_port()), Served(free_port())
    servers = [
        uvicorn.Server(uvicorn.Config(_raw_app, **_config(stock, HttpToolsProtocol), lifespan="off")),
        uvicorn.Server(uvicorn.Config(_raw_app, **_config(one_write, OneWriteProtocol), lifespan="off")),
    ]
    tasks = [asyncio.create_task(each.serve()) for each in servers]
    try:
        for _ in range(200):
            if all(each.started for each in servers):
                break
            await asyncio.sleep(0.05)
        assert all(each.started for each in servers)
        yield Pair(stock, one_write)
    finally:
        for each in servers:
            each.should_exit = True
        for task in tasks:
            await asyncio.wait_for(task, timeout=10)


@pytest.mark.parametrize(
    ("path", "answer", "writes"),
    [
        ("/ok", b"HTTP/1.1 200 OK", (2, 1)),
        ("/fails-before-start", b"HTTP/1.1 500 Internal Server Error", (2, 1)),  # uvicorn's own 500
        ("/returns-before-start", b"HTTP/1.1 500 Internal Server Error", (2, 1)),
        ("/fails-after-start", b"HTTP/1.1 200 OK", (1, 1)),  # the head, then the connection closed
        ("/returns-after-start", b"HTTP/1.1 200 OK", (1, 1)),
        ("/too-long", b"HTTP/1.1 200 OK", (1, 1)),  # uvicorn refuses the body: the head only, then closed
    ],
)
async def test_what_uvicorn_does_for_a_failing_app_is_the_same_bytes(raw_pair, path, answer, writes):
    # when the app answers as the path says, on a connection the client keeps open (but after a whole answer)
    stock, mine = await raw_pair.both(request("GET", path, close=path == "/ok"))

    # then the same bytes as stock uvicorn's, up to the same close; a held head is written before the close
    assert mine == stock, stock
    assert stock.startswith(answer + b"\r\n"), stock
    assert (len(raw_pair.stock.writes), len(raw_pair.one_write.writes)) == writes
    assert sum(raw_pair.one_write.writes) == sum(raw_pair.stock.writes)


async def _sent_in_pieces(port: int, head: bytes, body: bytes, pieces: int) -> bytes:
    """Writes the head, then the body in `pieces` writes with a pause after each (each its own read on the server),
    and returns the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            writer.write(body[start : start + size])
            await writer.drain()
            await asyncio.sleep(0.005)
        return await asyncio.wait_for(reader.read(), timeout=20)
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/echo", "/echo-late"])
@pytest.mark.parametrize("pieces", [1, 40])
async def test_a_request_body_reaches_the_app_whole_as_stock_uvicorn_hands_it_on(raw_pair, path, pieces):
    # given a 3 MiB body, sent at once or in 40 writes; read by the app as it comes, or after a pause so that
    # chunks wait for it (joined, as stock uvicorn joins them)
    body = os.urandom(3 * 1024 * 1024 + 7)
    head = request("POST", path, body)[: -len(body)]

    # when both servers take it
    answers = [
        _masked(await _sent_in_pieces(served.port, head, body, pieces))
        for served in (raw_pair.stock, raw_pair.one_write)
    ]

    # then the app saw every byte in order through both
    assert answers[0] == answers[1]
    assert answers[1].endswith(hashlib.sha256(body).hexdigest().encode()), answers[1]


async def test_a_body_chunk_that_finds_nothing_waiting_is_handed_to_the_app_without_a_copy():
    # given OneWriteProtocol on a transport in memory, and an app that keeps the body chunks it receives
    received: list[bytes] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            received.append(message["body"])
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    class Memory(asyncio.Transport):
        def __init__(self) -> None:
            super().__init__()
            self.written = _Sink()

        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

        def write(self, data: Any) -> None:
            self.written.write(data)

        def writelines(self, parts: Any) -> None:
            self.written.writelines(parts)

        def is_closing(self) -> bool:
            return False

        def pause_reading(self) -> None:
            pass

        def resume_reading(self) -> None:
            pass

    async def scenario() -> None:
        config = uvicorn.Config(app, log_level="critical", lifespan="off")
        config.load()
        protocol = OneWriteProtocol(config=config, server_state=ServerState(), app_state={})
        transport = Memory()
        protocol.connection_made(transport)
        body = os.urandom(300_000)

        # when the head and the first 100,000 bytes arrive in one read, and the app takes them
        protocol.data_received(request("POST", "/", body, close=False)[: -len(body)] + body[:100_000])
        first = protocol.cycle.body
        await asyncio.sleep(0.01)

        # then the app was handed the very bytes object httptools made: no copy
        assert type(first) is bytes
        assert len(first) == 100_000
        assert received[0] is first

        # when the rest arrives in two reads before the app asks again, they are joined for it
        protocol.data_received(body[100_000:200_000])
        protocol.data_received(body[200_000:])
        await asyncio.sleep(0.01)
        assert [len(part) for part in received] == [100_000, 200_000]
        assert b"".join(received) == body
        assert transport.written.written[0].startswith(b"HTTP/1.1 204 No Content\r\n")

    await scenario()


class _Sink:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def writelines(self, parts: Iterable[bytes]) -> None:
        self.written.append(b"".join(parts))


class _Cycle:
    """What HeadHeld reads of uvicorn's cycle."""

    def __init__(self) -> None:
        self.response_started = False
        self.chunked_encoding: bool | None = False
        self.scope = {"method": "GET"}
        self.transport: Any = None


def test_a_cycle_goes_with_its_request_not_with_the_garbage_collector():
    # given a cycle whose transport holds its head (the two referring to each other until the head has come)
    sink, cycle = _Sink(), _Cycle()
    cycle.transport = HeadHeld(cycle, sink)  # type: ignore[arg-type]
    gone = weakref.ref(cycle)

    # when its response is written and the request is done with it
    cycle.response_started = True
    cycle.transport.write(b"head|")
    cycle.transport.write(b"body")
    del cycle

    # then it is freed at once (no reference cycle left for the collector: it cost 9 us a request), in one write
    assert gone() is None
    assert sink.written == [b"head|body"]


# --- keep-alive -----------------------------------------------------------------------------------


async def _answered(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    await reader.readexactly(length)
    return head.split(b"\r\n", 1)[0]


async def test_serve_keeps_an_idle_connection_open_for_http_keep_alive_seconds(db, tmp_path):
    # given `serve` keeping idle connections 3 s (the default is 75 s: longer than a proxy or httpx keeps one idle,
    # so the server never closes a connection at the moment its peer reuses it; uvicorn's own 5 s raced httpx's 5 s)
    assert Settings.from_env().http_keep_alive_seconds == 75
    server = Process("serve", db.url, tmp_path, RUN_WORKERS="0", HTTP_KEEP_ALIVE_SECONDS="3").start()
    try:
        await server.ready()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await _answered(reader, writer) == b"HTTP/1.1 200 OK"

        # when the connection idles 2 s, then it still answers on it
        await asyncio.sleep(2)
        assert await _answered(reader, writer) == b"HTTP/1.1 200 OK"

        # and when it idles past the setting, the server has closed it
        await asyncio.sleep(4)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    finally:
        server.stop()
