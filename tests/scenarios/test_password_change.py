"""A password change over HTTP (issue 24): the current password and the rules are checked with typed errors; then the
user's other app session is signed out, a business system's single sign-on refresh fails with invalid_grant, the
session that changed it continues, and the user is told; a forgotten password is reset with an SMS code."""

from __future__ import annotations

import re
import warnings
from typing import Any

import httpx
import pytest
import websockets
from authlib.common.security import generate_token

from domain.accounts import adapters
from domain.accounts.ended_sessions import ended_sessions
from domain.accounts.models import User
from domain.common.models import OutboxEvent
from domain.notifications.services import Kind
from notifications.rules.accounts import password_changed
from tests import factories as f
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_single_sign_on import (
    REDIRECT,
    SCOPE,
    _action,
    _csrf,
    _refresh,
    _register,
    _sign_in,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # as tests/scenarios/test_single_sign_on.py: Authlib 1.9 names httpx2
    from authlib.integrations.httpx_client import AsyncOAuth2Client

SIGN_IN = """mutation($input: AuthLoginInput!) { authLogin(input: $input) { __typename
  ... on SignedIn { session { accessToken refreshToken } } ... on Error { code } } }"""
REFRESH = """mutation($input: AuthRefreshInput!) { authRefresh(input: $input) { __typename
  ... on SignedIn { session { accessToken refreshToken } } ... on Error { code } } }"""
CHANGE = """mutation($input: PasswordChangeInput!) { passwordChange(input: $input) { __typename
  ... on PasswordChanged { revoked } ... on Error { code message } } }"""
NEW_PASSWORD = "qingdao2027new"


async def _session(api: Any, phone: str, password: str = f.PASSWORD) -> dict[str, Any]:
    signed = (await api.gql(SIGN_IN, {"input": {"phone": phone, "password": password}}))["data"]["authLogin"]
    assert signed["__typename"] == "SignedIn", signed
    return signed["session"]  # type: ignore[no-any-return]


async def _change(api: Any, token: str, current: str, new: str) -> dict[str, Any]:
    body = await api.gql(CHANGE, {"input": {"currentPassword": current, "newPassword": new}}, token=token)
    return body["data"]["passwordChange"]  # type: ignore[no-any-return]


async def test_a_password_change_signs_out_other_sessions_and_client_systems(api: Any) -> None:
    # given a bidder signed in to a business system through PalmTrade (with a refresh token) and twice in the app
    operator = await f.operator_token(api)
    registered = await _register(api, operator)
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]
    _, phone, _ = await f.approved_org(api, operator)
    async with (
        AsyncOAuth2Client(client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256") as rp,
        httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser,
    ):
        verifier = generate_token(48)
        url, _ = rp.create_authorization_url(f"{api.base_url}/oidc/authorize", code_verifier=verifier)
        consent = await _sign_in(api, browser, url, phone)
        back = await browser.post(
            _action(consent.text), data={"csrf": _csrf(consent.text), "step": "consent", "decision": "allow"}
        )
        token = await rp.fetch_token(
            f"{api.base_url}/oidc/token", authorization_response=back.headers["location"], code_verifier=verifier
        )
        this, other = await _session(api, phone), await _session(api, phone)

        # when it gets the current password wrong, picks a weak one, the same one, and then changes it properly
        wrong = await _change(api, this["accessToken"], "not-the-password1", NEW_PASSWORD)
        weak = await _change(api, this["accessToken"], f.PASSWORD, "short")
        same = await _change(api, this["accessToken"], f.PASSWORD, f.PASSWORD)
        changed = await _change(api, this["accessToken"], f.PASSWORD, NEW_PASSWORD)

        # then the refusals are typed, and the change is made
        assert wrong["code"] == "CURRENT_PASSWORD_WRONG", wrong
        assert weak["code"] == "WEAK_PASSWORD", weak
        assert same["code"] == "PASSWORD_UNCHANGED", same
        assert changed["__typename"] == "PasswordChanged", changed
        assert changed["revoked"] >= 2

        # the business system's next refresh is invalid_grant, and its access token is dead at userinfo
        refreshed = await _refresh(browser, client_id, secret, token["refresh_token"])
        assert refreshed.status_code == 400
        assert refreshed.json()["error"] == "invalid_grant"
        userinfo = await browser.get("/oidc/userinfo", headers={"authorization": f"Bearer {token['access_token']}"})
        assert userinfo.status_code == 401
        # the provider's own session (the browser's) is over too: the sign-in page again
        again, _ = rp.create_authorization_url(f"{api.base_url}/oidc/authorize", code_verifier=generate_token(48))
        assert "登录掌上交易" in (await browser.get(again)).text

    # the app's other session is signed out, the one that changed the password continues
    stale = (await api.gql(REFRESH, {"input": {"refreshToken": other["refreshToken"]}}))["data"]["authRefresh"]
    assert stale["__typename"] != "SignedIn", stale
    kept = (await api.gql(REFRESH, {"input": {"refreshToken": this["refreshToken"]}}))["data"]["authRefresh"]
    assert kept["__typename"] == "SignedIn", kept
    # the old password signs in no more, the new one does
    old = (await api.gql(SIGN_IN, {"input": {"phone": phone, "password": f.PASSWORD}}))["data"]["authLogin"]
    assert old["code"] == "INVALID_CREDENTIALS"
    await _session(api, phone, NEW_PASSWORD)

    # and the change is on the record, and the user is told
    user = await User.get(phone=phone)
    [event] = await OutboxEvent.filter(type="user.password_changed")
    assert (event.actor_user_id, event.object_id) == (user.id, str(user.id))
    assert event.payload["client_tokens_revoked"] == 1
    [notice] = await password_changed(event)
    assert (notice.user_id, notice.kind) == (user.id, Kind.ACCOUNT_SECURITY)
    assert "密码已修改" in notice.title_zh


async def test_wrong_current_passwords_are_limited_as_sign_ins_are(api: Any) -> None:
    # given a signed-in bidder
    operator = await f.operator_token(api)
    _, _, token = await f.approved_org(api, operator)
    allowed = adapters.deps.signin_failures_per_number
    # when someone holding its session guesses the current password as often as a number's sign-ins may fail
    guesses = [await _change(api, token, f"guess{n}wrong", NEW_PASSWORD) for n in range(allowed)]
    # then each guess is refused as wrong, and after them even the right password is refused until the window passes
    assert {g["code"] for g in guesses} == {"CURRENT_PASSWORD_WRONG"}
    limited = await _change(api, token, f.PASSWORD, NEW_PASSWORD)
    assert limited["code"] == "RATE_LIMITED", limited


RESET = """mutation($input: PasswordResetInput!) { passwordReset(input: $input) { __typename
  ... on PasswordChanged { revoked } ... on Error { code } } }"""
CODE_REQUEST = """mutation($input: AuthSmsCodeRequestInput!) { authSmsCodeRequest(input: $input) { __typename } }"""


async def test_a_forgotten_password_is_reset_with_an_sms_code(api: Any) -> None:
    # given a bidder signed in in the app, who then forgets its password
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    session = await _session(api, phone)
    await api.gql(CODE_REQUEST, {"input": {"phone": phone}})
    code = re.search(r"(\d{6})", [t for to, t in api.sms if to == phone][-1]).group(1)  # type: ignore[union-attr]
    # when it resets it with the texted code (a wrong code and a weak password refused first)
    wrong = await api.gql(RESET, {"input": {"phone": phone, "code": "000000", "newPassword": NEW_PASSWORD}})
    weak = await api.gql(RESET, {"input": {"phone": phone, "code": code, "newPassword": "short"}})
    reset = await api.gql(RESET, {"input": {"phone": phone, "code": code, "newPassword": NEW_PASSWORD}})
    # then the reset is made, every session ended, and only the new password signs in
    assert wrong["data"]["passwordReset"]["code"] == "SMS_CODE_INVALID"
    assert weak["data"]["passwordReset"]["code"] == "WEAK_PASSWORD"
    assert reset["data"]["passwordReset"]["__typename"] == "PasswordChanged", reset
    ended = (await api.gql(REFRESH, {"input": {"refreshToken": session["refreshToken"]}}))["data"]["authRefresh"]
    assert ended["__typename"] != "SignedIn", ended
    await _session(api, phone, NEW_PASSWORD)
    [event] = await OutboxEvent.filter(type="user.password_changed")
    assert event.payload["reset"] is True
    assert event.actor_user_id == (await User.get(phone=phone)).id


ME = "query { me { id } }"


async def _me(api: Any, token: str) -> httpx.Response:
    return await api.http.post("/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"})


