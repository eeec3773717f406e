"""Multi-lot bids: one submission of sealed bids on several lots of one project, all or nothing."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.tendering import multi_lot
from schema.certificates.types import SignatureInput, signed
from schema.errors import mutation, result_union
from schema.permissions import IsUser
from schema.relay import int_id
from schema.tendering.types import SealedBidReceipt


@strawberry.input(description="A bid sealed on the device for one lot (mobile_contract/SEALED_BID.md).")
class LotSealedBidInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an open sealed-tender lot of the project.")
    sealed_bid: str = strawberry.field(description="Compact JWE sealed for this lot's trade code; no plaintext.")
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over this lot's act (SIGNATURES.md)."
    )


@strawberry.input(description="Sealed bids on several lots of one project, submitted together: all stored or none.")
class BidSubmitLotsInput:
    bids: list[LotSealedBidInput] = strawberry.field(description="One sealed bid per lot, each lot once (≤ 50).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Every bid received: keep each receipt; each lot is opened and evaluated on its own.")
class LotBidsSubmitted:
    receipts: list[SealedBidReceipt] = strawberry.field(description="One receipt per lot, in the order submitted.")


BidSubmitLotsResult = result_union("BidSubmitLotsResult", LotBidsSubmitted, [multi_lot.submit_lots])


@strawberry.type
class MultiLotMutations:
    @mutation(
        BidSubmitLotsResult,
        description="Submit or replace sealed bids on several lots of one project at once (多标段投标): every "
        "bid is stored or none; the first refusing lot's error is returned.",
        permission_classes=[IsUser],
    )
    async def bid_submit_lots(
        self,
        info: Info,
        input: Annotated[BidSubmitLotsInput, strawberry.argument(description="The lots and their sealed bids.")],
    ) -> LotBidsSubmitted:
        bids = [
            multi_lot.LotBid(int_id(b.lot_id, "Lot", f"bids.{i}.lotId"), b.sealed_bid, signed(b.signature))
            for i, b in enumerate(input.bids)
        ]
        made = await multi_lot.submit_lots(info.context.actor, bids, input.idempotency_key)
        return LotBidsSubmitted(receipts=[SealedBidReceipt.from_model(b) for b in made])
