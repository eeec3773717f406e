"""Single sign-on (issue 24): an outside business system, with Authlib's OAuth 2.0 client for httpx, signs a bidder in
through PalmTrade with PKCE (password, then the SMS code), validates the ID token against the JWKS, reads userinfo,
refreshes (the old refresh token refused), meets the remembered consent, is asked again after the bidder withdrew it,
and logs out; and the protocol's errors come back as RFC 6749 error codes."""

from __future__ import annotations

import re
import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from domain.common import clock
from tests.factories import approved_org, operator_token

with warnings.catch_warnings():
    # Authlib 1.9 names httpx2 as the successor of httpx, which the project uses; its client works on httpx as before
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

REDIRECT = "http://127.0.0.1:1/callback"  # loopback, never contacted: the browser below stops at each redirect
LOGOUT_RETURN = "http://127.0.0.1:1/signed-out"
SCOPE = "openid profile organisation roles offline_access"

REGISTER = """mutation($input: SsoClientRegisterInput!) { ssoClientRegister(input: $input) { __typename
  ... on SsoClientRegistered { client { clientId public scopes } clientSecret } ... on Error { code message } } }"""
SET_ACTIVE = """mutation($input: SsoClientSetActiveInput!) { ssoClientSetActive(input: $input) { __typename
  ... on SsoClientChanged { client { active } } ... on Error { code } } }"""
CONSENTS = "{ mySsoConsents { clientId clientName scopes } }"
REVOKE_CONSENT = """mutation($input: SsoConsentRevokeInput!) { ssoConsentRevoke(input: $input) { __typename
  ... on SsoConsentRevoked { clientId } ... on Error { code } } }"""


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _action(html: str) -> str:
    return re.search(r'action="([^"]+)"', html).group(1).replace("&amp;", "&")  # type: ignore[union-attr]


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def _register(api: Any, operator: str, **overrides: Any) -> dict[str, Any]:
    form = {
        "name": "青岛工程建设交易系统",
        "kind": "ENGINEERING",
        "redirectUris": [REDIRECT],
        "postLogoutRedirectUris": [LOGOUT_RETURN],
        "scopes": SCOPE.split(),
        **overrides,
    }
    body = await api.gql(REGISTER, {"input": form}, token=operator)
    result: dict[str, Any] = body["data"]["ssoClientRegister"]
    return result


async def _refresh(browser: httpx.AsyncClient, client_id: str, secret: str, refresh_token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await browser.post("/oidc/token", data=data, auth=(client_id, secret))


async def _sign_in(api: Any, browser: httpx.AsyncClient, url: str, phone: str) -> httpx.Response:
    """The bidder at the provider's pages: password, then the SMS code it was texted."""
    page = await browser.get(url)
    assert page.status_code == 200, page.text
    assert "登录掌上交易" in page.text, page.text
    sms_page = await browser.post(
        _action(page.text),
        data={"csrf": _csrf(page.text), "step": "password", "phone": phone, "password": "palmtrade2026"},
    )
    assert sms_page.status_code == 200, sms_page.text
    assert 'name="code"' in sms_page.text, sms_page.text
    text = [t for to, t in api.sms if to == phone][-1]
    code = re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]
    return await browser.post(_action(sms_page.text), data={"csrf": _csrf(sms_page.text), "step": "sms", "code": code})


async def test_a_business_system_signs_a_bidder_in_with_pkce(api: Any) -> None:
    # given an engineering system registered by the operator, and an approved bidder
    operator = await operator_token(api)
    registered = await _register(api, operator)
    assert registered["__typename"] == "SsoClientRegistered", registered
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]
    assert secret
    assert not registered["client"]["public"]
    _, phone, bidder = await approved_org(api, operator)
    meta = (await api.http.get("/.well-known/openid-configuration")).json()
    assert meta["issuer"] == api.base_url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    keys = KeySet.import_key_set((await api.http.get(meta["jwks_uri"].removeprefix(api.base_url))).json())

    async with (
        AsyncOAuth2Client(client_id, secret, scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256") as rp,
        httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser,
    ):
        # when the system sends the bidder to PalmTrade, which signs it in (password + SMS) and asks for consent
        verifier, nonce = generate_token(48), generate_token(20)
        url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        consent = await _sign_in(api, browser, url, phone)
        assert consent.status_code == 200, consent.text
        assert "同意 / Allow" in consent.text, consent.text
        back = await browser.post(
            _action(consent.text), data={"csrf": _csrf(consent.text), "step": "consent", "decision": "allow"}
        )
        assert back.status_code == 302, back.text
        location = back.headers["location"]
        assert location.startswith(REDIRECT)
        assert _query(location)["state"] == state
        token = await rp.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)

        # then the ID token checks out against the JWKS: issuer, audience, nonce, expiry, sign-in methods
        id_token = jwt.decode(token["id_token"], keys, algorithms=["ES256"])
        claims = id_token.claims
        jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            iss={"essential": True, "value": api.base_url},
            aud={"essential": True, "value": client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
        ).validate(claims)
        assert set(claims["amr"]) >= {"pwd", "sms", "otp", "mfa"}
        assert claims["acr"] == "urn:palmtrade:loa:2"
        assert claims["roles"] == ["bidder"]
        assert claims["organisation"]["name"] == "青岛测试建设有限公司"
        assert len(claims["organisation"]["unified_social_credit_code"]) == 18
        assert not claims["sub"].isdigit()

        # and userinfo answers the access token with the same subject
        info = (await rp.get(meta["userinfo_endpoint"])).json()
        assert info["sub"] == claims["sub"]
        assert info["name"]
        assert info["roles"] == ["bidder"]

        # refresh rotates: the new pair works, the old refresh token is refused and ends the grant
        old_refresh = token["refresh_token"]
        renewed = await rp.refresh_token(meta["token_endpoint"], refresh_token=old_refresh)
        assert renewed["refresh_token"] != old_refresh
        reused = await _refresh(browser, client_id, secret, old_refresh)
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        after_reuse = await _refresh(browser, client_id, secret, renewed["refresh_token"])
        assert after_reuse.json()["error"] == "invalid_grant"

        # a second sign-in: the provider's session and the remembered consent, straight back with a code
        verifier2 = generate_token(48)
        url2, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier2, nonce="n2")
        again = await browser.get(url2)
        assert again.status_code == 302, again.text
        assert "code=" in again.headers["location"], again.text
        second = await rp.fetch_token(
            meta["token_endpoint"], authorization_response=again.headers["location"], code_verifier=verifier2
        )

        # the bidder sees its consent in the app and withdraws it: the system's refresh token stops, and it is asked
        listed = (await api.gql(CONSENTS, token=bidder))["data"]["mySsoConsents"]
        assert [c["clientId"] for c in listed] == [client_id]
        revoked = await api.gql(REVOKE_CONSENT, {"input": {"clientId": client_id}}, token=bidder)
        assert revoked["data"]["ssoConsentRevoke"]["__typename"] == "SsoConsentRevoked"
        stale = await _refresh(browser, client_id, secret, second["refresh_token"])
        assert stale.json()["error"] == "invalid_grant"
        url3, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=generate_token(48))
        asked = await browser.get(url3)
        assert asked.status_code == 200
        assert "同意 / Allow" in asked.text

        # logout: back to the registered address, the provider's session is over
        out = await browser.get(
            "/oidc/logout",
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": LOGOUT_RETURN, "state": "bye"},
        )
        assert out.status_code == 303
        assert out.headers["location"] == f"{LOGOUT_RETURN}?state=bye"
        url4, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=generate_token(48))
        assert "登录掌上交易" in (await browser.get(url4)).text


