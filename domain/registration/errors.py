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


class NotInvited(DomainError):
    """招标投标法 第十七条: an invited tender takes bids only from the entities it invited (投标邀请书); 财政部令第74号
    第十二条 and 财库〔2014〕214号 第六条: a negotiation or consultation only from the suppliers it invited."""

    code = "NOT_INVITED"
    message_zh = "该标段采用邀请方式（邀请招标、竞争性谈判或磋商），仅受邀请的主体可以报名和投标（响应）"
    message_en = (
        "This lot invites its participants (invited tender, negotiation or consultation): only the organisations "
        "invited may register and bid"
    )


class QuestionsClosed(DomainError):
    code = "QUESTIONS_CLOSED"
    message_zh = "已过提问截止时间（{deadline}）"
    message_en = "Questions on this lot closed at {deadline}"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class TooFewInvitees(DomainError):
    """招标投标法 第十七条: an invited tender invites at least three entities."""

    code = "TOO_FEW_INVITEES"
    message_zh = "邀请招标应当向三个以上特定的法人或者其他组织发出投标邀请书（当前 {count} 个）"
    message_en = "An invited tender must invite at least three organisations ({count} invited)"
    exposed: ClassVar[dict[str, str]] = {"count": "int"}


class NotAnInvitedTender(DomainError):
    code = "NOT_AN_INVITED_TENDER"
    message_zh = "该标段不是邀请招标"
    message_en = "This lot is not an invited tender"


class InviteeNotABidder(DomainError):
    code = "INVITEE_NOT_A_BIDDER"
    message_zh = "受邀主体须为已审核通过、未受联合惩戒的投标人：{name}"
    message_en = "An invitee must be an approved bidder not under joint punishment: {name}"
    exposed: ClassVar[dict[str, str]] = {"name": "str"}


class CreditCommitmentRequired(DomainError):
    code = "CREDIT_COMMITMENT_REQUIRED"
    message_zh = "本标段实行信用承诺制，请先签署{stage_zh}信用承诺书"
    message_en = "This lot requires the credit commitment to be signed first (stage: {stage})"
    exposed: ClassVar[dict[str, str]] = {"stage": "str"}

    def __init__(self, stage: str) -> None:
        super().__init__(stage=stage, stage_zh="报名" if stage == "registration" else "投标")


class CreditCommitmentStale(DomainError):
    code = "CREDIT_COMMITMENT_STALE"
    message_zh = "信用承诺书已更新为第 {current} 版，此前签署的第 {signed} 版不适用于本次{stage_zh}，请阅读新版后重签"
    message_en = (
        "The credit commitment text is now version {current}; the version {signed} signed before does not count for "
        "this stage ({stage}): read the new version and sign it"
    )
    exposed: ClassVar[dict[str, str]] = {"stage": "str", "signed": "int", "current": "int"}

    def __init__(self, stage: str, signed: int, current: int) -> None:
        super().__init__(
            stage=stage, signed=signed, current=current, stage_zh="报名" if stage == "registration" else "投标"
        )
