"""A session that ends is over everywhere at once (issue 24): after a sign-out, a refresh token presented twice (a
stolen copy) or a password change, the session's access token is refused over HTTP with cause TOKEN_REVOKED, and
its open WebSockets are closed with 4401 TOKEN_REVOKED (graphql-ws clients do not retry that), at once on the server
that ended it and within a few seconds on another one; the user's other sessions keep working."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
import websockets

from domain.accounts import ended_sessions as ended_module
from domain.accounts.ended_sessions import ended_sessions
from domain.accounts.models import RefreshToken
from domain.common import clock
from tests import factories as f
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_password_change import CHANGE, NEW_PASSWORD, REFRESH, _me, _revoked, _session

SIGN_OUT = """mutation($input: AuthLogoutInput!) { authLogout(input: $input) { __typename
  ... on LoggedOut { ok } ... on Error { code } } }"""
SUBSCRIBE = 'subscription { events(types: ["organisation.registered"]) { eventId type } }'


async def _live(api: Any, token: str) -> Any:
    """A socket signed in with `token`, acknowledged and subscribed."""
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"})
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    await asyncio.sleep(0.2)
    return ws


async def _signed_in_twice_live(api: Any) -> list[tuple[dict[str, Any], Any]]:
    """A new bidder's two app sessions, each with a socket following its events."""
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    sessions = [await _session(api, phone), await _session(api, phone)]
    return [(session, await _live(api, session["accessToken"])) for session in sessions]


async def _closed_for_revocation(ws: Any, within: float = 5) -> bool:
    """Whether the server closes the socket with 4401 TOKEN_REVOKED within `within` seconds."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await next_message(ws, within=within)
    return closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4401,
        "TOKEN_REVOKED",
    )


async def _still_open(ws: Any) -> bool:
    try:
        await next_message(ws, within=0.5)
    except TimeoutError:
        return True
    except websockets.ConnectionClosed:
        return False
    return True


async def test_a_sign_out_ends_the_sessions_access_token_and_its_sockets(api: Any) -> None:
    # given a bidder signed in twice, each session with a socket following its events
    (leaving, leaving_ws), (staying, staying_ws) = await _signed_in_twice_live(api)
    try:
        # when the first session signs out
        out = await api.gql(SIGN_OUT, {"input": {}}, token=leaving["accessToken"])
        assert out["data"]["authLogout"]["__typename"] == "LoggedOut", out
        # then its socket is closed as revoked, its access token refused over HTTP and at a new connection_init
        assert await _closed_for_revocation(leaving_ws)
        assert _revoked(await _me(api, leaving["accessToken"]))
        again = await ws_connect(api.ws_url, {"authorization": f"Bearer {leaving['accessToken']}"})
        with pytest.raises(websockets.ConnectionClosed):
            await next_message(again)
        # while the other session, its socket included, goes on
        assert await _still_open(staying_ws)
        assert (await _me(api, staying["accessToken"])).status_code == 200
    finally:
        await staying_ws.close()


async def test_a_refresh_token_presented_twice_ends_the_session_it_was_stolen_from(api: Any) -> None:
    # given a bidder's session whose refresh token was copied before the phone used it
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    session = await _session(api, phone)
    stolen = session["refreshToken"]
    rotated = (await api.gql(REFRESH, {"input": {"refreshToken": stolen}}))["data"]["authRefresh"]
    assert rotated["__typename"] == "SignedIn", rotated
    phone_token = rotated["session"]["accessToken"]
    phone_ws = await _live(api, phone_token)
    # when the copy is presented
    reused = (await api.gql(REFRESH, {"input": {"refreshToken": stolen}}))["data"]["authRefresh"]
    assert reused["code"] == "REFRESH_TOKEN_REUSED", reused
    # then the whole session ends: the access tokens of its family are refused and its socket closed
    assert await _closed_for_revocation(phone_ws)
    assert _revoked(await _me(api, phone_token))
    assert _revoked(await _me(api, session["accessToken"]))


async def test_a_password_change_closes_the_other_sessions_sockets(api: Any) -> None:
    # given a bidder signed in twice, both sessions following their events live
    (this, this_ws), (_, other_ws) = await _signed_in_twice_live(api)
    try:
        # when the first session changes the password
        change = {"input": {"currentPassword": f.PASSWORD, "newPassword": NEW_PASSWORD}}
        changed = (await api.gql(CHANGE, change, token=this["accessToken"]))["data"]["passwordChange"]
        assert changed["__typename"] == "PasswordChanged", changed
        # then the other session's socket is closed as revoked, the changer's stays open
        assert await _closed_for_revocation(other_ws)
        assert await _still_open(this_ws)
    finally:
        await this_ws.close()


async def test_a_session_ended_by_another_server_closes_its_sockets_here(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a bidder's socket on this server, which re-reads the ended sessions every 0.3 s (5 s in production)
    monkeypatch.setattr(ended_module, "RELOAD_SECONDS", 0.3)
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    session = await _session(api, phone)
    ws = await _live(api, session["accessToken"])
    # when another server signs the session out (its refresh tokens revoked in the database; nothing noted here)
    signed_out = RefreshToken.filter(revoked_at=None, user__phone=phone)
    await signed_out.update(revoked_at=clock.now(), revoked_reason="logout")
    assert not ended_sessions.ended(_sid(session["accessToken"]))
    # then this server learns it and closes the socket, and refuses the access token
    assert await _closed_for_revocation(ws, within=5)
    assert _revoked(await _me(api, session["accessToken"]))


def _sid(token: str) -> str:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sid"])
