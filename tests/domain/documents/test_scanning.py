"""ClamdScanner against a real clamd (tests/support/clamav.py: one signature, matching EICAR), and against fake
daemons for the answers a real one gives only when broken: whatever is not `stream: OK` is never clean."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from domain.documents.scanning import PIECE, ClamdScanner, ScannerUnavailable, ScanResult, scanner_from_address
from tests.conftest import free_port
from tests.support.clamav import EICAR, EICAR_SIGNATURE, ClamdProcess, start_clamd

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdProcess]:
    daemon = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield daemon
    daemon.stop()


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def noise(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@contextlib.asynccontextmanager
async def fake_clamd(directory: Path, answer: bytes | None) -> AsyncIterator[str]:
    """A daemon that reads a whole zINSTREAM, then sends `answer` and closes (None: never answers)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\0")
            while length := int.from_bytes(await reader.readexactly(4), "big"):
                await reader.readexactly(length)
            if answer is None:
                await reader.read()
            else:
                writer.write(answer)
                await writer.drain()
        writer.close()

    path = directory / "fake.ctl"
    server = await asyncio.start_unix_server(serve, path)
    try:
        yield f"unix:{path}"
    finally:
        server.close()
        await server.wait_closed()


async def test_the_eicar_test_file_is_found_with_its_signature_name(clamd: ClamdProcess) -> None:
    # given
    scanner = ClamdScanner(clamd.address)

    # when
    result = await scanner.scan(stream(EICAR))

    # then
    assert result == ScanResult(clean=False, signature=EICAR_SIGNATURE)


async def test_a_clean_3_mb_file_streamed_in_several_chunks_is_clean(clamd: ClamdProcess) -> None:
    # given: chunks smaller and larger than a piece, and an empty one
    data = noise(3 * MiB, seed=3)
    cuts = [0, 100_000, 100_000, 100_000 + 2 * MiB + 5, 3 * MiB]
    chunks = [data[a:b] for a, b in itertools.pairwise(cuts)]
    sent: list[int] = []

    async def counted() -> AsyncIterator[bytes]:
        async for chunk in stream(*chunks):
            sent.append(len(chunk))
            yield chunk

    # when
    result = await ClamdScanner(clamd.address).scan(counted())

    # then
    assert result == ScanResult(clean=True, signature=None)
    assert sum(sent) == 3 * MiB
    assert len(sent) == 4


