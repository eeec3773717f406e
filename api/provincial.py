"""The provincial platform's exchange interface over HTTPS (省公共资源交易平台数据交换): the adapter
domain/provincial/exchange.py sends through.

POST {PROVINCIAL_EXCHANGE_URL}/messages with the message as JSON; GET {...}/holdings?date=YYYY-MM-DD lists what the
province holds from this platform that day ({"items": [{"messageId", "digest"}]}). Every request is signed: headers
X-Platform-Code, X-Timestamp (Unix seconds), X-Nonce, X-Signature-Method (HMAC-SHA256 or SM2-SM3) and X-Signature
(base64) over "{timestamp}\\n{nonce}\\n{method} {path}\\n{sha256 hex of the body}", with the shared key (HMAC) or
the platform's SM2 private key (GB/T 32918.2 with SM3, default user ID, DER signature; Tongsuo). The province answers
a receipt (回执) {"code": "0", "receiptId": ...} or an error receipt {"code": "<not 0>", "message": ...}; a 5xx or
no answer is an outage, retried by the sender.

Settings (environment): PROVINCIAL_EXCHANGE_URL (none: messages are queued and kept, nothing is sent),
PROVINCIAL_PLATFORM_CODE (交易平台标识码), PROVINCIAL_SIGNATURE (hmac, default, or sm2), PROVINCIAL_HMAC_KEY,
PROVINCIAL_SM2_KEY_FILE (PEM, PKCS#8), PROVINCIAL_MAX_ATTEMPTS (8), PROVINCIAL_TIMEOUT_SECONDS (10).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec

from domain.provincial.exchange import PlatformUnavailable, Receipt

HMAC, SM2 = "HMAC-SHA256", "SM2-SM3"


def signing_string(timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n{method} {path}\n{hashlib.sha256(body).hexdigest()}".encode()


class Signer:
    """Signs a request with the shared HMAC key or the platform's SM2 key."""

    def __init__(self, *, hmac_key: bytes | None = None, sm2_key_pem: bytes | None = None) -> None:
        if (hmac_key is None) == (sm2_key_pem is None):
            raise ValueError("one of an HMAC key or an SM2 key")
        self.method = HMAC if hmac_key is not None else SM2
        self._hmac = hmac_key
        self._sm2 = sm_serialization.load_pem_private_key(sm2_key_pem, None) if sm2_key_pem else None

    def sign(self, data: bytes) -> str:
        if self._hmac is not None:
            return base64.b64encode(hmac.new(self._hmac, data, hashlib.sha256).digest()).decode()
        assert self._sm2 is not None
        return base64.b64encode(self._sm2.sign(data, sm_ec.ECDSA(sm_hashes.SM3()))).decode()


class HttpProvincialPlatform:
    """A ProvincialPlatform over HTTP(S)."""

    def __init__(self, base_url: str, platform_code: str, signer: Signer, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform_code = platform_code
        self.signer = signer
        self._client = httpx.AsyncClient(timeout=timeout)

    def _headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
        path = urlsplit(url).path
        return {
            "content-type": "application/json; charset=utf-8",
            "x-platform-code": self.platform_code,
            "x-timestamp": timestamp,
            "x-nonce": nonce,
            "x-signature-method": self.signer.method,
            "x-signature": self.signer.sign(signing_string(timestamp, nonce, method, path, body)),
        }

    async def _call(self, method: str, url: str, body: bytes = b"", params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._client.request(
                method, url, content=body, params=params, headers=self._headers(method, url, body)
            )
        except httpx.HTTPError as err:
            raise PlatformUnavailable(type(err).__name__) from err
        if response.status_code >= 500:
            raise PlatformUnavailable(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise PlatformUnavailable(f"HTTP {response.status_code}, not JSON") from None

    async def send(self, message: dict[str, Any]) -> Receipt:
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        answer = await self._call("POST", f"{self.base_url}/messages", body)
        if str(answer.get("code")) == "0" and answer.get("receiptId"):
            return Receipt(accepted=True, receipt_id=str(answer["receiptId"])[:64])
        return Receipt(accepted=False, error=f"{answer.get('code')}: {answer.get('message')}"[:500])

    async def holdings(self, day: date) -> dict[str, str]:
        answer = await self._call("GET", f"{self.base_url}/holdings", params={"date": day.isoformat()})
        if str(answer.get("code")) != "0":
            raise PlatformUnavailable(f"{answer.get('code')}: {answer.get('message')}")
        return {str(i["messageId"]): str(i["digest"]) for i in answer.get("items", [])}

    async def close(self) -> None:
        await self._client.aclose()


def publicity_items(env: dict[str, str] | None = None) -> tuple[str, str, str]:
    """The candidates' publicity's items only the deployment knows: 公示发布媒体, an announcement's public address
    (`{id}` its id) and 交易平台数据验证责任人 (exchange.configure's keywords)."""
    e = os.environ if env is None else env
    keys = ("PROVINCIAL_NOTICE_MEDIA", "PROVINCIAL_PUBLIC_URL", "PROVINCIAL_EXAMINER_NAME")
    media, url, examiner = (e.get(key, "") for key in keys)
    return media, url, examiner


def from_env(env: dict[str, str] | None = None) -> tuple[HttpProvincialPlatform | None, str, int]:
    """The adapter the environment configures (None without PROVINCIAL_EXCHANGE_URL), the platform code and the
    tries before a message is dead."""
    e = os.environ if env is None else env
    code = e.get("PROVINCIAL_PLATFORM_CODE", "")
    tries = int(e.get("PROVINCIAL_MAX_ATTEMPTS", "8"))
    url = e.get("PROVINCIAL_EXCHANGE_URL")
    if not url:
        return None, code, tries
    if e.get("PROVINCIAL_SIGNATURE", "hmac").lower() == "sm2":
        signer = Signer(sm2_key_pem=Path(e["PROVINCIAL_SM2_KEY_FILE"]).read_bytes())
    else:
        signer = Signer(hmac_key=e["PROVINCIAL_HMAC_KEY"].encode())
    timeout = float(e.get("PROVINCIAL_TIMEOUT_SECONDS", "10"))
    return HttpProvincialPlatform(url, code, signer, timeout), code, tries
