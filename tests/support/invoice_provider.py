"""A local tax-invoice provider (数电发票服务商) speaking the protocol of domain/settlement/adapters.py: app key and
HMAC-SHA256 signed JSON calls, blue and red invoices with their own numbers and a PDF (made with fpdf2), and its error
answers (BUYER_TAX_ID_INVALID for a listed taxpayer id, DUPLICATE_SERIAL, SIGNATURE_INVALID, down: 503)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from fpdf import FPDF

from domain.settlement.adapters import provider_signature
from tests.support.serving import LoopbackServed

_numbers = itertools.count(1)


def pdf_of(invoice_no: str, amount_fen: int) -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text=f"e-invoice {invoice_no} total {amount_fen / 100:.2f}")
    return bytes(doc.output())


@dataclass
class InvoiceProviderStub(LoopbackServed):
    label: ClassVar[str] = "the invoice provider stub"

    app_key: str = "pt-app-key"
    secret: str = "pt-app-secret"
    down: bool = False
    invalid_tax_ids: set[str] = field(default_factory=set)
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)  # serial -> request
    calls: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status, answer = self._answer(scope["path"], headers, body)
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": json.dumps(answer, ensure_ascii=False).encode()})

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        self.calls += 1
        if self.down:
            return 503, {"code": "SERVICE_UNAVAILABLE", "message": "系统维护中"}
        expected = provider_signature(
            self.secret, path, headers.get("x-timestamp", ""), headers.get("x-nonce", ""), body
        )
        if headers.get("x-app-key") != self.app_key or not hmac.compare_digest(
            headers.get("x-signature", ""), expected
        ):
            return 200, {"code": "SIGNATURE_INVALID", "message": "签名错误"}
        request = json.loads(body)
        if request["serial"] in self.issued:
            return 200, {"code": "DUPLICATE_SERIAL", "message": "流水号重复"}
        if path == "/v1/invoices" and request["buyer"]["taxId"] in self.invalid_tax_ids:
            return 200, {"code": "BUYER_TAX_ID_INVALID", "message": "购买方纳税人识别号不存在"}
        if path == "/v1/invoices/red" and not any(
            r.get("invoiceNo") == request["originalInvoiceNo"] for r in self.issued.values()
        ):
            return 200, {"code": "ORIGINAL_NOT_FOUND", "message": "原发票不存在"}
        number = f"2637{next(_numbers):016d}"
        self.issued[request["serial"]] = {**request, "invoiceNo": number}
        pdf = base64.b64encode(pdf_of(number, int(request["amountFen"]))).decode()
        return 200, {"code": "0", "data": {"invoiceNo": number, "issuedAt": "2026-12-07T10:00:00+08:00", "pdf": pdf}}
