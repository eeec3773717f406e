"""Signed grants and links: the credential the resumable endpoint takes for one upload, the signature of a
download link served by the platform itself, and the Content-Disposition a download carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from datetime import datetime
from urllib.parse import quote

from domain.common import clock
from domain.documents.adapters import deps
from domain.documents.errors import UploadGrantInvalid


def _mac(*parts: str) -> str:
    digest = hmac.new(deps.secret, "\n".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def upload_grant(upload_id: str, expires_at: datetime) -> str:
    """The short-lived credential the resumable endpoint takes for one upload."""
    exp = str(int(expires_at.timestamp()))
    return f"{upload_id}.{exp}.{_mac('upload', upload_id, exp)}"


def check_grant(grant: str, upload_id: str | None = None) -> str:
    """The upload a grant is for; UploadGrantInvalid when forged, expired or for another upload."""
    parts = grant.strip().split(".") if isinstance(grant, str) else []
    if len(parts) != 3 or not parts[1].isdigit():
        raise UploadGrantInvalid()
    uid, exp, mac = parts
    if not hmac.compare_digest(mac, _mac("upload", uid, exp)) or (upload_id is not None and uid != upload_id):
        raise UploadGrantInvalid()
    if int(exp) < clock.now().timestamp():
        raise UploadGrantInvalid()
    return uid


def download_signature(doc_id: int, exp: int) -> str:
    return _mac("download", str(doc_id), str(exp))


def check_download_signature(doc_id: int, exp: str, sig: str) -> bool:
    """Whether a download link is ours, for this document, and still valid."""
    if not exp.isdigit() or int(exp) < clock.now().timestamp():
        return False
    return hmac.compare_digest(sig, download_signature(doc_id, int(exp)))


def content_disposition(name: str, inline: bool = False) -> str:
    """RFC 6266 with the RFC 5987 UTF-8 form, so a Chinese name arrives intact and old clients get an ASCII one."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or "download"
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", fallback)
    if fallback.startswith("."):
        fallback = "download" + fallback
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
