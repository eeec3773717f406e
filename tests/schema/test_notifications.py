"""The inbox, devices and preferences through the public GraphQL API, as the app uses them."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests import factories as f
from tests.scenarios.test_live_events import next_message, ws_connect

INBOX = """query Inbox($first: Int, $after: String, $unreadOnly: Boolean) {
  myUnreadNotificationCount
  myNotifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    edges { cursor node { id messageId kind title body objectType objectId timeCritical createdAt readAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
REGISTER_DEVICE = """mutation Register($input: DeviceRegisterInput!) {
  deviceRegister(input: $input) {
    __typename
    ... on DeviceRegistered { device { id provider platform tokenSuffix appVersion locale } }
    ... on Error { code message }
    ... on FieldError { field }
  }
}"""
UNREGISTER_DEVICE = """mutation Unregister($input: DeviceUnregisterInput!) {
  deviceUnregister(input: $input) { __typename ... on DeviceUnregistered { removed } ... on Error { code message } }
}"""
DEVICES = "query { myDevices { id provider tokenSuffix } }"
MARK_READ = """mutation Read($input: NotificationIdsInput!) {
  notificationsMarkRead(input: $input) {
    __typename ... on NotificationsChanged { changed unreadCount } ... on Error { code message }
  }
}"""
MARK_ALL_READ = """mutation ReadAll($input: NotificationsMarkAllReadInput!) {
  notificationsMarkAllRead(input: $input) { __typename ... on NotificationsChanged { changed unreadCount } }
}"""
DELETE = """mutation Delete($input: NotificationIdsInput!) {
  notificationsDelete(input: $input) { __typename ... on NotificationsChanged { changed unreadCount } }
}"""
PREFERENCES = """mutation Prefs($input: NotificationPreferencesInput!) {
  notificationPreferencesUpdate(input: $input) {
    __typename
    ... on NotificationPreferencesUpdated { preferences { muted { kind channel } quietHours { starts ends } } }
    ... on Error { code message }
  }
}"""
SUBSCRIBE = "subscription { notifications { id messageId kind title body } }"


def a_device(token: str = "fcm-token-000001", **overrides: object) -> dict[str, object]:
    device = {"provider": "FCM", "token": token, "platform": "ANDROID", "appVersion": "3.2.0", "locale": "zh-CN"}
    device.update(overrides)
    return device


async def test_an_approved_bidder_finds_the_approval_in_the_inbox_in_their_language(api):
    # given
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    # when
    await api.dispatch()
    zh = await api.gql(INBOX, token=bidder)
    en = await api.gql(INBOX, token=bidder, headers={"accept-language": "en"})
    # then
    assert zh["data"]["myUnreadNotificationCount"] == 1
    [edge] = zh["data"]["myNotifications"]["edges"]
    assert edge["node"]["kind"] == "ENTITY_REVIEWED"
    assert edge["node"]["title"] == "主体信息审核通过"
    assert en["data"]["myNotifications"]["edges"][0]["node"]["title"] == "Registration approved"
    assert edge["node"]["readAt"] is None


async def test_reading_marking_all_and_deleting_update_the_unread_count(api):
    # given three notifications: approval, and two credit records
    operator = await f.operator_token(api)
    org_id, _, bidder = await f.approved_org(api, operator)
    for _ in range(2):
        body = await api.gql(f.CREDIT_RECORD, {"input": f.credit_record(org_id)}, token=operator)
        assert body["data"]["creditRecordAdd"]["__typename"] == "CreditRecordAdded", body
    await api.dispatch()
    edges = (await api.gql(INBOX, token=bidder))["data"]["myNotifications"]["edges"]
    ids = [e["node"]["id"] for e in edges]
    assert len(ids) == 3
    # when
    read = await api.gql(MARK_READ, {"input": {"ids": [ids[0]]}}, token=bidder)
    deleted = await api.gql(DELETE, {"input": {"ids": [ids[1]]}}, token=bidder)
    everything = await api.gql(MARK_ALL_READ, {"input": {}}, token=bidder)
    # then
    assert read["data"]["notificationsMarkRead"] == {
        "__typename": "NotificationsChanged",
        "changed": 1,
        "unreadCount": 2,
    }
    assert deleted["data"]["notificationsDelete"]["unreadCount"] == 1
    assert everything["data"]["notificationsMarkAllRead"]["unreadCount"] == 0
    left = (await api.gql(INBOX, token=bidder))["data"]["myNotifications"]["edges"]
    assert [e["node"]["id"] for e in left] == [ids[0], ids[2]]


async def test_someone_elses_notification_cannot_be_read_or_deleted(api):
    # given
    operator = await f.operator_token(api)
    _, _, alice = await f.approved_org(api, operator)
    _, _, mallory = await f.approved_org(api, operator)
    await api.dispatch()
    [edge] = (await api.gql(INBOX, token=alice))["data"]["myNotifications"]["edges"]
    # when
    read = await api.gql(MARK_READ, {"input": {"ids": [edge["node"]["id"]]}}, token=mallory)
    deleted = await api.gql(DELETE, {"input": {"ids": [edge["node"]["id"]]}}, token=mallory)
    # then
    assert read["data"]["notificationsMarkRead"]["changed"] == 0
    assert deleted["data"]["notificationsDelete"]["changed"] == 0
    assert (await api.gql(INBOX, token=alice))["data"]["myUnreadNotificationCount"] == 1


async def test_a_device_is_registered_refreshed_listed_and_unregistered(api):
    # given
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    # when
    first = await api.gql(REGISTER_DEVICE, {"input": a_device()}, token=bidder)
    again = await api.gql(REGISTER_DEVICE, {"input": a_device(appVersion="3.3.0", locale="en-US")}, token=bidder)
    listed = await api.gql(DEVICES, token=bidder)
    gone = await api.gql(UNREGISTER_DEVICE, {"input": {"token": "fcm-token-000001"}}, token=bidder)
    # then
    device = first["data"]["deviceRegister"]["device"]
    assert device["tokenSuffix"] == "000001"
    assert again["data"]["deviceRegister"]["device"]["id"] == device["id"]
    assert again["data"]["deviceRegister"]["device"]["locale"] == "en"
    assert listed["data"]["myDevices"] == [{"id": device["id"], "provider": "FCM", "tokenSuffix": "000001"}]
    assert gone["data"]["deviceUnregister"] == {"__typename": "DeviceUnregistered", "removed": True}
    assert (await api.gql(DEVICES, token=bidder))["data"]["myDevices"] == []


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"token": "has spaces"}, "token"),
        ({"appVersion": "latest"}, "appVersion"),
        ({"installationId": "a/b"}, "installationId"),
    ],
)
async def test_a_bad_device_gets_a_typed_error_naming_the_field(api, override, field):
    # given
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    # when
    body = await api.gql(REGISTER_DEVICE, {"input": a_device(**override)}, token=bidder)
    # then
    result = body["data"]["deviceRegister"]
    assert result["__typename"] == "InvalidInput"
    assert result["field"] == field
    assert (await api.gql(DEVICES, token=bidder))["data"]["myDevices"] == []


