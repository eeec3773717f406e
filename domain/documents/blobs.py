"""The blob store: one small interface over Apache OpenDAL, so a folder (the embedded default) and S3-compatible
object storage (AWS S3, Aliyun OSS, Tencent COS, Huawei OBS, MinIO) are used alike.

Objects are named by their SHA-256 (`objects/ab/cd/<sha256>`); an upload under way is staged under
`uploads/<id>/`: one file written at the upload's offset on a folder, one part per request otherwise.

On a folder the staged file is written with plain system calls from worker threads (`write_at`), not through
OpenDAL's writer: the event loop keeps receiving the next megabytes while one thread writes the last ones and
another hashes the same bytes (`_Lanes`), the received chunks reach the file without being joined into one
buffer (`os.writev`), and nothing is fsynced per request. OpenDAL's folder writer fsyncs on every close (6-9 ms
per tus PATCH, the client waiting), joins and copies each chunk, and runs its writes on its own runtime
(bench/documents.py, bench/README.md "Issue 17 upload throughput").

Durability on a folder. A tus PATCH is acknowledged (204) once its bytes are in the file (the page cache), not on
the disk: a process that dies loses nothing acknowledged; a power loss or kernel crash may. After one, the
offset the server reports is the smaller of the recorded one and the staged file's size (`staged_size`), so a
client resumes from bytes that are really there; a staged file longer than recorded (a process that died
between writing and recording) is cut back to the recorded offset before the next bytes are written; and bytes
that a crash left damaged inside the file fail the SHA-256 check of the whole file, which refuses it. A
finished file is fsynced, renamed to its object name and its folder fsynced (`promote`) before the upload is
recorded complete and the last PATCH answered: an accepted document survives a power loss. Fsyncing every PATCH
(or every few MiB) would buy nothing a resuming client does not already get from the reported offset, and would
stop the upload for each flush. The writing thread instead starts the disk writes of every 8 MiB written
without waiting for them, so the closing fsync has only the last few MiB left to wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import opendal
import opendal.exceptions

from domain.documents.errors import StorageUnavailable

log = logging.getLogger("palmtrade.documents")

CHUNK = 1024 * 1024
# received bytes handed to the worker threads at a time (a folder), and at most so many chunks (one writev takes
# at most IOV_MAX, 1024 on Linux, and a slow network delivers small ones)
BATCH = 1024 * 1024
BATCH_CHUNKS = 512
# bytes of one request the threads may hold before the loop stops receiving (a bounded queue of batches): the
# loop fills the next batch while several are written and hashed, so a batch that takes a thread longer (a busy
# core, the disk) does not stop the loop
IN_FLIGHT = 2 * 1024 * 1024
# a staged file's written bytes are sent on to the disk every so many (see `_start_writeback`)
WRITEBACK = 8 * 1024 * 1024
# what OpenDAL raises: its own classes (no common base) and, from file objects, OSError
FAILURES: tuple[type[Exception], ...] = (
    OSError,
    *(c for c in vars(opendal.exceptions).values() if isinstance(c, type) and issubclass(c, Exception)),
)
# services OpenDAL speaks that a deployment in China uses; the URL scheme names the service
OBJECT_STORES = {"s3": "s3", "oss": "oss", "cos": "cos", "obs": "obs", "minio": "s3"}


@dataclass(frozen=True, slots=True)
class Part:
    path: str
    size: int


def object_path(sha256: str) -> str:
    return f"objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def staging_path(upload_id: str, index: int) -> str:
    return f"uploads/{upload_id}/{index:06d}"


# what a worker thread does with each batch: its position in the file and its chunks (the writing thread's, once
# the batch is in the file; a hashing lane's, at the same time: the running SHA-256 and a request's checksum are
# fed there, off the event loop: hashlib lets go of the GIL)
Sink = Callable[[int, list[bytes]], None]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
WRITERS = 8  # threads writing staged uploads (a folder), per process


def _writers() -> ThreadPoolExecutor:
    """The threads that write staged uploads: their own pool, so an upload neither waits behind the CPU pool's
    password hashing (domain/common/cpu.py) nor fills asyncio's default executor."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="files")
        return _pool


