"""Objections, complaints, suspensions and reports as their parties, supervisors and the public see them."""

from datetime import date, datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.complaints import complaints, objections, reports, states
from domain.complaints.models import Complaint as ComplaintModel
from domain.complaints.models import LotSuspension as SuspensionModel
from domain.complaints.models import Objection as ObjectionModel
from domain.complaints.models import Report as ReportModel
from domain.complaints.shared import Evidence
from schema import fields
from schema.describe import describe_values
from schema.relay import Node, node_resolver, to_global_id

ObjectionStageKind: TypeAlias = states.ObjectionStage
strawberry.enum(
    ObjectionStageKind,
    name="ObjectionStage",
    description="DOCUMENTS (tender documents, 10+ days before the bid deadline), OPENING (during the opening), "
    "PUBLICITY (the candidates, during their publicity).",
)
describe_values(
    ObjectionStageKind,
    {
        "DOCUMENTS": "The tender documents: at least 10 days before the bid deadline.",
        "OPENING": "The opening: during the opening itself.",
        "PUBLICITY": "The winning-bid candidates: during their publicity.",
        "CANCELLATION": "A cancellation (终止招标/废标): during its objection window.",
    },
)
ObjectionState: TypeAlias = states.ObjectionStatus
strawberry.enum(
    ObjectionState,
    name="ObjectionStatus",
    description="PENDING -> ANSWERED | WITHDRAWN; OVERDUE when not answered in time (may still be answered).",
)
describe_values(
    ObjectionState,
    {
        "PENDING": "Waiting for the tenderer's answer.",
        "ANSWERED": "Answered by the tenderer.",
        "WITHDRAWN": "Withdrawn by the objector.",
        "OVERDUE": "Not answered in time; it may still be answered, and a complaint may follow.",
    },
)
ComplaintSubjectKind: TypeAlias = states.ComplaintSubject
strawberry.enum(
    ComplaintSubjectKind,
    name="ComplaintSubject",
    description="DOCUMENTS, OPENING, CANDIDATES (each needs an objection first, answered or overdue), OTHER.",
)
describe_values(
    ComplaintSubjectKind,
    {
        "DOCUMENTS": "The tender documents (needs an objection to the tenderer first).",
        "OPENING": "The opening of bids (needs an objection during the opening first).",
        "CANDIDATES": "The winning-bid candidates (needs an objection during their publicity first).",
        "OTHER": "Anything else about the lot's procedure; no objection needed first.",
    },
)
ComplaintState: TypeAlias = states.ComplaintStatus
strawberry.enum(
    ComplaintState,
    name="ComplaintStatus",
    description="SUBMITTED -> ACCEPTED -> DECIDED; or REFUSED; WITHDRAWN by the complainant before the decision.",
)
describe_values(
    ComplaintState,
    {
        "SUBMITTED": "Filed: the supervisor accepts or refuses it within 3 working days.",
        "ACCEPTED": "Accepted (受理): the supervisor decides within 30 working days.",
        "REFUSED": "Refused (不予受理), with the reason.",
        "DECIDED": "Decided; the decision is published.",
        "WITHDRAWN": "Withdrawn by the complainant before the decision.",
    },
)
ComplaintDecisionKind: TypeAlias = states.Decision
strawberry.enum(ComplaintDecisionKind, name="ComplaintDecision", description="UPHELD, PARTLY_UPHELD or DISMISSED.")
describe_values(
    ComplaintDecisionKind,
    {
        "UPHELD": "The complaint is upheld (投诉成立).",
        "PARTLY_UPHELD": "The complaint is partly upheld (部分成立).",
        "DISMISSED": "The complaint is dismissed (驳回).",
    },
)
ReportState: TypeAlias = states.ReportStatus
strawberry.enum(ReportState, name="ReportStatus", description="RECEIVED -> INVESTIGATING -> CLOSED.")
describe_values(
    ReportState,
    {
        "RECEIVED": "Received; no supervisor has taken it up yet.",
        "INVESTIGATING": "A supervisor is investigating.",
        "CLOSED": "Closed with an outcome.",
    },
)


