"""A seeded project as planned, and one announcement it publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.bulk_seed.publishers import Publisher
from domain.common import clock
from domain.common.catalogue import Category
from domain.publication.identifiers import CATEGORY_CODES
from domain.publication.procedures import Procedure
from domain.publication.states import AnnouncementType, LotStatus


@dataclass(slots=True)
class Plan:
    """One project with one lot, the announcements it will publish, and what the database gave it."""

    category: Category
    region: str
    procedure: Procedure
    name: str
    tenderer: Publisher
    agency: Publisher | None
    estimate_wan: int
    config: dict[str, Any]
    eligibility: list[dict[str, str]]
    created_at: datetime
    details: dict[str, Any]
    project_id: int = 0
    lot_id: int = 0
    code: str = ""
    lot_code: str = ""
    tender_id: int | None = None
    lot_status: str = LotStatus.DRAFT.value
    lot_written: bool = False

    @property
    def publisher(self) -> Publisher:
        return self.agency or self.tenderer

    @property
    def prefix(self) -> str:
        return f"{self.region}{CATEGORY_CODES[self.category]}{clock.to_shanghai(self.created_at).year:04d}"


@dataclass(slots=True)
class Publication:
    plan: Plan
    kind: AnnouncementType
    at: datetime
    title: str
    body_html: str
    body_text: str
    search_text: str
    drafted_at: datetime
