"""The lifecycles of objections (异议), complaints (投诉) and reports (举报) as data, and the words for them.

Facts the services pass: raising an objection `stage`, `now`, `lot_status`, `bid_deadline`,
`opening_status`, `sealed_bid` (the objector sealed a bid for the lot), `publicity_starts_at` and
`publicity_ends_at` (the candidate publicity, or None); filing a complaint `now`, `last` (the end of the
complaint window) and `days`; the chronograph `now` and `due_at`.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError, InvalidTransition
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, guard, move
from domain.complaints.errors import ComplaintTooLate, NotAnInterestedParty, ObjectionWindowClosed
from domain.publication.states import LotStatus

# 招标投标法实施条例 第二十二条: objections to the documents at least 10 days before the bid deadline
DOCUMENTS_OBJECTION_DAYS = 10


class ObjectionStage(StrEnum):
    DOCUMENTS = "documents"  # 对招标文件的异议
    OPENING = "opening"  # 对开标的异议
    PUBLICITY = "publicity"  # 对评标结果（中标候选人）的异议
    CANCELLATION = "cancellation"  # 对终止招标（废标）的异议, within the cancellation's window (domain/results)


class ObjectionStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"
    OVERDUE = "overdue"  # not answered in time: flagged to the supervisors; may still be answered


UNANSWERED = (ObjectionStatus.PENDING.value, ObjectionStatus.OVERDUE.value)


class ComplaintSubject(StrEnum):
    DOCUMENTS = "documents"
    OPENING = "opening"
    CANDIDATES = "candidates"
    OTHER = "other"  # e.g. the award itself: no objection needed first


# the objection a complaint on a subject needs first
OBJECTION_FIRST: dict[ComplaintSubject, ObjectionStage] = {
    ComplaintSubject.DOCUMENTS: ObjectionStage.DOCUMENTS,
    ComplaintSubject.OPENING: ObjectionStage.OPENING,
    ComplaintSubject.CANDIDATES: ObjectionStage.PUBLICITY,
}


class ComplaintStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for acceptance (3 working days)
    ACCEPTED = "accepted"  # to be decided (30 working days)
    REFUSED = "refused"  # not accepted, with the reason
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


OPEN_COMPLAINT = (ComplaintStatus.SUBMITTED.value, ComplaintStatus.ACCEPTED.value)


class Decision(StrEnum):
    UPHELD = "upheld"  # 投诉成立
    PARTLY_UPHELD = "partly_upheld"  # 部分成立
    DISMISSED = "dismissed"  # 驳回


DECISION_ZH = {Decision.UPHELD: "投诉成立", Decision.PARTLY_UPHELD: "投诉部分成立", Decision.DISMISSED: "驳回投诉"}
SUBJECT_ZH = {
    ComplaintSubject.DOCUMENTS: "招标文件",
    ComplaintSubject.OPENING: "开标",
    ComplaintSubject.CANDIDATES: "评标结果（中标候选人）",
    ComplaintSubject.OTHER: "其他事项",
}
STAGE_ZH = {
    ObjectionStage.DOCUMENTS: "招标文件",
    ObjectionStage.OPENING: "开标",
    ObjectionStage.PUBLICITY: "评标结果",
    ObjectionStage.CANCELLATION: "终止招标（废标）",
}


class ReportStatus(StrEnum):
    RECEIVED = "received"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


# ---------------------------------------------------------------- objections


@guard(
    "inside the stage's window: the documents while the lot is open, up to 10 days before the bid deadline; "
    "the opening while it decrypts; the candidates during their publicity; a cancellation during its objection "
    "window (ObjectionWindowClosed)"
)
def objection_window_open(facts: Facts) -> DomainError | None:
    stage, now = ObjectionStage(facts["stage"]), facts["now"]
    closed = ObjectionWindowClosed(stage=stage.value, stage_zh=STAGE_ZH[stage])
    if stage is ObjectionStage.DOCUMENTS:
        deadline = facts["bid_deadline"]
        if facts["lot_status"] != LotStatus.OPEN.value or deadline is None:
            return closed
        if now > deadline - timedelta(days=DOCUMENTS_OBJECTION_DAYS):
            return closed
    elif stage is ObjectionStage.OPENING:
        if facts["opening_status"] != "decrypting":
            return closed
    elif stage is ObjectionStage.CANCELLATION:
        if not facts.get("cancellation_open"):
            return closed
    else:
        starts, ends = facts["publicity_starts_at"], facts["publicity_ends_at"]
        if starts is None or ends is None or not starts <= now < ends:
            return closed
    return None


@guard("at the opening, the objector sealed a bid for the lot (NotAnInterestedParty)")
def opening_bidder(facts: Facts) -> DomainError | None:
    if facts["stage"] == ObjectionStage.OPENING.value and not facts["sealed_bid"]:
        return NotAnInterestedParty()
    return None


@guard("answer_due_at has passed")
def answer_overdue(facts: Facts) -> DomainError | None:
    return None if facts["due_at"] <= facts["now"] else InvalidTransition(state="not due yet")


OS = ObjectionStatus
OBJECTION: Lifecycle[ObjectionStatus] = Lifecycle(
    name="Objection",
    states=ObjectionStatus,
    doc=(
        "Raised to the tenderer by a signed-in organisation that is not the lot's tenderer or agency; "
        "answered within the lot's objection_answer_days. While one is pending or overdue the lot cannot be "
        "awarded (an award blocker of domain/results)."
    ),
    transitions=(
        move("raise", None, OS.PENDING, guards=[objection_window_open, opening_bidder], note="the objector"),
        move("answer", (OS.PENDING, OS.OVERDUE), OS.ANSWERED, note="the lot's tenderer or agency, also when overdue"),
        move("withdraw", (OS.PENDING, OS.OVERDUE), OS.WITHDRAWN, note="the objector"),
        move(
            "flag_overdue",
            OS.PENDING,
            OS.OVERDUE,
            by={SYSTEM},
            guards=[answer_overdue],
            timed=True,
            note="told once to the supervisors of the category and the tenderer",
        ),
    ),
    initial=frozenset({OS.PENDING}),
    final=frozenset({OS.ANSWERED, OS.WITHDRAWN}),
)


# ---------------------------------------------------------------- complaints


@guard("within complaint_window_days of the day the complainant knew (ComplaintTooLate)")
def complaint_in_time(facts: Facts) -> DomainError | None:
    # 招标投标法实施条例 第六十条: within 10 days of knowing or when one should have known
    last = facts["last"]
    return ComplaintTooLate(deadline=last, days=facts["days"]) if facts["now"] >= last else None


@guard("the deadline (accept_due_at, or decide_due_at once accepted) has passed")
def deadline_passed(facts: Facts) -> DomainError | None:
    return None if facts["due_at"] <= facts["now"] else InvalidTransition(state="not due yet")


C = ComplaintStatus
COMPLAINT: Lifecycle[ComplaintStatus] = Lifecycle(
    name="Complaint",
    states=ComplaintStatus,
    doc=(
        "Filed with the supervisors of the lot's category by an organisation that is not its tenderer or "
        "agency; on the documents, the opening or the candidates only after its objection on the same subject "
        "was answered or went overdue (ObjectionRequired). Accepted or refused within 3 working days, decided "
        "within 30 working days of acceptance (工程建设项目招标投标活动投诉处理办法 第十一条、第二十一条); each "
        "deadline missed is flagged once. The supervisor handling an accepted complaint may suspend the lot "
        "until it lifts the suspension (domain/complaints/suspension)."
    ),
    transitions=(
        move("file", None, C.SUBMITTED, guards=[complaint_in_time], note="the complainant"),
        move("accept", C.SUBMITTED, C.ACCEPTED, by={Role.SUPERVISOR}, note="of the complaint's category"),
        move("refuse", C.SUBMITTED, C.REFUSED, by={Role.SUPERVISOR}, note="of the category, with the reason"),
        move("withdraw", (C.SUBMITTED, C.ACCEPTED), C.WITHDRAWN, note="the complainant"),
        move(
            "decide",
            C.ACCEPTED,
            C.DECIDED,
            by={Role.SUPERVISOR},
            note="published as a complaint_decision announcement; malicious adds a bad credit record",
        ),
        move("suspend_lot", C.ACCEPTED, C.ACCEPTED, by={Role.SUPERVISOR}, note="the lot stops until lifted"),
        move(
            "flag_accept_overdue",
            C.SUBMITTED,
            C.SUBMITTED,
            by={SYSTEM},
            guards=[deadline_passed],
            timed=True,
            note="overdue_at set, told once to the supervisors",
        ),
        move(
            "flag_decide_overdue",
            C.ACCEPTED,
            C.ACCEPTED,
            by={SYSTEM},
            guards=[deadline_passed],
            timed=True,
            note="overdue_at set, told once to the supervisors",
        ),
    ),
    initial=frozenset({C.SUBMITTED}),
    final=frozenset({C.REFUSED, C.DECIDED, C.WITHDRAWN}),
)


# ---------------------------------------------------------------- reports


R = ReportStatus
REPORT: Lifecycle[ReportStatus] = Lifecycle(
    name="Report",
    states=ReportStatus,
    doc="Filed by anyone, also without signing in; the reporter follows it with its tracking code.",
    transitions=(
        move("file", None, R.RECEIVED, note="anyone"),
        move("investigate", R.RECEIVED, R.INVESTIGATING, by={Role.SUPERVISOR}, note="of the report's category"),
        move(
            "close",
            (R.RECEIVED, R.INVESTIGATING),
            R.CLOSED,
            by={Role.SUPERVISOR},
            note="of the category (any supervisor for a report about no lot), with the outcome",
        ),
    ),
    initial=frozenset({R.RECEIVED}),
    final=frozenset({R.CLOSED}),
)
