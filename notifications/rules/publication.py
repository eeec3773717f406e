"""Announcements and lots: saved searches matched, change notices, new tender documents, lots that ended."""

from __future__ import annotations

from domain.common.models import OutboxEvent
from domain.notifications.services import Kind, NewNotification, active_users_of
from domain.publication.models import Clarification, Lot, SavedSearch
from notifications.rules.common import lot_and_project, notify, registrants


async def saved_search_matched(event: OutboxEvent) -> list[NewNotification]:
    saved = await SavedSearch.get_or_none(id=int(event.object_id))
    if saved is None:
        return []
    return notify(
        event,
        [saved.user_id],
        Kind.SAVED_SEARCH_MATCHED,
        event.type,
        object_type="Announcement",
        object_id=str(event.payload["announcement_id"]),
        search=saved.name,
        title=event.payload["title"],
        trade_code=event.payload["trade_code"],
    )


async def announcement_to_registrants(event: OutboxEvent) -> list[NewNotification]:
    """A change or clarification notice (变更/澄清公告) of a lot: to everyone registered for it."""
    if event.payload.get("kind") != "change" or not event.payload.get("lot_id"):
        return []
    lot = await Lot.get_or_none(id=int(event.payload["lot_id"]))
    if lot is None or await Clarification.exists(announcement_id=int(event.object_id)):
        return []  # a clarification's notice: its own rule tells the registrants, with the deadline (clarifications)
    return notify(
        event,
        await active_users_of(await registrants(lot.id)),
        Kind.LOT_CHANGED,
        "announcement.change",
        object_type="Announcement",
        lot=lot.name,
        trade_code=lot.trade_code,
        title=str(event.payload.get("title", "")),
    )


async def tender_document_changed(event: OutboxEvent) -> list[NewNotification]:
    """A new version of a tender document (with a change notice or clarification): to every registered bidder."""
    if event.payload.get("purpose") != "tender_document" or not event.payload.get("supersedes"):
        return []
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, _ = found
    return notify(
        event,
        await active_users_of(await registrants(lot.id)),
        Kind.TENDER_DOCUMENT_CHANGED,
        "document.tender_document_changed",
        lot=lot.name,
        trade_code=lot.trade_code,
        name=event.payload["name"],
        version=event.payload["version"],
    )


async def lot_ended(event: OutboxEvent) -> list[NewNotification]:
    """A lot failed (流标) or was terminated: to everyone registered for it."""
    after = event.payload.get("after")
    if after not in ("failed", "terminated") or (after == "terminated" and event.payload.get("before") == "failed"):
        return []  # a failed lot's termination notice follows its failure: the registrants were told once
    lot = await Lot.get_or_none(id=int(event.object_id))
    if lot is None:
        return []
    return notify(
        event,
        await active_users_of(await registrants(lot.id)),
        Kind.LOT_ENDED,
        f"lot.ended.{after}",
        object_type="Lot",
        lot=lot.name,
        trade_code=lot.trade_code,
    )
