"""A server whose CPU pool is full (issue 21, Runs for months): a sign-in that would have to wait beyond the calls
CPU_POOL_QUEUE allows is answered at once as RateLimited, saying the server is busy and when to try again, rather
than queued behind every other; the sign-in in hand still succeeds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from domain.accounts import passwords
from domain.common import cpu
from tests import factories as f
from tests.scenarios.test_sign_in_cost import HeldHasher, sign_in, until


@pytest.fixture
def one_thread_no_queue() -> Iterator[None]:
    previous, queued = cpu.size(), cpu.queue()
    cpu.configure(1, queue=0)
    yield
    cpu.configure(previous, queue=queued)


async def test_a_sign_in_finding_the_pool_full_is_answered_busy_at_once(api, one_thread_no_queue, monkeypatch):
    # given two approved bidders, a pool of one thread that queues no call, and the first bidder's sign-in holding
    # that thread inside argon2
    operator = await f.operator_token(api)
    _, first, _ = await f.approved_org(api, operator)
    _, second, _ = await f.approved_org(api, operator)
    held = HeldHasher(hold=True)
    monkeypatch.setattr(passwords, "_hasher", held)
    signing_in = asyncio.ensure_future(api.gql(f.LOGIN, sign_in(first)))
    await until(held.entered.is_set, "the first sign-in reached argon2")

    # when the second bidder signs in meanwhile
    busy = (await api.gql(f.LOGIN, sign_in(second), headers={"accept-language": "en"}))["data"]["authLogin"]

    # then it is answered at once as RATE_LIMITED, the server busy, with when to try again; nothing was hashed for it
    assert busy["__typename"] == "RateLimited"
    assert busy["code"] == "RATE_LIMITED"
    assert "busy" in busy["message"]
    assert len(held.threads) == 1

    # when the first hash is let go, then the first sign-in succeeds, and the second, tried again, too
    held.release.set()
    assert (await signing_in)["data"]["authLogin"]["__typename"] == "SignedIn"
    await until(lambda: cpu.pending() == 0, "the pool emptied")
    again = (await api.gql(f.LOGIN, sign_in(second)))["data"]["authLogin"]
    assert again["__typename"] == "SignedIn"
