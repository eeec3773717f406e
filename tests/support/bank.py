"""A test bank: an approved guarantor with its own P-256 key, registered through GraphQL, that signs
payment and refund callbacks as a real bank's system would and posts them to /callbacks/bank."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from joserfc.jwk import ECKey

from domain.accounts import keys
from domain.common import clock
from tests import factories as f

KEY_REGISTER = """mutation($input: PartnerKeyRegisterInput!) { partnerKeyRegister(input: $input) {
  __typename ... on PartnerKeyRegistered { key { id kid purpose } } ... on Error { code message } } }"""

_txn = itertools.count(1)


def new_key() -> dict[str, Any]:
    """A fresh private P-256 JWK."""
    return dict(ECKey.generate_key("P-256").as_dict(private=True))


@dataclass
class Bank:
    api: Any
    org_id: str
    token: str
    private_jwk: dict[str, Any]
    kid: str
    payer_account: str = "6222020000000000001"
    payer_name: str = "青岛海湾路桥建设有限公司"
    sent: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, api: Any, operator: str) -> Bank:
        """An approved guarantor organisation that registered a bank_callback key."""
        org_id, _, token = await f.approved_org(api, operator, kinds=["GUARANTOR"])
        private = new_key()
        public = {k: v for k, v in private.items() if k != "d"}
        body = await api.gql(KEY_REGISTER, {"input": {"purpose": "BANK_CALLBACK", "jwk": public}}, token=token)
        registered = body["data"]["partnerKeyRegister"]
        assert registered["__typename"] == "PartnerKeyRegistered", registered
        return cls(api=api, org_id=org_id, token=token, private_jwk=private, kid=registered["key"]["kid"])

    def callback(
        self,
        kind: str,
        reference: str,
        amount_fen: int,
        *,
        transaction_id: str | None = None,
        occurred_at: datetime | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": kind,
            "transactionId": transaction_id or f"ICBC{next(_txn):012d}",
            "reference": reference,
            "amountFen": amount_fen,
            "payerAccount": self.payer_account,
            "payerName": self.payer_name,
            "occurredAt": (occurred_at or clock.now()).isoformat(),
        }
        payload.update(extra)
        return payload

    def sign(self, payload: dict[str, Any], private_jwk: dict[str, Any] | None = None, kid: str | None = None) -> str:
        """The compact JWS of a payload, with this bank's key unless another is given."""
        return keys.sign(payload, private_jwk or self.private_jwk, kid or self.kid)

    async def post(self, token: str, content_type: str = "application/jose") -> httpx.Response:
        self.sent.append(token)
        response: httpx.Response = await self.api.http.post(
            "/callbacks/bank", content=token.encode(), headers={"content-type": content_type}
        )
        return response

    async def pay(self, reference: str, amount_fen: int, **kw: Any) -> httpx.Response:
        """Confirms a payment into a deposit reference."""
        return await self.post(self.sign(self.callback("payment", reference, amount_fen, **kw)))

    async def refund(self, reference: str, amount_fen: int, **kw: Any) -> httpx.Response:
        """Confirms a refund out of a deposit reference."""
        return await self.post(self.sign(self.callback("refund", reference, amount_fen, **kw)))
