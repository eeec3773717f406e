"""The caller's own sealed-bid receipts."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.tendering import models, opening, receipts
from domain.tendering import services as tendering
from schema import fields
from schema.permissions import IsUser
from schema.relay import int_id, node_resolver
from schema.tendering.types import (
    BidReceiptVerification,
    OpeningObjection,
    OpeningRecord,
    OpeningRecordLine,
    SealedBidReceipt,
    SealedBidState,
    SecurityShortfall,
)


@strawberry.type
class TenderingQueries:
    @fields.field(description="The caller's submissions for a lot, newest first.", permission_classes=[IsUser])
    async def my_sealed_bids(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[SealedBidReceipt]:
        try:
            rows = await tendering.my_bids(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return [SealedBidReceipt.from_model(m) for m in rows]

    @fields.field(
        description="Verify a bid receipt (投标回执) against the platform's published keys: ok with what it attests, "
        "or not ok with the reason (BID_RECEIPT_INVALID's). Needs no sign-in: the bidder may show it to anyone."
    )
    async def bid_receipt_verify(
        self,
        info: Info,
        receipt: Annotated[str, strawberry.argument(description="The signed receipt as received: its compact JWS.")],
    ) -> BidReceiptVerification:
        try:
            content = receipts.verify(receipt, info.context.services.keyring.jwks())
        except receipts.BidReceiptInvalid as err:
            return BidReceiptVerification(ok=False, reason=err.message(info.context.locale))
        bidder = content["bidder"]
        return BidReceiptVerification(
            ok=True,
            lot_trade_code=content["lotTradeCode"],
            lot_name=content["lotName"],
            bidder_name=bidder["name"],
            bidder_credit_code=bidder["creditCode"],
            sha256=content["sha256"],
            size=content["size"],
            submitted_at=datetime.fromisoformat(content["submittedAt"]),
            key_id=receipts.key_id(receipt),
        )


def record_of(info: Info, r: opening.Record) -> OpeningRecord:
    o = r.opening
    return OpeningRecord(
        _pk=o.id,
        status=o.status,
        deadline=o.deadline,
        bids=o.bids,
        window_ends_at=o.window_ends_at,
        closed_at=o.closed_at,
        lines=[
            OpeningRecordLine(
                bidder=name,
                status=SealedBidState(b.status),
                price_fen=b.price_fen,
                documents=len(b.documents or []),
                decrypted_at=b.decrypted_at,
                sha256=b.ciphertext_sha256,
                security_shortfall=SecurityShortfall.of(info, b),
            )
            for b, name in r.lines
        ],
        objections=[
            OpeningObjection(_pk=x.id, text=x.text, raised_at=x.raised_at, answer=x.answer, answered_at=x.answered_at)
            for x in r.objections
        ],
    )


@strawberry.type
class OpeningQueries:
    @fields.field(description="The opening record: public once closed; live to bidders and the tenderer.")
    async def opening_record(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of a sealed-tender lot.")],
    ) -> OpeningRecord | None:
        try:
            r = await opening.record(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return record_of(info, r)


@node_resolver("SealedBidReceipt")
async def _receipt_node(info: Info, pk: str) -> SealedBidReceipt | None:
    org_id = info.context.actor.org_id
    if not pk.isdigit() or org_id is None:
        return None
    found = await models.SealedBid.get_or_none(id=int(pk), organisation_id=org_id)
    return SealedBidReceipt.from_model(found) if found else None


async def _visible_record(info: Info, opening_id: int) -> OpeningRecord | None:
    found = await models.Opening.get_or_none(id=opening_id)
    if found is None:
        return None
    try:
        return record_of(info, await opening.record(info.context.actor, found.lot_id))
    except DomainError:
        return None


@node_resolver("OpeningRecord")
async def _opening_record_node(info: Info, pk: str) -> OpeningRecord | None:
    return await _visible_record(info, int(pk)) if pk.isdigit() else None


@node_resolver("OpeningObjection")
async def _opening_objection_node(info: Info, pk: str) -> OpeningObjection | None:
    if not pk.isdigit():
        return None
    found = await models.OpeningObjection.get_or_none(id=int(pk))
    record = await _visible_record(info, found.opening_id) if found else None
    return next((x for x in record.objections if x._pk == int(pk)), None) if record else None
