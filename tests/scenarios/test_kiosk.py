"""A self-service terminal in the trading hall: the operator registers it, it signs in and shows public
information, a bidder signs in on it by scanning a QR code with the app, and reads only their own status
for a few minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common.models import OutboxEvent
from domain.terminals.models import Terminal
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_sealed_bids import PRICE, registered_bidder, sealed_lot, submit

REGISTER = """mutation($input: TerminalRegisterInput!) { terminalRegister(input: $input) {
  __typename ... on TerminalRegistered { secret terminal { id deviceId name location regionCode isActive } }
  ... on Error { code message } } }"""
DEACTIVATE = """mutation($input: TerminalActivationInput!) { terminalDeactivate(input: $input) {
  __typename ... on TerminalUpdated { terminal { isActive } } ... on Error { code message } } }"""
TERMINALS = "query { terminals { nodes { id name isActive lastSeenAt } } }"
SIGN_IN = """mutation($input: TerminalSignInInput!) { terminalSignIn(input: $input) {
  __typename ... on TerminalSignedIn { session { accessToken accessTokenExpiresAt terminal { name } } }
  ... on Error { code message } } }"""
CHALLENGE = """mutation { terminalQrChallenge {
  __typename ... on QrChallengeIssued { qr { challenge qrPayload expiresAt } } ... on Error { code message } } }"""
APPROVE = """mutation($input: QrApproveInput!) { qrApprove(input: $input) {
  __typename ... on QrApproved { terminalName terminalLocation expiresAt } ... on Error { code message } } }"""
REDEEM = """mutation($input: TerminalQrRedeemInput!) { terminalQrRedeem(input: $input) {
  __typename ... on QrPending { expiresAt }
  ... on KioskSignedIn { session { accessToken accessTokenExpiresAt userName organisationName } }
  ... on Error { code message } } }"""
BROWSE = """query($lotId: ID!) {
  announcements(first: 10) { edges { node { title lot { id name tradeCode } } } }
  searchAnnouncements(query: "道路") { total }
  lot: node(id: $lotId) { ... on Lot { name tradeCode } }
  lotResult(lotId: $lotId) { lotId }
  serverTime }"""
OWN = """query($lotId: ID!) {
  myRegistrations { edges { node { status lot { id } deposit { reference } } } }
  mySealedBids(lotId: $lotId) { sha256 status }
  myGuarantees { edges { node { id } } }
  myNotifications { edges { node { kind title } } }
  myUnreadNotificationCount }"""
SNEAKY = """query { ...Mine } fragment Mine on Query { announcements(first: 1) { edges { node { title } } }
  ... on Query { me { user { name } } } }"""


def forbidden(body: dict[str, Any]) -> bool:
    return body.get("data") is None and [e["extensions"]["code"] for e in body.get("errors", [])] == ["FORBIDDEN"]


async def kiosk_terminal(api: Any, operator: str) -> tuple[dict[str, Any], str]:
    form = {"name": "一楼大厅 3 号机", "location": "青岛市公共资源交易中心一楼大厅", "regionCode": "370200"}
    registered = (await api.gql(REGISTER, {"input": form}, token=operator))["data"]["terminalRegister"]
    assert registered["__typename"] == "TerminalRegistered", registered
    return registered["terminal"], registered["secret"]


async def sign_in(api: Any, device_id: str, secret: str) -> dict[str, Any]:
    body = await api.gql(SIGN_IN, {"input": {"deviceId": device_id, "secret": secret}})
    return body["data"]["terminalSignIn"]  # type: ignore[no-any-return]


async def challenge(api: Any, terminal: str) -> dict[str, Any]:
    issued = (await api.gql(CHALLENGE, token=terminal))["data"]["terminalQrChallenge"]
    assert issued["__typename"] == "QrChallengeIssued", issued
    return issued["qr"]  # type: ignore[no-any-return]


async def approve(api: Any, token: str, text: str) -> dict[str, Any]:
    return (await api.gql(APPROVE, {"input": {"challenge": text}}, token=token))["data"]["qrApprove"]  # type: ignore[no-any-return]


async def redeem(api: Any, token: str, text: str) -> dict[str, Any]:
    body = await api.gql(REDEEM, {"input": {"challenge": text}}, token=token)
    return body["data"]["terminalQrRedeem"]  # type: ignore[no-any-return]


async def test_a_bidder_signs_in_on_a_kiosk_by_qr_code_and_reads_only_their_own_status(api, manual_clock):
    # given a published tender, a bidder registered with a sealed bid, another bidder, and a registered terminal
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    _, bidder = await registered_bidder(api, operator, lot_id)
    _, other = await registered_bidder(api, operator, lot_id)
    sealed = seal(new_key(), project["lots"][0]["tradeCode"], PRICE, {"商务标.pdf": b"%PDF-1.7 ..."})
    receipt = await submit(api, bidder, lot_id, sealed)
    assert receipt["__typename"] == "BidSubmitted", receipt
    await api.dispatch()
    terminal, secret = await kiosk_terminal(api, operator)

    # when the terminal signs in (a wrong secret first) and browses public information
    wrong = await sign_in(api, terminal["deviceId"], secret + "x")
    signed = await sign_in(api, terminal["deviceId"], secret)
    assert signed["__typename"] == "TerminalSignedIn", signed
    kiosk = signed["session"]["accessToken"]
    browsed = await api.gql(BROWSE, {"lotId": lot_id}, token=kiosk)

    # then it sees what anyone sees, its token lasts 10 minutes, and nothing else runs
    assert wrong["code"] == "TERMINAL_CREDENTIALS_INVALID"
    assert terminal["deviceId"].startswith("ptd_")
    assert secret.startswith("ptk_")
    assert terminal["regionCode"] == "370200"
    assert terminal["isActive"] is True
    assert signed["session"]["terminal"]["name"] == "一楼大厅 3 号机"
    assert signed["session"]["accessTokenExpiresAt"].startswith(
        (manual_clock.now() + timedelta(minutes=10)).isoformat()[:19]
    )
    data = browsed["data"]
    assert data["lot"]["tradeCode"] == project["lots"][0]["tradeCode"]
    assert any(e["node"]["lot"] and e["node"]["lot"]["id"] == lot_id for e in data["announcements"]["edges"])
    assert data["searchAnnouncements"]["total"] >= 1
    assert forbidden(await api.gql("query { me { user { name } } }", token=kiosk, expect_errors=True))
    assert forbidden(await api.gql(SNEAKY, token=kiosk, expect_errors=True))
    register = """mutation($id: ID!) { lotRegister(input: {lotId: $id}) { __typename } }"""
    assert forbidden(await api.gql(register, {"id": lot_id}, token=kiosk, expect_errors=True))
    logout = "mutation { authLogout(input: {}) { __typename } }"
    assert forbidden(await api.gql(logout, token=kiosk, expect_errors=True))

    # when it shows a QR code, is polled before approval, and the bidder approves it on the app
    qr = await challenge(api, kiosk)
    pending = await redeem(api, kiosk, qr["challenge"])
    by_terminal = await api.gql(APPROVE, {"input": {"challenge": qr["challenge"]}}, token=kiosk, expect_errors=True)
    approved = await approve(api, bidder, qr["qrPayload"])
    approved_again = await approve(api, other, qr["challenge"])
    opened = await redeem(api, kiosk, qr["challenge"])
    reopened = await redeem(api, kiosk, qr["challenge"])

    # then the challenge is 256 random bits for 2 minutes, approved once, redeemed once
    assert qr["qrPayload"] == f"palmtrade://qr-login?c={qr['challenge']}"
    assert len(qr["challenge"]) >= 43
    assert pending == {"__typename": "QrPending", "expiresAt": qr["expiresAt"]}
    assert forbidden(by_terminal)
    assert approved["__typename"] == "QrApproved", approved
    assert approved["terminalName"] == "一楼大厅 3 号机"
    assert approved_again["code"] == "QR_CHALLENGE_ALREADY_APPROVED"
    assert opened["__typename"] == "KioskSignedIn", opened
    assert reopened["code"] == "QR_CHALLENGE_REDEEMED"
    session = opened["session"]
    assert session["userName"] == "测试员"
    assert session["accessTokenExpiresAt"].startswith((manual_clock.now() + timedelta(minutes=5)).isoformat()[:19])

    # when the kiosk session reads the bidder's own status
    token = session["accessToken"]
    own = (await api.gql(OWN, {"lotId": lot_id}, token=token))["data"]
    theirs = (await api.gql(OWN, {"lotId": lot_id}, token=bidder))["data"]

    # then it sees exactly what the bidder's app sees, and public information too
    assert own == theirs
    assert [e["node"]["lot"]["id"] for e in own["myRegistrations"]["edges"]] == [lot_id]
    assert [b["sha256"] for b in own["mySealedBids"]] == [receipt["receipt"]["sha256"]]
    assert own["myUnreadNotificationCount"] >= 1
    assert (await api.gql(BROWSE, {"lotId": lot_id}, token=token))["data"]["lot"] == data["lot"]

    # and everything else is refused: other people's data, the user's other reads, any mutation
    registrants = "query($id: ID!) { lotRegistrations(lotId: $id) { edges { node { status } } } }"
    assert forbidden(await api.gql(registrants, {"id": lot_id}, token=token, expect_errors=True))
    assert forbidden(await api.gql("query { me { user { name } } }", token=token, expect_errors=True))
    assert forbidden(await api.gql("query { myDevices { id } }", token=token, expect_errors=True))
    mark = "mutation { notificationsMarkAllRead(input: {}) { __typename } }"
    assert forbidden(await api.gql(mark, token=token, expect_errors=True))
    assert forbidden(await api.gql(register, {"id": lot_id}, token=token, expect_errors=True))
    second = await challenge(api, kiosk)
    approval = {"input": {"challenge": second["challenge"]}}
    assert forbidden(await api.gql(APPROVE, approval, token=token, expect_errors=True))
    assert forbidden(await api.gql(CHALLENGE, token=token, expect_errors=True))
    withdraw = """mutation($input: BidWithdrawInput!) { bidWithdraw(input: $input) { __typename } }"""
    assert forbidden(await api.gql(withdraw, {"input": {"lotId": lot_id}}, token=token, expect_errors=True))

    # when 5 minutes (and the verifiers' 30 s leeway) pass
    manual_clock.advance(minutes=4, seconds=59)
    still = await api.gql("query { myUnreadNotificationCount }", token=token)
    manual_clock.advance(seconds=32)
    expired = await api.http.post(
        "/graphql", json={"query": "{ myUnreadNotificationCount }"}, headers={"authorization": f"Bearer {token}"}
    )

    # then the session is over
    assert still["data"]["myUnreadNotificationCount"] == own["myUnreadNotificationCount"]
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # and the events are in the audit trail
    types = set(await OutboxEvent.filter(object_type__in=["Terminal", "QrChallenge"]).values_list("type", flat=True))
    assert types >= {"terminal.registered", "terminal.signed_in", "qr_challenge.approved", "qr_challenge.redeemed"}


async def test_an_expired_or_unknown_challenge_is_refused_and_a_deactivated_terminal_stops(api, manual_clock):
    # given a signed-in terminal and a bidder on the app
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    terminal, secret = await kiosk_terminal(api, operator)
    kiosk = (await sign_in(api, terminal["deviceId"], secret))["session"]["accessToken"]
    qr = await challenge(api, kiosk)

    # when the bidder scans it after 2 minutes, or scans something else
    manual_clock.advance(minutes=2, seconds=1)
    late = await approve(api, bidder, qr["qrPayload"])
    late_redeem = await redeem(api, kiosk, qr["challenge"])
    unknown = await approve(api, bidder, "palmtrade://qr-login?c=not-a-challenge")

    # then both are refused and nothing changed
    assert late["code"] == "QR_CHALLENGE_EXPIRED"
    assert late_redeem["code"] == "QR_CHALLENGE_EXPIRED"
    assert unknown["code"] == "QR_CHALLENGE_UNKNOWN"
    assert not await OutboxEvent.filter(type="qr_challenge.approved").exists()

    # when another terminal redeems this terminal's approved challenge
    other, other_secret = await kiosk_terminal(api, operator)
    intruder = (await sign_in(api, other["deviceId"], other_secret))["session"]["accessToken"]
    fresh = await challenge(api, kiosk)
    assert (await approve(api, bidder, fresh["challenge"]))["__typename"] == "QrApproved"
    stolen = await redeem(api, intruder, fresh["challenge"])

    # then it is unknown to it
    assert stolen["code"] == "QR_CHALLENGE_UNKNOWN"

    # when the operator deactivates the terminal
    listed = (await api.gql(TERMINALS, token=operator))["data"]["terminals"]["nodes"]
    off = (await api.gql(DEACTIVATE, {"input": {"terminalId": terminal["id"]}}, token=operator))["data"]
    after = await api.gql("query { serverTime }", token=kiosk, expect_errors=True)
    again = await sign_in(api, terminal["deviceId"], secret)

    # then its token stops working at once and it cannot sign in again
    assert {t["id"] for t in listed} == {terminal["id"], other["id"]}
    assert all(t["lastSeenAt"] for t in listed)
    assert off["terminalDeactivate"]["terminal"]["isActive"] is False
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert again["code"] == "TERMINAL_CREDENTIALS_INVALID"
    assert not (await Terminal.get(device_id=terminal["deviceId"])).is_active


async def test_a_terminal_and_a_kiosk_session_subscribe_only_to_live_auctions(api, manual_clock):
    # given a terminal's actor and a kiosk session on it, as the WebSocket handler would make them
    from domain.common.actors import Actor, Role
    from schema.build import build_schema
    from schema.context import Context

    operator = await f.operator_token(api)
    registered, _ = await kiosk_terminal(api, operator)
    made = await Terminal.get(device_id=registered["deviceId"])
    terminal = Actor(terminal_id=made.id, roles=frozenset({Role.TERMINAL}))
    session = Actor(user_id=1, roles=frozenset({Role.BIDDER}), scopes=frozenset({"kiosk:self"}), terminal_id=made.id)
    schema = build_schema()

    async def first(actor: Actor, query: str) -> Any:
        stream = await schema.subscribe(query, context_value=Context(request=None, response=None, actor=actor))
        async for result in stream:  # type: ignore[union-attr]
            return result
        return None

    # when each subscribes to the inbox, and to an auction
    inbox = "subscription { notifications { id } }"
    watch = 'subscription { auctionUpdates(lotId: "bm90LWEtbG90") { __typename } }'
    refused = [await first(actor, inbox) for actor in (terminal, session)]
    watched = await first(terminal, watch)

    # then the inbox is refused before anything runs, the auction is not
    assert all(r.errors[0].extensions["code"] == "FORBIDDEN" for r in refused)
    assert not watched or all(e.extensions.get("code") != "FORBIDDEN" for e in watched.errors or [])
