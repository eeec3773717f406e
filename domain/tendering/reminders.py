"""Reminders bidders must not miss, made once each by the chronograph: the bid deadline a day ahead (to registrants
without a sealed bid), the deposit's deadline a day ahead (to registrants whose deposit has not arrived and who put
up no guarantee) and the decryption window's last 15 minutes (to bidders whose bid is still sealed).
Each is one event with an id derived from its fact, so several workers, or a rerun, never make it twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from domain.common import events
from domain.common.actors import SYSTEM
from domain.common.events import Audience, DomainEvent
from domain.common.models import OutboxEvent
from domain.deposits.models import DepositAccount
from domain.deposits.services import deposit_deadline
from domain.deposits.states import DepositStatus
from domain.publication.models import Lot
from domain.publication.states import LotStatus
from domain.tendering.models import Opening

DEADLINE_AHEAD = timedelta(hours=24)
WINDOW_AHEAD = timedelta(minutes=15)
_NAMESPACE = uuid.UUID("6f1d3c2a-6a43-4d0e-9a0e-5b7d1c1f0a11")


@dataclass(frozen=True, kw_only=True)
class DeadlineApproaching(DomainEvent):
    type = "tendering.deadline_approaching"
    object_type = "Lot"
    lot_id: int
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class DepositDue(DomainEvent):
    type = "deposit.due_approaching"
    object_type = "Lot"
    lot_id: int
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class DecryptionClosing(DomainEvent):
    type = "tendering.decryption_closing"
    object_type = "Lot"
    lot_id: int
    window_ends_at: datetime


async def _once(event: DomainEvent, fact: str) -> bool:
    event_id = uuid.uuid5(_NAMESPACE, fact)
    if await OutboxEvent.exists(event_id=event_id):
        return False
    try:
        async with in_transaction():
            await events.record(event, SYSTEM, event_id=event_id)
    except IntegrityError:
        return False
    return True


async def remind(now: datetime) -> int:
    """Makes the reminders now due; the count made."""
    made = 0
    soon = await Opening.filter(status="scheduled", deadline__gt=now, deadline__lte=now + DEADLINE_AHEAD).limit(500)
    for opening in soon:
        event = DeadlineApproaching(
            object_id=str(opening.lot_id), lot_id=opening.lot_id, deadline=opening.deadline, audience=Audience()
        )
        made += await _once(event, f"deadline:{opening.lot_id}:{opening.deadline.isoformat()}")
    awaiting = DepositAccount.filter(status=DepositStatus.AWAITING.value, amount_due_fen__gt=0).values("lot_id")
    for lot in await Lot.filter(status=LotStatus.OPEN.value, id__in=Subquery(awaiting)).limit(500):
        due = deposit_deadline(lot)
        if due is None or not now < due <= now + DEADLINE_AHEAD:
            continue
        deposit_event = DepositDue(object_id=str(lot.id), lot_id=lot.id, deadline=due, audience=Audience())
        made += await _once(deposit_event, f"deposit-due:{lot.id}:{due.isoformat()}")
    closing = await Opening.filter(
        status="decrypting", window_ends_at__gt=now, window_ends_at__lte=now + WINDOW_AHEAD
    ).limit(500)
    for opening in closing:
        ends = opening.window_ends_at or now
        closing_event = DecryptionClosing(
            object_id=str(opening.lot_id), lot_id=opening.lot_id, window_ends_at=ends, audience=Audience()
        )
        made += await _once(closing_event, f"decryption-closing:{opening.id}:{ends.isoformat()}")
    return made
