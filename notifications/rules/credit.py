"""Public credit: the entity hears when a supervisor decides its credit repair application (信用修复). That a record
entered public view is not told apart: the record's own notice went out at its recording (credit.recorded,
punishment.listed), and a record is published at once, so one act is one notice; its public period and when it may be
repaired are in creditPublications."""

from __future__ import annotations

from domain.common.models import OutboxEvent
from domain.credit.models import CreditRepair
from domain.notifications.services import Kind, NewNotification, active_users_of
from notifications.rules.common import notify


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
