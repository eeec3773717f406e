"""What objections, complaints and reports share: the evidence they carry, the parties of a lot and the
keepers (supervisors and operators) who are told."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.access import scope
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, required_text
from domain.common.events import DomainEvent
from domain.common.models import OutboxEvent
from domain.complaints.errors import NotAnInterestedParty
from domain.publication.models import Announcement, Lot, Project
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus

MAX_TEXT = 4000
MAX_EVIDENCE = 20
MAX_FILE = 2 * 1024**3
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EVENT_NAMESPACE = uuid.UUID("5b0e7c8a-2f14-4d6b-a3c1-9e8d7f6a5b40")


@dataclass(frozen=True, slots=True)
class Evidence:
    name: str
    size: int
    sha256: str


def checked_evidence(items: list[Evidence]) -> list[dict[str, Any]]:
    """Attachments as name, size and SHA-256 (64 hex digits), each checked; InvalidInput names the field."""
    if len(items) > MAX_EVIDENCE:
        raise InvalidInput(field="evidence")
    out = []
    for i, item in enumerate(items):
        digest = item.sha256.strip().lower()
        if not _SHA256.match(digest):
            raise InvalidInput(field=f"evidence.{i}.sha256")
        if not 0 < item.size <= MAX_FILE:
            raise InvalidInput(field=f"evidence.{i}.size")
        out.append({"name": required_text(item.name, f"evidence.{i}.name", 255), "size": item.size, "sha256": digest})
    return out


def today() -> date:
    return clock.today()


def managers(project: Project) -> tuple[int, ...]:
    return tuple(o for o in (project.tenderer_id, project.agency_id) if o)


def supervises(actor: Actor, category: str | None) -> bool:
    """A supervisor of the category (any supervisor for a report about no lot)."""
    return (category is None and actor.has(Role.SUPERVISOR)) or scope.supervises(actor, category)


def keeper_roles() -> tuple[str, ...]:
    return (Role.SUPERVISOR.value, Role.OPERATOR.value)


async def public_lot(lot_id: int) -> tuple[Lot, Project, Announcement]:
    """A lot whose tender is published, its project and that tender announcement; else NotFound."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    tender = (
        await Announcement.filter(
            lot_id=lot_id, type=AnnouncementType.TENDER.value, status=AnnouncementStatus.PUBLISHED.value
        )
        .order_by("published_at")
        .first()
    )
    if tender is None:
        raise NotFound()
    return lot, await Project.get(id=lot.project_id), tender


def party(actor: Actor, project: Project) -> int:
    """The organisation of a signed-in user who is not the lot's tenderer or agency."""
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()
    if actor.org_id in managers(project):
        raise NotAnInterestedParty()
    return actor.org_id


async def record_once(event: DomainEvent, fact: str) -> None:
    event_id = uuid.uuid5(_EVENT_NAMESPACE, fact)
    if not await OutboxEvent.exists(event_id=event_id):
        await events.record(event, SYSTEM, event_id=event_id)
