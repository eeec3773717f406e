"""Submitting, replacing and withdrawing sealed bids: decode, call one service, map the outcome."""

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.tendering import opening
from domain.tendering import services as tendering
from schema.certificates.types import SignatureInput, signed
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsUser
from schema.relay import int_id, to_global_id
from schema.scalars import Fen
from schema.tendering.types import SealedBidReceipt


@strawberry.input(
    description="A bid sealed on the device (see mobile_contract/SEALED_BID.md); replaces any earlier one."
)
class BidSubmitInput:
    lot_id: strawberry.ID = strawberry.field(
        description="Global id of an open sealed-tender lot the caller registered for."
    )
    sealed_bid: str = strawberry.field(description="Compact JWE: dir + A256GCM; plaintext is refused.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over the act (mobile_contract/SIGNATURES.md)."
    )


@strawberry.type(description="Received: keep the receipt.")
class BidSubmitted:
    receipt: SealedBidReceipt = strawberry.field(
        description="The receipt: keep its SHA-256 and time to prove what was submitted and when."
    )


BidSubmitResult = result_union("BidSubmitResult", BidSubmitted, [tendering.submit])


@strawberry.input(description="Withdraw the caller's standing bid before the deadline.")
class BidWithdrawInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Withdrawn.")
class BidWithdrawn:
    receipt: SealedBidReceipt = strawberry.field(description="The receipt of the withdrawn bid.")


BidWithdrawResult = result_union("BidWithdrawResult", BidWithdrawn, [tendering.withdraw])


@strawberry.type
class TenderingMutations:
    @mutation(BidSubmitResult, description="Submit or replace a sealed bid (投标).", permission_classes=[IsUser])
    async def bid_submit(
        self,
        info: Info,
        input: Annotated[BidSubmitInput, strawberry.argument(description="The lot and the sealed bid.")],
    ) -> BidSubmitted:
        bid = await tendering.submit(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.sealed_bid,
            input.idempotency_key,
            signed(input.signature),
        )
        return BidSubmitted(receipt=SealedBidReceipt.from_model(bid))

    @mutation(BidWithdrawResult, description="Withdraw a sealed bid before the deadline.", permission_classes=[IsUser])
    async def bid_withdraw(
        self,
        info: Info,
        input: Annotated[BidWithdrawInput, strawberry.argument(description="The lot whose standing bid to withdraw.")],
    ) -> BidWithdrawn:
        bid = await tendering.withdraw(info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.idempotency_key)
        return BidWithdrawn(receipt=SealedBidReceipt.from_model(bid))


@strawberry.input(description="Hand over the key of the caller's sealed bid during the decryption window.")
class BidDecryptInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot whose decryption window is open.")
    key: JSON = strawberry.field(description='The JWK the bid was sealed with: {"kty": "oct", "k": "..."}.')
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over the act (mobile_contract/SIGNATURES.md)."
    )


@strawberry.type(description="Decrypted: the price is in the opening record.")
class BidDecrypted:
    price_fen: Fen = strawberry.field(description="The price the bid contained, in fen.")
    documents: int = strawberry.field(description="How many bid documents the bid lists.")


BidDecryptResult = result_union("BidDecryptResult", BidDecrypted, [opening.submit_key])


@strawberry.input(description="An objection raised on the spot during the opening.")
class OpeningObjectInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot being opened.")
    text: str = strawberry.field(description="The objection, in words for the record.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Resend with the same key after a lost answer: one objection, not two."
    )


@strawberry.type(description="Raised: the tenderer answers in the record.")
class OpeningObjected:
    objection_id: strawberry.ID = strawberry.field(description="Global id of the objection raised.")


OpeningObjectResult = result_union("OpeningObjectResult", OpeningObjected, [opening.raise_objection])


@strawberry.input(description="The tenderer's answer to an objection raised during the opening.")
class OpeningAnswerInput:
    objection_id: strawberry.ID = strawberry.field(description="Global id of the objection.")
    answer: str = strawberry.field(description="The answer, as it goes into the opening record.")


@strawberry.type(description="Answered.")
class OpeningAnswered:
    objection_id: strawberry.ID = strawberry.field(description="Global id of the objection answered.")


OpeningAnswerResult = result_union("OpeningAnswerResult", OpeningAnswered, [opening.answer_objection])


@strawberry.type
class OpeningMutations:
    @mutation(
        BidDecryptResult, description="Decrypt the caller's bid at the opening (解密).", permission_classes=[IsUser]
    )
    async def bid_decrypt(
        self,
        info: Info,
        input: Annotated[
            BidDecryptInput, strawberry.argument(description="The lot and the key the bid was sealed with.")
        ],
    ) -> BidDecrypted:
        key: Any = input.key
        bid = await opening.submit_key(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), key, signed(input.signature)
        )
        return BidDecrypted(price_fen=Fen(int(bid.price_fen or 0)), documents=len(bid.documents or []))

    @mutation(OpeningObjectResult, description="Object on the spot during the opening.", permission_classes=[IsUser])
    async def opening_object(
        self,
        info: Info,
        input: Annotated[OpeningObjectInput, strawberry.argument(description="The lot and the objection.")],
    ) -> OpeningObjected:
        x = await opening.raise_objection(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.text, input.idempotency_key
        )
        return OpeningObjected(objection_id=strawberry.ID(to_global_id("OpeningObjection", x.id)))

    @mutation(
        OpeningAnswerResult,
        description="Answer an objection in the opening record (tenderer).",
        permission_classes=[IsUser],
    )
    async def opening_answer(
        self,
        info: Info,
        input: Annotated[OpeningAnswerInput, strawberry.argument(description="The objection and the answer.")],
    ) -> OpeningAnswered:
        pk = int_id(input.objection_id, "OpeningObjection", "objectionId")
        await opening.answer_objection(info.context.actor, pk, input.answer)
        return OpeningAnswered(objection_id=input.objection_id)


@strawberry.input(description="撤回: record that a bid could not be decrypted because of the platform (operators).")
class OpeningPlatformFaultInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    organisation_id: strawberry.ID = strawberry.field(
        description="Global id of the bidder whose bid the platform failed to decrypt."
    )
    reason: str = strawberry.field(description="What went wrong on the platform's side, for the record.")


@strawberry.type(description="Recorded: the bid is shown as a platform fault, not as the bidder's failure.")
class OpeningPlatformFaultRecorded:
    receipt: SealedBidReceipt = strawberry.field(description="The receipt of the bid, now marked as a platform fault.")


OpeningPlatformFaultResult = result_union(
    "OpeningPlatformFaultResult", OpeningPlatformFaultRecorded, [opening.record_platform_fault]
)


@strawberry.type
class OpeningFaultMutations:
    @mutation(
        OpeningPlatformFaultResult,
        description="Record a platform fault at the opening (撤回).",
        permission_classes=[IsOperator],
    )
    async def opening_platform_fault(
        self,
        info: Info,
        input: Annotated[
            OpeningPlatformFaultInput, strawberry.argument(description="The lot, the bidder and what went wrong.")
        ],
    ) -> OpeningPlatformFaultRecorded:
        bid = await opening.record_platform_fault(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            int_id(input.organisation_id, "Organisation", "organisationId"),
            input.reason,
        )
        return OpeningPlatformFaultRecorded(receipt=SealedBidReceipt.from_model(bid))
