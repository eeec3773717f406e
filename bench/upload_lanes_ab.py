"""Issue 17: a folder's staged upload written and hashed in one lane (off: the thread that writes a batch then
hashes it, one batch in the thread while the loop fills the next, as before) or in two lanes at once (on: one
thread writes each batch while another hashes the same bytes, up to `blobs.IN_FLIGHT` bytes in the lanes), in
alternated rounds in one process (bench/README.md, "Issue 17 upload throughput").

Not a bench of the served stack (bench/documents.py is): no HTTP, no database. The loop feeds
`BlobStore.write_at` what uvicorn would give it, 256 KiB bytes objects, each a fresh copy (uvicorn's
`bytes(self.body)`), with the running SHA-256 fed as `domain/documents/uploads.receive` feeds it. Each round
writes `--mb` MB into a staged file on the same disk as the repository's temporary directory, checks the hash,
deletes the file. Printed per round and lever: MB/s (wall clock: the machine's other load is in it), the loop
thread's CPU per MB (`time.thread_time`), the process's CPU per MB, the loop's minor page faults per MB; then the
median of each over the rounds.

    .venv/bin/python bench/upload_lanes_ab.py --mb 200 --rounds 6
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
CHUNK = 256 * 1024  # what uvicorn hands over per receive() here (uvloop reads 256 KiB at a time)


async def _chunks(source: bytes, size: int) -> AsyncIterator[bytes]:
    view = memoryview(source)
    at = 0
    while at < size:
        n = min(CHUNK, size - at)
        yield bytes(view[at % len(source) : at % len(source) + n])  # a fresh object, as uvicorn's copy
        at += n
        await asyncio.sleep(0)  # the loop turns between chunks, as between socket reads


async def one(store: object, lanes: bool, source: bytes, size: int, expected: str) -> dict[str, float]:
    from domain.documents import blobs
    from domain.documents.uploads import RunningDigest

    digest = RunningDigest()
    path = "uploads/ab/000000"
    spent = {"write": 0.0, "hash": 0.0}  # thread CPU seconds of the writes and of the hashing
    real_write = blobs._write_all

    def timed_write(fd: int, chunks: list[bytes]) -> int:
        began = time.thread_time()
        try:
            return real_write(fd, chunks)
        finally:
            spent["write"] += time.thread_time() - began

    def timed(fn: Callable[[int, list[bytes]], None]) -> Callable[[int, list[bytes]], None]:
        def run(at: int, batch: list[bytes]) -> None:
            began = time.thread_time()
            try:
                fn(at, batch)
            finally:
                spent["hash"] += time.thread_time() - began

        return run

    blobs._write_all = timed_write
    loop0, faults0 = time.thread_time(), resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if lanes:
        written = await store.write_at(path, 0, _chunks(source, size), digest.wrote, lanes=[timed(digest.hash)])  # type: ignore[attr-defined]
    else:
        kept = blobs.IN_FLIGHT
        blobs.IN_FLIGHT = blobs.BATCH  # one batch in the thread while the loop fills the next
        try:
            written = await store.write_at(path, 0, _chunks(source, size), timed(digest.feed))  # type: ignore[attr-defined]
        finally:
            blobs.IN_FLIGHT = kept
    blobs._write_all = real_write
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    loop, faults = time.thread_time() - loop0, resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults0
    if written != size or digest.sha.hexdigest() != expected:
        raise SystemExit(f"check failed: {written} bytes, {digest.sha.hexdigest()}")
    store.local_path(path).unlink()  # type: ignore[attr-defined]
    mb = size / MiB
    write, hashing = spent["write"] * 1000 / mb, spent["hash"] * 1000 / mb
    # the slowest of the loop and the lanes bounds the rate when each has a core: one lane writing then hashing
    # (off), or a lane each (on)
    lane = write + hashing if not lanes else max(write, hashing)
    return {
        "rate": mb / wall,
        "loop": loop * 1000 / mb,
        "cpu": cpu * 1000 / mb,
        "faults": faults / mb,
        "write": write,
        "hash": hashing,
        "bound": mb / (max(lane, loop * 1000 / mb) * mb / 1000),
    }


async def run(args: argparse.Namespace) -> None:
    from domain.documents.blobs import BlobStore

    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-lanes-ab-"))
    try:
        store = BlobStore.from_url(f"fs://{tmp}")
        source = os.urandom(64 * MiB)
        size = args.mb * MiB
        expected = hashlib.sha256()
        at = 0
        while at < size:
            n = min(CHUNK, size - at)
            expected.update(memoryview(source)[at % len(source) : at % len(source) + n])
            at += n
        results: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        await one(store, True, source, 32 * MiB, hashlib.sha256(source[: 32 * MiB]).hexdigest())  # warm up
        for n in range(args.rounds):
            order = ("off", "on") if n % 2 == 0 else ("on", "off")
            for lever in order:
                os.sync()
                got = await one(store, lever == "on", source, size, expected.hexdigest())
                results[lever].append(got)
                print(
                    f"round {n} {lever}: {got['rate']:.0f} MB/s, loop {got['loop']:.2f} ms/MB, "
                    f"process {got['cpu']:.2f} ms/MB, loop faults {got['faults']:.0f}/MB, write {got['write']:.2f} "
                    f"ms/MB, hash {got['hash']:.2f} ms/MB, bound {got['bound']:.0f} MB/s",
                    flush=True,
                )
        for lever, rows in results.items():
            for key, unit in (
                ("rate", "MB/s"),
                ("bound", "MB/s"),
                ("loop", "ms/MB"),
                ("write", "ms/MB"),
                ("hash", "ms/MB"),
                ("cpu", "ms/MB"),
                ("faults", "/MB"),
            ):
                print(f"upload_lanes_{lever}_{key}_median: {statistics.median(r[key] for r in rows):.2f} {unit}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(run(args))
    except ImportError:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