async def test_eicar_in_the_middle_of_a_multi_chunk_stream_is_found(clamd: ClamdProcess) -> None:
    # given: EICAR starts in a chunk larger than a piece and ends in the next chunk
    first = noise(PIECE + MiB // 2, seed=4) + EICAR[:20]
    second = EICAR[20:] + noise(MiB, seed=5)
    third = noise(MiB // 2, seed=6)

    # when
    result = await ClamdScanner(clamd.address).scan(stream(first, second, third))

    # then
    assert result == ScanResult(clean=False, signature=EICAR_SIGNATURE)


async def test_the_same_daemon_answers_over_tcp(clamd: ClamdProcess) -> None:
    # given
    scanner = ClamdScanner(clamd.tcp_address)

    # when
    found = await scanner.scan(stream(b"plain text, ", EICAR, b" and more"))
    clean = await scanner.scan(stream(b"plain text"))

    # then
    assert found == ScanResult(clean=False, signature=EICAR_SIGNATURE)
    assert clean == ScanResult(clean=True, signature=None)
    assert await scanner.ping()


async def test_concurrent_scans_on_one_scanner_get_their_own_verdicts(clamd: ClamdProcess) -> None:
    # given
    scanner = ClamdScanner(clamd.address)
    files = [noise(200_000, seed=n) + (EICAR if n % 2 else b"") for n in range(6)]

    # when
    results = await asyncio.gather(*(scanner.scan(stream(f[:70_000], f[70_000:])) for f in files))

    # then
    assert [r.clean for r in results] == [True, False, True, False, True, False]


async def test_ping_answers(clamd: ClamdProcess) -> None:
    # when / then
    assert await ClamdScanner(clamd.address).ping() is True


async def test_an_unreachable_daemon_raises_and_is_never_clean(tmp_path: Path) -> None:
    # given
    addresses = [f"unix:{tmp_path / 'nobody.ctl'}", f"tcp://127.0.0.1:{free_port()}"]

    for address in addresses:
        scanner = ClamdScanner(address, timeout=2)

        # when / then
        with pytest.raises(ScannerUnavailable, match="unreachable"):
            await scanner.scan(stream(EICAR))
        assert await scanner.ping() is False


async def test_the_daemon_size_limit_is_unavailable_with_its_reason(tmp_path_factory: pytest.TempPathFactory) -> None:
    # given: a daemon that takes streams up to 1 MiB
    small = start_clamd(tmp_path_factory.mktemp("clamd1m"), stream_max_length="1M")
    try:
        for address in (small.address, small.tcp_address):
            scanner = ClamdScanner(address)

            # when / then
            with pytest.raises(ScannerUnavailable, match="INSTREAM size limit exceeded"):
                await scanner.scan(stream(noise(3 * MiB, seed=7)))
            assert await scanner.scan(stream(EICAR)) == ScanResult(clean=False, signature=EICAR_SIGNATURE)
    finally:
        small.stop()


async def test_a_daemon_that_never_answers_times_out(tmp_path_factory: pytest.TempPathFactory) -> None:
    # given
    async with fake_clamd(tmp_path_factory.mktemp("silent"), answer=None) as address:
        scanner = ClamdScanner(address, timeout=0.3)

        # when / then
        with pytest.raises(ScannerUnavailable, match=r"no answer within 0\.3 s"):
            await scanner.scan(stream(b"hello"))
        assert await scanner.ping() is False


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"stream: Can't allocate memory ERROR\0", "Can't allocate memory"),
        (b"COMMAND READ TIMED OUT\0", "answered 'COMMAND READ TIMED OUT'"),
        (b"UNKNOWN COMMAND\0", "answered 'UNKNOWN COMMAND'"),
        (b"stream:  FOUND\0", "answered"),
        (b"stream: OK", "without an answer"),
        (b"", "without an answer"),
    ],
)
async def test_answers_that_are_no_verdict_are_unavailable(
    tmp_path_factory: pytest.TempPathFactory, answer: bytes, reason: str
) -> None:
    # given
    async with fake_clamd(tmp_path_factory.mktemp("broken"), answer=answer) as address:
        # when / then
        with pytest.raises(ScannerUnavailable, match=reason):
            await ClamdScanner(address, timeout=2).scan(stream(b"hello"))


async def test_an_error_of_the_source_passes_unchanged(clamd: ClamdProcess) -> None:
    # given
    async def failing() -> AsyncIterator[bytes]:
        yield b"the first part"
        raise OSError("upload interrupted")

    # when / then
    with pytest.raises(OSError, match="upload interrupted") as caught:
        await ClamdScanner(clamd.address).scan(failing())
    assert not isinstance(caught.value, ScannerUnavailable)


@pytest.mark.parametrize(
    "address",
    [
        "clamd.ctl",
        "unix:clamd.ctl",
        "unix:",
        "unix:/" + "x" * 200,
        "tcp://localhost",
        "tcp://:3310",
        "tcp://localhost:0",
        "tcp://localhost:99999",
        "tcp://localhost:3310/path",
        "tcp://user@localhost:3310",
        "http://localhost:3310",
    ],
)
def test_malformed_addresses_are_refused(address: str) -> None:
    # when / then
    with pytest.raises(ValueError, match="clamd address"):
        ClamdScanner(address)


def test_a_scanner_is_made_only_from_an_address() -> None:
    # when / then
    assert scanner_from_address(None) is None
    assert scanner_from_address("  ") is None
    made = scanner_from_address("tcp://[::1]:3310")
    assert isinstance(made, ClamdScanner)
    assert made.address == "tcp://[::1]:3310"
    with pytest.raises(ValueError, match="timeout"):
        ClamdScanner("unix:/run/clamav/clamd.ctl", timeout=0)
