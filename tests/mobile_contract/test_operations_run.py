"""Every stored operation runs against the served API, sent as its client sends it.

The app sends with a bidder's (or, for the evaluation screens, an expert's) access token, an
integrator with its client-credentials token, a kiosk without a token (terminal tokens come later).
A typed Error member or a null for an object the caller may not see is a fine answer; a top-level
GraphQL error is not.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mobile_contract import gate
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_auction import START_PRICE, auction_lot
from tests.scenarios.test_expert_draw import EXPERT_ADD, SPECIALTY, id_number
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.schema.test_integrators import client_token, create_client
from tests.support.guarantor import Guarantor

DOCUMENTS = {op.name: op for op in gate.load_operations()}
PRICE = 1_199_000_000


@dataclass
class World:
    """What the operations need: a published sealed tender, an auction, a bidder, an expert, an integrator."""

    lot_id: str
    trade_code: str
    project_id: str
    auction_id: str
    announcement_id: str
    bidder_phone: str
    expert_phone: str
    guarantor_id: str
    tokens: dict[str, str | None]
    got: dict[str, Any] = field(default_factory=dict)


async def build_world(api: Any, clock: Any) -> World:
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, clock, operator)
    lot = project["lots"][0]
    bidder_phone, bidder = await registered_bidder(api, operator, lot["id"])
    auction_id, _, _ = await auction_lot(api, clock, operator, reserve=START_PRICE)
    guarantor = await Guarantor.open(api, operator)
    expert_phone = f.new_phone()
    form = {"name": "王专家", "idNumber": id_number(), "phone": expert_phone, "specialties": [SPECIALTY]}
    added = (await api.gql(EXPERT_ADD, {"input": form}, token=operator))["data"]["expertAdd"]
    assert added["__typename"] == "ExpertAdded", added
    scopes = ["announcements:read", "results:read", "feed:read", "ocds:read", "entities:read"]
    client = await create_client(api, operator, scopes=scopes)
    integrator = (await client_token(api, client["client"]["clientId"], client["clientSecret"]))["access_token"]
    await api.dispatch()
    listed = await api.gql("query { announcements(first: 1) { nodes { id } } }")
    return World(
        lot_id=lot["id"],
        trade_code=lot["tradeCode"],
        project_id=project["id"],
        auction_id=auction_id,
        announcement_id=listed["data"]["announcements"]["nodes"][0]["id"],
        bidder_phone=bidder_phone,
        expert_phone=expert_phone,
        guarantor_id=guarantor.org_id,
        tokens={"app": bidder, "kiosk": None, "integrator": integrator},
    )


def sms_code(api: Any, phone: str) -> str:
    text = [t for to, t in api.sms if to == phone][-1]
    return re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]


Vars = Callable[[World], dict[str, Any]]
EXPERT = "expert"  # the app's evaluation screens send the expert's token

# In the order a client would send them: later ones use what earlier answers gave (world.got).
APP: list[tuple[str, Vars] | tuple[str, Vars, str]] = [
    ("Catalogue", lambda w: {"parent": "370000"}),
    ("AnnouncementList", lambda w: {"filter": {"regions": ["370200"]}, "first": 5}),
    ("AnnouncementSearch", lambda w: {"query": "道路 维修"}),
    ("AnnouncementDetail", lambda w: {"id": w.announcement_id}),
    ("ProjectDetail", lambda w: {"id": w.project_id}),
    ("LotDetail", lambda w: {"id": w.lot_id}),
    ("SignUp", lambda w: {"input": f.registration()}),
    ("SignIn", lambda w: {"input": {"phone": w.bidder_phone, "password": f.PASSWORD}}),
    ("RefreshSession", lambda w: {"input": {"refreshToken": w.got["SignIn"]["session"]["refreshToken"]}}),
    ("SmsCodeRequest", lambda w: {"input": {"phone": w.bidder_phone}}),
    ("SmsSignIn", lambda w: {"input": {"phone": w.bidder_phone, "code": w.got["sms"]}}),
    ("Me", lambda w: {}),
    ("MySavedSearches", lambda w: {}),
    ("SavedSearchCreate", lambda w: {"input": {"name": "道路工程", "keywords": "道路", "regions": ["370200"]}}),
    ("SavedSearchDelete", lambda w: {"input": {"savedSearchId": w.got["SavedSearchCreate"]["savedSearch"]["id"]}}),
    ("LotRegister", lambda w: {"input": {"lotId": w.auction_id}}),
    ("LotWithdraw", lambda w: {"input": {"lotId": w.auction_id}}),
    ("MyRegistrations", lambda w: {}),
    ("Guarantors", lambda w: {}),
    (
        "GuaranteeApply",
        lambda w: {
            "input": {
                "lotId": w.lot_id,
                "guarantorId": w.guarantor_id,
                "amountFen": 1_000_000,
                "validUntil": "2099-01-01T00:00:00+00:00",
            }
        },
    ),
    ("MyGuarantees", lambda w: {"lotId": w.lot_id}),
    ("BidSubmit", lambda w: {"input": {"lotId": w.lot_id, "sealedBid": w.got["sealed"]}}),
    ("BidWithdraw", lambda w: {"input": {"lotId": w.lot_id}}),
    ("MySealedBids", lambda w: {"lotId": w.lot_id}),
    ("BidDecrypt", lambda w: {"input": {"lotId": w.lot_id, "key": w.got["key"]}}),
    ("OpeningObject", lambda w: {"input": {"lotId": w.lot_id, "text": "报价明显低于成本"}}),
    ("OpeningRecord", lambda w: {"lotId": w.lot_id}),
    ("ExpertCodeRequest", lambda w: {"input": {"phone": w.expert_phone}}),
    ("ExpertSignIn", lambda w: {"input": {"phone": w.expert_phone, "code": w.got["expertSms"]}}),
    ("ExpertMe", lambda w: {}, EXPERT),
    ("Evaluation", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("EvaluationBids", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("MyScoreSheet", lambda w: {"lotId": w.lot_id}, EXPERT),
    ("EvaluationSheetSubmit", lambda w: {"input": {"lotId": w.lot_id, "entries": []}}, EXPERT),
    ("AuctionState", lambda w: {"lotId": w.auction_id}),
    ("MyBidderNumber", lambda w: {"lotId": w.auction_id}),
    ("BidPlace", lambda w: {"input": {"lotId": w.auction_id, "amountFen": START_PRICE}}),
    ("AuctionBidsAfter", lambda w: {"lotId": w.auction_id, "afterSeq": 0}),
    ("LotResult", lambda w: {"lotId": w.lot_id}),
    ("ResultConfirm", lambda w: {"input": {"lotId": w.lot_id}}),
    (
        "DeviceRegister",
        lambda w: {
            "input": {
                "provider": "FCM",
                "token": "contract-test-push-token-000001",
                "platform": "ANDROID",
                "appVersion": "1.0.0",
                "locale": "zh-CN",
                "installationId": "install-1",
            }
        },
    ),
    ("MyDevices", lambda w: {}),
    ("Inbox", lambda w: {"first": 10}),
    ("NotificationsMarkRead", lambda w: {"input": {"ids": w.got["inbox"][:1]}}),
    ("NotificationsMarkAllRead", lambda w: {"input": {}}),
    ("NotificationsDelete", lambda w: {"input": {"ids": w.got["inbox"][:1]}}),
    ("NotificationPreferences", lambda w: {}),
    (
        "NotificationPreferencesUpdate",
        lambda w: {
            "input": {
                "muted": [{"kind": "SAVED_SEARCH_MATCHED", "channel": "PUSH"}],
                "quietHoursStarts": "22:00",
                "quietHoursEnds": "07:00",
            }
        },
    ),
    ("DeviceUnregister", lambda w: {"input": {"token": "contract-test-push-token-000001"}}),
    ("SignOut", lambda w: {"input": {"refreshToken": w.got["SmsSignIn"]["session"]["refreshToken"]}}),
]
KIOSK: list[tuple[str, Vars]] = [
    ("KioskCatalogue", lambda w: {}),
    ("KioskAnnouncements", lambda w: {"filter": {"regions": ["370200"]}}),
    ("KioskAnnouncementSearch", lambda w: {"query": "道路"}),
    ("KioskAnnouncement", lambda w: {"id": w.announcement_id}),
    ("KioskLotResult", lambda w: {"lotId": w.lot_id}),
    ("KioskGuaranteeVerify", lambda w: {"letterNo": "BH-2026-000001", "verificationCode": "ABCD-1234"}),
    ("KioskAuction", lambda w: {"lotId": w.auction_id}),
    ("KioskAuctionBids", lambda w: {"lotId": w.auction_id, "afterSeq": 0}),
    ("KioskOpeningRecord", lambda w: {"lotId": w.lot_id}),
]
INTEGRATOR: list[tuple[str, Vars]] = [
    ("PublicAnnouncements", lambda w: {"first": 10}),
    ("ChangeFeed", lambda w: {"first": 50}),
    ("ChangedObject", lambda w: {"id": w.got["change"]}),
    ("OcdsReleases", lambda w: {"lotId": w.lot_id}),
    ("OcdsRecord", lambda w: {"lotId": w.lot_id}),
    ("IntegratorLotResult", lambda w: {"lotId": w.lot_id}),
]
SUBSCRIPTIONS: dict[str, Callable[[World], dict[str, Any]]] = {
    "AuctionUpdates": lambda w: {"lotId": w.auction_id},
    "OpeningUpdates": lambda w: {"lotId": w.lot_id},
    "Notifications": lambda w: {},
    "KioskAuctionUpdates": lambda w: {"lotId": w.auction_id},
}


async def send(api: Any, name: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    """Posts the stored document exactly as the manifest hashes it."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": DOCUMENTS[name].text, "operationName": name, "variables": variables}
    response = await api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, (name, response.text)
    return response.json()  # type: ignore[no-any-return]


