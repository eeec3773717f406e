"""Live auction updates for every watcher, signed in or not (kiosks): price, bidder number, sequence, end."""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.auctions import services as auctions
from domain.common.errors import DomainError
from schema import fields
from schema.auctions import fanout
from schema.auctions.listing import ListingSubscriptions
from schema.auctions.types import AuctionUpdate
from schema.relay import int_id

LATEST_ONLY = (
    "For a phone on a slow link: it gets the newest price and every phase change, skipping prices it could not "
    "show in time; the sequence numbers show what was skipped (auctionBidBatch lists them). The last price and the "
    "result always arrive, in order. False (the default): every bid, in sequence, none missing."
)


@strawberry.type
class AuctionSubscriptions(ListingSubscriptions):
    @fields.subscription(
        description=(
            "A snapshot, then every bid (in sequence, none missing) and phase change of the lot auction; "
            "with latestOnly, the newest price and every phase change."
        )
    )
    async def auction_updates(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of the online-auction lot to watch.")
        ],
        latest_only: Annotated[bool, strawberry.argument(description=LATEST_ONLY)] = False,
    ) -> AsyncGenerator[AuctionUpdate, None]:
        pk = int_id(lot_id, "Lot", "lotId")
        watcher = await fanout.watch(info.context.bus, pk, lot_id, latest=latest_only)
        try:
            try:
                state = await auctions.auction_of(pk)
            except DomainError:
                return
            watcher.start(state.seq, state.phase)
            yield AuctionUpdate.snapshot(lot_id, state)
            # a transport that can send the shared rendering itself does so: one execution per document,
            # and only what it could not send is yielded for ordinary execution
            async for shared in watcher.updates(fanout.direct_channel.get()):
                yield shared.update
        finally:
            watcher.close()
