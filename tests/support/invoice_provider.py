"""A local 诺诺开放平台 (Nuonuo open platform) speaking its published protocol, as domain/settlement/adapters.py
describes it, so the invoice adapter is proven against the provider's wire format rather than a mock:

- POST /accessToken (form client_id, client_secret, grant_type=client_credentials) -> {"access_token",
  "expires_in"}, or {"error": "070304" | "070305" | "070307" | "070315", "error_description"};
- POST /open/v1/services?senid&nonce&timestamp&appkey with X-Nuonuo-Sign, accessToken, userTax and method headers:
  the platform's own refusals first (070101 unknown appkey, 070601 签名不匹配 or a stale timestamp, 070301
  accessToken不匹配, 070401 userTax not the token's, 070501 unknown method), then the method's:
  requestBillingNew (E4000 a required field missing, E9101, E9106 duplicate orderNo, E9127/E9130/E9131 amounts,
  E9302 salerTaxNum not userTax; accepted: E0000 {"invoiceSerialNum"}), queryInvoiceResult (E9500 发票不存在,
  E9611; not found for a new order's first `query_lag` looks, then status 20 开票中 for `pending_looks` looks, then
  2 开票完成 with the 20-digit number, invoiceTime and pdfUrl, or 22 开票失败 with failCause for a buyer tax number in
  `invalid_tax_ids`), reInvoice (E9613 after 20),
  saveInvoiceRedConfirm (the red invoice issued under its orderNo; E9103 reversed already) and
  queryInvoiceRedConfirm;
- GET /files/<number>.pdf: the invoice's PDF (made with fpdf2).

The codes are the documented ones (API docs and 公共异常码 on open.jss.com.cn); two answers are this stub's
assumption where the docs name none: a red form's billId submitted twice (E4000) and an unknown blue number
(E9102). `down` answers 503 to everything; `hold` keeps every order 开票中; `lose_answer` carries out the next call
of that method but answers 504.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import parse_qs

import uvicorn
from fpdf import FPDF

from tests.support.serving import LoopbackServed, read_body

_numbers = itertools.count(1)
SERVICES = "/open/v1/services"
METHODS = (
    "nuonuo.OpeMplatform.requestBillingNew",
    "nuonuo.OpeMplatform.queryInvoiceResult",
    "nuonuo.OpeMplatform.reInvoice",
    "nuonuo.OpeMplatform.saveInvoiceRedConfirm",
    "nuonuo.OpeMplatform.queryInvoiceRedConfirm",
)
ORDER_REQUIRED = ("buyerName", "salerTaxNum", "orderNo", "invoiceDate", "clerk", "invoiceType", "invoiceDetail")
DETAIL_REQUIRED = ("goodsName", "withTaxFlag", "taxRate")
RED_REQUIRED = ("blueInvoiceLine", "applySource", "sellerTaxNo", "buyerName", "redReason")


def pdf_of(invoice_no: str, amount: str) -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text=f"e-invoice {invoice_no} total {amount}")
    return bytes(doc.output())


def signature(secret: str, app_key: str, senid: str, nonce: str, timestamp: str, body: str) -> str:
    """The documented X-Nuonuo-Sign, written out here independently of the adapter's."""
    text = f"a=services&l=v1&p=open&k={app_key}&i={senid}&n={nonce}&t={timestamp}&f={body}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def _answer(code: str, describe: str, result: Any = None) -> dict[str, Any]:
    return {"code": code, "describe": describe, "result": result}


