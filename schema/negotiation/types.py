"""A competitive negotiation (竞争性谈判) or consultation (竞争性磋商) as each caller may see it."""

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.negotiation import models
from domain.negotiation import services as negotiation
from domain.negotiation.states import FinalOfferStatus, NegotiationStatus
from domain.publication.procedures import EvaluationMethod
from schema.describe import describe_values
from schema.evaluation.scoring import BidDocument, EvaluationWeights
from schema.publication.types import EvaluationMethodType
from schema.relay import to_global_id
from schema.scalars import Fen

NegotiationState: TypeAlias = NegotiationStatus
strawberry.enum(
    NegotiationState,
    name="NegotiationState",
    description="Rounds, the final-offer window, the key window, the panel's sheets, then reported or failed.",
)
describe_values(
    NegotiationState,
    {
        "NEGOTIATING": "The panel negotiates with each supplier separately, round by round.",
        "FINAL_OFFERS": "The window for sealed final offers (最后报价) is open or about to close.",
        "DECRYPTING": "The window closed: suppliers hand over the keys of their final offers.",
        "SCORING": "The panel's experts judge (and for a consultation score) the final offers.",
        "REPORTED": "The report and its candidates (成交候选人) exist.",
        "FAILED": "Too few final offers, or none compliant: the lot fails.",
    },
)

FinalOfferState: TypeAlias = FinalOfferStatus
strawberry.enum(
    FinalOfferState,
    name="FinalOfferState",
    description="submitted (sealed), superseded by a later offer, decrypted, or invalid when no key came in time.",
)
describe_values(
    FinalOfferState,
    {
        "SUBMITTED": "Received inside the window, still sealed.",
        "SUPERSEDED": "Replaced by a later final offer of the same supplier inside the window.",
        "DECRYPTED": "Opened with its supplier's key: its price counts.",
        "INVALID": "No key was handed over in the key window: it does not count.",
    },
)


def offer_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("FinalOffer", pk))


def org_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("Organisation", pk))


@strawberry.type(description="The receipt of a sealed final offer: the SHA-256 of the ciphertext and the server time.")
class FinalOfferReceipt:
    id: strawberry.ID = strawberry.field(description="Global id of the final offer.")
    sha256: str = strawberry.field(description="SHA-256 (hex) of the compact JWE exactly as received.")
    submitted_at: datetime = strawberry.field(description="Server time of receipt (authoritative).")
    status: FinalOfferState = strawberry.field(description="Where the final offer stands.")
    price_fen: Fen | None = strawberry.field(description="The offered price once decrypted, in fen; null before.")

    @classmethod
    def from_model(cls, m: models.FinalOffer) -> "FinalOfferReceipt":
        return cls(
            id=offer_id(m.id),
            sha256=m.ciphertext_sha256,
            submitted_at=m.submitted_at,
            status=FinalOfferState(m.status),
            price_fen=Fen(m.price_fen) if m.price_fen is not None else None,
        )


@strawberry.type(description="A document of a round between the panel and one supplier.")
class NegotiationMessage:
    id: strawberry.ID = strawberry.field(description="Global id of the document.")
    round: int = strawberry.field(description="The round it belongs to, from 1.")
    from_panel: bool = strawberry.field(description="True when the panel sent it, false for the supplier's response.")
    text: str = strawberry.field(description="The text of the document.")
    documents: list[BidDocument] = strawberry.field(description="Files attached, each with its SHA-256.")
    price_fen: Fen | None = strawberry.field(
        description="A supplier's revised quotation in the round, in fen (not binding: the final offer is); else null."
    )
    created_at: datetime = strawberry.field(description="Server time it was posted.")

    @classmethod
    def from_model(cls, m: models.NegotiationMessage) -> "NegotiationMessage":
        return cls(
            id=strawberry.ID(to_global_id("NegotiationMessage", m.id)),
            round=m.round,
            from_panel=m.side == "panel",
            text=m.text,
            documents=[BidDocument(name=d["name"], sha256=d["sha256"]) for d in m.documents],
            price_fen=Fen(m.price_fen) if m.price_fen is not None else None,
            created_at=m.created_at,
        )


@strawberry.type(description="The rounds between the panel and one supplier; no other supplier ever reads them.")
class NegotiationThread:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the supplier.")
    thread_id: strawberry.ID | None = strawberry.field(
        description="Global id of the supplier's thread (NegotiationSupplier): the ownerId of its round documents "
        "(NEGOTIATION_DOCUMENT) and final-offer files (FINAL_OFFER_FILE) in documentUploadStart and documents."
    )
    round: int = strawberry.field(description="The negotiation's current round.")
    eliminated: bool = strawberry.field(description="The panel eliminated this supplier.")
    eliminated_round: int | None = strawberry.field(description="The round after which it was eliminated.")
    elimination_reason: str | None = strawberry.field(description="The panel's reason, on the record.")
    messages: list[NegotiationMessage] = strawberry.field(description="The documents, oldest first.")


def thread_id(pk: int) -> strawberry.ID:
    return strawberry.ID(to_global_id("NegotiationSupplier", pk))


