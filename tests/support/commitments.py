"""Signing the credit commitment (信用承诺书) where a lot under 信用承诺制 (open tenders by default) asks for it
before a registration and before a sealed bid: through the domain service, or over GraphQL as the app does."""

from __future__ import annotations

from typing import Any

from domain.common import clock
from domain.common.actors import Actor
from domain.credit_public import commitments
from domain.registration import services as registration
from domain.registration.models import Registration
from domain.tendering import services as tendering
from domain.tendering.models import SealedBid
from mobile_contract.signing import canonical

SIGN = """mutation($input: CreditCommitmentSignInput!) { creditCommitmentSign(input: $input) {
  __typename ... on Error { code message } } }"""


def content(lot_trade_code: str, stage: str) -> str:
    """The text a certificate signs for the commitment (mobile_contract/SIGNATURES.md, act credit.commit)."""
    text = commitments.in_force(clock.now())
    return canonical(commitments.content(lot_trade_code, commitments.Stage(stage), text))


async def commit(actor: Actor, lot_id: int, stage: str) -> None:
    """The organisation's commitment for the lot at `registration` or `bid`, unsigned (no certificate bound)."""
    await commitments.sign(actor, lot_id, stage, commitments.in_force(clock.now()).version)


async def commit_over_api(
    api: Any, token: str, lot_id: str, stage: str, signature: dict[str, Any] | None = None, strict: bool = True
) -> None:
    """creditCommitmentSign for the lot's global id at REGISTRATION or BID (with the certificate's signature
    over the commitment's content where the user has a certificate bound); `strict=False` lets a refusal (a lot no
    longer open) pass for the registration or bid that follows to answer with its own error."""
    version = commitments.in_force(clock.now()).version
    given: dict[str, Any] = {"lotId": lot_id, "stage": stage.upper(), "version": version}
    if signature is not None:
        given["signature"] = signature
    body = await api.gql(SIGN, {"input": given}, token=token)
    assert not strict or body["data"]["creditCommitmentSign"]["__typename"] == "CreditCommitmentSigned", body


async def register(actor: Actor, lot_id: int) -> Registration:
    """registration.register after signing the registration-stage commitment."""
    await commit(actor, lot_id, "registration")
    return await registration.register(actor, lot_id)


async def submit(actor: Actor, lot_id: int, sealed: str) -> SealedBid:
    """tendering.submit after signing the bid-stage commitment (the organisation is registered)."""
    await commit(actor, lot_id, "bid")
    return await tendering.submit(actor, lot_id, sealed)
