"""The adapters of the documents services, wired once by the composition root (api/services.py): the blob store,
the malware scanner, the secret that signs grants and links, and the per-process state of uploads fed here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain.documents.blobs import BlobStore
from domain.documents.scanning import Scanner


@dataclass
class Deps:
    """Wired once by the composition root (api/services.py)."""

    store: BlobStore | None = None
    scanner: Scanner | None = None
    secret: bytes = b""
    upload_ttl: timedelta = timedelta(hours=24)
    link_ttl: timedelta = timedelta(minutes=10)
    presigned_downloads: bool = True
    # per process: the running SHA-256 of an upload fed here (uploads.RunningDigest), so finishing it need not
    # read it all again
    hashers: dict[str, Any] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)


deps = Deps()


def configure(
    store: BlobStore,
    scanner: Scanner | None,
    secret: bytes,
    *,
    presigned_downloads: bool = True,
    upload_ttl: timedelta = timedelta(hours=24),
) -> None:
    deps.store, deps.scanner, deps.secret = store, scanner, secret
    deps.presigned_downloads, deps.upload_ttl = presigned_downloads, upload_ttl


def blob_store() -> BlobStore:
    if deps.store is None:
        raise RuntimeError("documents.configure() was not called")
    return deps.store