def _amount(text: Any) -> Decimal | None:
    """A money field as the provider reads it: a number with at most two decimals, else None."""
    if not isinstance(text, str) or not re.fullmatch(r"-?\d{1,18}(\.\d{1,2})?", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass
class Order:
    """One order the provider accepted: blue, or red issued from a red form."""

    order_no: str
    serial: str
    colour: str
    buyer_name: str
    buyer_tax_num: str
    excluded: Decimal
    tax: Decimal
    looks_left: int
    status: str = "20"
    fail_cause: str = ""
    invoice_no: str = ""
    invoice_time: int = 0
    original_no: str = ""
    retries: int = 0
    unseen_looks: int = 0  # result queries that do not find it yet
    request: dict[str, Any] = field(default_factory=dict)


@dataclass
class InvoiceProviderStub(LoopbackServed):
    label: ClassVar[str] = "the Nuonuo stub"

    app_key: str = "SD63236305"
    secret: str = "SDDED2523BED4643"
    seller_tax_num: str = "339902999999789113"  # the sandbox's seller tax number in Nuonuo's docs
    seller_name: str = "掌上交易平台运营有限公司"
    token_lifetime: int = 86_400
    pending_looks: int = 1  # result looks answering 开票中 before an order is finished
    hold: bool = False  # every order stays 开票中
    query_lag: int = 0  # result queries that do not find a new order yet (发票不存在)
    lose_answer: str = ""  # the next call of this method is carried out but answered 504, as if its answer were lost
    down: bool = False
    invalid_tax_ids: set[str] = field(default_factory=set)
    orders: dict[str, Order] = field(default_factory=dict)  # orderNo -> order
    red_forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # billId -> form
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (unix s)
    token_calls: int = 0
    answered: list[tuple[str, str]] = field(default_factory=list)  # (method, code) of every services call
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def settings(self, **overrides: str) -> dict[str, str]:
        """The INVOICE_* settings that point the adapter here (polling every 10 ms)."""
        return {
            "INVOICE_URL": f"{self.base_url}{SERVICES}",
            "INVOICE_TOKEN_URL": f"{self.base_url}/accessToken",
            "INVOICE_APP_KEY": self.app_key,
            "INVOICE_APP_SECRET": self.secret,
            "INVOICE_SELLER_TAX_NUM": self.seller_tax_num,
            "INVOICE_SELLER_NAME": self.seller_name,
            "INVOICE_CLERK": "张三",
            "INVOICE_RESULT_POLL_S": "0.01,0.01,0.01,0.01,0.01",
            **overrides,
        }

    @property
    def issued(self) -> dict[str, Order]:
        """The orders finished as invoices, by order number."""
        return {no: o for no, o in self.orders.items() if o.status == "2"}

    def codes(self, method: str) -> list[str]:
        return [code for m, code in self.answered if m.endswith(method)]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def grant(self) -> str:
        """A valid access token, as if the token URL had answered it."""
        token = secrets.token_hex(16)
        self.tokens[token] = time.time() + self.token_lifetime
        return token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        status, kind, payload = self._route(scope["method"], scope["path"], query, headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": payload})

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, bytes]:
        as_json = b"application/json;charset=UTF-8"
        if self.down:
            return 503, as_json, json.dumps(_answer("040102", "API服务异常，请稍后重试"), ensure_ascii=False).encode()
        if method == "GET" and path.startswith("/files/") and path.endswith(".pdf"):
            number = path.removeprefix("/files/").removesuffix(".pdf")
            found = [o for o in self.orders.values() if o.invoice_no == number and o.status == "2"]
            if not found:
                return 404, as_json, b"{}"
            return 200, b"application/pdf", pdf_of(number, str(found[0].excluded + found[0].tax))
        if method == "POST" and path == "/accessToken":
            answer = self._token(headers, body)
        elif method == "POST" and path == SERVICES:
            name = headers.get("method", "")
            answer = self._services(query, headers, body)
            self.answered.append((name, str(answer.get("code"))))
            if self.lose_answer and name.endswith(self.lose_answer):
                self.lose_answer = ""
                return 504, as_json, b"{}"
        else:
            return 404, as_json, b"{}"
        return 200, as_json, json.dumps(answer, ensure_ascii=False).encode()

    # ------------------------------------------------------------ token

    def _token(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        self.token_calls += 1
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return {"error": "070315", "error_description": "Incorrect content-type"}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("client_id") != self.app_key:
            return {"error": "070304", "error_description": f"Incorrect clientId[{form.get('client_id')}]"}
        if form.get("client_secret") != self.secret:
            return {"error": "070305", "error_description": "Incorrect clientSecret[***]"}
        if form.get("grant_type") != "client_credentials":
            return {"error": "070307", "error_description": "Incorrect appType"}
        token = secrets.token_hex(16)
        self.tokens[token] = time.time() + self.token_lifetime
        return {"access_token": token, "expires_in": str(self.token_lifetime)}

    # ------------------------------------------------------------ services

    def _services(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> dict[str, Any]:
        senid, nonce, stamp = query.get("senid", ""), query.get("nonce", ""), query.get("timestamp", "")
        if query.get("appkey") != self.app_key:
            return _answer("070101", "获取app密钥失败或appkey无效")
        if not (len(senid) == 32 and senid.isascii() and senid.isalnum()) or not re.fullmatch(r"\d{8}", nonce):
            return _answer("0201", "必填项输入参数空")
        text = body.decode("utf-8", errors="replace")
        expected = signature(self.secret, self.app_key, senid, nonce, stamp, text)
        if not hmac.compare_digest(headers.get("x-nuonuo-sign", ""), expected):
            return _answer("070601", "签名不匹配")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return _answer("070601", "验签失败")
        if self.tokens.get(headers.get("accesstoken", ""), 0) < time.time():
            return _answer("070301", "accessToken不匹配/或appKey不匹配")
        if headers.get("usertax") != self.seller_tax_num:
            return _answer("070401", "调用用户身份不匹配")
        method = headers.get("method", "")
        if method not in METHODS:
            return _answer("070501", "请求的API不存在")
        try:
            content = json.loads(text)
        except ValueError:
            return _answer("0201", "输入参数格式有误")
        if not isinstance(content, dict):
            return _answer("0201", "输入参数格式有误")
        handler = getattr(self, "_" + method.rsplit(".", 1)[1])
        answer: dict[str, Any] = handler(content)
        return answer

    def _requestBillingNew(self, content: dict[str, Any]) -> dict[str, Any]:
        order = content.get("order")
        if not isinstance(order, dict):
            return _answer("E4000", "order不能为空")
        for name in ORDER_REQUIRED:
            if not order.get(name):
                return _answer("E4000", f"{name}不能为空")
        details = order["invoiceDetail"]
        if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
            return _answer("E9122", "商品详情为空")
        for detail in details:
            for name in DETAIL_REQUIRED:
                if not detail.get(name):
                    return _answer("E4000", f"invoiceDetail.{name}不能为空")
        if order["invoiceType"] not in ("1", "2"):
            return _answer("E9101", "开票类型错误(1:正票 2:红票)")
        if order["salerTaxNum"] != self.seller_tax_num:
            return _answer("E9302", "身份认证与当前企业税号不相符")
        if len(str(order["orderNo"])) > 20:
            return _answer("E4000", "orderNo长度不能超过20")
        if order["orderNo"] in self.orders:
            return _answer("E9106", "订单编号或流水号不能重复")
        excluded = tax = Decimal(0)
        for n, detail in enumerate(details, 1):
            amounts = [_amount(detail.get(k)) for k in ("taxExcludedAmount", "tax", "taxIncludedAmount")]
            rate = _amount(detail.get("taxRate")) if len(str(detail.get("taxRate"))) <= 4 else None
            if None in amounts or rate is None:
                return _answer("E9127", "不含税金额只能是数字")
            ex, tx, inc = (a for a in amounts if a is not None)
            if ex + tx != inc:
                return _answer("E9130", "（不含税金额+税额）不等于含税金额")
            if abs(ex * rate - tx) > Decimal("0.06"):
                return _answer("E9131", f"金额*税率-税额大于0.06,明细行名称:{detail['goodsName']},第{n}行")
            excluded, tax = excluded + ex, tax + tx
        self._accept(order["orderNo"], "blue", order["buyerName"], order.get("buyerTaxNum", ""), excluded, tax)
        self.orders[order["orderNo"]].request = order
        return _answer("E0000", "开票提交成功", {"invoiceSerialNum": self.orders[order["orderNo"]].serial})

    def _accept(self, order_no: str, colour: str, buyer: str, tax_num: str, excluded: Decimal, tax: Decimal) -> None:
        self.orders[order_no] = Order(
            order_no=order_no,
            serial=f"{time.strftime('%y%m%d%H%M%S')}{next(_numbers):08d}",
            colour=colour,
            buyer_name=buyer,
            buyer_tax_num=tax_num,
            excluded=excluded,
            tax=tax,
            looks_left=self.pending_looks,
            unseen_looks=self.query_lag,
        )

    def _look(self, order: Order) -> dict[str, Any]:
        if order.status in ("20", "21"):
            if self.hold or order.looks_left > 0:
                order.looks_left -= 1
            elif order.buyer_tax_num in self.invalid_tax_ids:
                order.status, order.fail_cause = "22", f"购买方纳税人识别号[{order.buyer_tax_num}]校验不通过"
            else:
                order.status, order.invoice_time = "2", int(time.time() * 1000)
                order.invoice_no = f"26{time.strftime('%y')}7000000{next(_numbers):09d}"
        found: dict[str, Any] = {
            "serialNo": order.serial,
            "orderNo": order.order_no,
            "status": order.status,
            "statusMsg": {"2": "开票完成（最终状态）", "22": "开票失败"}.get(order.status, "开票中"),
            "failCause": order.fail_cause,
            "invoiceType": "1" if order.colour == "blue" else "2",
            "payerName": order.buyer_name,
            "payerTaxNo": order.buyer_tax_num,
            "exTaxAmount": str(order.excluded),
            "taxAmount": str(order.tax),
            "orderAmount": str(order.excluded + order.tax),
            "invoiceKind": "电子发票(普通发票)",
        }
        if order.status == "2":
            found |= {
                "invoiceNo": order.invoice_no,
                "allElectronicInvoiceNumber": order.invoice_no,
                "invoiceCode": "",
                "invoiceTime": order.invoice_time,
                "pdfUrl": f"{self.base_url}/files/{order.invoice_no}.pdf",
                "oldEleInvoiceNumber": order.original_no,
            }
        return found

    def _queryInvoiceResult(self, content: dict[str, Any]) -> dict[str, Any]:
        serials, numbers = content.get("serialNos") or [], content.get("orderNos") or []
        if not serials and not numbers:
            return _answer("E9611", "发票流水号或订单号不能全为空")
        if serials:
            known = [o for o in self.orders.values() if o.serial in serials]
        else:
            known = [self.orders[n] for n in numbers if n in self.orders]
        found = [o for o in known if o.unseen_looks <= 0]
        for order in known:
            order.unseen_looks -= 1
        if not found:
            return _answer("E9500", "发票不存在")
        return _answer("E0000", "获取成功", [self._look(o) for o in found])

    def _reInvoice(self, content: dict[str, Any]) -> dict[str, Any]:
        key = content.get("fpqqlsh") or content.get("orderno")
        found = [o for o in self.orders.values() if key in (o.serial, o.order_no)]
        if not found:
            return _answer("E9500", "发票不存在")
        order = found[0]
        if order.status not in ("22", "24"):
            return _answer("E4000", "发票已开具成功，无需重试")
        if order.retries >= 20:
            return _answer("E9613", "同一流水号(订单号)单日最多重试20次")
        order.retries += 1
        order.status, order.fail_cause, order.looks_left = "20", "", self.pending_looks
        return _answer("E0000", "重试成功")

    def _saveInvoiceRedConfirm(self, content: dict[str, Any]) -> dict[str, Any]:
        for name in RED_REQUIRED:
            if not content.get(name):
                return _answer("E4000", f"{name}不能为空")
        if content["sellerTaxNo"] != self.seller_tax_num:
            return _answer("E9302", "身份认证与当前企业税号不相符")
        bill_id = str(content.get("billId") or secrets.token_hex(8))
        if bill_id in self.red_forms:
            return _answer("E4000", "红字确认单申请号已存在")
        number = content.get("blueElecInvoiceNumber") or content.get("blueInvoiceNumber")
        blue = [o for o in self.orders.values() if o.colour == "blue" and o.status == "2" and o.invoice_no == number]
        if not blue:
            return _answer("E9102", "发票号码或发票代码不正确")
        if any(f["blueElecInvoiceNumber"] == number for f in self.red_forms.values()):
            return _answer("E9103", "该发票不能重复冲红")
        order_no = content.get("orderNo")
        if order_no and order_no in self.orders:
            return _answer("E9106", "订单编号或流水号不能重复")
        original = blue[0]
        self.red_forms[bill_id] = {
            "billId": bill_id,
            "billNo": f"{next(_numbers):020d}",
            "billStatus": "01",  # 无需确认: the buyer has not booked the blue invoice
            "blueElecInvoiceNumber": number,
            "buyerName": content["buyerName"],
            "redReason": content["redReason"],
            "taxExcludedAmount": str(-original.excluded),
            "taxAmount": str(-original.tax),
        }
        if order_no:
            self._accept(
                order_no, "red", original.buyer_name, original.buyer_tax_num, -original.excluded, -original.tax
            )
            self.orders[order_no].original_no = original.invoice_no
        return _answer("E0000", "成功", bill_id)

    def _queryInvoiceRedConfirm(self, content: dict[str, Any]) -> dict[str, Any]:
        if content.get("identity") not in ("0", "1"):
            return _answer("E4000", "identity不能为空")
        forms = [f for f in self.red_forms.values() if content.get("billId") in (None, f["billId"])]
        return _answer("E0000", "成功", {"total": len(forms), "list": forms})
