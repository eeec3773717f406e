"""What the expert pool's lifecycle can refuse."""

from __future__ import annotations

from domain.common.errors import DomainError


class ApplicationExists(DomainError):
    code = "EXPERT_APPLICATION_EXISTS"
    message_zh = "该身份证号已有待审核的申请或已在专家库中"
    message_en = "This identity number already has an application under review or is in the pool"


class ApplicationReviewed(DomainError):
    code = "EXPERT_APPLICATION_REVIEWED"
    message_zh = "该申请已审核（{status}）"
    message_en = "The application was already reviewed ({status})"


class ExpertNotInPool(DomainError):
    code = "EXPERT_NOT_IN_POOL"
    message_zh = "该专家已被清退或已退出专家库"
    message_en = "The expert was removed from or has left the pool"


class NotPartyToLot(DomainError):
    code = "EXPERT_APPRAISAL_NOT_PARTY"
    message_zh = "只有交易中心或该项目的招标人（代理机构）可评价参加其评标的专家"
    message_en = "Only the operator or the project's tenderer (or agency) may appraise an expert who evaluated its lot"


class NotDrawnForLot(DomainError):
    code = "EXPERT_NOT_DRAWN_FOR_LOT"
    message_zh = "该专家未被抽取参加此标段的评标"
    message_en = "The expert was not drawn for this lot"


class AlreadyAppraised(DomainError):
    code = "EXPERT_ALREADY_APPRAISED"
    message_zh = "您已评价过该专家在此标段的表现"
    message_en = "You have already appraised this expert for this lot"


class ConflictReported(DomainError):
    code = "EXPERT_CONFLICT_REPORTED"
    message_zh = "该专家在此标段的利益冲突已记录"
    message_en = "This expert's conflict on this lot is already recorded"


class FeeRecorded(DomainError):
    code = "EXPERT_FEE_RECORDED"
    message_zh = "该专家在此标段的评审费已记录"
    message_en = "The expert's fee for this lot is already recorded"
