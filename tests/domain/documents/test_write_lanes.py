"""A folder's staged file written by `BlobStore.write_at` (domain/documents/blobs.py): the running hash fed in a
lane of its own at the same time as the bytes are written, every lane in order, small chunks from a slow network,
and a failing lane that stops them all before the request hears of it."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.documents import blobs
from domain.documents.blobs import BlobStore
from domain.documents.errors import StorageUnavailable
from domain.documents.uploads import RunningDigest

MiB = 1024 * 1024


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


def _store(tmp_path: Path) -> BlobStore:
    return BlobStore.from_url(f"fs://{tmp_path}")


async def test_each_batch_is_hashed_while_it_is_written(tmp_path: Path) -> None:
    # given 6 MiB arriving in 256 KiB chunks, and a writing thread that waits (up to 5 s) for the hashing thread
    # to take the batch it writes
    data = os.urandom(6 * MiB)
    digest = RunningDigest()
    taken: dict[int, threading.Event] = {}
    guard = threading.Lock()
    overlapped = []

    def event(at: int) -> threading.Event:
        with guard:
            return taken.setdefault(at, threading.Event())

    def hashing(at: int, batch: list[bytes]) -> None:
        event(at).set()
        digest.hash(at, batch)

    def wrote(at: int, batch: list[bytes]) -> None:
        overlapped.append(event(at).wait(5))
        digest.wrote(at, batch)

    # when the store writes them
    store = _store(tmp_path)
    written = await store.write_at("uploads/a/000000", 0, _chunks(data, 256 * 1024), wrote, lanes=[hashing])

    # then every batch was hashed by another thread while it was being written, in order: the very bytes
    assert written == len(data)
    assert overlapped
    assert all(overlapped)
    assert digest.sha.digest() == hashlib.sha256(data).digest()
    assert (digest.at, digest.written) == (len(data), len(data))
    assert store.local_path("uploads/a/000000").read_bytes() == data


async def test_small_chunks_from_a_slow_network_are_written(tmp_path: Path) -> None:
    # given 3,000 chunks of 100 bytes (more than one writev takes)
    data = os.urandom(300_000)
    digest = RunningDigest()

    # when the store writes them
    store = _store(tmp_path)
    written = await store.write_at("uploads/b/000000", 0, _chunks(data, 100), digest.wrote, lanes=[digest.hash])

    # then the file and the hash hold every byte
    assert written == len(data)
    assert store.local_path("uploads/b/000000").read_bytes() == data
    assert digest.sha.digest() == hashlib.sha256(data).digest()


async def test_a_failing_lane_stops_every_lane_before_the_request_hears_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a hashing lane that fails on the second batch and a writing lane that takes its time
    monkeypatch.setattr(blobs, "IN_FLIGHT", 8 * MiB)
    data = os.urandom(6 * MiB)
    finished: list[float] = []

    failing = threading.Event()

    def hashing(at: int, batch: list[bytes]) -> None:
        if at >= MiB:
            failing.set()
            raise ValueError("hash lane failed")

    def slow(at: int, batch: list[bytes]) -> None:
        if at >= 2 * MiB:
            failing.wait(5)  # the third batch is written once the hashing lane has failed, whatever the load
        time.sleep(0.05)
        finished.append(time.monotonic())

    # when the store writes the bytes
    store = _store(tmp_path)
    with pytest.raises(ValueError, match="hash lane failed"):
        await store.write_at("uploads/c/000000", 0, _chunks(data, 256 * 1024), slow, lanes=[hashing])
    failed = time.monotonic()

    # then the request failed only once no lane was running, and the lanes skipped the rest of the bytes
    assert finished
    assert max(finished) <= failed
    assert len(finished) <= 3
    await asyncio.sleep(0.2)
    assert len(finished) == len([t for t in finished if t <= failed])


async def test_a_failed_write_is_storage_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a disk that refuses the second batch
    real = blobs._write_all
    calls = []

    def failing(fd: int, chunks: list[bytes]) -> int:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(fd, chunks)

    monkeypatch.setattr(blobs, "_write_all", failing)
    digest = RunningDigest()

    # when the store writes 4 MiB
    store = _store(tmp_path)
    with pytest.raises(StorageUnavailable):
        await store.write_at(
            "uploads/d/000000", 0, _chunks(os.urandom(4 * MiB), 256 * 1024), digest.wrote, lanes=[digest.hash]
        )

    # then only what was written is counted as written, and the file is closed
    assert digest.written == MiB
    try:
        target = os.readlink(f"/proc/self/fd/{calls[0]}")
    except FileNotFoundError:
        target = None
    assert target != str(store.local_path("uploads/d/000000"))
