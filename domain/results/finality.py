"""The evaluation report's finality before the result (签章完毕): candidates are publicised, and a lot awarded, only
once the committee's report is signed by every member where the lot requires it (招标投标法实施条例 第五十三条).

results sits below evaluation in the layers, so it cannot ask the signatures itself: evaluation plugs its check in at
domain/wiring (`plug(signing.report_pending)`); results only refuses what a plugged check says is pending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.common.errors import DomainError
from domain.publication.models import Lot

ReportPending = Callable[[Lot], Awaitable[bool]]
_checks: list[ReportPending] = []


class EvaluationReportNotFinal(DomainError):
    code = "EVALUATION_REPORT_NOT_FINAL"
    message_zh = "评标报告尚未经评标委员会全体成员签章，不能公示中标候选人或确定中标人"
    message_en = (
        "The evaluation report is not yet signed by every member of the committee; the candidates cannot be "
        "publicised nor the lot awarded"
    )


def plug(check: ReportPending) -> None:
    """Adds a check asked before candidate publicity and the award: check(lot) is True while the report is pending
    (plugging the same check twice keeps one)."""
    if check not in _checks:
        _checks.append(check)


async def ensure_report_final(lot: Lot) -> None:
    """Raises EvaluationReportNotFinal while a plugged check says the lot's evaluation report is not final."""
    for check in list(_checks):
        if await check(lot):
            raise EvaluationReportNotFinal()
