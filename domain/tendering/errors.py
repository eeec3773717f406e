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
