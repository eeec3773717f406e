"""Rows the domain tests need, written straight through the models with their required fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from domain.accounts.models import Organisation, User
from domain.accounts.states import OrgStatus
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.models import OutboxEvent
from tests import factories as f

OPERATOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))


async def organisation(
    status: OrgStatus = OrgStatus.APPROVED,
    kinds: list[str] | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> Organisation:
    """An organisation with a contact person and phone of its own unless given."""
    now = clock.now()
    phone = contact_phone or f.new_phone()
    return await Organisation.create(
        credit_code=f.new_credit_code(),
        name="青岛测试建设有限公司",
        region_code="370202",
        kinds=kinds or ["bidder"],
        contact_name=contact_name or f"测试员{phone[-4:]}",
        contact_phone=phone,
        status=status.value,
        created_at=now,
        updated_at=now,
    )


async def user(org: Organisation, locked_until: datetime | None = None) -> User:
    return await User.create(
        organisation=org,
        phone=f.new_phone(),
        name="测试员",
        password_hash="-",
        failed_logins=5 if locked_until else 0,
        locked_until=locked_until,
        next_check_at=locked_until,
        created_at=clock.now(),
    )


@dataclass(frozen=True, kw_only=True)
class Noted(events.DomainEvent):
    """A small event for tests of the outbox and the audit trail."""

    type = "test.noted"
    object_type = "Note"
    text: str = ""


async def outbox(n: int, actor: Actor = OPERATOR, **payload: Any) -> list[OutboxEvent]:
    """Records n events in one committed transaction, as a service would."""
    async with in_transaction():
        return [await events.record(Noted(object_id=str(i), **payload), actor) for i in range(1, n + 1)]


async def live_auction(lot: Any, seq: int = 1) -> Any:
    """An auction in free bidding since now, its sequence at `seq` (rows written directly, no bidding rules)."""
    from domain.auctions.models import Auction
    from domain.common import clock

    now = clock.now()
    return await Auction.create(
        lot=lot,
        starting_price_fen=100,
        increment_fen=10,
        reserve_price_fen=100,
        starts_at=now,
        free_ends_at=now,
        countdown_seconds=60,
        entry_deadline=now,
        phase="free",
        seq=seq,
        created_at=now,
        updated_at=now,
    )
