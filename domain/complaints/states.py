"""The states of objections (异议), complaints (投诉) and reports (举报), and the words for them."""

from __future__ import annotations

from enum import StrEnum


class ObjectionStage(StrEnum):
    DOCUMENTS = "documents"  # 对招标文件的异议
    OPENING = "opening"  # 对开标的异议
    PUBLICITY = "publicity"  # 对评标结果（中标候选人）的异议


class ObjectionStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"
    OVERDUE = "overdue"  # not answered in time: flagged to the supervisors; may still be answered


UNANSWERED = (ObjectionStatus.PENDING.value, ObjectionStatus.OVERDUE.value)


class ComplaintSubject(StrEnum):
    DOCUMENTS = "documents"
    OPENING = "opening"
    CANDIDATES = "candidates"
    OTHER = "other"  # e.g. the award itself: no objection needed first


# the objection a complaint on a subject needs first
OBJECTION_FIRST: dict[ComplaintSubject, ObjectionStage] = {
    ComplaintSubject.DOCUMENTS: ObjectionStage.DOCUMENTS,
    ComplaintSubject.OPENING: ObjectionStage.OPENING,
    ComplaintSubject.CANDIDATES: ObjectionStage.PUBLICITY,
}


class ComplaintStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for acceptance (3 working days)
    ACCEPTED = "accepted"  # to be decided (30 working days)
    REFUSED = "refused"  # not accepted, with the reason
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


OPEN_COMPLAINT = (ComplaintStatus.SUBMITTED.value, ComplaintStatus.ACCEPTED.value)


class Decision(StrEnum):
    UPHELD = "upheld"  # 投诉成立
    PARTLY_UPHELD = "partly_upheld"  # 部分成立
    DISMISSED = "dismissed"  # 驳回


DECISION_ZH = {Decision.UPHELD: "投诉成立", Decision.PARTLY_UPHELD: "投诉部分成立", Decision.DISMISSED: "驳回投诉"}
SUBJECT_ZH = {
    ComplaintSubject.DOCUMENTS: "招标文件",
    ComplaintSubject.OPENING: "开标",
    ComplaintSubject.CANDIDATES: "评标结果（中标候选人）",
    ComplaintSubject.OTHER: "其他事项",
}
STAGE_ZH = {ObjectionStage.DOCUMENTS: "招标文件", ObjectionStage.OPENING: "开标", ObjectionStage.PUBLICITY: "评标结果"}


class ReportStatus(StrEnum):
    RECEIVED = "received"
    INVESTIGATING = "investigating"
    CLOSED = "closed"
