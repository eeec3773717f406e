"""The invoice provider's access token shared by every process of a deployment through the database
(InvoiceProviderToken): the token URL allows 50 calls in 30 days, so a second process, a restart, a due renewal
or a refused token costs at most one call. A "process" is the adapter's memory (`adapters._tokens`), cleared or
set to what another process holds; the stub counts the calls to its token URL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from tortoise import connections

from domain.accounts import adapters as account_adapters
from domain.common.clock import ManualClock
from domain.settlement import adapters
from domain.settlement.models import InvoiceProviderToken
from tests.support.invoice_provider import InvoiceProviderStub

pytestmark = pytest.mark.usefixtures("api")  # the database the token is stored in


@pytest.fixture
async def nuonuo() -> AsyncIterator[InvoiceProviderStub]:
    stub = InvoiceProviderStub()
    await stub.start()
    adapters.configure(stub.settings())
    adapters._tokens.clear()
    try:
        yield stub
    finally:
        adapters.configure({})
        adapters._tokens.clear()
        await stub.stop()


async def _query() -> str:
    """One services call (a result query) as a process makes it: its code."""
    answer = await adapters.nuonuo_call(adapters.QUERY, {"orderNos": ["PTF0000000001B00"]})
    return str(answer["code"])


async def test_two_processes_at_once_ask_the_token_url_once(
    nuonuo: InvoiceProviderStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two processes with nothing in memory, not sharing their in-process lock
    monkeypatch.setattr(adapters.deps, "token_lock", contextlib.nullcontext())
    # when both need the token at the same time
    first, second = await asyncio.gather(adapters._access_token(), adapters._access_token())
    # then one asked the token URL, the other waited and read the stored token
    assert first == second
    assert nuonuo.token_calls == 1


async def test_a_stored_token_survives_a_restart(nuonuo: InvoiceProviderStub) -> None:
    # given a token asked for and used by one process
    assert await _query() == adapters.NOT_FOUND
    assert nuonuo.token_calls == 1
    # when the process restarts (its memory lost), or another one starts, and calls the provider
    adapters._tokens.clear()
    assert await _query() == adapters.NOT_FOUND
    adapters._tokens.clear()
    assert await _query() == adapters.NOT_FOUND
    # then the stored token serves them: no new call to the token URL
    assert nuonuo.token_calls == 1
    assert "070301" not in nuonuo.codes("queryInvoiceResult")


async def test_a_due_token_is_renewed_once_for_every_process(
    nuonuo: InvoiceProviderStub, manual_clock: ManualClock
) -> None:
    # given a stored token, held in memory by two processes
    token = await adapters._access_token()
    other = dict(adapters._tokens)
    # when its renewal time passes (an hour before it lapses) and both processes need it
    manual_clock.advance(hours=23, seconds=1)
    renewed = await adapters._access_token()
    adapters._tokens.clear()
    adapters._tokens.update(other)
    # then one renewed it, the other reads the renewed one
    assert await adapters._access_token() == renewed != token
    assert nuonuo.token_calls == 2
    adapters._tokens.clear()
    assert await adapters._access_token() == renewed
    assert nuonuo.token_calls == 2


async def test_a_refused_token_is_renewed_once_for_every_process(nuonuo: InvoiceProviderStub) -> None:
    # given a stored token, held in memory by two processes, that the provider no longer knows
    await adapters._access_token()
    other = dict(adapters._tokens)
    nuonuo.expire_tokens()
    # when the first process's call is refused (070301) it renews the token and calls again
    assert await _query() == adapters.NOT_FOUND
    assert nuonuo.token_calls == 2
    # and when the second one's old token is refused too, it reads the renewed one
    adapters._tokens.clear()
    adapters._tokens.update(other)
    assert await _query() == adapters.NOT_FOUND
    assert nuonuo.token_calls == 2
    assert nuonuo.codes("queryInvoiceResult") == ["070301", adapters.NOT_FOUND, "070301", adapters.NOT_FOUND]


async def test_the_stored_token_is_sealed_not_plain(nuonuo: InvoiceProviderStub) -> None:
    # given a token stored
    token = await adapters._access_token()
    # then no column of its row holds it in plain text, and the deployment's key-encryption keys open it
    rows = await connections.get("default").execute_query_dict("SELECT * FROM invoice_provider_token")
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0].values())
    row = await InvoiceProviderToken.get(app_key=nuonuo.app_key)
    label = f"invoice-provider token {row.token_url} {row.app_key}"
    assert (await account_adapters.deps.keyring.keks.open(row.sealed_token, label)).decode() == token
