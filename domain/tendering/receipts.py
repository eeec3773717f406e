"""The platform-signed bid receipt (投标回执): what the platform received from a bidder, signed with the platform's
signing key (ES256, published at /.well-known/jwks.json, the key set the platform's tokens and evidence packages use),
so the bidder can prove its submission to anyone, offline or through bidReceiptVerify.

The content is the facts stored at submission (the lot, the bidder, the SHA-256 and size of the sealed bid exactly as
received, the server time); signing it again later gives another signature over the same content. Never a price: the
platform does not know it before the opening.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any, ClassVar

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from domain.accounts.models import Organisation
from domain.accounts.tokens import KeyRing
from domain.common import clock, ecdsa
from domain.common.actors import Actor
from domain.common.errors import DomainError, PermissionDenied
from domain.common.events import canonical_json
from domain.publication.models import Lot
from domain.tendering.models import SealedBid

TYP = "palmtrade-bid-receipt+jws"
FORMAT = "palmtrade.bid-receipt/1"
ES256 = ecdsa.ES256


class BidReceiptInvalid(DomainError):
    code = "BID_RECEIPT_INVALID"
    message_zh = "投标回执校验失败：{reason}"
    message_en = "The bid receipt does not verify: {reason}"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


async def content_of(bid: SealedBid) -> dict[str, Any]:
    """What the receipt attests: the lot, the bidder, the sealed bid's digest and size, the server time. The lot
    is read unless the bid comes with it (services.submit gives the new bid the lot it read under its lock)."""
    held = bid.lot
    lot = held if isinstance(held, Lot) and held.id == bid.lot_id else await Lot.get(id=bid.lot_id)
    org = await Organisation.get(id=bid.organisation_id)
    return {
        "format": FORMAT,
        "receiptId": str(bid.id),
        "lotTradeCode": lot.trade_code,
        "lotName": lot.name,
        "bidder": {"creditCode": org.credit_code, "name": org.name},
        "sha256": bid.ciphertext_sha256,
        "size": bid.size,
        "submittedAt": bid.submitted_at.astimezone(UTC).isoformat(),
    }


async def signed(actor: Actor, bid: SealedBid, keyring: KeyRing) -> str:
    """The receipt of one of the caller's own sealed bids as a compact JWS signed by the platform; PermissionDenied
    for anyone else's (the receipts are read through mySealedBids and bidSubmit, which show only one's own)."""
    if actor.org_id is None or actor.org_id != bid.organisation_id:
        raise PermissionDenied()
    kid = keyring.signing_kid(clock.now())
    header = {"alg": "ES256", "kid": kid, "typ": TYP}
    content = canonical_json(await content_of(bid))
    return jws.serialize_compact(header, content, keyring.private_key(kid), registry=ES256)


def verify(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The content of a receipt whose signature verifies against the platform's published keys; BidReceiptInvalid
    naming why otherwise. Needs nothing but the token and the key set: a verifier can do the same offline."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        decoded = jws.deserialize_compact(token.strip(), keys, registry=ES256)
    except (JoseError, ValueError, TypeError, KeyError) as err:
        raise BidReceiptInvalid(reason=f"signature: {type(err).__name__}") from None
    if decoded.headers().get("typ") != TYP:
        raise BidReceiptInvalid(reason="not a bid receipt")
    try:
        content = json.loads(decoded.payload)
    except ValueError:
        raise BidReceiptInvalid(reason="payload is not JSON") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise BidReceiptInvalid(reason="unknown format")
    return content


def key_id(token: str) -> str:
    """The kid of a receipt's protected header (call after verify)."""
    header = jws.extract_compact(token.strip().encode()).headers()
    return str(header.get("kid", ""))
