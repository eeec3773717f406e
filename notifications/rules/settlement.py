"""Treasury settlement: the payee is told when the treasury paid (国库集中支付)."""

from __future__ import annotations

from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.notifications.services import Kind, NewNotification, active_users_of
from notifications.rules.common import notify


async def treasury_paid(event: OutboxEvent) -> list[NewNotification]:
    """The payee organisation's users, once the treasury confirmed the payment; nothing for the other steps."""
    if event.payload.get("step") != "paid":
        return []
    return notify(
        event,
        await active_users_of([int(event.payload["payee_org_id"])]),
        Kind.CONTRACT,
        "treasury.paid",
        object_type="TreasuryPayment",
        object_id=event.object_id,
        amount=Money(int(event.payload.get("amount_fen") or 0)).yuan_text(),
        request_no=event.payload.get("request_no", ""),
    )
