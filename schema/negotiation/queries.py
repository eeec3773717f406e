"""Reading a negotiation: its state, one supplier's rounds, the decrypted final offers."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.negotiation import services as negotiation
from schema import fields
from schema.evaluation.scoring import BidDocument
from schema.negotiation.types import (
    Negotiation,
    NegotiationMessage,
    NegotiationOffer,
    NegotiationSupplier,
    NegotiationThread,
    negotiation_of,
    offer_id,
    org_id,
    thread_id,
)
from schema.relay import int_id, to_global_id
from schema.scalars import Fen


@strawberry.type
class NegotiationQueries:
    @fields.field(
        description="A lot's negotiation or consultation: the panel and keepers see all of it, a supplier its stage, "
        "the final-offer window and its own receipt; null for anyone else and before it starts."
    )
    async def negotiation(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> Negotiation | None:
        try:
            view = await negotiation.view(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await negotiation_of(info, view)

    @fields.field(
        description="The rounds between the panel and one supplier (政府采购法 第三十八条: kept from every other "
        "supplier): the panel and keepers name the supplier, a supplier reads its own (organisationId null); null "
        "for anyone else, another supplier included."
    )
    async def negotiation_thread(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        organisation_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Global id of the supplier; null for the caller's.")
        ] = None,
    ) -> NegotiationThread | None:
        try:
            org = int_id(organisation_id, "Organisation", "organisationId") if organisation_id else None
            found, row, messages = await negotiation.thread(info.context.actor, int_id(lot_id, "Lot", "lotId"), org)
        except DomainError:
            return None
        party = org if org is not None else int(info.context.actor.org_id or 0)
        out = row is not None and row.status == negotiation.SupplierStatus.ELIMINATED
        return NegotiationThread(
            lot_id=strawberry.ID(to_global_id("Lot", found.lot_id)),
            organisation_id=org_id(party),
            thread_id=thread_id(row.id) if row is not None else None,
            round=found.round,
            eliminated=out,
            eliminated_round=row.eliminated_round if row is not None and out else None,
            elimination_reason=row.reason if row is not None and out else None,
            messages=[NegotiationMessage.from_model(m) for m in messages],
        )

    @fields.field(
        description="The negotiation's suppliers and their standing (eliminated, when and why): the panel and "
        "keepers all of them, a supplier its own; empty for anyone else."
    )
    async def negotiation_suppliers(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[NegotiationSupplier]:
        try:
            rows = await negotiation.suppliers_of(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return [NegotiationSupplier.from_model(r) for r in rows]

    @fields.field(
        description="The decrypted final offers once the key window closed, for the panel, operators and the "
        "category's supervisors; empty for anyone else."
    )
    async def negotiation_offers(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[NegotiationOffer]:
        try:
            offers = await negotiation.offers_for(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        ids = [o.organisation_id for o in offers]
        orgs = await info.context.loaders.organisation.load_many(ids)
        names = {i: (o.name if o is not None else "") for i, o in zip(ids, orgs, strict=True)}
        return [
            NegotiationOffer(
                final_offer_id=offer_id(o.final_offer_id),
                organisation_id=org_id(o.organisation_id),
                bidder=names.get(o.organisation_id, ""),
                price_fen=Fen(o.price_fen),
                documents=[BidDocument(name=d["name"], sha256=d["sha256"]) for d in o.documents],
                submitted_at=o.submitted_at,
            )
            for o in offers
        ]
