"""What a password sign-in costs the server (issue 21, Runs for months): its argon2 runs on the CPU pool, so other
requests are answered while it computes; failed attempts are limited per number and per address before any
hashing, and a refused attempt writes nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from argon2 import PasswordHasher

from domain.accounts import adapters, passwords
from domain.audit.models import AuditEntry
from domain.common import cpu
from domain.common.models import OutboxEvent
from tests import factories as f
from tests.conftest import forget_rate_limits

ME = "query Me { me { user { name } roles } }"


class HeldHasher(PasswordHasher):
    """argon2 itself, held at the start of each verification until the test lets it go; counts and records the
    thread of each verification (a seam, not a mock: the hash is computed as in production)."""

    def __init__(self, hold: bool) -> None:
        super().__init__()
        self.hold = hold
        self.entered = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.threads: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        if self.hold:
            # bounded: were the hash on the event loop, the test could not answer, and must fail, not hang
            self.release.wait(20)
        try:
            return super().verify(hash, password)
        finally:
            self.finished.set()


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], HeldHasher]:
    def install(hold: bool) -> HeldHasher:
        seam = HeldHasher(hold)
        monkeypatch.setattr(passwords, "_hasher", seam)
        return seam

    return install


async def forget_counts(services: Any) -> None:
    """Forgets the sign-in failure counts (every rate-limit window) before and after a test that counts them."""
    await forget_rate_limits(services)


@pytest.fixture
async def fresh_counts(api: Any) -> AsyncIterator[None]:
    await forget_counts(api.services)
    yield
    await forget_counts(api.services)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


def sign_in(phone: str, password: str = f.PASSWORD) -> dict[str, Any]:
    return {"input": {"phone": phone, "password": password}}


async def rows() -> tuple[int, int]:
    return await OutboxEvent.all().count(), await AuditEntry.all().count()


async def test_a_query_is_answered_while_a_sign_in_hashes_on_a_pool_thread(api, hasher):
    # given a signed-in operator, and an approved bidder about to sign in
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    held = hasher(True)

    # when the bidder signs in and its password check is in progress (held inside argon2's verify)
    signing_in = asyncio.ensure_future(api.gql(f.LOGIN, sign_in(phone)))
    await until(held.entered.is_set, "the sign-in reached argon2")

    # then another request is answered meanwhile: the event loop is not computing the hash
    me = await api.gql(ME, token=operator)
    assert me["data"]["me"]["user"]["name"]
    assert not held.finished.is_set()

    # when the hash is let go, then the sign-in succeeds; its hash ran on a CPU pool thread
    held.release.set()
    signed = (await signing_in)["data"]["authLogin"]
    assert signed["__typename"] == "SignedIn"
    assert held.threads
    assert all(t.startswith(cpu.THREAD_PREFIX) for t in held.threads)
    assert threading.current_thread().name not in held.threads


async def test_past_the_failures_allowed_for_an_unknown_number_a_sign_in_is_refused_unhashed_and_unrecorded(
    api, hasher, fresh_counts, monkeypatch
):
    # given at most 3 failed sign-ins per number, and a number nobody has
    monkeypatch.setattr(adapters.deps, "signin_failures_per_number", 3)
    counted = hasher(False)
    phone = f.new_phone()

    # when 3 sign-ins fail
    for _ in range(3):
        wrong = (await api.gql(f.LOGIN, sign_in(phone)))["data"]["authLogin"]
        assert wrong["code"] == "INVALID_CREDENTIALS"
    await api.dispatch()
    before, hashed = await rows(), len(counted.threads)

    # then the 4th is refused as RATE_LIMITED with when to retry, before any hashing, and writes nothing
    limited = (await api.gql(f.LOGIN, sign_in(phone), headers={"accept-language": "en"}))["data"]["authLogin"]
    assert limited["__typename"] == "RateLimited"
    assert limited["code"] == "RATE_LIMITED"
    assert "try again after" in limited["message"]
    await api.dispatch()
    assert len(counted.threads) == hashed == 3
    assert await rows() == before


async def test_past_the_failures_allowed_from_one_address_any_number_is_refused(api, hasher, fresh_counts, monkeypatch):
    # given at most 2 failed sign-ins per address, and an approved bidder
    monkeypatch.setattr(adapters.deps, "signin_failures_per_address", 2)
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    counted = hasher(False)

    # when two sign-ins from this address fail, for two other numbers
    for _ in range(2):
        wrong = (await api.gql(f.LOGIN, sign_in(f.new_phone())))["data"]["authLogin"]
        assert wrong["code"] == "INVALID_CREDENTIALS"

    # then a third, even for the bidder with the right password, is refused without hashing
    limited = (await api.gql(f.LOGIN, sign_in(phone)))["data"]["authLogin"]
    assert limited["code"] == "RATE_LIMITED"
    assert len(counted.threads) == 2


async def test_successful_sign_ins_do_not_use_up_the_failures_allowed(api, fresh_counts, monkeypatch):
    # given at most 2 failed sign-ins per number, and an approved bidder
    monkeypatch.setattr(adapters.deps, "signin_failures_per_number", 2)
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)

    # when the bidder signs in three times with the right password, then every one succeeds
    for _ in range(3):
        signed = (await api.gql(f.LOGIN, sign_in(phone)))["data"]["authLogin"]
        assert signed["__typename"] == "SignedIn"
