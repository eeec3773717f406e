"""A sealed bid as its bidder sees it before the opening: a receipt, nothing that could be read."""

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.tendering import models, opening, receipts
from domain.tendering import services as tendering
from schema import fields
from schema.describe import describe_values
from schema.relay import Node
from schema.scalars import Fen

SealedBidState: TypeAlias = tendering.BidStatus
strawberry.enum(
    SealedBidState,
    name="SealedBidState",
    description="submitted, superseded by a replacement, withdrawn, decrypted at the opening, invalid, flagged by a "
    "change (unconfirmed), lapsed, or returned unopened by a termination.",
)
describe_values(
    SealedBidState,
    {
        "SUBMITTED": "Received and standing, still sealed.",
        "SUPERSEDED": "Replaced by a later bid of the same bidder.",
        "WITHDRAWN": "Withdrawn by the bidder before the deadline.",
        "DECRYPTED": "Decrypted at the opening: its price is in the record.",
        "INVALID": "Not decrypted within the window, or its content did not open: it does not count.",
        "PLATFORM_FAULT": "Could not be decrypted because of the platform (撤回), not the bidder's failure.",
        "UNCONFIRMED": "The documents changed after it: confirm (bidConfirm) or replace it before the deadline.",
        "LAPSED": "Still unconfirmed at the deadline: treated as withdrawn, not opened.",
        "RETURNED": "The lot was terminated before its opening: returned to its bidder unopened.",
    },
)


@strawberry.type(
    description="Why a bid was opened without the lot's security in place at the deadline (实施条例 第二十六条): "
    "sealed while its security covered, it kept its place, and the committee judges it without security."
)
class SecurityShortfall:
    code: str = strawberry.field(
        description="GUARANTEE_VALIDITY_SHORT (its guarantee did not cover the moved deadline plus the bid validity) "
        "or SECURITY_MISSING."
    )
    message: str = strawberry.field(description="The reason in the caller's language (zh-CN, or en).")

    @classmethod
    def of(cls, info: Info, bid: models.SealedBid) -> "SecurityShortfall | None":
        why = opening.shortfall_of(bid)
        return None if why is None else cls(code=why.code, message=why.message(info.context.locale))


@strawberry.type(description="The receipt of a sealed bid: the SHA-256 of the ciphertext and the server time.")
class SealedBidReceipt(Node):
    sha256: str = strawberry.field(description="SHA-256 (hex) of the compact JWE exactly as received.")
    submitted_at: datetime = strawberry.field(description="Server time of receipt (authoritative).")
    size: int = strawberry.field(description="Length of the JWE in characters.")
    status: SealedBidState = strawberry.field(description="Where the sealed bid stands.")
    _row: strawberry.Private[models.SealedBid | None] = None  # the row the fields came from, when in hand

    async def _bid(self) -> models.SealedBid:
        return self._row if self._row is not None else await models.SealedBid.get(id=self._pk)

    @fields.field(
        description="The receipt signed by the platform (投标回执): a compact JWS (ES256, typ "
        "palmtrade-bid-receipt+jws) over the lot, the bidder, this SHA-256, size and time, verifiable offline against "
        "/.well-known/jwks.json or with bidReceiptVerify. For the bidder only."
    )
    async def signed_receipt(self, info: Info) -> str:
        bid = await self._bid()
        return await receipts.signed(info.context.actor, bid, info.context.services.keyring)

    @fields.field(
        description="Set at the opening when the bid stood at the deadline without the lot's security in place (e.g. "
        "a guarantee the moved deadline left short, not extended); null otherwise."
    )
    async def security_shortfall(self, info: Info) -> SecurityShortfall | None:
        bid = await self._bid()
        return SecurityShortfall.of(info, bid)

    @classmethod
    def from_model(cls, m: models.SealedBid) -> "SealedBidReceipt":
        return cls(
            _pk=m.id,
            sha256=m.ciphertext_sha256,
            submitted_at=m.submitted_at,
            size=m.size,
            status=SealedBidState(m.status),
            _row=m,
        )


@strawberry.type(description="A line of the opening record (开标记录).")
class OpeningRecordLine:
    bidder: str = strawberry.field(description="The bidder's name.")
    status: SealedBidState = strawberry.field(description="DECRYPTED, or INVALID when not decrypted in the window.")
    price_fen: Fen | None = strawberry.field(
        description="The bid price once decrypted, in fen; null before or when not decrypted."
    )
    documents: int = strawberry.field(description="How many bid documents the sealed bid lists.")
    decrypted_at: datetime | None = strawberry.field(description="When the bid was decrypted; null when not.")
    sha256: str = strawberry.field(
        description="SHA-256 of the sealed bid as received, to compare with the bidder's receipt."
    )
    security_shortfall: SecurityShortfall | None = strawberry.field(
        default=None,
        description="Opened without security: why the lot's security was not in place at the deadline (for the "
        "committee, 实施条例 第五十一条); null when it was.",
    )


@strawberry.type(description="An objection raised during the opening and its answer.")
class OpeningObjection(Node):
    text: str = strawberry.field(description="The objection as raised.")
    raised_at: datetime = strawberry.field(description="When it was raised.")
    answer: str | None = strawberry.field(description="The tenderer's answer; null until answered.")
    answered_at: datetime | None = strawberry.field(description="When it was answered; null before.")


@strawberry.type(description="The remote opening of a lot and its record.")
class OpeningRecord(Node):
    status: str = strawberry.field(description="decrypting, closed, or failed (流标).")
    deadline: datetime = strawberry.field(description="The bid deadline: the bids standing then are opened.")
    bids: int = strawberry.field(description="Bids standing at the deadline.")
    window_ends_at: datetime | None = strawberry.field(
        description="When the decryption window ends; null before it opened."
    )
    closed_at: datetime | None = strawberry.field(description="When the opening closed; null while it goes on.")
    lines: list[OpeningRecordLine] = strawberry.field(
        description="One line per bid opened, with the bidder and the price once decrypted."
    )
    objections: list[OpeningObjection] = strawberry.field(
        description="Objections raised during the opening and their answers."
    )


@strawberry.type(description="A change in a live opening.")
class OpeningUpdate:
    kind: str = strawberry.field(description="decrypted, objection, answer or closed.")
    bidder: str | None = strawberry.field(description="The bidder concerned, for a decryption; null otherwise.")
    price_fen: Fen | None = strawberry.field(description="The decrypted price, in fen; null for other changes.")
    occurred_at: datetime = strawberry.field(description="When the change happened.")


@strawberry.type(description="What a bid receipt attests when the platform's signature verifies, or why it does not.")
class BidReceiptVerification:
    ok: bool = strawberry.field(description="Whether the platform's signature verifies over a bid receipt.")
    reason: str | None = strawberry.field(
        default=None, description="Why it does not verify (the message of BID_RECEIPT_INVALID); null when ok."
    )
    lot_trade_code: str | None = strawberry.field(default=None, description="The lot's unified trade identifier.")
    lot_name: str | None = strawberry.field(default=None, description="The lot's name.")
    bidder_name: str | None = strawberry.field(default=None, description="The bidder's name.")
    bidder_credit_code: str | None = strawberry.field(
        default=None, description="The bidder's unified social credit code."
    )
    sha256: str | None = strawberry.field(default=None, description="SHA-256 (hex) of the sealed bid as received.")
    size: int | None = strawberry.field(default=None, description="Length of the sealed bid in characters.")
    submitted_at: datetime | None = strawberry.field(default=None, description="Server time of receipt.")
    key_id: str | None = strawberry.field(
        default=None, description="The platform key that signed it (kid in /.well-known/jwks.json)."
    )
