"""Single sign-on's rules without HTTP: exact redirect URIs, operators only, single-use 60-second codes, refresh
rotation with reuse detection, consent withdrawal, and the sign-in methods as acr/amr."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import PermissionDenied
from domain.common.models import OutboxEvent
from domain.sso import errors
from domain.sso import services as sso
from domain.sso.models import SsoClient, SsoRefreshToken
from tests.domain import factories as df

OPERATOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))
REDIRECT = "https://zb.example.cn/oidc/callback"


def test_redirect_uris_are_absolute_https_or_loopback_http_without_fragment() -> None:
    assert sso.valid_redirect_uri(REDIRECT) == REDIRECT
    assert sso.valid_redirect_uri("http://127.0.0.1:8080/cb") == "http://127.0.0.1:8080/cb"
    for bad in ("http://zb.example.cn/cb", "https://zb.example.cn/cb#x", "/cb", "https://u:p@zb.example.cn/cb"):
        with pytest.raises(errors.InvalidRedirectUri):
            sso.valid_redirect_uri(bad)


def test_two_factors_are_level_two_and_named_by_rfc_8176() -> None:
    assert sso.acr_of(("pwd", "sms")) == "urn:palmtrade:loa:2"
    assert sso.acr_of(("pwd",)) == "urn:palmtrade:loa:1"
    assert sso.oidc_amr(("pwd", "sms")) == ["mfa", "otp", "pwd", "sms"]
    assert sso.oidc_amr(("cert",)) == ["cert"]


async def _client(**overrides: Any) -> SsoClient:
    form: dict[str, Any] = {
        "name": "青岛政府采购系统",
        "kind": "procurement",
        "redirect_uris": [REDIRECT],
        "scopes": ["openid", "profile", "offline_access"],
        **overrides,
    }
    client, secret = await sso.register_client(OPERATOR, **form)
    assert secret is not None
    assert await sso.check_secret(client, secret)
    return client


async def test_only_operators_register_and_scopes_need_openid(db: Any) -> None:
    with pytest.raises(PermissionDenied):
        await sso.register_client(Actor(user_id=9, org_id=9), "x", "other", [REDIRECT], ["openid"])
    with pytest.raises(errors.UnknownSsoScope):
        await sso.register_client(OPERATOR, "x", "other", [REDIRECT], ["profile"])
    with pytest.raises(errors.UnknownSystemKind):
        await sso.register_client(OPERATOR, "x", "bank", [REDIRECT], ["openid"])
    assert not await OutboxEvent.filter(type="sso_client.registered").exists()


async def _signed_in(db: Any) -> sso.SignedInUser:
    user = await df.user(await df.organisation())
    return sso.SignedInUser(user.id, ("pwd", "sms"), clock.now(), "00000000-0000-0000-0000-000000000001")


async def test_a_code_is_used_once_and_lives_60_seconds(db: Any, manual_clock: Any) -> None:
    # given a client and two codes for a signed-in user
    client = await _client()
    who = await _signed_in(db)
    actor = Actor(user_id=who.user_id)
    first = await sso.issue_code(actor, client, who, "code-1", REDIRECT, "openid", "n", "c" * 43, "S256")
    await sso.issue_code(actor, client, who, "code-2", REDIRECT, "openid", None, "c" * 43, "S256")
    # when the first is redeemed and a refresh token issued from it, then the code presented again
    assert (await sso.redeem_code(actor, client, "code-1")) is not None
    await sso.store_refresh_token(client, first.grant_id, who, "openid offline_access", "psr_one")
    assert await sso.redeem_code(actor, client, "code-1") is None
    # then the reuse revoked what it issued, and a code past 60 seconds is refused
    assert (await SsoRefreshToken.get(grant_id=first.grant_id)).revoked_reason == "code_reused"
    manual_clock.advance(timedelta(seconds=61))
    assert await sso.redeem_code(actor, client, "code-2") is None
    assert await OutboxEvent.filter(type="sso_code.reused").count() == 1


async def test_refresh_tokens_rotate_and_a_reused_one_ends_the_grant(db: Any) -> None:
    client = await _client()
    who = await _signed_in(db)
    actor = Actor(user_id=who.user_id)
    code = await sso.issue_code(actor, client, who, "code-r", REDIRECT, "openid", None, "c" * 43, "S256")
    await sso.grant_consent(actor, client, ["openid", "offline_access"])
    await sso.store_refresh_token(client, code.grant_id, who, "openid offline_access", "psr_a")
    assert await sso.claim_refresh_token(actor, client, "psr_a") is not None
    await sso.store_refresh_token(client, code.grant_id, who, "openid offline_access", "psr_b")
    # presenting the used one again revokes the grant, the newer token with it
    assert await sso.claim_refresh_token(actor, client, "psr_a") is None
    assert await sso.claim_refresh_token(actor, client, "psr_b") is None
    assert not await sso.grant_alive(str(code.grant_id))


async def test_withdrawing_consent_revokes_the_clients_tokens(db: Any) -> None:
    client = await _client()
    who = await _signed_in(db)
    actor = Actor(user_id=who.user_id)
    await sso.grant_consent(actor, client, ["openid", "profile"])
    assert await sso.consent_covers(who.user_id, client, ["openid"])
    code = await sso.issue_code(actor, client, who, "code-c", REDIRECT, "openid", None, "c" * 43, "S256")
    await sso.store_refresh_token(client, code.grant_id, who, "openid", "psr_c")
    await sso.revoke_consent(actor, client.client_id)
    assert not await sso.consent_covers(who.user_id, client, ["openid"])
    assert await sso.claim_refresh_token(actor, client, "psr_c") is None
    with pytest.raises(errors.SsoConsentNotFound):
        await sso.revoke_consent(actor, client.client_id)


async def test_a_disabled_client_is_not_active_and_its_tokens_stop(db: Any) -> None:
    client = await _client()
    who = await _signed_in(db)
    code = await sso.issue_code(
        Actor(user_id=who.user_id), client, who, "code-d", REDIRECT, "openid", None, "c" * 43, "S256"
    )
    await sso.store_refresh_token(client, code.grant_id, who, "openid", "psr_d")
    await sso.set_client_active(OPERATOR, client.client_id, False)
    assert await sso.active_client(client.client_id) is None
    assert (await SsoRefreshToken.get(token_hash=sso._hash("psr_d"))).revoked_reason == "client_disabled"