async def test_preferences_are_saved_and_bad_quiet_hours_are_refused_in_both_languages(api):
    # given
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    wanted = {
        "muted": [{"kind": "SAVED_SEARCH_MATCHED", "channel": "PUSH"}],
        "quietHoursStarts": "22:30",
        "quietHoursEnds": "07:00",
    }
    # when
    saved = await api.gql(PREFERENCES, {"input": wanted}, token=bidder)
    bad = await api.gql(PREFERENCES, {"input": {"quietHoursStarts": "22:30"}}, token=bidder)
    bad_en = await api.gql(
        PREFERENCES,
        {"input": {"quietHoursStarts": "25:00", "quietHoursEnds": "07:00"}},
        token=bidder,
        headers={"accept-language": "en"},
    )
    # then
    prefs = saved["data"]["notificationPreferencesUpdate"]["preferences"]
    assert prefs == {
        "muted": [{"kind": "SAVED_SEARCH_MATCHED", "channel": "PUSH"}],
        "quietHours": {"starts": "22:30", "ends": "07:00"},
    }
    assert bad["data"]["notificationPreferencesUpdate"]["code"] == "INVALID_QUIET_HOURS"
    assert "免打扰" in bad["data"]["notificationPreferencesUpdate"]["message"]
    assert "Quiet hours" in bad_en["data"]["notificationPreferencesUpdate"]["message"]
    stored = await api.gql("query { myNotificationPreferences { quietHours { starts ends } } }", token=bidder)
    assert stored["data"]["myNotificationPreferences"]["quietHours"] == {"starts": "22:30", "ends": "07:00"}


async def test_an_anonymous_caller_has_no_inbox(api):
    body = await api.gql("query { myUnreadNotificationCount }", expect_errors=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_connected_app_receives_its_notification_live_once_and_nobody_elses(api):
    # given two bidders, the first connected with an English app
    operator = await f.operator_token(api)
    _, _, alice = await f.approved_org(api, operator)
    await api.dispatch()
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {alice}"})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.2)
        # when a credit record is added for someone else, then for alice
        _, _, _ = await f.approved_org(api, operator)
        org_id = (await api.gql("query { me { organisation { id } } }", token=alice))["data"]["me"]["organisation"][
            "id"
        ]
        await api.gql(f.CREDIT_RECORD, {"input": f.credit_record(org_id)}, token=operator)
        await api.dispatch()
        # then alice receives exactly her one notification
        message = await next_message(ws)
        assert message["type"] == "next", message
        assert message["payload"]["data"]["notifications"]["kind"] == "CREDIT_RECORDED"
        with pytest.raises(TimeoutError):
            await next_message(ws, within=0.5)
    finally:
        await ws.close()
