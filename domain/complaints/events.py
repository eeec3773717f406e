"""The events objections, complaints, reports and lot suspensions record (to the outbox, then notices)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.common.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ObjectionRaised(DomainEvent):
    """To the tenderer (and its agency): answer within answer_due_at."""

    type = "objection.raised"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int
    answer_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ObjectionAnswered(DomainEvent):
    """To the objector: the tenderer answered."""

    type = "objection.answered"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int
    late: bool


@dataclass(frozen=True, kw_only=True)
class ObjectionWithdrawn(DomainEvent):
    type = "objection.withdrawn"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int


@dataclass(frozen=True, kw_only=True)
class ObjectionOverdue(DomainEvent):
    """To the supervisors of the category and the tenderer: not answered in time."""

    type = "objection.overdue"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int
    answer_due_at: datetime
    category: str


@dataclass(frozen=True, kw_only=True)
class ComplaintFiled(DomainEvent):
    """To the supervisors of the category: accept or refuse by accept_due_at."""

    type = "complaint.filed"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    subject: str
    category: str
    accept_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ComplaintAccepted(DomainEvent):
    """To the complainant and the respondent: decision due by decide_due_at."""

    type = "complaint.accepted"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    decide_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ComplaintRefused(DomainEvent):
    type = "complaint.refused"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ComplaintWithdrawn(DomainEvent):
    type = "complaint.withdrawn"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str


@dataclass(frozen=True, kw_only=True)
class ComplaintDecided(DomainEvent):
    """To the complainant and the respondent: the decision, published as an announcement."""

    type = "complaint.decided"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    decision: str
    announcement_id: int
    malicious: bool


@dataclass(frozen=True, kw_only=True)
class ComplaintOverdue(DomainEvent):
    """To the supervisors of the category: acceptance (stage accept) or decision (stage decide) is late."""

    type = "complaint.overdue"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    stage: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class LotSuspendedEvent(DomainEvent):
    """The lot is suspended (暂停招标投标活动): public, as every bidder must know the lot is paused."""

    type = "lot.suspended"
    object_type = "Lot"
    lot_id: int
    complaint_id: int | None
    reason: str
    trade_code: str


@dataclass(frozen=True, kw_only=True)
class LotSuspensionLifted(DomainEvent):
    type = "lot.suspension_lifted"
    object_type = "Lot"
    lot_id: int
    complaint_id: int | None
    trade_code: str


@dataclass(frozen=True, kw_only=True)
class ReportReceived(DomainEvent):
    """To the supervisors (of the category when the report concerns a lot)."""

    type = "report.received"
    object_type = "Report"
    lot_id: int | None
    organisation_id: int | None
    category: str | None
    anonymous: bool


@dataclass(frozen=True, kw_only=True)
class ReportStatusChanged(DomainEvent):
    """To the reporter when signed in (an anonymous one follows with the code) and the supervisors."""

    type = "report.status_changed"
    object_type = "Report"
    status: str
    category: str | None
