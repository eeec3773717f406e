"""The security a lot asks of its bidders (a paid deposit or an issued guarantee), as registration sees it.

Deposits and guarantees plug in here from domain/wiring.py, so registration imports neither (they import
registration). A process that did not wire the domain cannot register or check security: it fails loudly
rather than registering bidders without their deposit account or judging nobody secured.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ClassVar

from domain.common.errors import DomainError
from domain.publication.models import Lot
from domain.publication.procedures import security_amount_fen
from domain.registration import incentives
from domain.registration.models import Registration

Opener = Callable[[Registration, Lot], Awaitable[object]]
Held = Callable[[int, int, datetime], Awaitable[bool]]
Shortfall = Callable[[int, int, datetime], Awaitable[DomainError | None]]

_openers: list[Opener] = []
_held: list[Held] = []
_shortfalls: list[Shortfall] = []


class GuaranteeValidityShortfall(DomainError):
    """An issued guarantee that no longer lasts until the lot's (moved) bid deadline plus the bid validity period is
    no security (招标投标法实施条例 第二十六条: the security is valid as long as the bids); defined here so that every
    area that judges security (tendering, auctions) names it without knowing guarantees."""

    code = "GUARANTEE_VALIDITY_SHORT"
    message_zh = (
        "电子保函有效期不足：须至少至 {required_until}（投标截止时间加投标有效期），请申请保函展期或提交其他投标保证"
    )
    message_en = (
        "The guarantee's validity falls short: it must last until at least {required_until} (the bid deadline plus "
        "the bid validity period); have it extended or give other security"
    )
    exposed: ClassVar[dict[str, str]] = {"required_until": "datetime"}


def plug(*, open_account: Opener | None = None, held: Held | None = None, shortfall: Shortfall | None = None) -> None:
    """Adds what opens an account for a new registration, what says a bidder's security is in place, and what says why
    a security the bidder holds does not count (idempotent: plugging the same function twice keeps one)."""
    if open_account is not None and open_account not in _openers:
        _openers.append(open_account)
    if held is not None and held not in _held:
        _held.append(held)
    if shortfall is not None and shortfall not in _shortfalls:
        _shortfalls.append(shortfall)


def _wired() -> None:
    if not _openers or not _held:
        raise RuntimeError("security is not wired: call domain.wiring.wire() at the process's start")


async def open_accounts(registration: Registration, lot: Lot) -> None:
    """Opens the registration's security accounts, in the caller's transaction (a lot asking security); first the
    lot's credit incentive decides what the bidder owes, and a waived security opens none."""
    _wired()
    await incentives.decide(registration, lot, security_amount_fen(lot.estimated_price_fen, lot.config))
    if await amount_owed(lot, registration.organisation_id) == 0:
        return
    for open_account in _openers:
        await open_account(registration, lot)


async def held(lot_id: int, org_id: int, at: datetime) -> bool:
    """Whether any plugged kind of security is in place for the organisation at `at`."""
    _wired()
    for kind in _held:
        if await kind(lot_id, org_id, at):
            return True
    return False


async def shortfall(lot_id: int, org_id: int, at: datetime) -> DomainError | None:
    """Why the organisation's security, not in place at `at`, falls short although it holds one (a guarantee that no
    longer covers the moved deadline: GuaranteeValidityShortfall); None when it simply has none."""
    for why in _shortfalls:
        found = await why(lot_id, org_id, at)
        if found is not None:
            return found
    return None


async def amount_owed(lot: Lot, org_id: int) -> int:
    """The security the organisation owes for the lot: the lot's amount, or less where a credit incentive relieved it
    at registration (domain/registration/incentives.py, 守信激励)."""
    base = security_amount_fen(lot.estimated_price_fen, lot.config)
    if base == 0:
        return 0
    relieved = await incentives.owed(lot.id, org_id)
    return base if relieved is None else min(base, relieved)
