"""Failed credential attempts, counted per client address and per credential (a phone number, a terminal's device id,
an integrator's client id) in the deployment's shared counter (adapters.deps.failures), and refused as RateLimited
past their limit before the attempt's expensive check runs: each costs an argon2 verification (64 MiB, about 200 ms
of CPU) and, for a known credential, a refused attempt in the audit trail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from domain.accounts.adapters import deps
from domain.common import clock
from domain.common.actors import Actor
from domain.common.errors import DomainError, RateLimited

T = TypeVar("T")

ADDRESS_WINDOW = 60  # seconds: failures counted per client address a minute
CREDENTIAL_WINDOW = 15 * 60  # and per credential in 15 minutes


@dataclass
class ClientLimits:
    """Failed sign-ins of machine clients (terminals' device credentials, integrators' client credentials) allowed
    per client address a minute and per device or client id in 15 minutes; 0: no limit. Wired from the settings
    CLIENT_SIGNIN_FAILURES_PER_ADDRESS / _PER_ID at the composition root (api/services.py)."""

    per_address: int = 30
    per_id: int = 10


clients = ClientLimits()
# one counter per address for both kinds of machine client (a password sign-in's is `signin-address`)
CLIENT_ADDRESS = "signin-client-address"


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `limit` failures counted under `key` in a fixed window of `window` seconds; a limit of 0 is none."""

    key: str
    limit: int
    window: int


def limits(actor: Actor, credential: str, per_credential: int, address: str, per_address: int) -> list[Limit]:
    """The limits of one attempt: its credential's counter (`credential`, e.g. `signin-terminal:<device id>`, counted
    in 15 minutes) and, when the client's address is known, the address's (`<address>:<ip>`, counted a minute)."""
    found = [Limit(credential[:128], per_credential, CREDENTIAL_WINDOW)]
    if actor.ip:
        found.append(Limit(f"{address}:{actor.ip}", per_address, ADDRESS_WINDOW))
    return [each for each in found if each.limit > 0]


async def ensure_allowed(checked: list[Limit]) -> None:
    """RateLimited (with when to retry) when any limit has as many failures as it allows; counts nothing."""
    if deps.failures is None:
        return
    for each in checked:
        count, reset = await deps.failures.peek(each.key, each.window)
        if count >= each.limit:
            raise RateLimited(retry_at=clock.now() + timedelta(seconds=reset))


async def count_failure(checked: list[Limit]) -> None:
    """One more failure under every limit."""
    if deps.failures is not None:
        for each in checked:
            await deps.failures.hit(each.key, each.limit, each.window)


async def guarded(
    checked: list[Limit], failures: tuple[type[DomainError], ...], attempt: Callable[[], Awaitable[T]]
) -> T:
    """The attempt's outcome; refused as RateLimited before it runs when a limit is used up, and counted as a failure
    under every limit when it raises one of `failures`."""
    await ensure_allowed(checked)
    try:
        return await attempt()
    except failures:
        await count_failure(checked)
        raise
