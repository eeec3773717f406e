"""Files over HTTP: the resumable upload endpoint (tus 1.0.0 with the creation, checksum, expiration and
termination extensions) and signed downloads with Range, ETag and the Chinese file name.

An upload is granted first by the `documentUploadStart` mutation, which says what the file is for and returns
a short-lived grant; every request here carries it in `Upload-Grant` (or, on creation, as the `grant` entry of
`Upload-Metadata`, as tus clients send metadata). Errors are JSON with a code and a message in the caller's
language, with the status codes tus gives (409 offset, 460 checksum, 410 expired).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from domain.common.errors import DomainError, NotFound
from domain.documents import downloads, errors, links, uploads
from domain.documents.links import content_disposition
from domain.documents.purposes import PURPOSES
from domain.tendering.bid_files import BidFileEnvelopeInvalid
from schema.context import locale_from

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,checksum,expiration,termination"
CHECKSUMS = {"sha1": "sha1", "sha256": "sha256", "md5": "md5"}
MAX_SIZE = max(p.max_bytes for p in PURPOSES.values())
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

_STATUS: dict[type[DomainError], int] = {
    errors.UploadGrantInvalid: 403,
    errors.UploadExpired: 410,
    errors.UploadOffsetMismatch: 409,
    errors.UploadChecksumMismatch: 460,
    errors.FileHashMismatch: 422,
    errors.FileTypeRefused: 415,
    errors.FileInfected: 422,
    BidFileEnvelopeInvalid: 422,
    errors.StorageUnavailable: 503,
    NotFound: 404,
}


def _tus_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"tus-resumable": TUS_VERSION, "cache-control": "no-store", **(extra or {})}


def _error(request: Request, err: DomainError, status: int | None = None) -> JSONResponse:
    locale = locale_from(request.headers.get("accept-language"))
    code = status or next((s for cls, s in _STATUS.items() if isinstance(err, cls)), 400)
    extensions: dict[str, Any] = {"code": err.code, "requestId": request.scope.get("state", {}).get("request_id", "-")}
    extensions.update({k: v for k, v in err.params.items() if isinstance(v, str | int)})
    body = {"errors": [{"message": err.message(locale), "extensions": extensions}]}
    return JSONResponse(body, status_code=code, headers=_tus_headers())


def _refusal(request: Request, status: int, code: str, zh: str, en: str) -> JSONResponse:
    message = en if locale_from(request.headers.get("accept-language")) == "en" else zh
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=_tus_headers())


def _metadata(value: str) -> dict[str, str]:
    """tus Upload-Metadata: comma-separated `key base64value` pairs."""
    out: dict[str, str] = {}
    for pair in value.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not key:
            continue
        try:
            out[key] = base64.b64decode(encoded, validate=True).decode() if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            continue
    return out


def _grant(request: Request, upload_id: str | None) -> str:
    grant = request.headers.get("upload-grant") or _metadata(request.headers.get("upload-metadata", "")).get("grant")
    if not grant:
        raise errors.UploadGrantInvalid()
    return links.check_grant(grant, upload_id)


def _http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _expires(upload: Any) -> dict[str, str]:
    return {"upload-expires": _http_date(upload.expires_at)}


def _location(request: Request, upload_id: str) -> str:
    return str(request.url_for("tus_upload", upload_id=upload_id))


async def tus_options(request: Request) -> Response:
    return Response(
        status_code=204,
        headers={
            "tus-resumable": TUS_VERSION,
            "tus-version": TUS_VERSION,
            "tus-extension": TUS_EXTENSIONS,
            "tus-max-size": str(MAX_SIZE),
            "tus-checksum-algorithm": ",".join(CHECKSUMS),
        },
    )


async def tus_create(request: Request) -> Response:
    """Creation: binds the granted upload to this tus resource (its length must be the declared size)."""
    if request.method == "OPTIONS":
        return await tus_options(request)
    if request.headers.get("tus-resumable") != TUS_VERSION:
        return _version_refused(request)
    try:
        upload_id = _grant(request, None)
        upload = await uploads.open_upload(upload_id)
    except DomainError as err:
        return _error(request, err)
    length = request.headers.get("upload-length", "")
    if not length.isdigit() or int(length) != upload.declared_size:
        return _refusal(
            request,
            400,
            "UPLOAD_LENGTH_MISMATCH",
            "Upload-Length 须等于申报的文件大小",
            "Upload-Length must equal the size declared when the upload was granted",
        )
    offset = await uploads.resume_offset(upload)
    headers = _tus_headers({"location": _location(request, upload.id), "upload-offset": str(offset)})
    headers.update(_expires(upload))
    return Response(status_code=201, headers=headers)


def _version_refused(request: Request) -> Response:
    return Response(status_code=412, headers={"tus-version": TUS_VERSION})


async def tus_upload(request: Request) -> Response:
    """HEAD (the offset to resume from), PATCH (bytes at that offset) and DELETE (termination)."""
    upload_id = request.path_params["upload_id"]
    if request.method == "OPTIONS":
        return await tus_options(request)
    if request.headers.get("tus-resumable") != TUS_VERSION:
        return _version_refused(request)
    try:
        _grant(request, upload_id)
        if request.method == "DELETE":
            await uploads.terminate(upload_id)
            return Response(status_code=204, headers=_tus_headers())
        upload = await uploads.open_upload(upload_id)
    except DomainError as err:
        return _error(request, err)
    if request.method == "HEAD":
        offset = await uploads.resume_offset(upload)  # what is really staged (a crash may have lost bytes)
        headers = _tus_headers({"upload-offset": str(offset), "upload-length": str(upload.declared_size)})
        headers.update(_expires(upload))
        if upload.status == "complete" and upload.document_id:
            headers["upload-document-id"] = str(upload.document_id)
        return Response(status_code=200, headers=headers)
    return await _patch(request, upload_id)


async def _patch(request: Request, upload_id: str) -> Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/offset+octet-stream":
        return _refusal(
            request,
            415,
            "UPLOAD_CONTENT_TYPE",
            "内容类型须为 application/offset+octet-stream",
            "Content-Type must be application/offset+octet-stream",
        )
    offset = request.headers.get("upload-offset", "")
    if not offset.isdigit():
        return _refusal(request, 400, "UPLOAD_OFFSET_MISSING", "缺少 Upload-Offset", "Upload-Offset is missing")
    checksum: tuple[str, bytes] | None = None
    if raw := request.headers.get("upload-checksum"):
        algorithm, _, encoded = raw.strip().partition(" ")
        try:
            checksum = (CHECKSUMS[algorithm.lower()], base64.b64decode(encoded, validate=True))
        except (KeyError, binascii.Error):
            return _refusal(
                request,
                400,
                "UPLOAD_CHECKSUM_ALGORITHM",
                "不支持的校验算法（sha1、sha256、md5）",
                "Unsupported checksum algorithm (sha1, sha256, md5)",
            )
    try:
        upload = await uploads.receive(upload_id, int(offset), _body(request), checksum)
    except DomainError as err:
        return _error(request, err)
    headers = _tus_headers({"upload-offset": str(upload.received)})
    headers.update(_expires(upload))
    if upload.document_id:
        headers["upload-document-id"] = str(upload.document_id)
    return Response(status_code=204, headers=headers)


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives; a dropped connection simply ends it (what came is kept)."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        return


def _range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of a single `bytes=` range; None for the whole file; False when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or "," in header:
        return None  # multiple or malformed ranges: the whole file (RFC 9110 lets a server ignore Range)
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            return False
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


async def download(request: Request) -> Response:
    """A signed link's bytes: Range (206, resumable), ETag (the SHA-256), If-None-Match, If-Range."""
    try:
        doc_id = int(request.path_params["doc_id"])
    except ValueError:
        doc_id = 0
    exp, sig = request.query_params.get("e", ""), request.query_params.get("s", "")
    if not doc_id or not links.check_download_signature(doc_id, exp, sig):
        return _refusal(
            request,
            403,
            "DOWNLOAD_LINK_INVALID",
            "下载链接无效或已过期，请重新获取",
            "The download link is invalid or expired; ask for a new one",
        )
    try:
        doc = await downloads.served(doc_id)
    except DomainError as err:
        return _error(request, err)
    etag = f'"{doc.sha256}"'
    headers = {
        "etag": etag,
        "accept-ranges": "bytes",
        "content-disposition": content_disposition(doc.name),
        "cache-control": "private, max-age=600",
        "x-content-type-options": "nosniff",
        "last-modified": _http_date(doc.created_at),
    }
    if request.headers.get("if-none-match") in (etag, "*"):
        return Response(status_code=304, headers=headers)
    wanted = _range(request.headers.get("range"), doc.size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range != etag:
        wanted = None
    if wanted is False:
        return Response(status_code=416, headers={**headers, "content-range": f"bytes */{doc.size}"})
    if not isinstance(wanted, tuple):
        start, end, status = 0, doc.size - 1, 200
    else:
        start, end = wanted
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{doc.size}"
    headers["content-length"] = str(max(0, end - start + 1))
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=doc.media_type)
    if not doc.size:
        return Response(b"", status_code=status, headers=headers, media_type=doc.media_type)
    body = downloads.read(doc, start, end - start + 1)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=doc.media_type)


ROUTES = [
    Route("/files/uploads", tus_create, methods=["POST", "OPTIONS"], name="tus_create"),
    Route(
        "/files/uploads/{upload_id:str}", tus_upload, methods=["HEAD", "PATCH", "DELETE", "OPTIONS"], name="tus_upload"
    ),
    Route("/files/{doc_id:str}/{name:path}", download, methods=["GET", "HEAD"], name="download"),
]
