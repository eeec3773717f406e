"""Negotiation and consultation (谈判/磋商): rounds and their documents, the final-offer and key windows.

A document of a round reaches its one supplier (from the panel) or the panel (from the supplier); nobody else is
told of it, so no supplier learns that another is being negotiated with (政府采购法 第三十八条(四))."""

from __future__ import annotations

from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.negotiation.models import FinalOffer, Negotiation
from domain.negotiation.services import active_suppliers
from domain.notifications.services import Kind, NewNotification, active_users_of
from notifications.rules.common import lot_and_project, managers, notify, payload_time


async def _negotiation(event: OutboxEvent) -> Negotiation | None:
    return await Negotiation.get_or_none(id=int(event.object_id))


async def round_opened(event: OutboxEvent) -> list[NewNotification]:
    """To every supplier still negotiating."""
    found, negotiation = await lot_and_project(event.payload["lot_id"]), await _negotiation(event)
    if found is None or negotiation is None:
        return []
    lot, _ = found
    return notify(
        event,
        await active_users_of(await active_suppliers(negotiation)),
        Kind.NEGOTIATION,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        round=event.payload["round"],
    )


async def message_posted(event: OutboxEvent) -> list[NewNotification]:
    """The panel's document to its one supplier; a supplier's response to the purchaser and the panel's experts."""
    found, negotiation = await lot_and_project(event.payload["lot_id"]), await _negotiation(event)
    if found is None or negotiation is None:
        return []
    lot, project = found
    to_supplier = event.payload["side"] == "panel"
    users = [int(event.payload["organisation_id"])] if to_supplier else managers(project)
    return notify(
        event,
        await active_users_of(users),
        Kind.NEGOTIATION,
        "negotiation.message_to_supplier" if to_supplier else "negotiation.message_to_panel",
        object_type="Lot",
        object_id=str(lot.id),
        experts=[] if to_supplier else [int(e) for e in negotiation.committee],
        lot=lot.name,
        trade_code=lot.trade_code,
        round=event.payload["round"],
    )


async def final_offers(event: OutboxEvent) -> list[NewNotification]:
    """Time-critical, to the suppliers concerned: the final offers are called (every supplier negotiating), or their
    keys are due (the suppliers whose final offer came in the window)."""
    found, negotiation = await lot_and_project(event.payload["lot_id"]), await _negotiation(event)
    if found is None or negotiation is None:
        return []
    lot, _ = found
    orgs = await active_suppliers(negotiation)
    if event.type == "negotiation.final_offers_closed":
        sealed = FinalOffer.filter(negotiation_id=negotiation.id).exclude(status="superseded")
        orgs = [int(o) for o in await column(sealed.values_list("organisation_id", flat=True), int)]
    return notify(
        event,
        await active_users_of(orgs),
        Kind.FINAL_OFFER,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        time_critical=True,
        lot=lot.name,
        trade_code=lot.trade_code,
        closes=payload_time(event, "closes_at"),
        ends=payload_time(event, "decryption_ends_at"),
    )


async def supplier_eliminated(event: OutboxEvent) -> list[NewNotification]:
    """To the supplier the panel eliminated: the round and the panel's reason; nobody else is told."""
    found = await lot_and_project(event.payload["lot_id"])
    if found is None:
        return []
    lot, _ = found
    return notify(
        event,
        await active_users_of([int(event.payload["organisation_id"])]),
        Kind.NEGOTIATION,
        event.type,
        object_type="Lot",
        object_id=str(lot.id),
        lot=lot.name,
        trade_code=lot.trade_code,
        round=event.payload["round"],
        reason=event.payload["reason"],
    )
