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

Tax-invoice provider: 诺诺开放平台 (Nuonuo open platform, one of the largest 数电发票 service providers), spoken
as its published protocol (API docs https://open.jss.com.cn/#/api-doc/common-api, copies of the issue and
result-query pages in github.com/ZUOXIANGE/NuoNuoSdk docs/; token and public error codes
https://open.jss.com.cn/#/dev-doc/create-app?type=self). Every call is

    POST {INVOICE_URL}?senid=<32 alnum>&nonce=<8 digits>&timestamp=<unix s>&appkey=<appKey>
        (INVOICE_URL: https://sdk.nuonuo.com/open/v1/services, sandbox https://sandbox.nuonuocs.cn/open/v1/services)
    headers X-Nuonuo-Sign = base64(HMAC-SHA1(appSecret, "a=services&l=v1&p=open&k={appKey}&i={senid}&n={nonce}
        &t={timestamp}&f={body}")), accessToken, userTax (the seller's tax number), method; body: the JSON content
    200 {"code": "E0000", "describe", "result"}; a business refusal: another E code (E9106 订单编号或流水号不能重复,
        E9500 发票不存在, E4000 ...); the platform's own: 070301 accessToken不匹配, 070401 调用用户身份不匹配,
        070501 请求的API不存在, 070601 签名不匹配/验签失败

The token: POST {INVOICE_TOKEN_URL} (https://open.nuonuo.com/accessToken), form client_id=appKey,
client_secret=appSecret, grant_type=client_credentials -> {"access_token", "expires_in": "86400"} or
{"error": "0703xx", "error_description"}; at most 50 calls in 30 days, so every process of a deployment (servers,
workers, and across restarts) shares one token through the database: InvoiceProviderToken, per token URL and app
key, holds it sealed under the key-encryption keys (domain/accounts/key_encryption.py, as the signing keys; never
plain) and when to renew it, an hour before it lapses. A process keeps it in memory until then; when it is due, or
a call answers 070301, one process renews it under a lock (PostgreSQL's advisory lock on the URL and app key,
SQLite's one writer) held in a short transaction for the token call alone (~100 ms, at most TIMEOUT), while the
others wait and then read the renewed one, so a deployment spends one call a day. A stored token no KEK opens (a
KEK dropped) is renewed. INVOICE_ACCESS_TOKEN gives a token set never to lapse (nothing stored).

    nuonuo.OpeMplatform.requestBillingNew   {"order": {buyerName, buyerTaxNum, salerTaxNum, orderNo (ours, at most 20),
        invoiceDate, clerk, invoiceType 1, invoiceLine pc (电子发票(普通发票)), pushMode -1, invoiceDetail [{goodsName,
        goodsCode (税收分类编码), withTaxFlag 1, price, num, taxRate, taxIncludedAmount, taxExcludedAmount, tax}]}}
        -> {"invoiceSerialNum"}: accepted, issued asynchronously; E9106: the order was submitted before
    nuonuo.OpeMplatform.queryInvoiceResult  {"orderNos": [up to 50]} -> [{status 20 开票中 | 21 签章中 | 2 开票完成 |
        22 开票失败 (failCause) | 24 签章失败 | 3/31 作废, allElectronicInvoiceNumber, invoiceTime (ms), pdfUrl}]
    nuonuo.OpeMplatform.reInvoice           {"orderno"}: pushes a failed order again (E9613: 20 a day at most)
    nuonuo.OpeMplatform.saveInvoiceRedConfirm  the seller's 红字确认单 for a full reversal (no lines) with orderNo:
        the provider issues the red invoice itself under that order number when no confirmation is needed
    nuonuo.OpeMplatform.queryInvoiceRedConfirm {"identity": 0, "billId"}: whether a form was submitted before

The red reversal goes by the form because its orderNo makes the red invoice in one step (the 快捷冲红 method,
fastInvoiceRed, needs the form's number first); its reason is 2 开票有误, as the GraphQL input carries free text
only. A form the buyer must confirm (the buyer booked the blue invoice) waits for that: until then a reversal
answers InvoiceProviderDown and its retry resumes the form.

Issuing is asynchronous: the submission answers a serial number and the invoice (number, time, PDF address) comes
from the result query, polled here (INVOICE_RESULT_POLL_S, seconds between looks) rather than through the provider's
callBackUrl, for which we found no documented way to authenticate the caller. A fee's blue orders are numbered by
attempt, PTF<fee>B00 to B49 (the order number is our invoice serial): before submitting, one query looks at them
all, and an order issued or still being issued is resumed, so a retry after a timeout or a pending answer never
issues twice; only when every earlier order failed (开票失败, e.g. a buyer the tax system refused, since corrected) is
the next number submitted. A red form's order, PTF<fee>R00, is resumed likewise (the form refused as a duplicate,
then the query). Amounts are integer fen turned into the yuan text the provider wants with Decimal (never float).
The provider's PDF is fetched from its pdfUrl (no redirect, at most 10 MB, a PDF).

Why no SDK: Nuonuo publishes official SDKs for Java, .NET and PHP and a Python sample, not a Python package;
nuonuo-sdk on PyPI (0.2.0) is a third party's, synchronous (requests, simplejson) and only a thin signing wrapper
with no token cache or polling. The protocol is small, so it is spoken here with httpx (async, already a
dependency), following the official documentation and sample, and proven against tests/support/invoice_provider.py,
a local server speaking it (signature, token, method, fields, its error codes, asynchronous results, red forms).

With no TREASURY_URL (the default) requests stay queued and are retried once one is set; without INVOICE_URL,
INVOICE_APP_KEY, INVOICE_APP_SECRET and INVOICE_SELLER_TAX_NUM issuing answers InvoiceProviderDown.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from tortoise import connections
from tortoise.transactions import in_transaction

from domain.accounts import adapters as account_adapters
from domain.accounts import keys
from domain.accounts.key_encryption import SigningKeyUnreadable
from domain.accounts.keys import SignatureInvalid
from domain.common import clock
from domain.common.errors import DomainError
from domain.common.storage import lock_named, using_postgres
from domain.settlement.errors import BuyerTaxIdInvalid, InvoiceProviderDown
from domain.settlement.models import InvoiceProviderToken

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
    invoice_url: str = ""  # Nuonuo's services endpoint
    token_url: str = "https://open.nuonuo.com/accessToken"
    invoice_app_key: str = ""
    invoice_secret: str = ""
    invoice_access_token: str = ""  # a token set never to lapse; else one is asked for and kept
    seller_tax_num: str = ""  # the platform's own taxpayer id: salerTaxNum and the userTax header
    seller_name: str = ""
    clerk: str = ""  # 开票员: the name of the 数电 drawer account
    goods_code: str = "3040203000000000000"
    tax_rate_bp: int = DEFAULT_TAX_RATE_BP
    poll_delays: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0)  # about 10 s, then a retry resumes
    token_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    transport: httpx.AsyncBaseTransport | None = None


deps = Deps()


def configure(values: dict[str, str]) -> None:
    """Wires the adapters from settings (TREASURY_*, INVOICE_*; README); missing ones point nowhere. A kept
    invoice-provider token stays kept (per token URL and app key)."""
    global deps
    deps = Deps(
        treasury_url=values.get("TREASURY_URL", "").rstrip("/"),
        platform_jwk=json.loads(values["TREASURY_PLATFORM_JWK"]) if values.get("TREASURY_PLATFORM_JWK") else {},
        platform_kid=values.get("TREASURY_PLATFORM_KID") or "palmtrade",
        treasury_jwk=json.loads(values["TREASURY_PUBLIC_JWK"]) if values.get("TREASURY_PUBLIC_JWK") else {},
        callback_url=values.get("TREASURY_CALLBACK_URL", ""),
        payer_account=values.get("TREASURY_PAYER_ACCOUNT", ""),
        invoice_url=values.get("INVOICE_URL", "").rstrip("/"),
        token_url=values.get("INVOICE_TOKEN_URL") or NUONUO_TOKEN_URL,
        invoice_app_key=values.get("INVOICE_APP_KEY", ""),
        invoice_secret=values.get("INVOICE_APP_SECRET", ""),
        invoice_access_token=values.get("INVOICE_ACCESS_TOKEN", ""),
        seller_tax_num=values.get("INVOICE_SELLER_TAX_NUM", ""),
        seller_name=values.get("INVOICE_SELLER_NAME", ""),
        clerk=values.get("INVOICE_CLERK", ""),
        goods_code=values.get("INVOICE_GOODS_CODE") or DEFAULT_GOODS_CODE,
        tax_rate_bp=int(values.get("INVOICE_SERVICE_FEE_TAX_RATE_BP") or DEFAULT_TAX_RATE_BP),
        poll_delays=tuple(float(v) for v in values["INVOICE_RESULT_POLL_S"].split(","))
        if values.get("INVOICE_RESULT_POLL_S")
        else DEFAULT_POLL_DELAYS,
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


# ---------------------------------------------------------------- invoice provider (诺诺开放平台)

NUONUO_PRODUCTION_URL = "https://sdk.nuonuo.com/open/v1/services"
NUONUO_SANDBOX_URL = "https://sandbox.nuonuocs.cn/open/v1/services"
NUONUO_TOKEN_URL = "https://open.nuonuo.com/accessToken"
ISSUE = "nuonuo.OpeMplatform.requestBillingNew"  # 诺税通saas请求开具发票接口 (数电)
QUERY = "nuonuo.OpeMplatform.queryInvoiceResult"  # 诺税通saas发票详情查询接口
RETRY = "nuonuo.OpeMplatform.reInvoice"  # 开票重试: the same order again, after a failure
RED_FORM = "nuonuo.OpeMplatform.saveInvoiceRedConfirm"  # 红字确认单申请 (issues the red invoice itself)
RED_FORM_QUERY = "nuonuo.OpeMplatform.queryInvoiceRedConfirm"
OK = "E0000"
DUPLICATE_ORDER = "E9106"  # 订单编号或流水号不能重复: submitted before, so its result is looked up instead
NOT_FOUND = "E9500"  # 发票不存在: not (yet) known
TOKEN_REFUSED = "070301"  # accessToken不匹配/或appKey不匹配
ISSUED, FAILED, SEAL_FAILED = "2", "22", "24"  # 开票完成, 开票失败, 开票成功签章失败; 20/21: 开票中/签章中
VOIDED = frozenset({"3", "31"})
DIGITAL_NORMAL = "pc"  # 电子发票(普通发票), the 数电 normal invoice
SELLER = "0"  # applySource / identity: 销方
RED_REASON_WRONG = "2"  # 冲红原因 1销货退回 2开票有误 3服务中止 4销售折让
DEFAULT_GOODS_CODE = "3040203000000000000"  # 税收分类编码 信息系统服务 (信息技术服务, 6%)
DEFAULT_POLL_DELAYS = (1.0, 2.0, 3.0, 4.0)
TOKEN_MARGIN = timedelta(hours=1)  # a self-use token is renewed this long before it lapses (the docs: at ~23 h)
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_ATTEMPTS = 50  # a fee's blue orders ...00 to ...49: queryInvoiceResult looks at 50 order numbers at once
YUAN = Decimal("0.01")

log = logging.getLogger("palmtrade.settlement")


@dataclass(frozen=True)
class IssuedInvoice:
    """An invoice the provider finished: its 20-digit 数电 number, when, and the PDF it serves."""

    invoice_no: str
    issued_at: datetime
    pdf: bytes
    order_no: str = ""


@dataclass
class _Token:
    value: str
    renew_at: datetime


_tokens: dict[tuple[str, str], _Token] = {}


def yuan(fen: int) -> str:
    """Integer fen as the provider's yuan text, exactly: 106000 -> "1060.00", -1 -> "-0.01"."""
    return str((Decimal(fen) / 100).quantize(YUAN))


def rate_text(rate_bp: int) -> str:
    """Basis points as the provider's rate: 600 -> "0.06", 1300 -> "0.13", 0 -> "0"."""
    return format((Decimal(rate_bp) / 10_000).normalize(), "f")


def nuonuo_signature(secret: str, path: str, app_key: str, senid: str, nonce: str, timestamp: str, body: str) -> str:
    """X-Nuonuo-Sign: base64(HMAC-SHA1(appSecret, "a={service}&l={version}&p={product}&k=..&i=..&n=..&t=..&f={body}"))
    over the exact body sent, the first three from the path /open/v1/services (as the official SDKs)."""
    _, product, version, service = [*path.split("/"), "", "", ""][:4]
    text = f"a={service}&l={version}&p={product}&k={app_key}&i={senid}&n={nonce}&t={timestamp}&f={body}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def _invoicing_configured() -> bool:
    return bool(deps.invoice_url and deps.invoice_app_key and deps.invoice_secret and deps.seller_tax_num)


def _token_label(key: tuple[str, str]) -> str:
    return f"invoice-provider token {key[0]} {key[1]}"


async def _stored_token(key: tuple[str, str]) -> _Token | None:
    """The token every process shares (InvoiceProviderToken), unsealed; None when there is none or no KEK of the
    ring opens it (it is then renewed)."""
    row = await InvoiceProviderToken.get_or_none(token_url=key[0], app_key=key[1])
    if row is None:
        return None
    try:
        value = (await account_adapters.deps.keyring.keks.open(row.sealed_token, _token_label(key))).decode()
    except SigningKeyUnreadable:
        log.warning("the stored nuonuo token cannot be opened with the configured key-encryption keys: renewed")
        return None
    return _Token(value, row.renew_at)


async def _lock_token(key: tuple[str, str]) -> None:
    """The renewal's lock, held until the transaction ends: PostgreSQL's advisory lock on the token URL and app
    key; on SQLite a write first, so the transaction is the one writer from here on (other processes wait)."""
    if using_postgres():
        await lock_named(_token_label(key))
    else:
        await connections.get("default").execute_query(
            "UPDATE invoice_provider_token SET renew_at = renew_at WHERE 1 = 0"
        )


async def _fetch_token() -> _Token:
    """A new token from the token URL (one of the 50 calls in 30 days); InvoiceProviderDown when refused."""
    form = {
        "client_id": deps.invoice_app_key,
        "client_secret": deps.invoice_secret,
        "grant_type": "client_credentials",
    }
    try:
        async with _client() as client:
            answer = await client.post(deps.token_url, data=form)
        body = answer.json()
    except (httpx.HTTPError, ValueError):
        raise InvoiceProviderDown() from None
    token = body.get("access_token") if isinstance(body, dict) else None
    if answer.status_code != 200 or not isinstance(token, str) or not token:
        error = body.get("error") if isinstance(body, dict) else None
        log.error("nuonuo token refused: HTTP %s %s", answer.status_code, error)
        raise InvoiceProviderDown()
    try:
        lifetime = timedelta(seconds=int(body.get("expires_in") or 86_400))
    except (TypeError, ValueError):
        lifetime = timedelta(seconds=86_400)
    margin = min(TOKEN_MARGIN, lifetime / 10)
    return _Token(token, clock.now() + lifetime - margin)


async def _access_token(renew: bool = False, refused: str = "") -> str:
    """The self-use app's access token (client_credentials), kept until an hour before it lapses: the token URL
    allows 50 calls in 30 days, so every process of a deployment shares one, stored sealed in the database
    (InvoiceProviderToken) and kept in memory until its renewal time. When it is due, or `renew` after the
    provider refused `refused` (070301), one process renews it under a lock (PostgreSQL advisory lock, SQLite's
    one writer) held for the token call, at most TIMEOUT; the others wait and read the stored one. A configured
    INVOICE_ACCESS_TOKEN (a token set never to lapse) is used as is."""
    if deps.invoice_access_token:
        return deps.invoice_access_token
    key = (deps.token_url, deps.invoice_app_key)
    async with deps.token_lock:
        held = _tokens.get(key)
        if held is not None and not renew and clock.now() < held.renew_at:
            return held.value
        stored = None if renew else await _stored_token(key)  # no lock while it is valid
        if stored is None or clock.now() >= stored.renew_at:
            async with in_transaction():
                await _lock_token(key)
                stored = await _stored_token(key)  # renewed meanwhile by another process?
                if stored is None or clock.now() >= stored.renew_at or (renew and stored.value == refused):
                    stored = await _fetch_token()
                    sealed = await account_adapters.deps.keyring.keks.seal(stored.value.encode(), _token_label(key))
                    await InvoiceProviderToken.update_or_create(
                        {"sealed_token": sealed, "renew_at": stored.renew_at, "updated_at": clock.now()},
                        token_url=key[0],
                        app_key=key[1],
                    )
        _tokens[key] = stored
        return stored.value


async def nuonuo_call(method: str, content: dict[str, Any]) -> dict[str, Any]:
    """The provider's answer {"code", "describe", "result"} to one signed call; InvoiceProviderDown when there is
    none (not configured, no answer, not 200, not JSON). A refused token is renewed once."""
    if not _invoicing_configured():
        raise InvoiceProviderDown()
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    path = httpx.URL(deps.invoice_url).path
    token = ""
    for attempt in range(2):
        token = await _access_token(renew=attempt > 0, refused=token)
        senid, nonce, timestamp = (
            uuid.uuid4().hex,
            str(10_000_000 + secrets.randbelow(90_000_000)),
            str(int(time.time())),
        )
        params = {"senid": senid, "nonce": nonce, "timestamp": timestamp, "appkey": deps.invoice_app_key}
        headers = {
            "content-type": "application/json; charset=UTF-8",
            "X-Nuonuo-Sign": nuonuo_signature(
                deps.invoice_secret, path, deps.invoice_app_key, senid, nonce, timestamp, body
            ),
            "accessToken": token,
            "userTax": deps.seller_tax_num,
            "method": method,
        }
        try:
            async with _client() as client:
                answer = await client.post(deps.invoice_url, params=params, content=body.encode(), headers=headers)
            parsed = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            raise InvoiceProviderDown() from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("code"), str | int):
            raise InvoiceProviderDown()
        parsed["code"] = str(parsed["code"])
        if parsed["code"] == TOKEN_REFUSED and attempt == 0 and not deps.invoice_access_token:
            continue
        return parsed
    raise InvoiceProviderDown()  # not reached: the second attempt answers


def _refused(method: str, answer: dict[str, Any]) -> DomainError:
    """A refusal as the domain's error: a business one we can name, else the provider being unusable now (the
    platform's 07xxxx codes mean our key, secret, token or tax number is wrong: logged for the operators)."""
    code, describe = answer["code"], str(answer.get("describe") or "")
    log.warning("nuonuo %s refused: %s %s", method, code, describe)
    if "购" in describe and ("税号" in describe or "纳税人识别号" in describe):
        return BuyerTaxIdInvalid()
    return InvoiceProviderDown()


async def _lookup(order_no: str) -> dict[str, Any] | None:
    answer = await nuonuo_call(QUERY, {"orderNos": [order_no], "isOfferInvoiceDetail": "0"})
    if answer["code"] == NOT_FOUND:
        return None
    found = answer.get("result")
    if answer["code"] != OK or not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise _refused(QUERY, answer)
    return dict(found[0])


async def _download(url: str) -> bytes:
    """The invoice's PDF from the address the provider gave: no redirect, at most 10 MB, a PDF."""
    if not url.startswith(("https://", "http://")):
        raise InvoiceProviderDown()
    try:
        async with _client() as client, client.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise InvoiceProviderDown()
            data = b""
            async for chunk in answer.aiter_bytes():
                data += chunk
                if len(data) > MAX_PDF_BYTES:
                    raise InvoiceProviderDown()
    except httpx.HTTPError:
        raise InvoiceProviderDown() from None
    if not data.startswith(b"%PDF"):
        raise InvoiceProviderDown()
    return data


async def _settled(found: dict[str, Any], resumed: bool, retried: bool) -> IssuedInvoice | None:
    """The invoice of a finished order (its PDF fetched); None while it is being issued or pushed again (签章失败,
    or a failed order resumed: 开票重试, once); a failure as the domain's error."""
    order_no, status = str(found.get("orderNo") or ""), str(found.get("status"))
    if status == ISSUED:
        number = str(found.get("allElectronicInvoiceNumber") or found.get("invoiceNo") or "")
        if not number:
            raise InvoiceProviderDown()
        try:
            when = datetime.fromtimestamp(int(found["invoiceTime"]) / 1000, UTC)
        except (KeyError, TypeError, ValueError):
            when = clock.now()
        return IssuedInvoice(number, when, await _download(str(found.get("pdfUrl") or "")), order_no)
    if status in VOIDED:
        raise InvoiceProviderDown()
    if status not in (FAILED, SEAL_FAILED):
        return None
    if retried or (status == FAILED and not resumed):
        cause = str(found.get("failCause") or found.get("statusMsg") or "")
        raise _refused(QUERY, {"code": status, "describe": cause})
    answer = await nuonuo_call(RETRY, {"orderno": order_no})
    if answer["code"] != OK:
        raise _refused(RETRY, answer)
    return None


async def _finished(order_no: str, resumed: bool, seen: dict[str, Any] | None = None) -> IssuedInvoice:
    """Polls the result of an order (after `seen`, a look already had) until it is issued (开票完成) and fetches its
    PDF. A failure of this submission is its cause; a failed earlier one (a resumed red form) is pushed again once
    (开票重试), as is one whose seal failed. Still pending after the last poll: InvoiceProviderDown, and a later
    retry resumes the same order."""
    retried = False
    if seen is not None:
        done = await _settled(seen, resumed, retried)
        if done is not None:
            return done
        retried = str(seen.get("status")) in (FAILED, SEAL_FAILED)
    for delay in deps.poll_delays:
        await asyncio.sleep(delay)
        found = await _lookup(order_no)
        if found is None:
            continue
        done = await _settled({**found, "orderNo": order_no}, resumed, retried)
        if done is not None:
            return done
        retried = retried or str(found.get("status")) in (FAILED, SEAL_FAILED)
    raise InvoiceProviderDown()


async def _attempts(prefix: str) -> list[dict[str, Any]]:
    """The orders of earlier attempts under `prefix` the provider knows, in order."""
    numbers = [f"{prefix}{n:02d}" for n in range(MAX_ATTEMPTS)]
    answer = await nuonuo_call(QUERY, {"orderNos": numbers, "isOfferInvoiceDetail": "0"})
    if answer["code"] == NOT_FOUND:
        return []
    found = answer.get("result")
    if answer["code"] != OK or not isinstance(found, list):
        raise _refused(QUERY, answer)
    known = [dict(o) for o in found if isinstance(o, dict) and str(o.get("orderNo")) in numbers]
    return sorted(known, key=lambda o: str(o["orderNo"]))


async def issue_blue(
    prefix: str, buyer_name: str, buyer_tax_num: str, item: str, amount_fen: int, tax_fen: int, rate_bp: int
) -> IssuedInvoice:
    """Issues a 数电 normal invoice (电子发票(普通发票)) of one line, price including tax, as order `prefix`00, 01, ...
    (our serials). An earlier order of the fee issued or still being issued is resumed, never doubled; a new one is
    submitted only when every earlier one failed (so corrected buyer details go out under a new number)."""
    earlier = await _attempts(prefix)
    for found in earlier:
        if str(found.get("status")) != FAILED and str(found.get("status")) not in VOIDED:
            return await _finished(str(found["orderNo"]), resumed=False, seen=found)
    attempt = 1 + max((int(str(o["orderNo"])[-2:]) for o in earlier), default=-1)
    if attempt >= MAX_ATTEMPTS:
        raise InvoiceProviderDown()
    order_no = f"{prefix}{attempt:02d}"
    order = {
        "buyerName": buyer_name,
        "buyerTaxNum": buyer_tax_num,
        "salerTaxNum": deps.seller_tax_num,
        "orderNo": order_no,
        "invoiceDate": clock.now().astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        "clerk": deps.clerk,
        "invoiceType": "1",
        "invoiceLine": DIGITAL_NORMAL,
        "pushMode": "-1",  # the platform delivers the PDF itself
        "invoiceDetail": [
            {
                "goodsName": item,
                "goodsCode": deps.goods_code,
                "withTaxFlag": "1",
                "price": yuan(amount_fen),
                "num": "1",
                "taxRate": rate_text(rate_bp),
                "taxIncludedAmount": yuan(amount_fen),
                "taxExcludedAmount": yuan(amount_fen - tax_fen),
                "tax": yuan(tax_fen),
                "invoiceLineProperty": "0",
            }
        ],
    }
    answer = await nuonuo_call(ISSUE, {"order": order})
    if answer["code"] not in (OK, DUPLICATE_ORDER):  # E9106: a concurrent request submitted this attempt
        raise _refused(ISSUE, answer)
    return await _finished(order_no, resumed=False)


async def issue_red(order_no: str, blue_invoice_no: str, buyer_name: str, buyer_tax_num: str) -> IssuedInvoice:
    """Reverses a blue 数电 invoice in full: the seller's red confirmation form (红字确认单, no lines for a full
    reversal) with `order_no`, from which the provider issues the red invoice itself once no confirmation is needed
    (the buyer has not booked the blue one); a form submitted before is resumed."""
    form = {
        "billId": order_no,
        "orderNo": order_no,
        "blueInvoiceLine": DIGITAL_NORMAL,
        "applySource": SELLER,
        "blueElecInvoiceNumber": blue_invoice_no,
        "sellerTaxNo": deps.seller_tax_num,
        "sellerName": deps.seller_name,
        "buyerTaxNo": buyer_tax_num,
        "buyerName": buyer_name,
        "redReason": RED_REASON_WRONG,
    }
    answer = await nuonuo_call(RED_FORM, form)
    resumed = answer["code"] != OK
    if resumed:
        known = await nuonuo_call(RED_FORM_QUERY, {"identity": SELLER, "billId": order_no})
        listed = known.get("result") if known["code"] == OK else None
        if not isinstance(listed, dict) or not listed.get("list"):
            raise _refused(RED_FORM, answer)
    return await _finished(order_no, resumed)
