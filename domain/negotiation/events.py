"""What a negotiation records in the outbox: never a price before the final offers are opened, and a round's
document only to its own supplier and the panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class NegotiationStarted(DomainEvent):
    type = "negotiation.started"
    object_type = "Negotiation"
    lot_id: int
    suppliers: int
    members: int


@dataclass(frozen=True, kw_only=True)
class NegotiationRoundOpened(DomainEvent):
    """To every supplier still negotiating: the next round is open."""

    type = "negotiation.round_opened"
    object_type = "Negotiation"
    lot_id: int
    round: int


@dataclass(frozen=True, kw_only=True)
class NegotiationMessagePosted(DomainEvent):
    """To the one supplier concerned and the panel's organisations: a document of the round, never its content."""

    type = "negotiation.message_posted"
    object_type = "Negotiation"
    lot_id: int
    round: int
    organisation_id: int
    side: str
    message_id: int


@dataclass(frozen=True, kw_only=True)
class FinalOffersCalled(DomainEvent):
    """To every supplier still negotiating: the window for the final offers (最后报价)."""

    type = "negotiation.final_offers_called"
    object_type = "Negotiation"
    lot_id: int
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True, kw_only=True)
class FinalOfferSubmitted(DomainEvent):
    """To the supplier only: the receipt. Never a price."""

    type = "negotiation.final_offer_submitted"
    object_type = "FinalOffer"
    lot_id: int
    sha256: str
    replaces: int | None


@dataclass(frozen=True, kw_only=True)
class FinalOffersClosed(DomainEvent):
    type = "negotiation.final_offers_closed"
    object_type = "Negotiation"
    lot_id: int
    offers: int
    decryption_ends_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class FinalOfferDecrypted(DomainEvent):
    type = "negotiation.final_offer_decrypted"
    object_type = "FinalOffer"
    lot_id: int
    organisation_id: int
    price_fen: int


@dataclass(frozen=True, kw_only=True)
class NegotiationScoringStarted(DomainEvent):
    type = "negotiation.scoring_started"
    object_type = "Negotiation"
    lot_id: int
    offers: int
    invalid: int


@dataclass(frozen=True, kw_only=True)
class NegotiationSheetSubmitted(DomainEvent):
    """Progress only: never a point, a vote or a reason."""

    type = "negotiation.sheet_submitted"
    object_type = "Negotiation"
    lot_id: int
    expert_id: int
    submitted: int
    members: int


@dataclass(frozen=True, kw_only=True)
class NegotiationReported(DomainEvent):
    type = "negotiation.reported"
    object_type = "Negotiation"
    lot_id: int
    candidates: int
    failed: bool
    report_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class SupplierEliminated(DomainEvent):
    """To the supplier eliminated and the panel's organisations: the round and the panel's reason."""

    type = "negotiation.supplier_eliminated"
    object_type = "Negotiation"
    lot_id: int
    organisation_id: int
    round: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class NegotiationWindowExtended(DomainEvent):
    """A lifted suspension gave the running window (final offers or keys) back the time it held it."""

    type = "negotiation.window_extended"
    object_type = "Negotiation"
    lot_id: int
    status: str
    held_seconds: int
    closes_at: datetime | None
