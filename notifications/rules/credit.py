"""Public credit: the entity hears when one of its records enters public view (不良行为记录公开) and when a
supervisor decides its credit repair application (信用修复)."""

from __future__ import annotations

from domain.accounts.models import Organisation
from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.credit.models import CreditPublication, CreditRepair
from domain.notifications.services import Kind, NewNotification, active_users_of
from notifications.rules.common import notify


async def credit_publicised(event: OutboxEvent) -> list[NewNotification]:
    pub = await CreditPublication.get_or_none(id=int(event.object_id))
    if pub is None:
        return []
    org = await Organisation.get(id=pub.organisation_id)
    return notify(
        event,
        await active_users_of([org.id]),
        Kind.CREDIT_RECORDED,
        event.type,
        name=org.name,
        title=pub.title,
        until=shanghai_text(pub.public_until),
        repairable_from=shanghai_text(pub.repairable_from),
    )


async def credit_repair_decided(event: OutboxEvent) -> list[NewNotification]:
    repair = await CreditRepair.get_or_none(id=int(event.object_id)).prefetch_related("publication")
    if repair is None or repair.status not in ("approved", "rejected"):
        return []
    pub = repair.publication
    return notify(
        event,
        await active_users_of([repair.organisation_id]),
        Kind.CREDIT_RECORDED,
        f"credit.repair_decided.{repair.status}",
        title=pub.title,
        note=repair.decision_note or "",
    )
