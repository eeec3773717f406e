"""The suspension of a lot (暂停招标投标活动) by the supervisor handling an accepted complaint.

While it is in force every transition of the lot is refused (LOT_SUSPENDED in domain/publication) and
the award is paused (an award blocker of domain/results) until the supervisor lifts it.
"""

from __future__ import annotations

from typing import Any

from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.complaints.complaints import handled
from domain.complaints.errors import LotAlreadySuspended, NotSuspended
from domain.complaints.events import LotSuspendedEvent, LotSuspensionLifted
from domain.complaints.models import LotSuspension
from domain.complaints.states import COMPLAINT
from domain.publication.errors import LotSuspended
from domain.publication.models import Lot
from domain.results import services as results
from domain.tendering import opening as openings

__all__ = ["LotSuspended", "lift_suspension", "suspend_lot", "suspended", "suspension_of"]


@raises(LotAlreadySuspended)
@use_case("complaint.suspend_lot", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def suspend_lot(
    actor: Actor, complaint_id: int, reason: str, idempotency_key: str | None = None
) -> LotSuspension:
    """The supervisor handling an accepted complaint suspends the lot (暂停招标投标活动) until lifted."""
    why = required_text(reason, "reason", 500)

    async def change() -> dict[str, Any]:
        current, _project = await handled(actor, complaint_id)
        COMPLAINT.fire(current.status, "suspend_lot", by=actor)
        lot = await lock(Lot.filter(id=current.lot_id)).get()
        if await LotSuspension.exists(lot_id=lot.id, lifted_at__isnull=True):
            raise LotAlreadySuspended()
        made = await LotSuspension.create(
            lot_id=lot.id,
            complaint_id=current.id,
            reason=why,
            suspended_by=actor.user_id or 0,
            suspended_at=clock.now(),
        )
        await events.record(
            LotSuspendedEvent(
                object_id=str(lot.id),
                lot_id=lot.id,
                complaint_id=current.id,
                reason=why,
                trade_code=lot.trade_code,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.suspend_lot", {"id": complaint_id, "r": why}, change)
    return await LotSuspension.get(id=result["id"])


@raises(NotSuspended)
@use_case("complaint.lift_suspension", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def lift_suspension(actor: Actor, complaint_id: int, idempotency_key: str | None = None) -> LotSuspension:
    """The supervisor lifts the suspension made for this complaint; the lot may move again."""

    async def change() -> dict[str, Any]:
        current, _ = await handled(actor, complaint_id)
        active = await lock(LotSuspension.filter(complaint_id=current.id, lifted_at__isnull=True)).first()
        if active is None:
            raise NotSuspended()
        active.lifted_by, active.lifted_at = actor.user_id, clock.now()
        await active.save()
        lot = await Lot.get(id=current.lot_id)
        await openings.resume(lot.id, active.suspended_at, active.lifted_at)  # held past its deadline
        await events.record(
            LotSuspensionLifted(
                object_id=str(lot.id),
                lot_id=lot.id,
                complaint_id=current.id,
                trade_code=lot.trade_code,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"id": active.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.lift_suspension", {"id": complaint_id}, change)
    return await LotSuspension.get(id=result["id"])


async def suspension_of(lot_id: int) -> LotSuspension | None:
    """The suspension of the lot in force, if any (public: the lot's status says it is paused)."""
    return await LotSuspension.filter(lot_id=lot_id, lifted_at__isnull=True).order_by("id").first()


# ---------------------------------------------------------------- what pauses an award


async def suspended(lot_id: int) -> results.Pause | None:
    """A suspension by the supervisor handling a complaint pauses everything until lifted."""
    active = await LotSuspension.filter(lot_id=lot_id, lifted_at__isnull=True).order_by("id").first()
    if active is None:
        return None
    return results.Pause(
        reason="lot_suspended",
        zh=f"行政监督部门已暂停本标段：{active.reason}",
        en=f"suspended by the supervisor: {active.reason}",
    )
