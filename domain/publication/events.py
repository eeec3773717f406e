"""What happens to projects, lots and announcements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ProjectCreated(DomainEvent):
    type = "project.created"
    object_type = "Project"
    trade_code: str
    lots: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ProjectIndustrySet(DomainEvent):
    """A project's 招标项目类型 (industry) was given or changed (an engineering project made without one, or
    mistaken)."""

    type = "project.industry_set"
    object_type = "Project"
    trade_code: str
    before: str | None
    after: str


@dataclass(frozen=True, kw_only=True)
class AnnouncementDrafted(DomainEvent):
    type = "announcement.drafted"
    object_type = "Announcement"
    trade_code: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class AnnouncementPublished(DomainEvent):
    """Public the moment it is committed: feeds, kiosks, saved searches and the audit trail."""

    type = "announcement.published"
    object_type = "Announcement"
    trade_code: str
    kind: str
    title: str
    category: str
    region_code: str
    project_id: int
    lot_id: int | None
    corrects_id: int | None
    published_at: str


@dataclass(frozen=True, kw_only=True)
class LotStatusChanged(DomainEvent):
    type = "lot.status_changed"
    object_type = "Lot"
    trade_code: str
    before: str
    after: str


@dataclass(frozen=True, kw_only=True)
class LotDeadlineMoved(DomainEvent):
    """A lot's bid deadline moved (顺延 by a clarification): what follows the deadline in other areas re-checks
    itself (guarantees whose validity no longer covers it). For operators only, as the change notice is public."""

    type = "lot.deadline_moved"
    object_type = "Lot"
    before: datetime
    after: datetime


@dataclass(frozen=True, kw_only=True)
class SavedSearchMatched(DomainEvent):
    """A new announcement matches a user's saved search (delivered by notifications)."""

    type = "saved_search.matched"
    object_type = "SavedSearch"
    announcement_id: int
    title: str
    trade_code: str


# and a credit record entering or leaving public view (domain/credit_public/publicity: masked, public fields only)
FEED_KINDS = frozenset(
    {AnnouncementPublished.type, LotStatusChanged.type, "credit.publicised", "credit.publicity_ended"}
)
