"""The business failures of public credit records, commitments and repair."""

from __future__ import annotations

from typing import ClassVar

from domain.common.errors import DomainError


class CreditRepairTooEarly(DomainError):
    code = "CREDIT_REPAIR_TOO_EARLY"
    message_zh = "未满最短公示期，{repairable_from} 后方可申请信用修复"
    message_en = "The minimum publicity period has not passed; credit repair may be applied for after {repairable_from}"
    exposed: ClassVar[dict[str, str]] = {"repairable_from": "datetime"}


class CreditRepairPending(DomainError):
    code = "CREDIT_REPAIR_PENDING"
    message_zh = "该记录已有待审核的信用修复申请"
    message_en = "A credit repair application for this record is already waiting for a decision"


class CreditRecordNotPublic(DomainError):
    code = "CREDIT_RECORD_NOT_PUBLIC"
    message_zh = "该记录已不在公示期内，无需修复"
    message_en = "This record is no longer publicised; there is nothing to repair"


class CommitmentVersionOutdated(DomainError):
    code = "COMMITMENT_VERSION_OUTDATED"
    message_zh = "信用承诺书已更新为第 {current} 版，请阅读后重新签署"
    message_en = "The credit commitment text is now version {current}; read it and sign that version"


class CommitmentAlreadyBreached(DomainError):
    code = "COMMITMENT_ALREADY_BREACHED"
    message_zh = "该信用承诺已认定违诺"
    message_en = "A breach of this commitment is already on record"
