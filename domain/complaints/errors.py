"""The business errors of objections, complaints, reports and the lot suspension."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError


class ObjectionWindowClosed(DomainError):
    code = "OBJECTION_WINDOW_CLOSED"
    message_zh = "当前不在{stage_zh}异议的提出期限内"
    message_en = "Objections on the {stage} cannot be raised now"
    exposed: ClassVar[dict[str, str]] = {"stage": "str"}


class NotAnInterestedParty(DomainError):
    code = "NOT_AN_INTERESTED_PARTY"
    message_zh = "招标人及其代理机构不能对本标段提出异议或投诉"
    message_en = "The tenderer and its agency cannot object to or complain about their own lot"


class ComplaintTooLate(DomainError):
    code = "COMPLAINT_TOO_LATE"
    message_zh = "投诉应当自知道或者应当知道之日起 {days} 日内提出，期限已于 {deadline} 届满"
    message_en = "A complaint is due within {days} days of knowing; the period ended at {deadline}"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime", "days": "int"}


class ObjectionRequired(DomainError):
    code = "OBJECTION_REQUIRED"
    message_zh = "对{subject_zh}的投诉，应当先向招标人提出异议，并在招标人答复或答复期满后再投诉"
    message_en = "A complaint about the {subject} needs an objection to the tenderer first, answered or overdue"
    exposed: ClassVar[dict[str, str]] = {"subject": "str"}


class LotAlreadySuspended(DomainError):
    code = "LOT_ALREADY_SUSPENDED"
    message_zh = "该标段已处于暂停状态"
    message_en = "The lot is already suspended"


class NotSuspended(DomainError):
    code = "NOT_SUSPENDED"
    message_zh = "该投诉未暂停标段，无需解除"
    message_en = "This complaint has no suspension in force to lift"