def remember(world: World, api: Any, name: str, data: dict[str, Any]) -> None:
    """Keeps what later operations of the journey need."""
    root = next(iter(data.values()))
    world.got[name] = root
    if name == "SmsCodeRequest":
        world.got["sms"] = sms_code(api, world.bidder_phone)
    elif name == "ExpertCodeRequest":
        world.got["expertSms"] = sms_code(api, world.expert_phone)
    elif name == "ExpertSignIn":
        assert root["__typename"] == "ExpertSignedIn", root
        world.tokens[EXPERT] = root["session"]["accessToken"]
    elif name == "Inbox":
        world.got["inbox"] = [e["node"]["id"] for e in data["myNotifications"]["edges"]]
    elif name == "ChangeFeed":
        world.got["change"] = root["entries"][0]["objectId"]


async def test_every_operation_runs_as_its_client_sends_it(api, manual_clock):
    # given a city with a sealed tender, an auction, a bidder, an expert and an integrator
    world = await build_world(api, manual_clock)
    key = new_key()
    world.got.update(key=key, sealed=seal(key, world.trade_code, PRICE, {"商务标.pdf": b"%PDF-1.7"}))
    plan = [(n, v, c[0] if c else "app") for n, v, *c in APP]
    plan += [(n, v, "kiosk") for n, v in KIOSK] + [(n, v, "integrator") for n, v in INTEGRATOR]

    # when each operation is sent with its client's token
    failures: dict[str, Any] = {}
    for name, variables, sender in plan:
        body = await send(api, name, variables(world), world.tokens[sender])
        if "errors" in body or not body.get("data"):
            failures[name] = body
            continue
        remember(world, api, name, body["data"])

    # then none had a top-level error, every mutation answered a union member, and every document ran
    assert failures == {}, json.dumps(failures, ensure_ascii=False, indent=1)
    mutations = [n for n, op in DOCUMENTS.items() if op.kind == "mutation"]
    assert all("__typename" in world.got[n] for n in mutations)
    assert world.got["SignIn"]["__typename"] == "SignedIn"
    assert world.got["RefreshSession"]["__typename"] == "SignedIn"
    assert world.got["SmsSignIn"]["__typename"] == "SignedIn"
    assert world.got["BidSubmit"]["__typename"] == "BidSubmitted"
    assert world.got["BidWithdraw"]["__typename"] == "BidWithdrawn"
    assert world.got["DeviceRegister"]["__typename"] == "DeviceRegistered"
    ran = {name for name, _, _ in plan} | set(SUBSCRIPTIONS)
    assert ran == set(DOCUMENTS), f"operations without a run: {sorted(set(DOCUMENTS) - ran)}"
    for name, _, sender in plan:
        assert DOCUMENTS[name].client == ("app" if sender == EXPERT else sender), name