def _revoked(response: httpx.Response) -> bool:
    """Refused as an expired token is (401, UNAUTHENTICATED), told apart by its cause."""
    extensions = response.json()["errors"][0]["extensions"]
    return (
        response.status_code == 401
        and extensions["code"] == "UNAUTHENTICATED"
        and (extensions.get("cause") == "TOKEN_REVOKED")
    )


async def test_the_other_sessions_access_tokens_are_refused_from_the_change_on(api: Any) -> None:
    # given a bidder signed in twice in the app, both sessions' access tokens working
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    this, other = await _session(api, phone), await _session(api, phone)
    assert (await _me(api, other["accessToken"])).status_code == 200
    # when the first session changes the password
    changed = await _change(api, this["accessToken"], f.PASSWORD, NEW_PASSWORD)
    assert changed["__typename"] == "PasswordChanged", changed
    # then the other session's access token is refused at once, over HTTP and on connection_init, and its refresh fails
    assert _revoked(await _me(api, other["accessToken"]))
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {other['accessToken']}"})
    with pytest.raises(websockets.ConnectionClosed):
        await next_message(ws)
    stale = (await api.gql(REFRESH, {"input": {"refreshToken": other["refreshToken"]}}))["data"]["authRefresh"]
    assert stale["code"] == "REFRESH_TOKEN_INVALID", stale
    # while the session that changed it continues, with its token and after a refresh
    assert (await _me(api, this["accessToken"])).status_code == 200
    kept = (await api.gql(REFRESH, {"input": {"refreshToken": this["refreshToken"]}}))["data"]["authRefresh"]
    assert kept["__typename"] == "SignedIn", kept
    assert (await _me(api, kept["session"]["accessToken"])).status_code == 200
    # and a new sign-in works, on this server and on one that learns the ended sessions from the database
    fresh = await _session(api, phone, NEW_PASSWORD)
    ended_sessions.clear()
    assert (await _me(api, fresh["accessToken"])).status_code == 200
    assert _revoked(await _me(api, other["accessToken"]))


async def test_a_reset_refuses_every_sessions_access_token(api: Any) -> None:
    # given a bidder signed in twice in the app
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    first, second = await _session(api, phone), await _session(api, phone)
    # when the password is reset with a texted code
    await api.gql(CODE_REQUEST, {"input": {"phone": phone}})
    code = re.search(r"(\d{6})", [t for to, t in api.sms if to == phone][-1]).group(1)  # type: ignore[union-attr]
    reset = await api.gql(RESET, {"input": {"phone": phone, "code": code, "newPassword": NEW_PASSWORD}})
    assert reset["data"]["passwordReset"]["revoked"] >= 2, reset
    # then both sessions end: their access tokens are refused, their refreshes fail
    for session in (first, second):
        assert _revoked(await _me(api, session["accessToken"]))
        ended = (await api.gql(REFRESH, {"input": {"refreshToken": session["refreshToken"]}}))["data"]["authRefresh"]
        assert ended["code"] == "REFRESH_TOKEN_INVALID", ended
    assert (await _me(api, (await _session(api, phone, NEW_PASSWORD))["accessToken"])).status_code == 200