def _gid(kind: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(to_global_id(kind, pk))


@strawberry.type(description="An attachment given as evidence: its name, size and SHA-256.")
class EvidenceFile:
    name: str = strawberry.field(description="The file name as given.")
    size: int = strawberry.field(description="Size of the file in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the file, 64 lowercase hex digits.")


@strawberry.input(description="An attachment given as evidence: the file itself is kept by the client's storage.")
class EvidenceInput:
    name: str = strawberry.field(description="File name, up to 255 characters.")
    size: int = strawberry.field(description="Size in bytes, 1 to 2 GiB.")
    sha256: str = strawberry.field(description="SHA-256 of the file, 64 hex digits.")

    def to_domain(self) -> Evidence:
        return Evidence(name=self.name, size=self.size, sha256=self.sha256)


def evidence_of(items: list[EvidenceInput] | None) -> list[Evidence]:
    return [i.to_domain() for i in items or []]


def _files(raw: list[dict]) -> list[EvidenceFile]:  # type: ignore[type-arg]
    return [EvidenceFile(name=f["name"], size=int(f["size"]), sha256=f["sha256"]) for f in raw or []]


@strawberry.type(description="An objection (异议) to the tenderer, and its answer.")
class Objection(Node):
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    stage: ObjectionStageKind = strawberry.field(
        description="The stage objected to: tender documents, the opening, or the candidate publicity."
    )
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the objecting organisation.")
    reasons: str = strawberry.field(description="The objection and its grounds.")
    evidence: list[EvidenceFile] = strawberry.field(description="Files given as evidence.")
    status: ObjectionState = strawberry.field(description="Where the objection stands.")
    raised_at: datetime = strawberry.field(description="When the objection was raised.")
    answer_due_at: datetime = strawberry.field(description="The tenderer answers by then (24:00 Beijing time).")
    answer: str | None = strawberry.field(description="The tenderer's answer; null until answered.")
    answered_at: datetime | None = strawberry.field(description="When it was answered; null before.")
    withdrawn_at: datetime | None = strawberry.field(
        description="When the objector withdrew it; null unless withdrawn."
    )
    overdue_at: datetime | None = strawberry.field(description="When the chronograph flagged it overdue.")

    @classmethod
    def from_model(cls, m: ObjectionModel) -> "Objection":
        return cls(
            _pk=m.id,
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            stage=states.ObjectionStage(m.stage),
            organisation_id=strawberry.ID(to_global_id("Organisation", m.organisation_id)),
            reasons=m.reasons,
            evidence=_files(m.evidence),
            status=states.ObjectionStatus(m.status),
            raised_at=m.raised_at,
            answer_due_at=m.answer_due_at,
            answer=m.answer,
            answered_at=m.answered_at,
            withdrawn_at=m.withdrawn_at,
            overdue_at=m.overdue_at,
        )


@strawberry.type(description="A suspension of a lot (暂停招标投标活动) by the supervisor handling a complaint.")
class LotSuspension:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the suspended lot.")
    complaint_id: strawberry.ID | None = strawberry.field(
        description="Global id of the complaint the suspension was made for, if any."
    )
    reason: str = strawberry.field(description="Why the lot is suspended, as the supervisor wrote it.")
    suspended_at: datetime = strawberry.field(description="When the suspension began.")
    lifted_at: datetime | None = strawberry.field(description="Null while in force: the lot cannot move.")

    @classmethod
    def from_model(cls, m: SuspensionModel) -> "LotSuspension":
        return cls(
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            complaint_id=_gid("Complaint", m.complaint_id),
            reason=m.reason,
            suspended_at=m.suspended_at,
            lifted_at=m.lifted_at,
        )


@strawberry.type(
    description="A complaint (投诉) to the supervisor of the lot's category: for the complainant, the respondent "
    "(tenderer, agency), the supervisors of the category and operators. The public reads the published decision."
)
class Complaint(Node):
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    category: str = strawberry.field(
        description="The trading catalogue category of the lot; its supervisors handle the complaint."
    )
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the complainant.")
    objection_id: strawberry.ID | None = strawberry.field(description="The objection it follows, where needed.")
    subject: ComplaintSubjectKind = strawberry.field(
        description="What the complaint is about: tender documents, the opening, the candidates, or something else."
    )
    knew_on: date = strawberry.field(description="The day the complainant knew or should have known.")
    reasons: str = strawberry.field(description="The facts and grounds the complainant gives.")
    requests: str = strawberry.field(description="What the complainant asks the supervisor for.")
    evidence: list[EvidenceFile] = strawberry.field(description="Files given as evidence.")
    status: ComplaintState = strawberry.field(description="Where the complaint stands.")
    filed_at: datetime = strawberry.field(description="When the complaint was filed.")
    accept_due_at: datetime = strawberry.field(description="Accepted or refused by then (3 working days).")
    accepted_at: datetime | None = strawberry.field(
        description="When the supervisor accepted it; null before or if refused."
    )
    refused_reason: str | None = strawberry.field(
        description="Why the supervisor refused it (不予受理); null unless refused."
    )
    decide_due_at: datetime | None = strawberry.field(description="Decided by then (30 working days).")
    decision: ComplaintDecisionKind | None = strawberry.field(
        description="The supervisor's decision; null until decided."
    )
    decision_reasons: str | None = strawberry.field(
        description="The grounds of the decision, as published; null until decided."
    )
    decided_at: datetime | None = strawberry.field(description="When it was decided; null before.")
    announcement_id: strawberry.ID | None = strawberry.field(description="The published decision announcement.")
    malicious: bool = strawberry.field(description="Dismissed as malicious or false (a bad credit record).")
    withdrawn_at: datetime | None = strawberry.field(
        description="When the complainant withdrew it; null unless withdrawn."
    )
    overdue_at: datetime | None = strawberry.field(
        description="When the chronograph flagged the current deadline (acceptance or decision) overdue."
    )

    @fields.field(description="The lot's suspension made for this complaint, in force or lifted.")
    async def suspension(self) -> LotSuspension | None:
        found = await SuspensionModel.filter(complaint_id=self._pk).order_by("-id").first()
        return LotSuspension.from_model(found) if found else None

    @classmethod
    def from_model(cls, m: ComplaintModel) -> "Complaint":
        return cls(
            _pk=m.id,
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            category=m.category,
            organisation_id=strawberry.ID(to_global_id("Organisation", m.organisation_id)),
            objection_id=_gid("Objection", m.objection_id),
            subject=states.ComplaintSubject(m.subject),
            knew_on=m.knew_on,
            reasons=m.reasons,
            requests=m.requests,
            evidence=_files(m.evidence),
            status=states.ComplaintStatus(m.status),
            filed_at=m.filed_at,
            accept_due_at=m.accept_due_at,
            accepted_at=m.accepted_at,
            refused_reason=m.refused_reason,
            decide_due_at=m.decide_due_at,
            decision=states.Decision(m.decision) if m.decision else None,
            decision_reasons=m.decision_reasons,
            decided_at=m.decided_at,
            announcement_id=_gid("Announcement", m.announcement_id),
            malicious=m.malicious,
            withdrawn_at=m.withdrawn_at,
            overdue_at=m.overdue_at,
        )


@strawberry.type(description="A report (举报) as its supervisors see it.")
class Report(Node):
    lot_id: strawberry.ID | None = strawberry.field(description="Global id of the lot reported about, if any.")
    organisation_id: strawberry.ID | None = strawberry.field(
        description="Global id of the organisation reported about, if any."
    )
    category: str | None = strawberry.field(
        description="The trading catalogue category of the lot reported about; null for an organisation."
    )
    anonymous: bool = strawberry.field(description="Whether the reporter was not signed in (nobody knows who it is).")
    text: str = strawberry.field(description="What the reporter says happened.")
    evidence: list[EvidenceFile] = strawberry.field(description="Files given as evidence.")
    status: ReportState = strawberry.field(description="Where the report stands.")
    outcome: str | None = strawberry.field(description="The supervisor's outcome, once closed.")
    received_at: datetime = strawberry.field(description="When the report was received.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")

    @classmethod
    def from_model(cls, m: ReportModel) -> "Report":
        return cls(
            _pk=m.id,
            lot_id=_gid("Lot", m.lot_id),
            organisation_id=_gid("Organisation", m.organisation_id),
            category=m.category,
            anonymous=m.reporter_user_id is None,
            text=m.text,
            evidence=_files(m.evidence),
            status=states.ReportStatus(m.status),
            outcome=m.outcome,
            received_at=m.received_at,
            updated_at=m.updated_at,
        )


@strawberry.type(description="Where a report stands, as its reporter reads it with the tracking code.")
class ReportProgress:
    status: ReportState = strawberry.field(description="Where the report stands.")
    outcome: str | None = strawberry.field(description="The supervisor's outcome, once closed.")
    received_at: datetime = strawberry.field(description="When the report was received.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")

    @classmethod
    def from_model(cls, m: ReportModel) -> "ReportProgress":
        return cls(
            status=states.ReportStatus(m.status),
            outcome=m.outcome if m.status == states.ReportStatus.CLOSED.value else None,
            received_at=m.received_at,
            updated_at=m.updated_at,
        )


def _pk(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


@node_resolver("Complaint")
async def _complaint_node(info: Info, pk: str) -> Complaint | None:
    number = _pk(pk)
    if number is None:
        return None
    try:
        return Complaint.from_model(await complaints.complaint(info.context.actor, number))
    except DomainError:
        return None


@node_resolver("Objection")
async def _objection_node(info: Info, pk: str) -> Objection | None:
    number = _pk(pk)
    if number is None:
        return None
    try:
        return Objection.from_model(await objections.objection(info.context.actor, number))
    except DomainError:
        return None


@node_resolver("Report")
async def _report_node(info: Info, pk: str) -> Report | None:
    number = _pk(pk)
    if number is None:
        return None
    try:
        found = await reports.supervised_reports(info.context.actor).get_or_none(id=number)
    except DomainError:
        return None
    return Report.from_model(found) if found else None
