"""Live auction updates for every watcher, signed in or not (kiosks): price, bidder number, sequence, end."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from domain.auctions import services as auctions
from domain.common.errors import DomainError
from schema.auctions.types import AuctionUpdate
from schema.relay import int_id

TYPES = frozenset({auctions.BidPlaced.type, auctions.AuctionPhaseChanged.type})


def _bid_message(bid: Any, lot_pk: int) -> dict[str, Any]:
    return {
        "type": auctions.BidPlaced.type,
        "payload": {
            "lot_id": lot_pk,
            "seq": bid.seq,
            "phase": bid.phase,
            "price_fen": bid.amount_fen,
            "bidder_no": bid.bidder_no,
            "ends_at": bid.ends_at.isoformat() if bid.ends_at else None,
        },
    }


@strawberry.type
class AuctionSubscriptions:
    @strawberry.subscription(
        description="A snapshot, then every bid (in sequence, none missing) and phase change of the lot auction."
    )
    async def auction_updates(self, info: Info, lot_id: strawberry.ID) -> AsyncGenerator[AuctionUpdate, None]:
        pk = int_id(lot_id, "Lot", "lotId")
        stream = info.context.bus.subscribe(
            lambda m: m.get("type") in TYPES and m.get("payload", {}).get("lot_id") == pk
        )
        pending = asyncio.ensure_future(anext(stream))
        try:
            await asyncio.sleep(0)  # the broker registers this subscriber before the snapshot is read
            try:
                state = await auctions.auction_of(pk)
            except DomainError:
                return
            yield AuctionUpdate.snapshot(lot_id, state)
            seq, phase = state.seq, state.phase
            while True:
                message = await pending
                pending = asyncio.ensure_future(anext(stream))
                if message.get("type") not in TYPES or message["payload"].get("lot_id") != pk:
                    continue
                payload = message["payload"]
                if message["type"] == auctions.BidPlaced.type:
                    if payload["seq"] <= seq:
                        continue  # already sent (the dispatcher repeats what the mutation published)
                    # a gap (a slow reader lost messages): fill it from the database, page by page
                    while payload["seq"] > seq + 1:
                        page = [b for b in await auctions.bids_after(pk, seq) if b.seq < payload["seq"]]
                        if not page:
                            break
                        for bid in page:
                            yield AuctionUpdate.from_message(lot_id, _bid_message(bid, pk))
                        seq = page[-1].seq
                    seq = payload["seq"]
                elif payload["phase"] == phase or payload["seq"] < seq:
                    continue
                else:
                    phase = payload["phase"]
                yield AuctionUpdate.from_message(lot_id, message)
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
            await stream.aclose()
