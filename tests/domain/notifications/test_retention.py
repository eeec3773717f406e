"""Retention of pushes and the inbox on the real database: what the rule says goes, the rest stays."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.common.actors import Actor, Role
from domain.common.retention import Retention
from domain.notifications import services as n
from domain.notifications.models import Notification, PushDelivery
from domain.notifications.retention import purge_notifications, purge_push_deliveries
from domain.notifications.services import DeliveryStatus, Kind, NewNotification
from tests.domain import factories as df

KEEP = Retention(push_delivery=timedelta(days=90), notification=timedelta(days=365))


def note(user_id: int) -> NewNotification:
    return NewNotification(
        user_id=user_id,
        kind=Kind.ENTITY_REVIEWED,
        title_zh="主体信息审核通过",
        body_zh="测试公司已通过审核。",
        title_en="Registration approved",
        body_en="Test Co. was approved.",
        object_type="Organisation",
        object_id="1",
        event_id=uuid.uuid4(),
    )


async def notified(count: int) -> list[Notification]:
    """`count` notifications to a user with one phone: one pending push each."""
    user = await df.user(await df.organisation())
    me = Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))
    await n.register_device(me, "fcm", f"tok-{user.id}", "android", "3.2.0", "zh-CN", None)
    return await n.store([note(user.id) for _ in range(count)])


async def test_final_pushes_go_after_the_retention_and_pending_ones_never(db, manual_clock):
    # given pushes made at the retention's edge: sent, skipped (no channel), expired, still pending, and one newer
    notes = await notified(5)
    pushes = {p.notification_id: p for p in await PushDelivery.all()}
    sent, skipped, expired, pending, fresh = (pushes[x.id] for x in notes)
    for push, status in ((sent, "sent"), (skipped, "skipped"), (expired, "expired"), (fresh, "sent")):
        await PushDelivery.filter(id=push.id).update(status=status)
    now = manual_clock.now() + KEEP.push_delivery
    await PushDelivery.filter(id=fresh.id).update(created_at=now - KEEP.push_delivery + timedelta(seconds=1))

    # when the pushes are purged the retention after they were made
    purged = await purge_push_deliveries(now, KEEP)

    # then the final ones made at least the retention ago went; pending and newer stayed, and every notification
    assert purged == 3
    assert sorted(await PushDelivery.all().values_list("id", flat=True)) == sorted([pending.id, fresh.id])
    assert await Notification.all().count() == 5


async def test_notifications_go_with_their_pushes_after_the_retention_unless_a_push_is_pending(db, manual_clock):
    # given notifications read, unread and hidden, one with its push still pending, and one made a second later
    old_read, _unread, old_hidden, old_pending, young = await notified(5)
    await PushDelivery.exclude(notification_id=old_pending.id).update(status=DeliveryStatus.SENT.value)
    await Notification.filter(id=old_read.id).update(read_at=manual_clock.now())
    await Notification.filter(id=old_hidden.id).update(deleted_at=manual_clock.now())
    now = manual_clock.now() + KEEP.notification
    await Notification.filter(id=young.id).update(created_at=now - KEEP.notification + timedelta(seconds=1))

    # when the inbox is purged a year on
    purged = await purge_notifications(now, KEEP)

    # then read, unread and hidden ones went with their pushes; the pending one and the younger one stayed
    assert purged == 3
    assert sorted(await Notification.all().values_list("id", flat=True)) == sorted([old_pending.id, young.id])
    assert sorted(await PushDelivery.all().values_list("notification_id", flat=True)) == sorted(
        [old_pending.id, young.id]
    )


async def test_a_notification_inside_the_retention_stays(db, manual_clock):
    # given a notification made a day short of the retention
    (kept,) = await notified(1)
    await PushDelivery.all().update(status=DeliveryStatus.SENT.value)

    # when purged
    purged = await purge_notifications(manual_clock.now() + KEEP.notification - timedelta(days=1), KEEP)

    # then nothing went
    assert purged == 0
    assert await Notification.exists(id=kept.id)
