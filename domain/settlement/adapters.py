"""The outside services of settlement, wired once by the composition root (api/services.py) from its settings.

Treasury (国库集中支付系统): every message either way is a compact JWS (ES256 on P-256, as the bank callbacks of
domain/deposits), the platform signing with its own key and verifying the treasury's with the treasury's public key.

    POST {TREASURY_URL}/payments        JWS request; header Idempotency-Key: the request number
        200 JWS {"requestNo", "treasuryRef", "status": "received"}   (a repeat: the same answer, nothing paid twice)
        200 JWS {"requestNo", "status": "refused", "code", "reason"}  (a business refusal: final)
        400 {"code": "SIGNATURE_INVALID" | "INVALID_REQUEST"}; 5xx or no answer: kept queued and retried
    GET  {TREASURY_URL}/statements?date=YYYY-MM-DD
        200 JWS {"date", "entries": [{"requestNo", "amountFen", "status"}]}
    callbacks to POST /callbacks/treasury: JWS {"callbackId", "requestNo", "treasuryRef", "status": accepted | paid
        | rejected | returned, "amountFen", "reason", "occurredAt"}

Tax-invoice provider (数电发票服务商): JSON over HTTPS, each request signed with the app key's secret:
X-App-Key, X-Timestamp (unix seconds), X-Nonce and X-Signature = base64(HMAC-SHA256(secret,
"POST\\n{path}\\n{timestamp}\\n{nonce}\\n{hex SHA-256 of the body}")).

    POST {INVOICE_URL}/v1/invoices        {"serial", "buyer": {"name", "taxId"}, "item", "amountFen", "taxRate",
                                           "taxFen"}
    POST {INVOICE_URL}/v1/invoices/red    {"serial", "originalInvoiceNo", "reason", "amountFen", "taxFen"}
        200 {"code": "0", "data": {"invoiceNo", "issuedAt", "pdf": base64}}
        200 {"code": "BUYER_TAX_ID_INVALID" | "DUPLICATE_SERIAL" | "SIGNATURE_INVALID" | ..., "message"}
        5xx or no answer: InvoiceProviderDown, nothing recorded

With no TREASURY_URL (the default) requests stay queued and are retried once one is set; with no INVOICE_URL
issuing answers InvoiceProviderDown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError

from domain.accounts import keys
from domain.accounts.keys import SignatureInvalid
from domain.settlement.errors import BuyerTaxIdInvalid, InvoiceProviderDown, InvoiceSerialDuplicate

TIMEOUT = 10.0
DEFAULT_TAX_RATE_BP = 600  # 6%: 现代服务 (信息技术服务) for a general VAT taxpayer, 财税〔2016〕36号


class TreasuryUnavailable(Exception):
    """No answer, a 5xx, or no endpoint configured: the request stays queued."""


@dataclass
class Deps:
    treasury_url: str = ""
    platform_jwk: dict[str, Any] = field(default_factory=dict)  # private P-256 JWK the platform signs with
    platform_kid: str = "palmtrade"
    treasury_jwk: dict[str, Any] = field(default_factory=dict)  # the treasury's public JWK
    callback_url: str = ""
    payer_account: str = ""  # the budget unit's zero-balance account, when the treasury asks for it
    invoice_url: str = ""
    invoice_app_key: str = ""
    invoice_secret: str = ""
    tax_rate_bp: int = DEFAULT_TAX_RATE_BP
    transport: httpx.AsyncBaseTransport | None = None


deps = Deps()


def configure(values: dict[str, str]) -> None:
    """Wires the adapters from settings (TREASURY_*, INVOICE_*; README); missing ones point nowhere."""
    global deps
    deps = Deps(
        treasury_url=values.get("TREASURY_URL", "").rstrip("/"),
        platform_jwk=json.loads(values["TREASURY_PLATFORM_JWK"]) if values.get("TREASURY_PLATFORM_JWK") else {},
        platform_kid=values.get("TREASURY_PLATFORM_KID") or "palmtrade",
        treasury_jwk=json.loads(values["TREASURY_PUBLIC_JWK"]) if values.get("TREASURY_PUBLIC_JWK") else {},
        callback_url=values.get("TREASURY_CALLBACK_URL", ""),
        payer_account=values.get("TREASURY_PAYER_ACCOUNT", ""),
        invoice_url=values.get("INVOICE_URL", "").rstrip("/"),
        invoice_app_key=values.get("INVOICE_APP_KEY", ""),
        invoice_secret=values.get("INVOICE_APP_SECRET", ""),
        tax_rate_bp=int(values.get("INVOICE_SERVICE_FEE_TAX_RATE_BP") or DEFAULT_TAX_RATE_BP),
    )


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, transport=deps.transport)


# ---------------------------------------------------------------- treasury


def sign(payload: dict[str, Any]) -> str:
    return keys.sign(payload, deps.platform_jwk, deps.platform_kid)


def verify_treasury(token: str) -> dict[str, Any]:
    """The payload of a JWS the treasury signed; SignatureInvalid otherwise."""
    if not deps.treasury_jwk or not isinstance(token, str) or not 0 < len(token) <= keys.MAX_JWS_LENGTH:
        raise SignatureInvalid()
    try:
        key = keys.public_key(dict(deps.treasury_jwk))
        verified = jws.deserialize_compact(token.strip(), key, algorithms=["ES256", "RS256"])
        payload = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError, keys.InvalidPublicKey):
        raise SignatureInvalid() from None
    if not isinstance(payload, dict):
        raise SignatureInvalid()
    return payload


async def send_payment(message: dict[str, Any]) -> dict[str, Any]:
    """The treasury's verified answer to a signed request; TreasuryUnavailable when it cannot be had now."""
    if not deps.treasury_url or not deps.platform_jwk:
        raise TreasuryUnavailable("no treasury endpoint configured")
    headers = {"content-type": "application/jose", "idempotency-key": str(message["requestNo"])}
    try:
        async with _client() as client:
            answer = await client.post(f"{deps.treasury_url}/payments", content=sign(message), headers=headers)
    except httpx.HTTPError as err:
        raise TreasuryUnavailable(type(err).__name__) from err
    if answer.status_code >= 500 or answer.status_code == 429:
        raise TreasuryUnavailable(f"HTTP {answer.status_code}")
    if answer.status_code != 200:
        body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        return {"status": "refused", "code": str(body.get("code", f"HTTP_{answer.status_code}")), "reason": ""}
    return verify_treasury(answer.text)


