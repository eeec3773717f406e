"""The blob store: one small interface over Apache OpenDAL, so a folder (the embedded default) and S3-compatible
object storage (AWS S3, Aliyun OSS, Tencent COS, Huawei OBS, MinIO) are used alike.

Objects are named by their SHA-256 (`objects/ab/cd/<sha256>`); an upload under way is staged under
`uploads/<id>/`: appended to one file where the store can append (a folder), one part per request otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import opendal
import opendal.exceptions

from domain.documents.errors import StorageUnavailable

log = logging.getLogger("palmtrade.documents")

CHUNK = 1024 * 1024
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

    @classmethod
    def from_url(cls, url: str, access_key_id: str | None = None, secret_access_key: str | None = None) -> BlobStore:
        """`fs://data/files` (a folder), or `s3://bucket?endpoint=...&region=...` (also oss://, cos://, obs://)."""
        parts = urlsplit(url)
        if parts.scheme in ("", "fs", "file"):
            root = (parts.netloc + parts.path) if parts.scheme else url
            return cls(
                opendal.AsyncOperator("fs", root=root or "data/files"), description=f"folder {root}", folder=True
            )
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
        if self.can_append:  # a folder: the upload's now empty directory too
            await self.delete(f"uploads/{upload_id}/")

    async def promote(self, parts: list[Part], sha256: str) -> None:
        """Makes the staged parts the object named by `sha256`: a rename where the store has one and the upload is
        one file, a streamed concatenation otherwise. An object already stored is kept as it is."""
        target = object_path(sha256)
        if await self.size(target) is not None:
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
