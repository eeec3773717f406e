"""Push end to end: events -> inbox -> leased pushes -> the real firebase-admin -> the local FCM stub.

Nothing is mocked but the clock: the dispatcher, the push sender and the SDK run for real against
the test database and an FCM v1 stub served on loopback.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from api.services import outbox_consumers
from domain.common.actors import Actor, Role
from domain.common.models import OutboxEvent
from domain.credit import services as credit
from domain.notifications import services as notifications
from domain.notifications.models import Device, Notification, PushDelivery
from domain.notifications.services import DeliveryStatus
from notifications.broker import InProcessBroker
from notifications.channels.fcm import FcmChannel
from notifications.dispatch import Dispatcher
from notifications.push import PushSender, as_push
from tests import factories as f
from tests.domain import factories as df
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.schema.test_notifications import INBOX, REGISTER_DEVICE, a_device
from tests.support.fcm_stub import FcmStub, running_stub

OPERATOR = Actor(user_id=None, client_id="system", roles=frozenset({Role.OPERATOR}))


@pytest.fixture
async def stub() -> AsyncIterator[FcmStub]:
    async with running_stub() as served:
        yield served


@pytest.fixture
async def fcm(stub: FcmStub) -> AsyncIterator[FcmChannel]:
    channel = FcmChannel(stub.project, access_token=stub.access_token, endpoint=stub.base_url, timeout=5.0)
    yield channel
    await channel.close()


def outbox_dispatcher() -> Dispatcher:
    """The production consumers over the test database, live messages to a broker nobody reads."""
    return Dispatcher(outbox_consumers(InProcessBroker()))


def sender(fcm: FcmChannel, owner: str = "sender-1", batch: int = 500) -> PushSender:
    return PushSender({"fcm": fcm}, owner=owner, batch_size=batch)


async def push_all(senders: list[PushSender], clock, rounds: int = 60) -> None:  # type: ignore[no-untyped-def]
    """Runs the senders until nothing is pending, moving the clock past each backoff."""
    for _ in range(rounds):
        while sum(await asyncio.gather(*(s.run_once() for s in senders))):
            pass
        if not await PushDelivery.filter(status=DeliveryStatus.PENDING.value).exists():
            return
        clock.advance(timedelta(minutes=11))
    raise AssertionError("pushes still pending")


async def test_an_approval_reaches_the_phone_with_the_inbox_message_id(api, stub, fcm, manual_clock):
    # given a bidder whose app registered its FCM token in English
    operator = await f.operator_token(api)
    org_id, _, bidder = await f.approved_org(api, operator)
    await api.dispatch()
    await api.gql(REGISTER_DEVICE, {"input": a_device("fcm-phone-1", locale="en")}, token=bidder)
    # when the operator records a credit record and the dispatcher and the sender run
    await api.gql(f.CREDIT_RECORD, {"input": f.credit_record(org_id)}, token=operator)
    await api.dispatch()
    await push_all([sender(fcm)], manual_clock)
    # then the phone got one push carrying the inbox entry's message id as data, tag and collapse key
    newest = (await api.gql(INBOX, token=bidder))["data"]["myNotifications"]["edges"][0]["node"]
    [push] = stub.delivered_to("fcm-phone-1")
    assert push.data["messageId"] == newest["messageId"]
    assert push.data["kind"] == "credit_recorded"
    assert push.collapse_key == newest["messageId"]
    assert push.tag == newest["messageId"]
    assert push.apns_headers["apns-collapse-id"] == newest["messageId"]
    assert push.title == "Bad credit record added"


async def test_a_bidder_on_site_is_pushed_a_matching_tender_once_in_chinese(api, stub, fcm, manual_clock):
    # given a bidder with a saved search for road works and a Chinese phone registered
    operator = await f.operator_token(api)
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    _, _, bidder = await f.approved_org(api, operator, kinds=["BIDDER"])
    await api.gql(
        """mutation($input: SavedSearchCreateInput!) { savedSearchCreate(input: $input) { __typename } }""",
        {"input": {"name": "青岛道路", "keywords": "道路", "regions": ["370200"]}},
        token=bidder,
    )
    await api.dispatch()
    await api.gql(REGISTER_DEVICE, {"input": a_device("fcm-site-phone")}, token=bidder)
    # when a tenderer publishes a road tender and the workers run (twice, as after a crash)
    created = await api.gql(
        PROJECT_CREATE, {"input": road_project(manual_clock.now() + timedelta(days=25))}, token=tenderer
    )
    project = created["data"]["projectCreate"]["project"]
    title = "2026年青岛市道路维修工程施工招标公告"
    await publish(api, tenderer, project, "TENDER", title, "<p>本项目位于黄岛区。</p>")
    await api.dispatch()
    await OutboxEvent.all().update(dispatched_at=None)
    await api.dispatch()
    await push_all([sender(fcm)], manual_clock)
    # then one push, in Chinese, about that announcement, which the inbox holds too
    [push] = stub.delivered_to("fcm-site-phone")
    assert push.title == "订阅“青岛道路”有新公告"
    assert title in (push.body or "")
    assert push.data["objectType"] == "Announcement"
    inbox = (await api.gql(INBOX, token=bidder))["data"]["myNotifications"]["edges"]
    matched = [e["node"] for e in inbox if e["node"]["kind"] == "SAVED_SEARCH_MATCHED"]
    assert [n["messageId"] for n in matched] == [push.message_id]


async def test_with_30_percent_failures_every_notification_arrives_once_and_dead_tokens_are_pruned(
    db, stub, fcm, manual_clock
):
    # given 8 organisations of 3 users, each user with a live phone and, for every third user, a dead token
    live, dead, users = [], [], []
    for o in range(8):
        org = await df.organisation()
        for u in range(3):
            user = await df.user(org)
            users.append(user.id)
            me = Actor(user_id=user.id, org_id=org.id, roles=frozenset({Role.BIDDER}))
            await notifications.register_device(me, "fcm", f"live-{o}-{u}", "android", "3.2.0")
            live.append(f"live-{o}-{u}")
            if u == 0:
                await notifications.register_device(me, "fcm", f"unregistered-{o}", "ios", "3.2.0")
                dead.append(f"unregistered-{o}")
        for _ in range(4):
            await credit.add_credit_record(OPERATOR, org.id, "bad", "投标违规", "串通投标", "青建罚〔2026〕1号")
    stub.failure_rate = 0.3
    # when the outbox is dispatched, then dispatched again as if a dispatcher had died before committing
    dispatcher = outbox_dispatcher()
    await dispatcher.drain()
    await OutboxEvent.all().update(dispatched_at=None)
    await dispatcher.drain()
    await push_all([sender(fcm)], manual_clock)
    # then each user has each of the 4 notifications once; each live phone got each exactly once
    assert await Notification.all().count() == 4 * len(users)
    per_user = Counter(await Notification.all().values_list("user_id", flat=True))
    assert set(per_user.values()) == {4}
    accepted = Counter((m.message_id, m.token) for m in stub.messages)
    assert len(accepted) == 4 * len(live)
    assert set(accepted.values()) == {1}
    assert stub.failures["UNAVAILABLE"] > 0
    # and the dead tokens are gone, their pushes recorded as such
    assert not await Device.filter(token__in=dead).exists()
    refused = await PushDelivery.filter(status=DeliveryStatus.INVALID_TOKEN.value).count()
    skipped = await PushDelivery.filter(status=DeliveryStatus.SKIPPED.value).count()
    assert refused >= len(dead)
    assert refused + skipped == 4 * len(dead)  # the rest of a dead phone's pushes are skipped once it is removed
    assert await PushDelivery.filter(status=DeliveryStatus.SENT.value).count() == 4 * len(live)


async def test_while_fcm_is_down_pushes_wait_and_go_out_when_it_recovers(db, stub, fcm, manual_clock):
    # given a user with a phone and FCM down
    user = await df.user(await df.organisation())
    me = Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))
    await notifications.register_device(me, "fcm", "phone", "android", "3.2.0")
    await credit.add_credit_record(OPERATOR, user.organisation_id, "good", "履约", "按期竣工", "青岛市住建局")
    await outbox_dispatcher().drain()
    stub.down = True
    # when the sender tries three times
    push = sender(fcm)
    for _ in range(3):
        await push.run_once()
        manual_clock.advance(timedelta(seconds=20))
    # then the inbox has it, the push is still pending with backoff, nothing was accepted
    assert await notifications.unread_count(me) == 1
    [delivery] = await PushDelivery.all()
    assert delivery.status == DeliveryStatus.PENDING.value
    assert delivery.attempts == 3
    assert stub.messages == []
    # when FCM recovers
    stub.down = False
    await push_all([push], manual_clock)
    # then it goes out once
    assert len(stub.delivered_to("phone")) == 1


async def test_a_quota_answer_is_honoured_before_the_next_try(db, stub, fcm, manual_clock):
    # given
    user = await df.user(await df.organisation())
    me = Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))
    await notifications.register_device(me, "fcm", "phone", "android", "3.2.0")
    await credit.add_credit_record(OPERATOR, user.organisation_id, "good", "履约", "按期竣工", "青岛市住建局")
    await outbox_dispatcher().drain()
    stub.quota_exceeded_for(requests=1, retry_after=120)
    started = manual_clock.now()
    # when
    await sender(fcm).run_once()
    # then the next attempt is due no earlier than Retry-After
    [delivery] = await PushDelivery.all()
    assert delivery.status == DeliveryStatus.PENDING.value
    assert delivery.due_at >= started + timedelta(seconds=120)
    assert stub.failures["QUOTA_EXCEEDED"] == 1


async def test_two_senders_never_push_one_message_twice(db, stub, fcm, manual_clock):
    # given 600 pushes due
    for _ in range(3):
        org = await df.organisation()
        for _ in range(10):
            user = await df.user(org)
            me = Actor(user_id=user.id, org_id=org.id, roles=frozenset({Role.BIDDER}))
            await notifications.register_device(me, "fcm", f"t-{user.id}-a", "android", "3.2.0")
            await notifications.register_device(me, "fcm", f"t-{user.id}-b", "ios", "3.2.0")
        for _ in range(10):
            await credit.add_credit_record(OPERATOR, org.id, "good", "履约", "按期竣工", "青岛市住建局")
    await outbox_dispatcher().drain()
    assert await PushDelivery.all().count() == 600
    stub.delay = 0.01
    # when two senders with small batches race
    await push_all([sender(fcm, "a", batch=50), sender(fcm, "b", batch=50)], manual_clock)
    # then each message reached each device once
    accepted = Counter((m.message_id, m.token) for m in stub.messages)
    assert len(accepted) == 600
    assert set(accepted.values()) == {1}
    owners = Counter(await PushDelivery.all().values_list("lease_owner", flat=True))
    assert set(owners) == {"a", "b"}


async def test_a_sender_that_dies_mid_send_is_replaced_and_the_resend_carries_the_same_message_id(
    db, stub, fcm, manual_clock
):
    # given a sender that leased a push and died before recording the outcome
    user = await df.user(await df.organisation())
    me = Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))
    await notifications.register_device(me, "fcm", "phone", "android", "3.2.0")
    await credit.add_credit_record(OPERATOR, user.organisation_id, "good", "履约", "按期竣工", "青岛市住建局")
    await outbox_dispatcher().drain()
    [leased] = await notifications.lease_due("dead-sender", 10, timedelta(minutes=2))
    await fcm.send([as_push(leased)])  # it reached FCM, then the process was killed
    # when another sender runs before and after the lease expires
    survivor = sender(fcm, "survivor")
    assert await survivor.run_once() == 0
    manual_clock.advance(timedelta(minutes=3))
    assert await survivor.run_once() == 1
    # then the phone got it twice with one message id: the collapse key makes the second replace the first
    pushes = stub.delivered_to("phone")
    assert len(pushes) == 2
    assert {p.message_id for p in pushes} == {leased.message_id}
    assert {p.collapse_key for p in pushes} == {leased.message_id}
