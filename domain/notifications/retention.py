"""How long pushes and inbox notifications are kept (domain/common/retention; run by domain/wiring).

A push's record is kept `push_delivery` after it was made once it is final (sent, refused, expired, skipped): the
operators' "was everyone told" screen (domain/supervision/deliveries) shows it until then. A notification is kept
`notification` after it was made, read or not, hidden or not: a bidder's notices of a lot outlive the lot's
disputes (objection, complaint, then review or suit within six months), and its message id keeps a redelivered
event from making it twice long after the outbox forgot that event. A notification with a push still pending is
never deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.common.queries import column
from domain.common.retention import Retention, delete_in_batches
from domain.notifications.models import Notification, PushDelivery
from domain.notifications.services import DeliveryStatus

FINAL = tuple(s.value for s in DeliveryStatus if s is not DeliveryStatus.PENDING)


async def purge_push_deliveries(now: datetime, retention: Retention) -> int:
    """Deletes final pushes made longer than the push retention ago; a pending push is never deleted."""
    query = PushDelivery.filter(status__in=FINAL, created_at__lte=now - retention.push_delivery)
    return await delete_in_batches(query, batch=retention.batch, max_batches=retention.max_batches)


async def _pending(ids: Sequence[int]) -> set[int]:
    rows = PushDelivery.filter(notification_id__in=list(ids), status=DeliveryStatus.PENDING.value).values_list(
        "notification_id", flat=True
    )
    return {int(i) for i in await column(rows, int)}


async def _with_pushes(chosen: QuerySet[Notification]) -> int:
    async with in_transaction():
        ids = await column(chosen.values_list("id", flat=True), int)
        await PushDelivery.filter(notification_id__in=ids).delete()
        return int(await Notification.filter(id__in=ids).delete())


async def purge_notifications(now: datetime, retention: Retention) -> int:
    """Deletes notifications (and their final pushes) made longer than the notification retention ago, except
    those with a push still pending."""
    query = Notification.filter(created_at__lte=now - retention.notification)
    return await delete_in_batches(
        query, batch=retention.batch, max_batches=retention.max_batches, keep=_pending, remove=_with_pushes
    )
