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


# ---------------------------------------------------------------- sequential award (实施条例 第五十五条)


class CandidateWithdrawn(DomainError):
    code = "CANDIDATE_WITHDRAWN"
    message_zh = "该中标候选人已放弃中标或被取消中标资格，不能确定为中标人"
    message_en = "That candidate declined or was disqualified and cannot be awarded"
    exposed: ClassVar[dict[str, str]] = {"rank": "int"}


class CandidateNotNext(DomainError):
    code = "CANDIDATE_NOT_NEXT"
    message_zh = "应当按照中标候选人名单排序依次确定中标人，下一名次为第 {next_rank} 名"
    message_en = "Candidates are awarded in rank order; the next is rank {next_rank}"
    exposed: ClassVar[dict[str, str]] = {"next_rank": "int"}


class AwardStands(DomainError):
    code = "AWARD_STANDS"
    message_zh = "当前中标人未放弃中标、也未被取消中标资格，不能另行确定中标人"
    message_en = "The current award stands: nobody declined or was disqualified"


class WithdrawalUnfounded(DomainError):
    code = "WITHDRAWAL_UNFOUNDED"
    message_zh = "取消中标资格的事由不成立：{reason_zh}"
    message_en = "The ground for disqualifying the winner does not hold: {reason_en}"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


# ---------------------------------------------------------------- contracts


class ContractSignedAlready(DomainError):
    code = "CONTRACT_SIGNED_ALREADY"
    message_zh = "合同已由本方签署"
    message_en = "Your party has signed the contract already"


class ContractChangeTooLarge(InvalidInput):
    code = "CONTRACT_CHANGE_TOO_LARGE"
    message_zh = "追加金额累计不得超过原合同金额的百分之十（上限 {limit_text} 元）"
    message_en = "Supplements may add at most 10% of the original amount (up to CNY {limit_text})"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "limit_fen": "fen"}


class PaymentsExceedContract(InvalidInput):
    code = "PAYMENTS_EXCEED_CONTRACT"
    message_zh = "累计支付金额不得超过合同金额 {amount_text} 元"
    message_en = "Payments may not exceed the contract amount of CNY {amount_text}"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "amount_fen": "fen"}


class NotContractParty(DomainError):
    code = "NOT_CONTRACT_PARTY"
    message_zh = "仅合同双方（采购人/招标人/出让人一方与中标人/成交人/竞得人）可以提出或签署合同变更、解除"
    message_en = "Only the two parties to the contract may propose or sign its change or termination"


class ContractChangePending(DomainError):
    code = "CONTRACT_CHANGE_PENDING"
    message_zh = "合同第 {seq} 号变更（解除）尚待双方签署，处理完毕后方可提出新的变更"
    message_en = "Change {seq} of the contract still awaits both signatures; settle it before proposing another"
    exposed: ClassVar[dict[str, str]] = {"seq": "int"}


class ContractChangeDecided(DomainError):
    code = "CONTRACT_CHANGE_DECIDED"
    message_zh = "该合同变更（解除）已处理（{status}），不能再签署、拒绝或撤回"
    message_en = "That change of the contract is already settled ({status}); it cannot be signed, declined or withdrawn"
    exposed: ClassVar[dict[str, str]] = {"status": "str"}
