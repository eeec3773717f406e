"""What publishing the candidates, awarding a lot and recording its contract can refuse."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError, InvalidInput


class CandidatesMissing(DomainError):
    code = "CANDIDATES_MISSING"
    message_zh = "该标段尚无评标委员会推荐的中标候选人，不能公示"
    message_en = "The lot has no candidates from the committee's report to publicise"


class PublicityNotOver(DomainError):
    code = "PUBLICITY_NOT_OVER"
    message_zh = "中标候选人公示期至 {ends_at} 结束，公示期满后方可确定中标人"
    message_en = "The candidate publicity runs until {ends_at}; the lot can be awarded only after it"
    exposed: ClassVar[dict[str, str]] = {"ends_at": "datetime"}


class LotPaused(DomainError):
    code = "LOT_PAUSED"
    message_zh = "招标投标活动已暂停，暂不能确定中标人：{reason_zh}"
    message_en = "The lot is paused and cannot be awarded now: {reason_en}"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


class AlreadyConfirmed(DomainError):
    code = "ALREADY_CONFIRMED"
    message_zh = "成交确认书已于 {confirmed_at} 确认"
    message_en = "The result confirmation was acknowledged at {confirmed_at}"
    exposed: ClassVar[dict[str, str]] = {"confirmed_at": "datetime"}


class ContractAmountMismatch(InvalidInput):
    code = "CONTRACT_AMOUNT_MISMATCH"
    message_zh = "合同价款 {amount_text} 元须与中标价 {price_text} 元一致"
    message_en = "The contract amount CNY {amount_text} must equal the winning price CNY {price_text}"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "amount_fen": "fen", "price_fen": "fen"}