async def test_protocol_errors_are_rfc_6749_answers(api: Any) -> None:
    # given a registered system and a bidder signed in at the provider
    operator = await operator_token(api)
    registered = await _register(api, operator)
    client_id, secret = registered["client"]["clientId"], registered["clientSecret"]
    _, phone, app_token = await approved_org(api, operator)
    auth, token_url = "/oidc/authorize", "/oidc/token"
    verifier = generate_token(48)
    base = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "s1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    async with httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser:
        # a redirect URI that is not registered exactly: shown to the user, never redirected to
        wrong = await browser.get(auth, params={**base, "redirect_uri": REDIRECT + "/other"})
        assert wrong.status_code == 400
        assert "location" not in wrong.headers
        assert "invalid_request" in wrong.text
        # no PKCE, or plain PKCE: invalid_request back to the client
        for params in (
            {k: v for k, v in base.items() if not k.startswith("code_challenge")},
            {**base, "code_challenge": verifier, "code_challenge_method": "plain"},
        ):
            refused = await browser.get(auth, params=params)
            assert refused.status_code == 302
            assert _query(refused.headers["location"])["error"] == "invalid_request"
        # the app, holding the bidder's access token, needs no sign-in page: straight to consent
        held = await browser.get(auth, params=base, headers={"authorization": f"Bearer {app_token}"})
        assert held.status_code == 200
        assert "同意 / Allow" in held.text
        # an unknown scope: invalid_scope
        scoped = await browser.get(auth, params={**base, "scope": "openid payments"})
        assert _query(scoped.headers["location"])["error"] == "invalid_scope"

        consent = await _sign_in(api, browser, f"{auth}?{httpx.QueryParams(base)}", phone)
        back = await browser.post(
            _action(consent.text), data={"csrf": _csrf(consent.text), "step": "consent", "decision": "allow"}
        )
        code = _query(back.headers["location"])["code"]
        # a forged form (no CSRF token) changes nothing
        forged = await browser.post(f"{auth}?{httpx.QueryParams(base)}", data={"step": "consent", "decision": "allow"})
        assert forged.status_code == 403

        # a logout without the client's id_token_hint asks the user first, and a forged one changes nothing
        confirm = await browser.get("/oidc/logout")
        assert "Sign out of PalmTrade?" in confirm.text
        assert (await browser.post("/oidc/logout", data={})).status_code == 403

        exchange = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        # a wrong secret: invalid_client, 401
        bad = await browser.post(token_url, data=exchange, auth=(client_id, "pss_wrong"))
        assert bad.status_code == 401
        assert bad.json()["error"] == "invalid_client"
        # the code once: tokens; twice: invalid_grant
        good = await browser.post(token_url, data=exchange, auth=(client_id, secret))
        assert good.status_code == 200, good.text
        assert good.json()["token_type"] == "Bearer", good.text
        reused = await browser.post(token_url, data=exchange, auth=(client_id, secret))
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        # an unsupported grant type
        other = await browser.post(token_url, data={"grant_type": "password"}, auth=(client_id, secret))
        assert other.json()["error"] == "unsupported_grant_type"

        # a disabled system: refused at the authorization endpoint and at the token endpoint
        disabled = await api.gql(SET_ACTIVE, {"input": {"clientId": client_id, "active": False}}, token=operator)
        assert disabled["data"]["ssoClientSetActive"]["client"]["active"] is False
        gone = await browser.get(auth, params=base)
        assert gone.status_code == 400
        assert "invalid_client" in gone.text
        refresh = await browser.post(
            token_url, data={"grant_type": "refresh_token", "refresh_token": "psr_x"}, auth=(client_id, secret)
        )
        assert refresh.status_code == 401
        assert refresh.json()["error"] == "invalid_client"