@strawberry.type(description="A supplier of the negotiation and its standing.")
class NegotiationSupplier:
    thread_id: strawberry.ID = strawberry.field(description="Global id of the supplier's thread.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the supplier.")
    eliminated: bool = strawberry.field(description="The panel eliminated it between rounds.")
    eliminated_round: int | None = strawberry.field(description="The round after which it was eliminated.")
    eliminated_at: datetime | None = strawberry.field(description="When it was eliminated.")
    reason: str | None = strawberry.field(description="The panel's reason.")

    @classmethod
    def from_model(cls, m: models.NegotiationSupplier) -> "NegotiationSupplier":
        return cls(
            thread_id=thread_id(m.id),
            organisation_id=org_id(m.organisation_id),
            eliminated=m.status == negotiation.SupplierStatus.ELIMINATED,
            eliminated_round=m.eliminated_round,
            eliminated_at=m.eliminated_at,
            reason=m.reason,
        )


@strawberry.type(description="A candidate (成交候选人) of the negotiation's report.")
class NegotiationCandidate:
    rank: int = strawberry.field(description="1 to 3.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the supplier.")
    bidder: str = strawberry.field(description="The supplier's name.")
    price_fen: Fen = strawberry.field(description="Its final offer (最后报价), in fen.")
    score_centi: int | None = strawberry.field(
        description="Comprehensive score in hundredths (consultation); null for lowest price (negotiation)."
    )


@strawberry.type(description="A decrypted final offer as the panel judges it.")
class NegotiationOffer:
    final_offer_id: strawberry.ID = strawberry.field(description="Global id of the final offer.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the supplier.")
    bidder: str = strawberry.field(description="The supplier's name.")
    price_fen: Fen = strawberry.field(description="The final offer, in fen.")
    documents: list[BidDocument] = strawberry.field(description="The documents the offer lists.")
    submitted_at: datetime = strawberry.field(description="Server time the offer was received.")


@strawberry.type(description="A lot's competitive negotiation or consultation (竞争性谈判 / 磋商).")
class Negotiation:
    id: strawberry.ID = strawberry.field(description="Global id of the negotiation.")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    status: NegotiationState = strawberry.field(description="Where the negotiation stands.")
    method: EvaluationMethodType = strawberry.field(
        description="LOWEST_PRICE for a negotiation, COMPREHENSIVE for a consultation (综合评分法)."
    )
    weights: EvaluationWeights = strawberry.field(description="Points of 100 for price, technical and commercial.")
    round: int = strawberry.field(description="The current round, from 1.")
    rounds_min: int = strawberry.field(description="Rounds to hold before final offers may be called.")
    rounds_max: int = strawberry.field(description="The most rounds the negotiation documents allow.")
    suppliers: int = strawberry.field(description="Suppliers negotiating.")
    supplier_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the suppliers negotiating: the panel and keepers only, else empty."
    )
    members: int = strawberry.field(description="Experts on the panel.")
    representatives: int = strawberry.field(description="Purchaser's representatives on the panel.")
    round_closes_at: datetime | None = strawberry.field(
        description="When the current round closes (server time): a supplier's response at or after it is refused "
        "(NEGOTIATION_ROUND_CLOSED); null when the round has no deadline."
    )
    final_offers_open_at: datetime | None = strawberry.field(description="When the final-offer window opened.")
    final_offers_close_at: datetime | None = strawberry.field(
        description="When the final-offer window closes (server time): an offer at or after it is refused."
    )
    decryption_ends_at: datetime | None = strawberry.field(description="When the key window for final offers ends.")
    my_final_offer: FinalOfferReceipt | None = strawberry.field(
        description="The caller's own standing final offer (suppliers); null otherwise."
    )
    candidates: list[NegotiationCandidate] = strawberry.field(
        description="The report's candidates, once reported: the panel and keepers only."
    )
    report_sha256: str | None = strawberry.field(
        description="SHA-256 of the report's canonical JSON: the panel and keepers only."
    )


async def negotiation_of(info: Info, view: negotiation.View) -> Negotiation:
    m = view.negotiation
    ids = [c.organisation_id for c in view.candidates]
    orgs = await info.context.loaders.organisation.load_many(ids)
    names = {i: (o.name if o is not None else "") for i, o in zip(ids, orgs, strict=True)}
    return Negotiation(
        id=strawberry.ID(to_global_id("Negotiation", m.id)),
        lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
        status=NegotiationState(m.status),
        method=EvaluationMethod(m.method),
        weights=EvaluationWeights(**{k: int(v) for k, v in m.weights.items()}),
        round=m.round,
        rounds_min=m.rounds_min,
        rounds_max=m.rounds_max,
        suppliers=len(m.suppliers),
        supplier_ids=[org_id(int(s)) for s in m.suppliers] if view.panel else [],
        members=len(m.committee),
        representatives=len(m.representatives or []),
        round_closes_at=m.round_closes_at,
        final_offers_open_at=m.offers_open_at,
        final_offers_close_at=m.offers_close_at,
        decryption_ends_at=m.decryption_ends_at,
        my_final_offer=FinalOfferReceipt.from_model(view.my_offer) if view.my_offer else None,
        candidates=[
            NegotiationCandidate(
                rank=c.rank,
                organisation_id=org_id(c.organisation_id),
                bidder=names.get(c.organisation_id, ""),
                price_fen=Fen(c.price_fen),
                score_centi=c.score_centi,
            )
            for c in view.candidates
        ],
        report_sha256=m.report_sha256 if view.panel else None,
    )
