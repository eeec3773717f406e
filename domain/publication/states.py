"""Announcement types, their lifecycle, and the lot status each publication moves to."""

from __future__ import annotations

from enum import StrEnum

from domain.common.lifecycle import SYSTEM, Lifecycle, Transition, move


class AnnouncementType(StrEnum):
    TENDER = "tender"  # 招标/采购/出让公告
    QUALIFICATION_RESULT = "qualification_result"  # 资格预审结果
    CHANGE = "change"  # 变更/澄清公告
    CANDIDATE_PUBLICITY = "candidate_publicity"  # 中标候选人公示
    RESULT = "result"  # 中标/成交结果公告
    CONTRACT = "contract"  # 合同公告
    PERFORMANCE = "performance"  # 履约信息
    TERMINATION = "termination"  # 终止公告
    CONTRACT_CHANGE = "contract_change"  # 合同变更/终止公告 (履约信息): moves no lot
    COMPLAINT_DECISION = "complaint_decision"  # 投诉处理决定: published by the supervisor, moves no lot
    BAD_CONDUCT = "bad_conduct"  # 不良行为记录公告: published by the platform (domain/credit_public), moves no lot


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class LotStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # announced, registration and bidding
    EVALUATING = "evaluating"
    PUBLICITY = "publicity"  # candidates publicised
    AWARDED = "awarded"
    CONTRACTED = "contracted"
    COMPLETED = "completed"
    FAILED = "failed"  # 流标
    TERMINATED = "terminated"


# publishing an announcement of a type moves its lot: type -> (from statuses, to status)
LOT_MOVES: dict[AnnouncementType, tuple[frozenset[LotStatus], LotStatus]] = {
    AnnouncementType.TENDER: (frozenset({LotStatus.DRAFT}), LotStatus.OPEN),
    AnnouncementType.CANDIDATE_PUBLICITY: (
        frozenset({LotStatus.OPEN, LotStatus.EVALUATING}),
        LotStatus.PUBLICITY,
    ),
    # AWARDED: a new result notice when the award passes to the next candidate (实施条例 第五十五条)
    AnnouncementType.RESULT: (
        frozenset({LotStatus.OPEN, LotStatus.EVALUATING, LotStatus.PUBLICITY, LotStatus.AWARDED}),
        LotStatus.AWARDED,
    ),
    AnnouncementType.CONTRACT: (frozenset({LotStatus.AWARDED}), LotStatus.CONTRACTED),
    AnnouncementType.PERFORMANCE: (frozenset({LotStatus.CONTRACTED, LotStatus.COMPLETED}), LotStatus.COMPLETED),
    # AWARDED: only once its award was withdrawn and the tenderer re-tenders instead (domain/results/cancellation)
    AnnouncementType.TERMINATION: (
        frozenset({LotStatus.OPEN, LotStatus.EVALUATING, LotStatus.PUBLICITY, LotStatus.AWARDED, LotStatus.FAILED}),
        LotStatus.TERMINATED,
    ),
}
# types that need a published announcement of the same lot first
NEEDS_TENDER = frozenset(set(AnnouncementType) - {AnnouncementType.TENDER})
# types with a publicity window (days taken from the lot's configuration)
PUBLICITY_DAYS_SETTING = {AnnouncementType.CANDIDATE_PUBLICITY: "candidate_publicity_days"}


def _moves() -> tuple[Transition[LotStatus], ...]:
    by_announcement = tuple(
        move(f"publish_{kind.value}", allowed, target, note=f"a {kind.value} announcement is published")
        for kind, (allowed, target) in LOT_MOVES.items()
    )
    # time-driven steps no announcement makes (publication.projects.move_lot)
    by_time = (
        move(
            "start_opening",
            LotStatus.OPEN,
            LotStatus.EVALUATING,
            by={SYSTEM},
            timed=True,
            note="the bid deadline passed with enough bids: the opening starts",
        ),
        move(
            "fail_at_deadline",
            LotStatus.OPEN,
            LotStatus.FAILED,
            by={SYSTEM},
            timed=True,
            note="too few bids at the deadline (流标)",
        ),
        move(
            "fail_award",
            LotStatus.AWARDED,
            LotStatus.FAILED,
            note="the last candidate withdrew or was disqualified: none remains (实施条例 第五十五条)",
        ),
        move(
            "fail_evaluation",
            LotStatus.EVALUATING,
            LotStatus.FAILED,
            by={SYSTEM},
            note="the evaluation committee found too few valid bids",
        ),
    )
    configure = move(
        "configure",
        LotStatus.DRAFT,
        LotStatus.DRAFT,
        note="its managers change the configuration and eligibility, only before the tender is published",
    )
    return (move("create", None, LotStatus.DRAFT), configure, *by_announcement, *by_time)


TABLE: Lifecycle[LotStatus] = Lifecycle(
    name="Lot",
    states=LotStatus,
    doc="A lot's status moves when an announcement of a type is published, and by the opening and the evaluation.",
    transitions=_moves(),
    initial=frozenset({LotStatus.DRAFT}),
    final=frozenset({LotStatus.TERMINATED}),
)


def lot_after(kind: AnnouncementType, current: str) -> LotStatus | None:
    """The lot's status after publishing `kind` (None: unchanged); raises if not allowed now."""
    if kind not in LOT_MOVES:
        return None
    return TABLE.fire(current, f"publish_{kind.value}")
