"""Machine clients' credentials (issue 21, Runs for months): a terminal's device secret and an integrator's client
secret each cost an argon2 verification, so failed attempts are limited per client address and per device or client
id before any hashing, as password sign-ins are (tests/scenarios/test_sign_in_cost.py); a refused attempt writes
nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from domain.accounts import attempts, passwords
from tests import factories as f
from tests.scenarios.test_kiosk import kiosk_terminal, sign_in
from tests.scenarios.test_sign_in_cost import HeldHasher, forget_counts, rows
from tests.schema.test_integrators import create_client


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Callable[[], HeldHasher]:
    def install() -> HeldHasher:
        seam = HeldHasher(hold=False)
        monkeypatch.setattr(passwords, "_hasher", seam)
        return seam

    return install


@pytest.fixture
async def fresh_counts(api: Any) -> AsyncIterator[None]:
    await forget_counts(api.services)
    yield
    await forget_counts(api.services)


async def token(api: Any, client_id: str, secret: str, **headers: str) -> Any:
    return await api.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        headers=headers,
    )


async def test_past_the_failures_allowed_for_a_device_id_a_terminal_is_refused_unhashed_and_unrecorded(
    api, hashes, fresh_counts, monkeypatch
):
    # given at most 3 failed sign-ins per device id, and a registered terminal
    monkeypatch.setattr(attempts.clients, "per_id", 3)
    operator = await f.operator_token(api)
    terminal, secret = await kiosk_terminal(api, operator)
    counted = hashes()

    # when 3 sign-ins with a wrong secret fail
    for _ in range(3):
        wrong = await sign_in(api, terminal["deviceId"], secret + "x")
        assert wrong["code"] == "TERMINAL_CREDENTIALS_INVALID"
    await api.dispatch()
    before, hashed = await rows(), len(counted.threads)

    # then the 4th, even with the right secret, is RATE_LIMITED with when to retry, before any hashing, writing
    # nothing
    body = await api.gql(
        """mutation($input: TerminalSignInInput!) { terminalSignIn(input: $input) {
          __typename ... on RateLimited { code message retryAt } } }""",
        {"input": {"deviceId": terminal["deviceId"], "secret": secret}},
        headers={"accept-language": "en"},
    )
    limited = body["data"]["terminalSignIn"]
    assert limited["__typename"] == "RateLimited"
    assert limited["code"] == "RATE_LIMITED"
    assert "try again after" in limited["message"]
    assert limited["retryAt"]
    await api.dispatch()
    assert len(counted.threads) == hashed == 3
    assert await rows() == before


async def test_past_the_failures_allowed_from_one_address_any_terminal_is_refused(
    api, hashes, fresh_counts, monkeypatch
):
    # given at most 2 failed machine sign-ins per address, and a registered terminal
    monkeypatch.setattr(attempts.clients, "per_address", 2)
    operator = await f.operator_token(api)
    terminal, secret = await kiosk_terminal(api, operator)
    counted = hashes()

    # when one sign-in for an unknown device and one client-credentials grant for an unknown client fail
    unknown = await sign_in(api, "ptd_0000000000000000", secret)
    assert unknown["code"] == "TERMINAL_CREDENTIALS_INVALID"
    refused = await token(api, "ptc_0000000000000000", "pts_wrong")
    assert refused.status_code == 401

    # then the terminal with its right secret is refused from this address without hashing, in Chinese by default
    limited = await sign_in(api, terminal["deviceId"], secret)
    assert limited["code"] == "RATE_LIMITED"
    assert "操作过于频繁" in limited["message"]
    assert len(counted.threads) == 2


async def test_a_terminal_signing_in_rightly_does_not_use_up_the_failures_allowed(api, fresh_counts, monkeypatch):
    # given at most 2 failed sign-ins per device id, and a registered terminal
    monkeypatch.setattr(attempts.clients, "per_id", 2)
    operator = await f.operator_token(api)
    terminal, secret = await kiosk_terminal(api, operator)

    # when it signs in three times with its secret, then every one succeeds
    for _ in range(3):
        signed = await sign_in(api, terminal["deviceId"], secret)
        assert signed["__typename"] == "TerminalSignedIn"


async def test_past_the_failures_allowed_for_a_client_id_the_grant_is_refused_unhashed_and_unrecorded(
    api, hashes, fresh_counts, monkeypatch
):
    # given at most 2 failed grants per client id, and an integrator's client
    monkeypatch.setattr(attempts.clients, "per_id", 2)
    operator = await f.operator_token(api)
    created = await create_client(api, operator)
    client_id, secret = created["client"]["clientId"], created["clientSecret"]
    counted = hashes()

    # when two grants with a wrong secret fail
    for _ in range(2):
        wrong = await token(api, client_id, secret + "x")
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
    await api.dispatch()
    before = await rows()

    # then the third, with the right secret, is refused with when to retry, before any hashing, writing nothing
    limited = await token(api, client_id, secret, **{"accept-language": "en"})
    assert limited.status_code == 429
    assert limited.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(limited.headers["retry-after"]) <= 15 * 60
    assert "try again after" in limited.json()["error_description"]
    await api.dispatch()
    assert len(counted.threads) == 2
    assert await rows() == before
