"""The opening watched live: each decrypted bid, objection and answer, then the close."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.publication.models import Lot
from domain.tendering import opening
from schema import fields
from schema.permissions import IsUser
from schema.relay import int_id
from schema.tendering.types import OpeningUpdate

KINDS = {
    opening.BidDecrypted.type: "decrypted",
    opening.ObjectionRaised.type: "objection",
    opening.ObjectionAnswered.type: "answer",
    opening.OpeningClosed.type: "closed",
}


@strawberry.type
class OpeningSubscriptions:
    @fields.subscription(
        description="The lot's opening as it happens: for its bidders, its tenderer and operators.",
        permission_classes=[IsUser],
    )
    async def opening_updates(
        self,
        info: Info,
        lot_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of the lot whose opening to watch.")
        ],
    ) -> AsyncGenerator[OpeningUpdate, None]:
        pk = int_id(lot_id, "Lot", "lotId")
        lot = await Lot.get_or_none(id=pk)
        if lot is None or not await opening.may_watch(info.context.actor, lot):
            return
        stream = info.context.bus.subscribe(
            lambda m: m.get("type") in KINDS and m.get("payload", {}).get("lot_id") == pk
        )
        seen: set[str] = set()
        try:
            async for message in stream:
                kind = KINDS.get(message.get("type", ""))
                payload = message.get("payload", {})
                if kind is None or payload.get("lot_id") != pk or message["eventId"] in seen:
                    continue
                seen.add(message["eventId"])
                yield OpeningUpdate(
                    kind=kind,
                    bidder=payload.get("bidder"),
                    price_fen=payload.get("price_fen"),
                    occurred_at=datetime.fromisoformat(message["occurredAt"]),
                )
                if kind == "closed":
                    return
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await stream.aclose()
