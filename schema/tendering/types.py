"""A sealed bid as its bidder sees it before the opening: a receipt, nothing that could be read."""

from datetime import datetime
from enum import Enum

import strawberry

from domain.tendering import models
from domain.tendering import services as tendering
from schema.relay import Node
from schema.scalars import Fen

SealedBidState = strawberry.enum(
    Enum("SealedBidState", {s.name: s.value for s in tendering.BidStatus}),  # type: ignore[misc]
    description="submitted, superseded by a replacement, withdrawn, decrypted at the opening, or invalid.",
)


@strawberry.type(description="The receipt of a sealed bid: the SHA-256 of the ciphertext and the server time.")
class SealedBidReceipt(Node):
    sha256: str = strawberry.field(description="SHA-256 (hex) of the compact JWE exactly as received.")
    submitted_at: datetime = strawberry.field(description="Server time of receipt (authoritative).")
    size: int = strawberry.field(description="Length of the JWE in characters.")
    status: SealedBidState

    @classmethod
    def from_model(cls, m: models.SealedBid) -> "SealedBidReceipt":
        return cls(
            _pk=m.id,
            sha256=m.ciphertext_sha256,
            submitted_at=m.submitted_at,
            size=m.size,
            status=SealedBidState(m.status),
        )


@strawberry.type(description="A line of the opening record (开标记录).")
class OpeningRecordLine:
    bidder: str
    status: SealedBidState = strawberry.field(description="DECRYPTED, or INVALID when not decrypted in the window.")
    price_fen: Fen | None
    documents: int = strawberry.field(description="How many bid documents the sealed bid lists.")
    decrypted_at: datetime | None
    sha256: str


@strawberry.type(description="An objection raised during the opening and its answer.")
class OpeningObjection(Node):
    text: str
    raised_at: datetime
    answer: str | None
    answered_at: datetime | None


@strawberry.type(description="The remote opening of a lot and its record.")
class OpeningRecord(Node):
    status: str = strawberry.field(description="decrypting, closed, or failed (流标).")
    deadline: datetime
    bids: int = strawberry.field(description="Bids standing at the deadline.")
    window_ends_at: datetime | None
    closed_at: datetime | None
    lines: list[OpeningRecordLine]
    objections: list[OpeningObjection]


@strawberry.type(description="A change in a live opening.")
class OpeningUpdate:
    kind: str = strawberry.field(description="decrypted, objection, answer or closed.")
    bidder: str | None
    price_fen: Fen | None
    occurred_at: datetime
