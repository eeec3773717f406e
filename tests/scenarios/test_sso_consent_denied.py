"""A consent refused on the provider's page (issue 24) is audited as a grant is: who refused which client system what;
the system hears access_denied."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
from authlib.common.security import generate_token

from domain.accounts.models import User
from domain.common.models import OutboxEvent
from tests import factories as f
from tests.scenarios.test_single_sign_on import REDIRECT, SCOPE, _action, _csrf, _query, _register

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # as tests/scenarios/test_single_sign_on.py: Authlib 1.9 names httpx2
    from authlib.integrations.httpx_client import AsyncOAuth2Client


async def test_a_refused_consent_is_audited(api: Any) -> None:
    # given a registered system and a bidder signed in at the provider (the app's access token)
    operator = await f.operator_token(api)
    registered = await _register(api, operator)
    client_id = registered["client"]["clientId"]
    _, phone, app_token = await f.approved_org(api, operator)
    async with (
        AsyncOAuth2Client(client_id, "-", scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256") as rp,
        httpx.AsyncClient(base_url=api.base_url, follow_redirects=False) as browser,
    ):
        url, state = rp.create_authorization_url(f"{api.base_url}/oidc/authorize", code_verifier=generate_token(48))
        held = {"authorization": f"Bearer {app_token}"}
        consent = await browser.get(url, headers=held)
        # when the bidder refuses
        back = await browser.post(
            _action(consent.text),
            data={"csrf": _csrf(consent.text), "step": "consent", "decision": "deny"},
            headers=held,
        )
    # then the system hears access_denied, and the trail says who refused which system what
    assert back.status_code == 302, back.text
    answer = _query(back.headers["location"])
    assert (answer["error"], answer["state"]) == ("access_denied", state)
    user = await User.get(phone=phone)
    [event] = await OutboxEvent.filter(type="sso_consent.denied")
    assert (event.actor_user_id, event.object_type, event.object_id) == (user.id, "SsoClient", client_id)
    assert event.payload["scopes"] == SCOPE.split()
    assert not await OutboxEvent.filter(type="sso_consent.granted").exists()
