"""Online auctions: starting soon, outbid, won, ended; listings (挂牌): ended (sold, turned into an auction, failed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise import connections

from domain.auctions.models import Auction, AuctionEntry, Listing, ListingOffer
from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.queries import column
from domain.common.storage import using_postgres
from domain.notifications.services import Kind, NewNotification, active_users_by_org, active_users_of
from domain.publication.models import Lot
from notifications.rules.common import notify


async def _auction_lot(event: OutboxEvent) -> tuple[Auction, Lot] | None:
    auction = await Auction.get_or_none(id=int(event.object_id))
    if auction is None:
        return None
    return auction, await Lot.get(id=auction.lot_id)


# PostgreSQL: the batch's auctions with their lots' names, and the named organisations' active users, in one round trip
_AUCTIONS_AND_USERS = (
    "SELECT 'a' AS part, a.id, a.lot_id AS ref, l.name, a.starts_at, a.confirmation_no"
    " FROM auction a JOIN lot l ON l.id = a.lot_id WHERE a.id = ANY($1::bigint[])"
    " UNION ALL SELECT 'u', u.id, u.organisation_id, NULL, NULL, NULL"
    " FROM app_user u WHERE u.organisation_id = ANY($2::bigint[]) AND u.is_active ORDER BY 1, 2"
)


async def _auctions_and_users(
    auction_ids: set[int], org_ids: set[int]
) -> tuple[dict[int, dict[str, Any]], dict[int, list[int]]]:
    """What auction_notices reads, as the two queries of the general path answer it (users in id order)."""
    auctions: dict[int, dict[str, Any]] = {}
    users: dict[int, list[int]] = {}
    rows = await connections.get("default").execute_query_dict(
        _AUCTIONS_AND_USERS, [sorted(auction_ids), sorted(org_ids)]
    )
    for row in rows:
        if row["part"] == "a":
            auctions[int(row["id"])] = {
                "id": int(row["id"]),
                "lot_id": int(row["ref"]),
                "lot__name": row["name"],
                "starts_at": row["starts_at"],
                "confirmation_no": row["confirmation_no"],
            }
        else:
            users.setdefault(int(row["ref"]), []).append(int(row["id"]))
    return auctions, users


AUCTION_NOTICES = {
    "auction.starting_soon": Kind.AUCTION_STARTING_SOON,
    "auction.outbid": Kind.AUCTION_OUTBID,
    "auction.won": Kind.AUCTION_WON,
}


async def auction_notices(events: Sequence[OutboxEvent]) -> list[list[NewNotification]]:
    """Starting soon, outbid, won: time-critical, to the organisations each event names; for a whole batch in two
    queries (the auctions with their lots' names, the organisations' active users), whatever its size."""
    auction_ids = {int(e.object_id) for e in events}
    org_ids = {int(o) for e in events for o in e.audience.get("orgs", [])}
    if using_postgres():
        auctions, users = await _auctions_and_users(auction_ids, org_ids)
    else:
        auctions = {
            int(row["id"]): row
            for row in await Auction.filter(id__in=list(auction_ids)).values(
                "id", "lot_id", "lot__name", "starts_at", "confirmation_no"
            )
        }
        users = await active_users_by_org(org_ids)
    made: list[list[NewNotification]] = []
    for event in events:
        auction = auctions.get(int(event.object_id))
        if auction is None:
            made.append([])
            continue
        recipients = sorted({u for o in event.audience.get("orgs", []) for u in users.get(int(o), ())})
        made.append(
            notify(
                event,
                recipients,
                AUCTION_NOTICES[event.type],
                event.type,
                object_type="Lot",
                object_id=str(auction["lot_id"]),
                time_critical=True,
                lot=auction["lot__name"],
                starts_at=shanghai_text(auction["starts_at"]),
                price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
                confirmation_no=auction["confirmation_no"] or "",
            )
        )
    return made


async def auction_ended(event: OutboxEvent) -> list[NewNotification]:
    phase = event.payload.get("phase")
    if phase not in ("sold", "failed"):
        return []
    found = await _auction_lot(event)
    if found is None:
        return []
    auction, lot = found
    orgs = await column(AuctionEntry.filter(auction_id=auction.id).values_list("organisation_id", flat=True), int)
    return notify(
        event,
        await active_users_of(int(o) for o in orgs),
        Kind.AUCTION_ENDED,
        f"auction.ended.{phase}",
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
        bidder_no=event.payload.get("leading_bidder_no") or "",
    )


async def listing_ended(event: OutboxEvent) -> list[NewNotification]:
    """To every registrant of the listing's lot: sold, turned into an auction (when it starts), or failed."""
    from domain.registration.models import Registration

    listing = await Listing.get_or_none(id=int(event.object_id))
    if listing is None:
        return []
    lot = await Lot.get(id=listing.lot_id)
    registered = await column(
        Registration.filter(lot_id=lot.id, status="registered").values_list("organisation_id", flat=True), int
    )
    offered = await column(ListingOffer.filter(listing_id=listing.id).values_list("organisation_id", flat=True), int)
    starts = event.payload.get("auction_starts_at")
    return notify(
        event,
        await active_users_of(int(o) for o in {*registered, *offered}),
        Kind.LISTING_ENDED,
        f"listing.ended.{event.payload.get('status')}",
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=event.payload.get("status") == "auction",
        lot=lot.name,
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
        bidder_no=event.payload.get("leading_bidder_no") or "",
        offerers=int(event.payload.get("offerers") or 0),
        starts_at=shanghai_text(datetime.fromisoformat(starts)) if starts else "",
    )


async def listing_outbid(event: OutboxEvent) -> list[NewNotification]:
    """To the organisation whose listing offer was topped."""
    lot = await Lot.get_or_none(id=int(event.payload.get("lot_id") or 0))
    if lot is None:
        return []
    return notify(
        event,
        await active_users_of(int(o) for o in event.audience.get("orgs", [])),
        Kind.AUCTION_OUTBID,
        "listing.outbid",
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        price=Money(int(event.payload.get("price_fen") or 0)).yuan_text(),
    )
