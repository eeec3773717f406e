"""A local treasury centralised-payment system (国库集中支付) speaking the protocol of domain/settlement/adapters.py:
signed (ES256 JWS) requests keyed by their request number, so a resend pays nothing twice; signed answers, signed
callbacks posted to the platform, a signed daily statement; error answers on demand (down: 503; a bad signature:
400 SIGNATURE_INVALID; a refusal: status refused)."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from joserfc import jws
from joserfc.jwk import ECKey

from domain.accounts import keys
from tests.support.serving import LoopbackServed, read_body

_ids = itertools.count(1)


def new_key() -> dict[str, Any]:
    return dict(ECKey.generate_key("P-256").as_dict(private=True))


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k != "d"}


@dataclass
class TreasuryStub(LoopbackServed):
    label: ClassVar[str] = "the treasury stub"

    platform_public: dict[str, Any] = field(default_factory=dict)
    private_jwk: dict[str, Any] = field(default_factory=new_key)
    kid: str = "treasury-1"
    down: bool = False
    refuse: str | None = None  # a refusal code for the next requests
    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # requestNo -> request payload
    statuses: dict[str, str] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    posts: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return public(self.private_jwk)

    def sign(self, payload: dict[str, Any]) -> str:
        return keys.sign(payload, self.private_jwk, self.kid)

    def callback(self, request_no: str, status: str, reason: str = "", callback_id: str | None = None) -> str:
        """The signed callback the treasury posts for a status change (recorded in its own books too)."""
        self.statuses[request_no] = status
        payload = {
            "callbackId": callback_id or f"CB{next(_ids):010d}",
            "requestNo": request_no,
            "treasuryRef": f"GK{request_no[-8:]}",
            "status": status,
            "amountFen": self.amounts.get(request_no),
            "reason": reason,
            "occurredAt": "2026-12-07T10:00:00+08:00",
        }
        return self.sign(payload)

    def statement(self, day: str) -> dict[str, Any]:
        entries = [
            {"requestNo": no, "amountFen": self.amounts[no], "status": self.statuses[no]} for no in self.received
        ]
        return {"date": day, "entries": entries}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await read_body(receive)
        status, text, ctype = self._answer(scope["method"], scope["path"], scope.get("query_string", b""), body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]})
        await send({"type": "http.response.body", "body": text.encode()})

    def _answer(self, method: str, path: str, query: bytes, body: bytes) -> tuple[int, str, bytes]:
        as_json = b"application/json"
        if self.down:
            return 503, json.dumps({"code": "SYSTEM_BUSY"}), as_json
        if method == "GET" and path == "/statements":
            day = query.decode().partition("date=")[2][:10]
            return 200, self.sign(self.statement(day)), b"application/jose"
        if method != "POST" or path != "/payments":
            return 404, "{}", as_json
        try:
            verified = jws.deserialize_compact(
                body.decode(), ECKey.import_key(self.platform_public), algorithms=["ES256"]
            )
            payload = json.loads(verified.payload)
            no = str(payload["requestNo"])
        except Exception:
            return 400, json.dumps({"code": "SIGNATURE_INVALID"}), as_json
        self.posts += 1
        if self.refuse:
            return (
                200,
                self.sign({"requestNo": no, "status": "refused", "code": self.refuse, "reason": "预算指标不足"}),
                b"application/jose",
            )
        if no not in self.received:  # the request number is the idempotency key: a resend pays nothing twice
            self.received[no], self.amounts[no], self.statuses[no] = payload, int(payload["amountFen"]), "received"
        return (
            200,
            self.sign({"requestNo": no, "treasuryRef": f"GK{no[-8:]}", "status": "received"}),
            b"application/jose",
        )