async def fetch_statement(day: str) -> dict[str, Any]:
    """The treasury's signed statement of `day` (YYYY-MM-DD); TreasuryUnavailable when it cannot be had now."""
    if not deps.treasury_url:
        raise TreasuryUnavailable("no treasury endpoint configured")
    try:
        async with _client() as client:
            answer = await client.get(f"{deps.treasury_url}/statements", params={"date": day})
    except httpx.HTTPError as err:
        raise TreasuryUnavailable(type(err).__name__) from err
    if answer.status_code != 200:
        raise TreasuryUnavailable(f"HTTP {answer.status_code}")
    return verify_treasury(answer.text)


# ---------------------------------------------------------------- invoice provider


def provider_signature(secret: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    text = f"POST\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


PROVIDER_ERRORS = {"BUYER_TAX_ID_INVALID": BuyerTaxIdInvalid, "DUPLICATE_SERIAL": InvoiceSerialDuplicate}


async def invoice_call(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The provider's `data` for a signed call; its business errors as DomainErrors, anything else as
    InvoiceProviderDown."""
    if not deps.invoice_url:
        raise InvoiceProviderDown()
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    headers = {
        "content-type": "application/json",
        "x-app-key": deps.invoice_app_key,
        "x-timestamp": timestamp,
        "x-nonce": nonce,
        "x-signature": provider_signature(deps.invoice_secret, path, timestamp, nonce, raw),
    }
    try:
        async with _client() as client:
            answer = await client.post(f"{deps.invoice_url}{path}", content=raw, headers=headers)
        parsed = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        raise InvoiceProviderDown() from None
    if not isinstance(parsed, dict):
        raise InvoiceProviderDown()
    code = str(parsed.get("code"))
    if code == "0" and isinstance(parsed.get("data"), dict):
        return dict(parsed["data"])
    raise PROVIDER_ERRORS.get(code, InvoiceProviderDown)()
