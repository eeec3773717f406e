"""Clarifications (答疑、澄清、修改) and invited tenders: every registrant told of a clarification and of the deadline
it moved, each bidder whose sealed bid a change flagged, each invitee, the managers of a lot asked a question."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Announcement, Lot
from domain.registration.models import Invitation
from domain.tendering.models import SealedBid
from notifications.rules.common import lot_and_project, managers, notify, payload_time, registrants


async def clarification_published(event: OutboxEvent) -> list[NewNotification]:
    """To every organisation registered for the lot, and for an invited tender every invitee (招标投标法 第二十三条:
    所有招标文件收受人): the clarification, and the deadline when it moved."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, _ = found
    notice = await Announcement.get_or_none(id=int(event.payload["announcement_id"]))
    moved = bool(event.payload.get("moved"))
    invited = await column(Invitation.filter(lot_id=lot.id).values_list("organisation_id", flat=True), int)
    orgs = list(dict.fromkeys([*await registrants(lot.id), *invited]))
    return notify(
        event,
        await active_users_of(orgs),
        Kind.LOT_CHANGED,
        "clarification.deadline_moved" if moved else "clarification.published",
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=moved,
        lot=lot.name,
        trade_code=lot.trade_code,
        title=notice.title if notice else "",
        deadline=payload_time(event, "deadline_after"),
    )


async def _to_the_bidder(
    event: OutboxEvent, kind: Kind, time_critical: bool = False, **fields: Any
) -> list[NewNotification]:
    """A notice about one sealed bid to its bidder's users, about the bid's lot."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    bid = await SealedBid.get_or_none(id=int(event.object_id))
    if lot is None or bid is None:
        return []
    return notify(
        event,
        await active_users_of([bid.organisation_id]),
        kind,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=time_critical,
        lot=lot.name,
        trade_code=lot.trade_code,
        **fields,
    )


async def sealed_bid_flagged(event: OutboxEvent) -> list[NewNotification]:
    """To the bidder whose bid must be confirmed or replaced: time-critical, an unconfirmed bid is not opened."""
    return await _to_the_bidder(
        event, Kind.BID_CONFIRMATION_REQUIRED, time_critical=True, deadline=payload_time(event, "deadline")
    )


async def sealed_bid_returned(event: OutboxEvent) -> list[NewNotification]:
    """To the bidder whose sealed bid went back unopened with its lot (failed or terminated before its opening)."""
    return await _to_the_bidder(event, Kind.LOT_ENDED)


async def invitation_sent(event: OutboxEvent) -> list[NewNotification]:
    """To the invited organisation's users (投标邀请书)."""
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None:
        return []
    deadline = lot.config.get("bid_deadline")
    return notify(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.LOT_INVITATION,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        deadline=shanghai_text(datetime.fromisoformat(deadline)) if deadline else "",
    )


async def question_asked(event: OutboxEvent) -> list[NewNotification]:
    """To the lot's tenderer and agency, who answer in a clarification; never who asked."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, project = found
    return notify(
        event,
        await active_users_of(managers(project)),
        Kind.QUESTION_ASKED,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
    )
