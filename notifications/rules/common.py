"""What every rule uses: one notification per recipient, and the recipients the rules share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.common.clock import shanghai_text
from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.notifications.services import Kind, NewNotification
from domain.publication.models import Lot, Project
from domain.registration.models import Registration
from domain.registration.services import RegistrationStatus
from notifications.templates import TEMPLATES

Rule = Callable[[OutboxEvent], Awaitable[list[NewNotification]]]
# the same for the batch's events of its types at once, with a few queries whatever their number: one list per event
BatchRule = Callable[[Sequence[OutboxEvent]], Awaitable[list[list[NewNotification]]]]


def notify(
    event: OutboxEvent,
    users: Sequence[int],
    kind: Kind,
    template: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    time_critical: bool = False,
    experts: Sequence[int] = (),
    **fields: object,
) -> list[NewNotification]:
    """One notification per user, and per expert (experts are not users: their inbox and devices are their own)."""
    title_zh, body_zh, title_en, body_en = TEMPLATES[template].render(**fields)
    recipients = [(user_id, None) for user_id in users] + [(None, expert_id) for expert_id in experts]
    return [
        NewNotification(
            user_id=user_id,
            expert_id=expert_id,
            kind=kind,
            title_zh=title_zh,
            body_zh=body_zh,
            title_en=title_en,
            body_en=body_en,
            object_type=object_type or event.object_type,
            object_id=object_id or event.object_id,
            event_id=event.event_id,
            time_critical=time_critical,
        )
        for user_id, expert_id in recipients
    ]


def payload_time(event: OutboxEvent, name: str) -> str:
    value = event.payload.get(name)
    return shanghai_text(datetime.fromisoformat(str(value))) if value else ""


async def lot_and_project(lot_id: object) -> tuple[Lot, Project] | None:
    lot = await Lot.get_or_none(id=int(str(lot_id)))
    if lot is None:
        return None
    return lot, await Project.get(id=lot.project_id)


def managers(project: Project) -> list[int]:
    return [o for o in (project.tenderer_id, project.agency_id) if o]


async def supervisors_of(category: str) -> list[int]:
    """Approved supervisor organisations whose supervised categories include this one."""
    orgs = await Organisation.filter(status=OrgStatus.APPROVED.value)
    return [
        o.id
        for o in orgs
        if OrgKind.SUPERVISOR.value in (o.kinds or []) and category in (o.supervised_categories or [])
    ]


async def operators() -> list[int]:
    """Approved operator organisations (the trading centre)."""
    orgs = await Organisation.filter(status=OrgStatus.APPROVED.value)
    return [o.id for o in orgs if OrgKind.OPERATOR.value in (o.kinds or [])]


async def registrants(lot_id: int) -> list[int]:
    return [
        int(o)
        for o in await column(
            Registration.filter(lot_id=lot_id, status=RegistrationStatus.REGISTERED.value).values_list(
                "organisation_id", flat=True
            ),
            int,
        )
    ]