def _open_at(file: Path, offset: int) -> int:
    """A staged file opened for writing at `offset` (created with its folder); bytes past `offset` (written by a
    process that died before recording them) are cut off. A file shorter than `offset` is the caller's error."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o640)
    try:
        size = os.fstat(fd).st_size
        if size < offset:
            raise OSError(errno.EINVAL, f"staged file holds {size} bytes, not {offset}")
        if size > offset:
            os.ftruncate(fd, offset)
        os.lseek(fd, offset, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_all(fd: int, chunks: list[bytes]) -> int:
    """All of `chunks` at the file's position, one writev for the batch (no join: no copy in user space); their
    size."""
    total = sum(map(len, chunks))
    done = os.writev(fd, chunks)
    if done == total:
        return total
    rest = memoryview(b"".join(chunks))[done:]  # a short write (a signal, a full disk): finish it piecewise
    while rest:
        rest = rest[os.write(fd, rest) :]
    return total


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Starts writing a written range to the disk without waiting for it (Linux: POSIX_FADV_DONTNEED writes dirty
    pages back asynchronously, then drops the clean ones), so the fsync that finishes an upload waits for its
    last few MiB, not for all of it (bench/README.md, "Issue 17 upload throughput": a 200 MB copy's closing fsync
    0.14 -> 0.05 s)."""
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _promote_file(root: Path, source: Path, target: Path) -> None:
    """The staged file made durable under its object name: fsync it, make the object's folders (each new one
    fsynced into its parent), rename, fsync the object's folder."""
    fd = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    missing = []
    folder = target.parent
    while not folder.exists() and folder != root:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(exist_ok=True)
        _fsync_dir(made.parent)
    os.replace(source, target)
    _fsync_dir(target.parent)


