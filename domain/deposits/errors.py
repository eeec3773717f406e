"""What a deposit's bank callbacks and operators can be refused."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError, InvalidInput


class InvalidCallback(InvalidInput):
    code = "INVALID_CALLBACK"
    message_zh = "银行回调内容不合法：{field}"
    message_en = "Malformed bank callback: {field}"


class UnknownReference(DomainError):
    code = "UNKNOWN_REFERENCE"
    message_zh = "保证金子账号不存在"
    message_en = "No deposit account has this reference"


class DepositAmountMismatch(DomainError):
    code = "DEPOSIT_AMOUNT_MISMATCH"
    message_zh = "金额 {amount_text} 元与应缴（应退）保证金 {expected_text} 元不符"
    message_en = "The amount CNY {amount_text} does not match the deposit of CNY {expected_text}"
    exposed: ClassVar[dict[str, str]] = {"amount_fen": "fen", "expected_fen": "fen"}


class DepositTooLate(DomainError):
    code = "DEPOSIT_TOO_LATE"
    message_zh = "保证金须在投标截止时间（{deadline}）前到账，本笔款项将退回"
    message_en = "The deposit had to arrive before the bid deadline ({deadline}); this payment goes back"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class DepositAlreadyPaid(DomainError):
    code = "DEPOSIT_ALREADY_PAID"
    message_zh = "该保证金已缴纳，本笔款项将退回"
    message_en = "This deposit is already paid; this payment goes back"


class RefundNotDue(DomainError):
    code = "REFUND_NOT_DUE"
    message_zh = "保证金当前状态“{state}”不能退还"
    message_en = "A deposit in state '{state}' cannot be refunded"
    exposed: ClassVar[dict[str, str]] = {"state": "str"}


class CallbackReplayed(DomainError):
    code = "CALLBACK_REPLAYED"
    message_zh = "该银行交易已处理入账，重复回调未作处理"
    message_en = "This bank transaction was already credited; the repeated callback changed nothing"
