"""Devices, the inbox, preferences and push leases on the real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, PermissionDenied
from domain.notifications import services as n
from domain.notifications.models import Device, Notification, PushDelivery
from domain.notifications.services import DeliveryStatus, Kind, NewNotification, Preferences
from tests.domain import factories as df


def actor_of(user_id: int) -> Actor:
    return Actor(user_id=user_id, org_id=1, roles=frozenset({Role.BIDDER}))


async def a_user() -> Actor:
    user = await df.user(await df.organisation())
    return Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))


def note(user_id: int, event_id: uuid.UUID | None = None, *, critical: bool = False, kind: Kind = Kind.ENTITY_REVIEWED):
    return NewNotification(
        user_id=user_id,
        kind=kind,
        title_zh="主体信息审核通过",
        body_zh="测试公司已通过审核。",
        title_en="Registration approved",
        body_en="Test Co. was approved.",
        object_type="Organisation",
        object_id="1",
        event_id=event_id or uuid.uuid4(),
        time_critical=critical,
    )


async def phone(actor: Actor, token: str = "tok-1", locale: str = "zh-CN", installation: str | None = None) -> Device:
    return await n.register_device(actor, "fcm", token, "android", "3.2.0", locale, installation)


# ---------------------------------------------------------------- devices


async def test_a_device_is_registered_once_per_token_and_refreshed_on_every_start(db, manual_clock):
    # given
    me = await a_user()
    first = await phone(me, "tok-A")
    manual_clock.advance(timedelta(hours=1))
    # when
    again = await n.register_device(me, "fcm", "tok-A", "android", "3.3.0", "en-GB")
    # then
    assert again.id == first.id
    stored = await Device.get(id=first.id)
    assert (stored.app_version, stored.locale) == ("3.3.0", "en")
    assert stored.last_seen_at > first.created_at
    assert await Device.filter(user_id=me.user_id).count() == 1


async def test_a_token_moves_to_the_account_that_signs_in_on_that_phone(db, manual_clock):
    # given
    alice, bob = await a_user(), await a_user()
    await phone(alice, "shared-phone")
    # when
    await phone(bob, "shared-phone")
    # then
    assert await Device.filter(user_id=alice.user_id).count() == 0
    assert await Device.filter(user_id=bob.user_id).count() == 1


async def test_a_new_token_of_the_same_installation_replaces_the_old_one(db, manual_clock):
    # given
    me = await a_user()
    old = await phone(me, "tok-old", installation="inst-1")
    # when
    new = await phone(me, "tok-new", installation="inst-1")
    # then
    assert new.id == old.id
    assert await Device.filter(user_id=me.user_id).values_list("token", flat=True) == ["tok-new"]


async def test_only_the_most_recently_seen_devices_are_kept(db, manual_clock):
    # given
    me = await a_user()
    for i in range(n.MAX_DEVICES_PER_USER + 2):
        await phone(me, f"tok-{i}")
        manual_clock.advance(timedelta(minutes=1))
    # then
    tokens = set(await Device.filter(user_id=me.user_id).values_list("token", flat=True))
    assert len(tokens) == n.MAX_DEVICES_PER_USER
    assert "tok-0" not in tokens
    assert "tok-1" not in tokens


@pytest.mark.parametrize(
    ("provider", "token", "platform", "version", "installation", "field"),
    [
        ("apple", "t", "ios", "1.0", None, "provider"),
        ("fcm", "", "ios", "1.0", None, "token"),
        ("fcm", "has space", "ios", "1.0", None, "token"),
        ("fcm", "x" * 513, "ios", "1.0", None, "token"),
        ("fcm", "t", "symbian", "1.0", None, "platform"),
        ("fcm", "t", "ios", "v1", None, "appVersion"),
        ("fcm", "t", "ios", "1.0", "bad id!", "installationId"),
    ],
)
async def test_bad_device_input_is_refused_by_field(db, provider, token, platform, version, installation, field):
    # given
    me = await a_user()
    # when
    with pytest.raises(InvalidInput) as caught:
        await n.register_device(me, provider, token, platform, version, None, installation)
    # then
    assert caught.value.field == field
    assert await Device.all().count() == 0


async def test_an_integrator_client_has_no_devices(db):
    with pytest.raises(PermissionDenied):
        await n.register_device(Actor(client_id="prov", roles=frozenset()), "fcm", "t", "ios", "1.0")


async def test_unregistering_is_idempotent_and_only_touches_the_callers_device(db, manual_clock):
    # given
    alice, bob = await a_user(), await a_user()
    await phone(alice, "alice-tok")
    # when / then
    assert await n.unregister_device(bob, "alice-tok") is False
    assert await n.unregister_device(alice, "alice-tok") is True
    assert await n.unregister_device(alice, "alice-tok") is False
    assert await Device.all().count() == 0


# ---------------------------------------------------------------- storing


async def test_a_notification_is_stored_once_per_event_and_user_and_pushed_to_each_device(db, manual_clock):
    # given
    me = await a_user()
    await phone(me, "tok-1")
    await phone(me, "tok-2")
    event = uuid.uuid4()
    # when
    first = await n.store([note(me.user_id, event)])
    again = await n.store([note(me.user_id, event), note(me.user_id, event)])
    # then
    assert len(first) == 1
    assert again == []
    assert await Notification.filter(user_id=me.user_id).count() == 1
    deliveries = await PushDelivery.all()
    assert len(deliveries) == 2
    assert {d.status for d in deliveries} == {DeliveryStatus.PENDING.value}
    assert first[0].message_id == n.message_id(event, me.user_id)


async def test_muting_a_kind_for_push_keeps_it_in_the_inbox(db, manual_clock):
    # given
    me = await a_user()
    await phone(me)
    await n.update_preferences(me, [("entity_reviewed", "push")], None, None)
    # when
    await n.store([note(me.user_id)])
    # then
    assert await n.unread_count(me) == 1
    assert await PushDelivery.all().count() == 0


async def test_during_quiet_hours_only_time_critical_pushes_are_due_now(db, manual_clock):
    # given: 23:30 in Beijing, quiet from 22:00 to 07:00
    manual_clock.set(datetime(2026, 11, 24, 15, 30, tzinfo=UTC))
    me = await a_user()
    await phone(me)
    await n.update_preferences(me, [], "22:00", "07:00")
    # when
    ordinary, critical = await n.store([note(me.user_id), note(me.user_id, critical=True)])
    # then
    late = await PushDelivery.get(notification_id=ordinary.id)
    now = await PushDelivery.get(notification_id=critical.id)
    assert late.due_at == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 07:00 Beijing the next morning
    assert now.due_at == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "beijing", "until"),
    [
        ("22:00", "07:00", "23:30", "07:00+1"),
        ("22:00", "07:00", "06:59", "07:00"),
        ("22:00", "07:00", "07:00", None),
        ("22:00", "07:00", "21:59", None),
        ("12:00", "14:00", "13:00", "14:00"),
        ("12:00", "14:00", "14:00", None),
    ],
)
def test_quiet_hours_wrap_over_midnight(start, end, beijing, until):
    # given
    prefs = Preferences(quiet_from=int(start[:2]) * 60 + int(start[3:]), quiet_to=int(end[:2]) * 60 + int(end[3:]))
    hour, minute = int(beijing[:2]), int(beijing[3:])
    now = datetime(2026, 11, 24, hour, minute, tzinfo=n.clock.SHANGHAI)
    # when
    got = prefs.quiet_until(now)
    # then
    if until is None:
        assert got is None
    else:
        day = 25 if until.endswith("+1") else 24
        assert got == datetime(2026, 11, day, int(until[:2]), int(until[3:5]), tzinfo=n.clock.SHANGHAI)


@pytest.mark.parametrize(
    ("start", "end"), [("22:00", None), (None, "07:00"), ("7:00", "08:00"), ("24:00", "01:00"), ("08:00", "08:00")]
)
async def test_bad_quiet_hours_are_refused(db, start, end):
    me = await a_user()
    with pytest.raises(n.InvalidQuietHours):
        await n.update_preferences(me, [], start, end)


async def test_an_unknown_kind_or_channel_cannot_be_muted(db):
    me = await a_user()
    with pytest.raises(InvalidInput):
        await n.update_preferences(me, [("everything", "push")], None, None)
    with pytest.raises(InvalidInput):
        await n.update_preferences(me, [("entity_reviewed", "carrier_pigeon")], None, None)


# ---------------------------------------------------------------- the inbox


async def test_reading_and_deleting_touch_only_the_callers_notifications(db, manual_clock):
    # given
    me, other = await a_user(), await a_user()
    mine = await n.store([note(me.user_id) for _ in range(3)])
    theirs = await n.store([note(other.user_id)])
    # when
    changed = await n.mark_read(me, [mine[0].id, theirs[0].id])
    deleted = await n.delete(me, [mine[1].id, theirs[0].id])
    # then
    assert (changed, deleted) == (1, 1)
    assert await n.unread_count(me) == 1
    assert await n.unread_count(other) == 1
    assert await n.inbox(me).count() == 2


async def test_mark_all_read_stops_at_the_newest_one_the_app_showed(db, manual_clock):
    # given
    me = await a_user()
    shown = await n.store([note(me.user_id), note(me.user_id)])
    await n.store([note(me.user_id)])  # arrived after the app drew the list
    # when
    changed = await n.mark_all_read(me, up_to=shown[-1].id)
    # then
    assert changed == 2
    assert await n.unread_count(me) == 1


async def test_a_deleted_notification_is_not_revived_by_a_redelivered_event(db, manual_clock):
    # given
    me = await a_user()
    event = uuid.uuid4()
    [made] = await n.store([note(me.user_id, event)])
    await n.delete(me, [made.id])
    # when
    again = await n.store([note(me.user_id, event)])
    # then
    assert again == []
    assert await n.inbox(me).count() == 0


async def test_too_many_ids_at_once_are_refused(db):
    me = await a_user()
    with pytest.raises(n.TooManyIds):
        await n.mark_read(me, list(range(n.MAX_IDS + 1)))


# ---------------------------------------------------------------- leasing pushes


async def test_a_leased_push_is_not_leased_again_until_its_lease_expires(db, manual_clock):
    # given
    me = await a_user()
    await phone(me, "tok-1", locale="en")
    await n.store([note(me.user_id)])
    # when
    first = await n.lease_due("sender-a", 10, timedelta(minutes=2))
    second = await n.lease_due("sender-b", 10, timedelta(minutes=2))
    manual_clock.advance(timedelta(minutes=3))
    third = await n.lease_due("sender-b", 10, timedelta(minutes=2))
    # then
    assert len(first) == 1
    assert second == []
    assert len(third) == 1
    assert first[0].title == "Registration approved"  # the device's language
    assert first[0].token == "tok-1"


async def test_a_retried_push_waits_and_expires_when_the_next_try_would_be_too_late(db, manual_clock):
    # given
    me = await a_user()
    await phone(me)
    await n.store([note(me.user_id)])
    [push] = await n.lease_due("s", 10, timedelta(minutes=2))
    # when
    await n.retry_later("s", [push], timedelta(seconds=30), "UNAVAILABLE")
    # then
    assert await n.lease_due("s", 10, timedelta(minutes=2)) == []
    manual_clock.advance(timedelta(seconds=31))
    [again] = await n.lease_due("s", 10, timedelta(minutes=2))
    assert again.attempts == 1
    await n.retry_later("s", [again], n.PUSH_TTL, "UNAVAILABLE")
    assert (await PushDelivery.get(id=again.delivery_id)).status == DeliveryStatus.EXPIRED.value


async def test_removing_a_device_skips_its_pending_pushes(db, manual_clock):
    # given
    me = await a_user()
    device = await phone(me)
    await n.store([note(me.user_id)])
    # when
    await n.remove_devices([device.id])
    # then
    assert await n.lease_due("s", 10, timedelta(minutes=2)) == []
    assert (await PushDelivery.first()).status == DeliveryStatus.SKIPPED.value
