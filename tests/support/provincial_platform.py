"""A provincial platform's exchange interface (省公共资源交易平台数据交换) on loopback, speaking what api/provincial.py
speaks: it checks the signature (HMAC-SHA256 with the shared key, or SM2 with SM3 against the platform's public key,
verified here by tests/support/sm2.py's own arithmetic's counterpart, Tongsuo), the timestamp window, the platform
code, the data set each message declares (its number and name must be one data set of a trade, spec.DATA_SETS: the
trade is told by it), the required items of that data set (an engineering 中标候选人公示, 511, asks for its
title, period, 公示类型 ...; an engineering 合同, 512, for CONTRACT_NAME, PRICE_FORM_CODE ...) and the values of its
coded items (招标项目类型, 公告类型, 公告性质, 价格单位, 公示类型, 价款形式代码, against the code sets of
domain/provincial/spec.py); it stores each message once by its message
id (a repeat answers the first receipt), answers error receipts for invalid data, lists what it holds by day, can be
told to fail the next N sends with 503, to lose the answer to a message it stored, and to lose a message (as a
province that dropped one would)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

import uvicorn
from starlette.types import Receive, Scope, Send
from tongsuopy.crypto import exceptions as sm_errors
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec

from api.provincial import HMAC, SM2, signing_string
from domain.common.events import digest
from domain.provincial import spec
from tests.support.serving import LoopbackServed

WINDOW_SECONDS = 300

# what a deployment sets for the candidates' publicity's 511 items (exchange.configure's keywords)
PUBLICITY_SETTINGS = {
    "notice_media": "厦门市公共资源交易网",
    "public_url": "https://ggzy.example.gov.cn/announcements/{id}",
    "examiner_name": "林晓",
}


@dataclass
class Held:
    message: dict[str, Any]
    receipt_id: str
    day: str


@dataclass
class ProvincialPlatformStub(LoopbackServed):
    label: ClassVar[str] = "the provincial platform stub"

    platform_code: str = "T3702000001"
    hmac_key: bytes | None = b"provincial-shared-key"
    sm2_public_pem: bytes | None = None
    fail_next: int = 0  # the next N sends answer 503
    drop_answers: int = 0  # the next N new messages are stored, but the answer is a 503 (a receipt lost on the way)
    host: str = "127.0.0.1"
    port: int = 0
    held: dict[str, Held] = field(default_factory=dict)
    requests: int = 0
    stored: int = 0  # messages stored, a repeat of a message id not counted
    refused: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def lose(self, message_id: str) -> None:
        """Forgets a message, as a province that lost it would."""
        self.held.pop(message_id, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, payload = self.answer(scope["method"], scope["path"], scope["query_string"].decode(), headers, body)
        content = json.dumps(payload, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})

    def _signed(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        try:
            timestamp, nonce, kind = headers["x-timestamp"], headers["x-nonce"], headers["x-signature-method"]
            signature = base64.b64decode(headers["x-signature"], validate=True)
        except (KeyError, ValueError):
            return False
        if abs(time.time() - int(timestamp)) > WINDOW_SECONDS:
            return False
        data = signing_string(timestamp, nonce, method, path, body)
        if kind == HMAC and self.hmac_key is not None:
            return hmac.compare_digest(hmac.new(self.hmac_key, data, hashlib.sha256).digest(), signature)
        if kind == SM2 and self.sm2_public_pem is not None:
            key = sm_serialization.load_pem_public_key(self.sm2_public_pem)
            try:
                key.verify(signature, data, sm_ec.ECDSA(sm_hashes.SM3()))
            except (sm_errors.InvalidSignature, ValueError):
                return False
            return True
        return False

    def answer(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        self.requests += 1
        if not self._signed(method, path, headers, body):
            return 401, {"code": "1001", "message": "签名验证失败"}
        if headers.get("x-platform-code") != self.platform_code:
            return 403, {"code": "1002", "message": "交易平台标识码不符"}
        if method == "GET" and path == "/holdings":
            day = parse_qs(query).get("date", [""])[0]
            items = [
                {"messageId": k, "digest": digest(h.message["data"])} for k, h in self.held.items() if h.day == day
            ]
            return 200, {"code": "0", "items": items}
        if method != "POST" or path != "/messages":
            return 404, {"code": "1404", "message": "not found"}
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503, {"code": "1503", "message": "服务暂不可用"}
        try:
            message = json.loads(body)
            mid, data_no, data_type, data = (
                message["messageId"],
                message["dataNo"],
                message["dataType"],
                message["data"],
            )
        except (ValueError, KeyError, TypeError):
            return 400, {"code": "2001", "message": "报文格式错误"}
        # the data set the message declares, by number and name (GGZY's title check: "DATA_EN与DATA_NO不匹配"),
        # tells the trade; its PalmTrade set gives the required items
        of = spec.declared(str(data_no), str(data_type))
        missing = spec.missing(of, data) if of is not None else []
        invalid = spec.invalid_codes(data) if of is not None and not missing else []
        untimely = spec.invalid_times(data) if of is not None and not missing and not invalid else []
        if of is None:
            error = {"code": "2005", "message": f"数据集编号与名称不符或未知：{data_no} {data_type}"}
        elif missing:
            error = {"code": "2002", "message": "必填数据项缺失：" + ",".join(missing)}
        elif invalid:
            error = {"code": "2004", "message": "代码值不在代码集内：" + ",".join(invalid)}
        elif untimely:
            error = {"code": "2006", "message": "时间格式错误（yyyyMMddHHmmss）：" + ",".join(untimely)}
        elif data.get("PLATFORM_CODE") != self.platform_code:
            error = {"code": "2003", "message": "报文交易平台标识码不符"}
        else:
            error = None
        if error is not None:
            self.refused.append((200, error))
            return 200, error
        if mid in self.held:  # deduplicated by the message id: the first receipt again; new content replaces the old
            self.held[mid].message = message
            return 200, {"code": "0", "receiptId": self.held[mid].receipt_id, "duplicate": True}
        receipt = "SD" + uuid.uuid4().hex[:18].upper()
        sent = data.get("NOTICE_SEND_TIME") or data.get("PUBLICITY_REFER_TIME") or data.get("DATA_TIMESTAMP")
        sent = str(sent)  # yyyyMMddHHmmss: the day of the reconciliation, yyyy-mm-dd
        self.held[mid] = Held(message, receipt, f"{sent[:4]}-{sent[4:6]}-{sent[6:8]}")
        self.stored += 1
        if self.drop_answers > 0:
            self.drop_answers -= 1
            return 503, {"code": "1503", "message": "网关超时"}
        return 200, {"code": "0", "receiptId": receipt}
