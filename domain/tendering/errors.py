"""What submitting or withdrawing a sealed bid can refuse."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError


class BidDeadlinePassed(DomainError):
    code = "BID_DEADLINE_PASSED"
    message_zh = "已过投标截止时间（{deadline}）"
    message_en = "The bid deadline has passed ({deadline})"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class SecurityMissing(DomainError):
    code = "SECURITY_MISSING"
    message_zh = "投标保证金未到账或电子保函未出具"
    message_en = "The bid deposit has not arrived or the guarantee is not issued"


class NotSealedTender(DomainError):
    code = "NOT_A_SEALED_TENDER"
    message_zh = "该标段不采用电子密封投标"
    message_en = "This lot does not take sealed bids"


class ClarificationClosed(DomainError):
    """招标投标法实施条例 第二十一条: clarifications and changes are made before the bid deadline."""

    code = "CLARIFICATION_CLOSED"
    message_zh = "标段不在投标期内（投标截止时间 {deadline}），不能发布澄清或修改"
    message_en = "The lot is not taking bids (deadline {deadline}): no clarification or change can be published"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class DeadlineTooEarly(DomainError):
    code = "DEADLINE_TOO_EARLY"
    message_zh = "澄清或修改影响投标文件编制，投标截止时间不得早于 {deadline}（{basis}）"
    message_en = "The change affects how bids are prepared: the bid deadline may not be before {deadline} ({basis})"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime", "basis": "str"}


class QuestionAlreadyAnswered(DomainError):
    code = "QUESTION_ALREADY_ANSWERED"
    message_zh = "问题已在此前的澄清中答复"
    message_en = "The question was already answered in an earlier clarification"


class NoBidToConfirm(DomainError):
    code = "NO_BID_TO_CONFIRM"
    message_zh = "您在本标段没有待确认的投标文件"
    message_en = "You have no bid awaiting confirmation on this lot"
