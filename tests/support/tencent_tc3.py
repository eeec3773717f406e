"""Tencent Cloud API 3.0's request signature (TC3-HMAC-SHA256), as the stubs in tests/support verify it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime


def tc3_signature(
    secret_key: str,
    service: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    query: str,
    body: bytes,
    timestamp: int,
) -> str:
    """The signature of a POST to / (header names lower-case, values trimmed and lower-cased)."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    unsigned = headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD"
    payload_hash = hashlib.sha256(b"UNSIGNED-PAYLOAD" if unsigned else body).hexdigest()
    canonical_request = f"POST\n/\n{query}\n{canonical_headers}\n{';'.join(signed_headers)}\n{payload_hash}"
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{digest}"
    key = ("TC3" + secret_key).encode()
    for part in (day, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
