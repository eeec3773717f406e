"""What the expert draw and the evaluation can refuse."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError, InvalidInput

# ---------------------------------------------------------------- the draw


class CommitmentTooLate(DomainError):
    code = "COMMITMENT_TOO_LATE"
    message_zh = "抽取承诺须在投标截止时间（{deadline}）前作出"
    message_en = "The draw must be committed before the bid deadline ({deadline})"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class RevealTooEarly(DomainError):
    code = "REVEAL_TOO_EARLY"
    message_zh = "投标截止时间（{deadline}）后方可公开抽取密钥"
    message_en = "The secret may be revealed only after the bid deadline ({deadline})"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime"}


class SecretMismatch(DomainError):
    code = "SECRET_MISMATCH"
    message_zh = "密钥与承诺值不符"
    message_en = "The secret does not match the commitment"


class NotEnoughExperts(DomainError):
    code = "NOT_ENOUGH_EXPERTS"
    message_zh = "符合条件的专家只有 {eligible} 名，不足 {size} 名"
    message_en = "Only {eligible} experts are eligible, {size} are needed"
    exposed: ClassVar[dict[str, str]] = {"eligible": "int", "size": "int"}


class DrawExists(DomainError):
    code = "EXPERT_DRAW_EXISTS"
    message_zh = "该标段已作出专家抽取承诺，更换专家请补抽"
    message_en = "The lot already has a draw; replace experts with a replacement round"


class DrawPending(DomainError):
    code = "EXPERT_DRAW_PENDING"
    message_zh = "上一轮抽取尚未公开结果"
    message_en = "The previous round has not been revealed yet"


class NoCommittee(DomainError):
    code = "NO_COMMITTEE"
    message_zh = "该标段尚未抽取评标委员会"
    message_en = "The lot has no drawn committee yet"


class CommitteeSitting(DomainError):
    code = "COMMITTEE_SITTING"
    message_zh = "评标已开始，评标委员会成员不能再补抽更换"
    message_en = "The evaluation has started: the committee can no longer be replaced"


class NotOnCommittee(DomainError):
    code = "NOT_ON_COMMITTEE"
    message_zh = "被替换的专家不在该标段的评标委员会中"
    message_en = "An expert to replace is not on the lot's committee"


# ---------------------------------------------------------------- the evaluation


class OpeningNotClosed(DomainError):
    code = "OPENING_NOT_CLOSED"
    message_zh = "开标（解密）尚未结束，不能开始评标"
    message_en = "The opening (decryption window) has not closed yet"


class CommitteeIncomplete(DomainError):
    code = "COMMITTEE_INCOMPLETE"
    message_zh = "评标委员会尚未组建完成（抽取或补抽尚未公开结果）"
    message_en = "The committee is not complete (a draw round has not been revealed)"


class EvaluationNotStarted(DomainError):
    code = "EVALUATION_NOT_STARTED"
    message_zh = "该标段的评标尚未开始"
    message_en = "The evaluation of this lot has not started"


class EvaluationFinished(DomainError):
    code = "EVALUATION_FINISHED"
    message_zh = "评标报告已形成，评分表不能再提交或修改"
    message_en = "The report exists; sheets can no longer be handed in or changed"


class NotCommitteeMember(DomainError):
    code = "NOT_COMMITTEE_MEMBER"
    message_zh = "您不是该标段评标委员会成员"
    message_en = "You are not a member of this lot's committee"


class ScoreSheetMismatch(DomainError):
    """A sheet judges every valid bid exactly once, and nothing else."""

    code = "SCORE_SHEET_MISMATCH"
    message_zh = "评分表须对每份有效投标各评审一次：缺少 {missing} 份，多出或重复 {unexpected} 项"
    message_en = "A sheet judges every valid bid exactly once: {missing} missing, {unexpected} unknown or repeated"
    exposed: ClassVar[dict[str, str]] = {"missing": "int", "unexpected": "int"}


class PointsOutOfRange(InvalidInput):
    code = "POINTS_OUT_OF_RANGE"
    message_zh = "{field} 须为 0 至 {max_centi} 之间的整数（百分之一分）"
    message_en = "{field} must be a whole number of hundredths from 0 to {max_centi}"
    exposed: ClassVar[dict[str, str]] = {"field": "str", "max_centi": "int"}

    def __init__(self, field: str, max_centi: int) -> None:
        super().__init__(field=field, max_centi=max_centi)


class ReasonRequired(InvalidInput):
    code = "REASON_REQUIRED"
    message_zh = "否决投标须说明理由（{field}）"
    message_en = "A bid found non-compliant needs the reason ({field})"


# ---------------------------------------------------------------- post-qualification (资格后审)


class CriterionUnknown(InvalidInput):
    """A judgement names a criterion the lot does not have."""

    code = "QUALIFICATION_CRITERION_UNKNOWN"
    message_zh = "资格审查标准不存在或不属于该标段（{field}）"
    message_en = "No such qualification criterion on this lot ({field})"


class QualificationDecided(DomainError):
    code = "QUALIFICATION_DECIDED"
    message_zh = "资格审查结论已形成，不能再修改资格审查意见"
    message_en = "The qualification review is decided; judgements can no longer change"


class QualificationPending(DomainError):
    code = "QUALIFICATION_PENDING"
    message_zh = "资格审查尚未完成：评标委员会全体成员对每份投标的每项资格条件作出判断后，方可评分"
    message_en = "The qualification review is not complete: every member judges every bid on every criterion first"


class NoQualificationCriteria(DomainError):
    code = "NO_QUALIFICATION_CRITERIA"
    message_zh = "该标段未设置资格审查标准（资格后审）"
    message_en = "The lot has no qualification criteria (post-qualification)"
