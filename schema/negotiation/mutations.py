"""Negotiation and consultation: start, rounds, documents, final offers and the panel's sheets."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.evaluation.scoring import Judgement
from domain.negotiation import services as negotiation
from schema.certificates.types import SignatureInput, signed
from schema.errors import mutation, result_union
from schema.negotiation.types import (
    FinalOfferReceipt,
    Negotiation,
    NegotiationMessage,
    NegotiationSupplier,
    negotiation_of,
)
from schema.permissions import IsExpert, IsOperator, IsUser, IsUserOrExpert
from schema.relay import int_id
from schema.scalars import Fen

_KEY = "Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."


@strawberry.input(description="A lot, and an idempotency key for a safe retry.")
class NegotiationLotInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a competitive negotiation or consultation lot.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(
    description="The next round of a competitive negotiation (谈判) or consultation (磋商), with its own deadline or "
    "none; the panel's rounds are the same in both procedures."
)
class NegotiationRoundOpenInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot under negotiation.")
    round_closes_at: datetime | None = strawberry.field(
        default=None,
        description="When the new round closes, in the future: the suppliers' responses are refused after it "
        "(NEGOTIATION_ROUND_CLOSED); null for a round without a deadline.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The negotiation as it now stands.")
class NegotiationChanged:
    negotiation: Negotiation = strawberry.field(description="The negotiation after the change.")


async def _shown(info: Info, lot_id: int) -> Negotiation:
    return await negotiation_of(info, await negotiation.view(info.context.actor, lot_id))


@strawberry.input(description="Start a lot's negotiation with its panel's purchaser's representatives.")
class NegotiationStartInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a competitive negotiation or consultation lot.")
    representative_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Global ids (User) of the purchaser's representatives on the panel, users of the tenderer itself "
        "(never its agency); with the drawn experts an odd number of at least 3 (5 at the public-tender "
        "threshold), two thirds experts (政府采购法 第三十八条; 财政部令第74号 第七条; 财库〔2014〕214号 第十四条).",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


NegotiationStartResult = result_union("NegotiationStartResult", NegotiationChanged, [negotiation.start])


@strawberry.input(description="The panel eliminates a supplier between rounds, with its reason.")
class NegotiationEliminateInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot under negotiation.")
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the supplier eliminated.")
    reason: str = strawberry.field(description="Why, on the record and told to the supplier (at most 1000 chars).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="Eliminated: the supplier may no longer post or offer.")
class NegotiationSupplierEliminated:
    supplier: NegotiationSupplier = strawberry.field(description="The supplier's standing.")


NegotiationEliminateResult = result_union(
    "NegotiationEliminateResult", NegotiationSupplierEliminated, [negotiation.eliminate]
)
NegotiationRoundOpenResult = result_union("NegotiationRoundOpenResult", NegotiationChanged, [negotiation.open_round])
NegotiationFinalOffersCallResult = result_union(
    "NegotiationFinalOffersCallResult", NegotiationChanged, [negotiation.call_final_offers]
)


@strawberry.input(description="A file named by its name and SHA-256 (uploaded through documentUploadStart).")
class NegotiationDocumentInput:
    name: str = strawberry.field(description="The file name, at most 200 characters.")
    sha256: str = strawberry.field(description="SHA-256 of the file, 64 hex digits.")


@strawberry.input(description="A document of the current round between the panel and one supplier.")
class NegotiationPostInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot under negotiation.")
    text: str = strawberry.field(description="The document's text (at most 5000 characters).")
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="The panel: the supplier it is for (required). A supplier: null (itself)."
    )
    documents: list[NegotiationDocumentInput] | None = strawberry.field(
        default=None, description="Files attached (at most 50)."
    )
    price_fen: Fen | None = strawberry.field(
        default=None, description="A supplier's revised, non-binding quotation in the round, in fen."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="Posted: only its supplier and the panel can read it.")
class NegotiationPosted:
    document: NegotiationMessage = strawberry.field(description="The document as recorded.")


NegotiationPostResult = result_union("NegotiationPostResult", NegotiationPosted, [negotiation.post])


@strawberry.input(
    description="A final offer (最后报价) sealed on the device as a sealed bid is (mobile_contract/SEALED_BID.md)."
)
class FinalOfferSubmitInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot whose final offers are called.")
    sealed_offer: str = strawberry.field(description="Compact JWE: dir + A256GCM, naming the lot's trade code.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)
    signature: SignatureInput | None = strawberry.field(
        default=None,
        description="The actor's certificate signature over the act, as for bidSubmit (mobile_contract/SIGNATURES.md).",
    )


@strawberry.type(description="Received inside the window: keep the receipt.")
class FinalOfferSubmitted:
    receipt: FinalOfferReceipt = strawberry.field(description="The receipt: SHA-256 and server time.")


FinalOfferSubmitResult = result_union("FinalOfferSubmitResult", FinalOfferSubmitted, [negotiation.submit_final_offer])


@strawberry.input(description="Hand over the key of the caller's final offer during the key window.")
class FinalOfferDecryptInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    key: JSON = strawberry.field(description='The JWK the offer was sealed with: {"kty": "oct", "k": "..."}.')


@strawberry.type(description="Decrypted: the final offer counts.")
class FinalOfferDecrypted:
    receipt: FinalOfferReceipt = strawberry.field(description="The final offer, with its price.")


FinalOfferDecryptResult = result_union(
    "FinalOfferDecryptResult", FinalOfferDecrypted, [negotiation.decrypt_final_offer]
)


@strawberry.input(description="A panel expert's judgement of one decrypted final offer.")
class NegotiationSheetEntryInput:
    final_offer_id: strawberry.ID = strawberry.field(
        description="Global id of the final offer, from negotiationOffers."
    )
    compliant: bool = strawberry.field(description="Whether the offer meets the procurement documents' requirements.")
    reason: str | None = strawberry.field(default=None, description="Required when not compliant.")
    technical_centi: int | None = strawberry.field(
        default=None, description="Consultation: hundredths of a point, 0 to technical weight x 100; else null."
    )
    commercial_centi: int | None = strawberry.field(
        default=None, description="Consultation: hundredths of a point, 0 to commercial weight x 100; else null."
    )


@strawberry.input(description="A complete sheet: one entry for every decrypted final offer; replaces the previous one.")
class NegotiationSheetSubmitInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    entries: list[NegotiationSheetEntryInput] = strawberry.field(description="One entry per final offer, once each.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


NegotiationSheetSubmitResult = result_union(
    "NegotiationSheetSubmitResult", NegotiationChanged, [negotiation.submit_sheet]
)


@strawberry.type
class NegotiationMutations:
    @mutation(
        NegotiationStartResult,
        description="Start the negotiation (谈判/磋商) of a lot whose opening closed and committee is complete.",
        permission_classes=[IsOperator],
    )
    async def negotiation_start(
        self, info: Info, input: Annotated[NegotiationStartInput, strawberry.argument(description="The lot.")]
    ) -> NegotiationChanged:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        representatives = [int_id(u, "User", f"representativeIds.{i}") for i, u in enumerate(input.representative_ids)]
        await negotiation.start(info.context.actor, lot_id, input.idempotency_key, representatives)
        return NegotiationChanged(negotiation=await _shown(info, lot_id))

    @mutation(
        NegotiationEliminateResult,
        description="The panel eliminates a supplier between rounds, with its reason; the supplier is told.",
        permission_classes=[IsUserOrExpert],
    )
    async def negotiation_eliminate(
        self,
        info: Info,
        input: Annotated[NegotiationEliminateInput, strawberry.argument(description="The supplier and reason.")],
    ) -> NegotiationSupplierEliminated:
        row = await negotiation.eliminate(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            int_id(input.organisation_id, "Organisation", "organisationId"),
            input.reason,
            input.idempotency_key,
        )
        return NegotiationSupplierEliminated(supplier=NegotiationSupplier.from_model(row))

    @mutation(
        NegotiationRoundOpenResult,
        description="The panel opens the next negotiation round.",
        permission_classes=[IsUserOrExpert],
    )
    async def negotiation_round_open(
        self,
        info: Info,
        input: Annotated[NegotiationRoundOpenInput, strawberry.argument(description="The lot, the deadline.")],
    ) -> NegotiationChanged:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await negotiation.open_round(info.context.actor, lot_id, input.idempotency_key, closes_at=input.round_closes_at)
        return NegotiationChanged(negotiation=await _shown(info, lot_id))

    @mutation(
        NegotiationPostResult,
        description="Post a document of the current round: the panel to one supplier, or a supplier its response.",
        permission_classes=[IsUserOrExpert],
    )
    async def negotiation_post(
        self, info: Info, input: Annotated[NegotiationPostInput, strawberry.argument(description="The document.")]
    ) -> NegotiationPosted:
        message = await negotiation.post(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.text,
            [{"name": d.name, "sha256": d.sha256} for d in input.documents or []],
            int_id(input.organisation_id, "Organisation", "organisationId") if input.organisation_id else None,
            int(input.price_fen) if input.price_fen is not None else None,
            input.idempotency_key,
        )
        return NegotiationPosted(document=NegotiationMessage.from_model(message))

    @mutation(
        NegotiationFinalOffersCallResult,
        description="The panel ends the rounds and calls the sealed final offers (最后报价), due in one window.",
        permission_classes=[IsUserOrExpert],
    )
    async def negotiation_final_offers_call(
        self, info: Info, input: Annotated[NegotiationLotInput, strawberry.argument(description="The lot.")]
    ) -> NegotiationChanged:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        await negotiation.call_final_offers(info.context.actor, lot_id, input.idempotency_key)
        return NegotiationChanged(negotiation=await _shown(info, lot_id))

    @mutation(
        FinalOfferSubmitResult,
        description="Submit or replace a sealed final offer (最后报价) inside its window.",
        permission_classes=[IsUser],
    )
    async def final_offer_submit(
        self, info: Info, input: Annotated[FinalOfferSubmitInput, strawberry.argument(description="The offer.")]
    ) -> FinalOfferSubmitted:
        offer = await negotiation.submit_final_offer(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.sealed_offer,
            input.idempotency_key,
            signed(input.signature),
        )
        return FinalOfferSubmitted(receipt=FinalOfferReceipt.from_model(offer))

    @mutation(
        FinalOfferDecryptResult,
        description="Hand over the key of the caller's final offer in the key window.",
        permission_classes=[IsUser],
    )
    async def final_offer_decrypt(
        self, info: Info, input: Annotated[FinalOfferDecryptInput, strawberry.argument(description="The key.")]
    ) -> FinalOfferDecrypted:
        key = input.key if isinstance(input.key, dict) else {}
        offer = await negotiation.decrypt_final_offer(info.context.actor, int_id(input.lot_id, "Lot", "lotId"), key)
        return FinalOfferDecrypted(receipt=FinalOfferReceipt.from_model(offer))

    @mutation(
        NegotiationSheetSubmitResult,
        description="A panel expert hands in a complete sheet over the final offers; the last makes the report.",
        permission_classes=[IsExpert],
    )
    async def negotiation_sheet_submit(
        self, info: Info, input: Annotated[NegotiationSheetSubmitInput, strawberry.argument(description="The sheet.")]
    ) -> NegotiationChanged:
        lot_id = int_id(input.lot_id, "Lot", "lotId")
        entries = [
            Judgement(
                sealed_bid_id=int_id(e.final_offer_id, "FinalOffer", f"entries.{i}.finalOfferId"),
                compliant=e.compliant,
                reason=e.reason,
                technical_centi=e.technical_centi,
                commercial_centi=e.commercial_centi,
            )
            for i, e in enumerate(input.entries)
        ]
        await negotiation.submit_sheet(info.context.actor, lot_id, entries, input.idempotency_key)
        return NegotiationChanged(negotiation=await _shown(info, lot_id))