class _Lanes:
    """One request's batches through several lanes at once on the writers' pool (a folder): one writes each batch
    into the staged file, the others hash it, all reading the same immutable bytes. Each lane takes its batches in
    order, one at a time: the thread that finishes a batch goes on with the lane's next one, an idle lane is
    started by a new pool task, so no thread waits for another and the pool stays shared between requests. The
    loop hands each batch to every lane and goes on receiving while the lanes hold at most IN_FLIGHT bytes
    (`settle`). Once a lane's work fails (or the loop `halt`s them), every lane skips what it still holds, and the
    loop hears of it only when no lane is running: nothing touches the file or the running hash after that."""

    __slots__ = (
        "_done",
        "_error",
        "_halted",
        "_idle",
        "_lock",
        "_loop",
        "_pool",
        "_queues",
        "_running",
        "_sent",
        "_waiter",
        "_work",
    )

    def __init__(self, pool: ThreadPoolExecutor, loop: asyncio.AbstractEventLoop, work: list[Sink]) -> None:
        self._pool = pool
        self._loop = loop
        self._work = work
        self._lock = threading.Lock()
        self._queues: list[deque[tuple[int, list[bytes], int]]] = [deque() for _ in work]
        self._running = [False] * len(work)
        self._done = [0] * len(work)  # bytes each lane is through
        self._sent = 0
        self._error: BaseException | None = None
        self._halted = False
        self._waiter: tuple[asyncio.Future[None], int] | None = None
        self._idle: Callable[[], None] | None = None

    def held(self) -> int:
        """Bytes handed to the lanes that some lane is not through yet."""
        return self._sent - min(self._done)

    def put(self, at: int, batch: list[bytes], size: int) -> None:
        """Hands a batch (`size` bytes at `at`) to every lane (the loop)."""
        start = []
        with self._lock:
            self._sent += size
            for lane, queue in enumerate(self._queues):
                queue.append((at, batch, size))
                if not self._running[lane]:
                    self._running[lane] = True
                    start.append(lane)
        for lane in start:
            self._pool.submit(self._run, lane)

    def _ready(self, held: int) -> bool:
        """(under the lock) The loop may go on: the lanes hold at most `held` bytes, or they stopped and are idle."""
        if self._error is not None or self._halted:
            return not any(self._running)
        return self._sent - min(self._done) <= held

    async def settle(self, held: int) -> None:
        """Until the lanes hold at most `held` bytes; raises the error a lane met (once no lane runs)."""
        while True:
            with self._lock:
                if self._ready(held):
                    if self._error is not None:
                        raise self._error
                    return
                waiter = self._loop.create_future()
                self._waiter = (waiter, held)
            await waiter

    async def halt(self) -> None:
        """The lanes skip what they still hold; returns once none runs (its error, if any, left unsaid)."""
        with self._lock:
            self._halted = True
        try:
            await self.settle(0)
        except Exception:  # the error the loop is already raising for, or one it no longer needs
            return

    def when_idle(self, then: Callable[[], None]) -> None:
        """`then()` once every lane is through all it was handed: now, or in the thread that finishes last."""
        with self._lock:
            if any(self._running):
                self._idle = then
                return
        then()

    def _run(self, lane: int) -> None:
        work, queue = self._work[lane], self._queues[lane]
        while True:
            with self._lock:
                if not queue:
                    self._running[lane] = False
                    then = None
                    if not any(self._running):
                        then, self._idle = self._idle, None
                    break
                at, batch, size = queue.popleft()
                skip = self._error is not None or self._halted
            if not skip:
                try:
                    work(at, batch)
                except BaseException as err:  # handed to the loop by `settle`
                    with self._lock:
                        self._error = self._error or err
            with self._lock:
                self._done[lane] += size
            self._wake()
        self._wake()
        if then is not None:
            then()

    def _wake(self) -> None:
        with self._lock:
            waiter = self._waiter
            if waiter is None or not self._ready(waiter[1]):
                return
            self._waiter = None
        with contextlib.suppress(RuntimeError):  # the loop is closed (the process is stopping): nobody waits
            self._loop.call_soon_threadsafe(_resolve, waiter[0])


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class BlobStore:
    """Streams bytes in and out of one OpenDAL operator; memory stays at a chunk or two per transfer."""

    def __init__(self, operator: opendal.AsyncOperator, *, description: str, folder: bool = False) -> None:
        self.op = operator
        capability = operator.capability()
        # appending is for a folder only: OpenDAL's S3 service claims it too (S3 Express), an ordinary bucket
        # then overwrites instead
        self.can_append = folder and bool(capability.write_can_append)
        self.can_rename = bool(capability.rename)
        self.can_presign = bool(capability.presign_read)
        self.description = description
        # a folder's absolute path: staged uploads are written there with system calls (`write_at`)
        self.root: Path | None = None

    @classmethod
    def from_url(cls, url: str, access_key_id: str | None = None, secret_access_key: str | None = None) -> BlobStore:
        """`fs://data/files` (a folder), or `s3://bucket?endpoint=...&region=...` (also oss://, cos://, obs://)."""
        parts = urlsplit(url)
        if parts.scheme in ("", "fs", "file"):
            root = (parts.netloc + parts.path) if parts.scheme else url
            store = cls(
                opendal.AsyncOperator("fs", root=root or "data/files"), description=f"folder {root}", folder=True
            )
            store.root = Path(root or "data/files").absolute()
            return store
        service = OBJECT_STORES.get(parts.scheme)
        if service is None:
            raise ValueError(f"STORAGE_URL: unknown scheme {parts.scheme!r} (fs, s3, oss, cos, obs)")
        options: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options["bucket"] = parts.netloc
        if parts.path.strip("/"):
            options["root"] = parts.path
        if access_key_id and secret_access_key:
            keys = {
                "s3": ("access_key_id", "secret_access_key"),
                "oss": ("access_key_id", "access_key_secret"),
                "cos": ("secret_id", "secret_key"),
                "obs": ("access_key_id", "secret_access_key"),
            }[service]
            options[keys[0]], options[keys[1]] = access_key_id, secret_access_key
        endpoint = options.get("endpoint", "")
        return cls(
            opendal.AsyncOperator(service, **options), description=f"{service} {parts.netloc} {endpoint}".strip()
        )

    async def write_part(self, path: str, chunks: AsyncIterator[bytes], *, append: bool = False) -> int:
        """Writes what the stream yields (what arrived before a broken connection too); returns the bytes written.
        The writer is closed in any case, so every byte received is kept."""
        written = 0
        try:
            writer = await (self.op.open(path, "wb", append=True) if append else self.op.open(path, "wb"))
        except FAILURES as err:
            raise StorageUnavailable() from err
        buffered: list[bytes] = []
        size = 0
        try:
            async for chunk in chunks:
                buffered.append(chunk)
                size += len(chunk)
                if size >= CHUNK:
                    await writer.write(b"".join(buffered))
                    written += size
                    buffered, size = [], 0
        finally:
            try:
                if buffered:
                    await writer.write(b"".join(buffered))
                    written += size
                await writer.close()
            except FAILURES as err:
                log.warning("storage write of %s failed: %s", path, err)
                raise StorageUnavailable() from err
        return written

    @property
    def writes_at(self) -> bool:
        """The store writes a staged upload as one file at an offset (a folder): `write_at`, `staged_size`."""
        return self.root is not None

    def local_path(self, path: str) -> Path:
        """A folder store's file for an object or staged path."""
        if self.root is None:
            raise RuntimeError("not a folder store")
        return self.root / path

    _local = local_path

    @staticmethod
    def in_thread(fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """fn(*args) on the threads that write staged uploads (a folder's hashing of a staged file too)."""
        return _writers().submit(fn, *args)

    async def staged_size(self, path: str) -> int | None:
        """The size of a staged file (a folder): what a crash left of it; None when there is none."""
        try:
            return (await asyncio.to_thread(os.stat, self._local(path))).st_size
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageUnavailable() from err

    async def write_at(
        self,
        path: str,
        offset: int,
        chunks: AsyncIterator[bytes],
        sink: Sink | None = None,
        *,
        lanes: Sequence[Sink] = (),
    ) -> int:
        """A folder's staged file: writes what the stream yields at `offset` (what arrived before a broken
        connection too), from the writers' threads, a batch at a time while the loop receives the next ones; `sink`
        gets each batch in the writing thread once it is written, each of `lanes` gets each batch in a thread of
        its own at the same time (hashing: the bytes are immutable), every lane in order (`_Lanes`). Returns the
        bytes written, once every lane is through them. No fsync (see the module's docstring): `promote` makes
        the finished file durable."""
        pool = _writers()
        try:
            fd = await asyncio.wrap_future(pool.submit(_open_at, self._local(path), offset))
        except OSError as err:
            log.warning("storage write of %s failed: %s", path, err)
            raise StorageUnavailable() from err

        kicked = offset

        def write(at: int, batch: list[bytes]) -> None:
            nonlocal kicked
            end = at + _write_all(fd, batch)
            if sink is not None:
                sink(at, batch)
            if end - kicked >= WRITEBACK:
                _start_writeback(fd, kicked, end - kicked)
                kicked = end

        flow = _Lanes(pool, asyncio.get_running_loop(), [write, *lanes])
        written = 0
        batch: list[bytes] = []
        size = 0
        try:
            async for chunk in chunks:
                batch.append(chunk)
                size += len(chunk)
                if size >= BATCH or len(batch) >= BATCH_CHUNKS:
                    flow.put(offset + written, batch, size)
                    written += size
                    batch, size = [], 0
                    if flow.held() > IN_FLIGHT:
                        await flow.settle(IN_FLIGHT)
            if batch:
                flow.put(offset + written, batch, size)
                written += size
            await flow.settle(0)
        except BaseException as err:
            # the lanes stop before anything else touches the file or the running hash (the next PATCH, a retry)
            await flow.halt()
            if isinstance(err, OSError):
                log.warning("storage write of %s failed: %s", path, err)
                raise StorageUnavailable() from err
            raise
        finally:
            # closed once the lanes are through, also when this request failed or was cancelled meanwhile
            flow.when_idle(lambda: os.close(fd))
        return written

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of an object from `offset`, `length` of them (all when None), a chunk at a time."""
        try:
            reader = await self.op.open(path, "rb")
        except FAILURES as err:
            raise StorageUnavailable() from err
        try:
            if offset:
                await reader.seek(offset)
            left = length
            while left is None or left > 0:
                block = bytes(await reader.read(CHUNK if left is None else min(CHUNK, left)))
                if not block:
                    break
                if left is not None:
                    left -= len(block)
                yield block
        finally:
            await reader.close()

    async def head(self, path: str, size: int, n: int) -> tuple[bytes, bytes]:
        """The first and the last `n` bytes of an object of `size` bytes."""
        first = b"".join([b async for b in self.read(path, 0, min(n, size))])
        last = first if size <= n else b"".join([b async for b in self.read(path, size - n, n)])
        return first, last

    async def size(self, path: str) -> int | None:
        try:
            return int((await self.op.stat(path)).content_length)
        except FAILURES:
            return None

    async def delete(self, path: str) -> None:
        try:
            await self.op.delete(path)
        except FAILURES as err:
            log.warning("could not delete %s: %s", path, err)

    async def discard_staging(self, upload_id: str, parts: list[Part]) -> None:
        """Deletes an upload's staged parts (by name: listing is not needed, and not every store lists alike)."""
        for part in parts:
            await self.delete(part.path)
        if self.can_append or self.writes_at:  # a folder: the upload's now empty directory too
            await self.delete(f"uploads/{upload_id}/")

    async def promote(self, parts: list[Part], sha256: str) -> None:
        """Makes the staged parts the object named by `sha256`: a rename where the store has one and the upload is
        one file, a streamed concatenation otherwise. An object already stored is kept as it is."""
        target = object_path(sha256)
        if await self.size(target) is not None:
            return
        if len(parts) == 1 and self.root is not None:
            try:
                await asyncio.to_thread(_promote_file, self.root, self._local(parts[0].path), self._local(target))
            except OSError as err:
                log.warning("storing %s failed: %s", target, err)
                raise StorageUnavailable() from err
            return
        if len(parts) == 1 and self.can_rename:
            await self.op.rename(parts[0].path, target)
            return

        async def joined() -> AsyncIterator[bytes]:
            for part in parts:
                async for block in self.read(part.path):
                    yield block

        await self.write_part(target, joined())

    async def presigned_read(self, path: str, seconds: int, disposition: str, media_type: str) -> str | None:
        """A presigned GET of the object store itself (None where the store cannot presign, e.g. a folder)."""
        if not self.can_presign:
            return None
        request = await self.op.presign_read(path, seconds, content_disposition=disposition, content_type=media_type)
        return str(request.url)

    async def check(self) -> None:
        """Readiness: the store answers a listing."""
        await self.op.exists("objects/")