async def test_every_subscription_starts_and_closes_over_websocket(api, manual_clock):
    # given the world, where the app's bidder has a sealed bid (so it may watch the opening)
    world = await build_world(api, manual_clock)
    sealed = seal(new_key(), world.trade_code, PRICE, {})
    submitted = await send(
        api, "BidSubmit", {"input": {"lotId": world.lot_id, "sealedBid": sealed}}, world.tokens["app"]
    )
    assert submitted["data"]["bidSubmit"]["__typename"] == "BidSubmitted", submitted
    for name, variables in SUBSCRIPTIONS.items():
        op = DOCUMENTS[name]
        token = world.tokens[op.client]
        ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"} if token else {})
        try:
            assert (await next_message(ws))["type"] == "connection_ack"
            payload = {"query": op.text, "operationName": name, "variables": variables(world)}

            # when it subscribes
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

            # then it gets data or nothing yet, never an error, and completes cleanly
            try:
                message = await next_message(ws, within=0.5)
            except TimeoutError:
                message = None
            if message is not None:
                assert message["type"] == "next", (name, message)
                assert "errors" not in message["payload"], (name, message)
            if name in ("AuctionUpdates", "KioskAuctionUpdates"):
                assert message is not None, name
                assert message["payload"]["data"]["auctionUpdates"]["kind"] == "snapshot"
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            await asyncio.sleep(0.05)
        finally:
            await ws.close()


async def test_an_app_token_cannot_read_the_integrator_feed(api, manual_clock):
    # given an app bidder
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)

    # when the app sends the integrator's change feed
    body = await send(api, "ChangeFeed", {}, bidder)

    # then it is refused at the top level as FORBIDDEN
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
