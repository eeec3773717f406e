"""Uploading and downloading files the way the app does: a grant from the GraphQL API, then the bytes over tus
1.0 with the official Python tus client (tuspy), run in a thread as the app's upload worker would."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx
from tusclient import client as tus

START = """mutation($input: DocumentUploadStartInput!) { documentUploadStart(input: $input) {
  __typename
  ... on UploadGrant { grant creationUrl uploadUrl expiresAt upload { id status received size } }
  ... on Error { code message } ... on FieldError { field } ... on FileTooLarge { maxBytes } } }"""
DOWNLOAD = """mutation($input: DocumentDownloadInput!) { documentDownload(input: $input) {
  __typename
  ... on DocumentDownloadGranted { link { url expiresAt document { id name size sha256 mediaType kind } } }
  ... on Error { code message } } }"""
LIST = """query($purpose: DocumentPurpose!, $ownerId: ID!) { documents(purpose: $purpose, ownerId: $ownerId) {
  id name size sha256 mediaType kind version superseded scanStatus purpose openedId } }"""
UPLOAD = """query($id: String!) { documentUpload(id: $id) { id status received size errorCode documentId } }"""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


async def grant(
    api: Any, token: str | None, purpose: str, owner_id: str, path: Path, name: str | None = None, **extra: Any
) -> dict[str, Any]:
    """documentUploadStart for a file on disk: its size and SHA-256 declared."""
    form = {
        "purpose": purpose,
        "ownerId": owner_id,
        "name": name or path.name,
        "size": path.stat().st_size,  # noqa: ASYNC240 (a test's small file)
        "sha256": sha256_file(path),
        **extra,
    }
    body = await api.gql(START, {"input": form}, token=token)
    return body["data"]["documentUploadStart"]  # type: ignore[no-any-return]


def _tus_upload(creation_url: str, grant_token: str, path: Path, chunk_size: int, url: str | None) -> str:
    client = tus.TusClient(creation_url, headers={"Upload-Grant": grant_token})
    uploader = client.uploader(
        str(path), chunk_size=chunk_size, metadata={"filename": path.name}, url=url, upload_checksum=False
    )
    uploader.upload()
    return str(uploader.url)


async def tus_upload(
    granted: dict[str, Any], path: Path, chunk_size: int = 4 * 1024 * 1024, resume: bool = False
) -> str:
    """Sends the file with tuspy (creation, then PATCHes; with `resume`, from the offset a HEAD reports)."""
    url = granted["uploadUrl"] if resume else None
    return await asyncio.to_thread(_tus_upload, granted["creationUrl"], granted["grant"], path, chunk_size, url)


async def patch(http: httpx.AsyncClient, granted: dict[str, Any], offset: int, data: bytes) -> httpx.Response:
    """One raw tus PATCH."""
    return await http.patch(
        granted["uploadUrl"],
        content=data,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Grant": granted["grant"],
        },
    )


async def dropped_patch(granted: dict[str, Any], blocks: Iterable[bytes]) -> int:
    """One PATCH from offset 0 whose connection drops after `blocks` were sent (a phone losing its 4G link);
    then the offset the server reports it kept, once it has noticed."""
    offset = 0

    async def body() -> AsyncIterator[bytes]:
        for block in blocks:
            yield block
        raise ConnectionResetError("the 4G link dropped")

    async with httpx.AsyncClient(timeout=60) as http:
        with contextlib.suppress(httpx.HTTPError, ConnectionResetError):
            await http.patch(
                granted["uploadUrl"],
                content=body(),
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Grant": granted["grant"],
                },
            )
        for _ in range(100):
            offset = int((await head(http, granted)).headers["upload-offset"])
            if offset:
                break
            await asyncio.sleep(0.05)
    return offset


async def head(http: httpx.AsyncClient, granted: dict[str, Any]) -> httpx.Response:
    return await http.head(granted["uploadUrl"], headers={"Tus-Resumable": "1.0.0", "Upload-Grant": granted["grant"]})


async def link(api: Any, token: str | None, document_id: str, **headers: str) -> dict[str, Any]:
    body = await api.gql(DOWNLOAD, {"input": {"documentId": document_id}}, token=token, headers=headers or None)
    return body["data"]["documentDownload"]  # type: ignore[no-any-return]


async def fetch(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.get(url, headers=headers)
