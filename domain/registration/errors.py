"""What registering for a lot can refuse."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError


class RegistrationClosed(DomainError):
    code = "REGISTRATION_CLOSED"
    message_zh = "不在报名时间内（{opens_at} 至 {closes_at}）"
    message_en = "Registration is not open ({opens_at} to {closes_at})"
    exposed: ClassVar[dict[str, str]] = {"opens_at": "datetime", "closes_at": "datetime"}


class NotEligible(DomainError):
    code = "NOT_ELIGIBLE"
    message_zh = "不符合报名条件：{rule}"
    message_en = "Not eligible: {rule}"
    exposed: ClassVar[dict[str, str]] = {"rule": "str"}


class RegistrationLocked(DomainError):
    code = "REGISTRATION_LOCKED"
    message_zh = "投标截止后不能撤回报名"
    message_en = "A registration cannot be withdrawn after the bid deadline"


class NotRegistered(DomainError):
    code = "NOT_REGISTERED"
    message_zh = "须先报名该标段"
    message_en = "Register for the lot first"


class RegistrantsSecret(DomainError):
    code = "REGISTRANTS_SECRET"
    message_zh = "开标前报名名单保密"
    message_en = "Who registered stays secret until the opening"
