"""Organisations and their standing: review, credit records, joint punishments."""

from __future__ import annotations

from domain.accounts.models import Organisation, User
from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.credit.models import CreditRecord, JointPunishment
from domain.notifications.services import Kind, NewNotification, active_users_of
from notifications.rules.common import notify


async def password_changed(event: OutboxEvent) -> list[NewNotification]:
    """A security notice to the user whose password changed (time-critical: it may not have been them)."""
    user = await User.get_or_none(id=int(event.object_id))
    if user is None:
        return []
    at = shanghai_text(event.occurred_at)
    return notify(event, [user.id], Kind.ACCOUNT_SECURITY, event.type, time_critical=True, at=at)


async def organisation_reviewed(event: OutboxEvent) -> list[NewNotification]:
    org = await Organisation.get_or_none(id=int(event.object_id))
    if org is None:
        return []
    reason = str(event.payload.get("reason", ""))
    return notify(
        event, await active_users_of([org.id]), Kind.ENTITY_REVIEWED, event.type, name=org.name, reason=reason
    )


async def credit_recorded(event: OutboxEvent) -> list[NewNotification]:
    record = await CreditRecord.get_or_none(id=int(event.object_id)).prefetch_related("organisation")
    if record is None:
        return []
    org: Organisation = record.organisation  # type: ignore[assignment]
    return notify(
        event,
        await active_users_of([org.id]),
        Kind.CREDIT_RECORDED,
        f"credit.recorded.{record.kind}",
        name=org.name,
        category=record.category,
        description=record.description,
    )


async def punishment_listed(event: OutboxEvent) -> list[NewNotification]:
    entry = await JointPunishment.get_or_none(id=int(event.object_id)).prefetch_related("organisation")
    if entry is None:
        return []
    org: Organisation = entry.organisation  # type: ignore[assignment]
    until = shanghai_text(entry.ends_at) if entry.ends_at else None
    return notify(
        event,
        await active_users_of([org.id]),
        Kind.PUNISHMENT_LISTED,
        event.type,
        name=org.name,
        reason=entry.reason,
        until_zh=f"至{until}前" if until else "在解除前",
        until_en=f"until {until}" if until else "until it is lifted",
    )
