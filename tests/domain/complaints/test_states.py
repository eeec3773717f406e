"""The objection, complaint and report tables: every allowed and forbidden move, the window and deadline
guards with the errors the services raised before the tables, and what the chronograph finds due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.common.actors import Actor, Role
from domain.common.errors import InvalidTransition, PermissionDenied
from domain.common.lifecycle import SYSTEM
from domain.complaints.errors import ComplaintTooLate, NotAnInterestedParty, ObjectionWindowClosed
from domain.complaints.states import (
    COMPLAINT,
    OBJECTION,
    REPORT,
    ComplaintStatus,
    ObjectionStatus,
    ReportStatus,
)

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
SUPERVISOR = Actor(user_id=1, org_id=1, roles=frozenset({Role.SUPERVISOR}), supervised_categories=frozenset({"x"}))
BIDDER = Actor(user_id=2, org_id=2, roles=frozenset({Role.BIDDER}))


def window(stage: str, **over: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "stage": stage,
        "now": NOW,
        "lot_status": "open",
        "bid_deadline": NOW + timedelta(days=20),
        "opening_status": None,
        "sealed_bid": True,
        "publicity_starts_at": None,
        "publicity_ends_at": None,
    }
    return facts | over


@pytest.mark.parametrize(
    ("table", "transition", "allowed"),
    [
        (OBJECTION, "answer", {ObjectionStatus.PENDING, ObjectionStatus.OVERDUE}),
        (OBJECTION, "withdraw", {ObjectionStatus.PENDING, ObjectionStatus.OVERDUE}),
        (COMPLAINT, "accept", {ComplaintStatus.SUBMITTED}),
        (COMPLAINT, "refuse", {ComplaintStatus.SUBMITTED}),
        (COMPLAINT, "withdraw", {ComplaintStatus.SUBMITTED, ComplaintStatus.ACCEPTED}),
        (COMPLAINT, "decide", {ComplaintStatus.ACCEPTED}),
        (COMPLAINT, "suspend_lot", {ComplaintStatus.ACCEPTED}),
        (REPORT, "investigate", {ReportStatus.RECEIVED}),
        (REPORT, "close", {ReportStatus.RECEIVED, ReportStatus.INVESTIGATING}),
    ],
)
def test_each_move_leaves_only_its_states_and_refuses_the_others_with_the_current_state(table, transition, allowed):
    for state in table.states:
        if state in allowed:
            assert table.fire(state.value, transition, by=SUPERVISOR) is table[transition].target
        else:
            with pytest.raises(InvalidTransition) as refused:
                table.fire(state.value, transition, by=SUPERVISOR)
            assert refused.value.params["state"] == state.value


def test_only_a_supervisor_handles_complaints_and_reports():
    with pytest.raises(PermissionDenied):
        COMPLAINT.fire("submitted", "accept", by=BIDDER)
    with pytest.raises(PermissionDenied):
        REPORT.fire("received", "close", by=BIDDER)
    assert COMPLAINT.fire("submitted", "withdraw", by=BIDDER) is ComplaintStatus.WITHDRAWN


def test_an_objection_on_the_documents_closes_ten_days_before_the_bid_deadline():
    deadline = NOW + timedelta(days=10)
    assert OBJECTION.fire(None, "raise", **window("documents", bid_deadline=deadline)) is ObjectionStatus.PENDING
    with pytest.raises(ObjectionWindowClosed) as closed:
        OBJECTION.fire(None, "raise", **window("documents", bid_deadline=deadline - timedelta(seconds=1)))
    assert closed.value.params["stage"] == "documents"
    with pytest.raises(ObjectionWindowClosed):
        OBJECTION.fire(None, "raise", **window("documents", lot_status="closed"))
    with pytest.raises(ObjectionWindowClosed):
        OBJECTION.fire(None, "raise", **window("documents", bid_deadline=None))


def test_an_objection_at_the_opening_needs_the_decryption_window_first_then_a_sealed_bid():
    with pytest.raises(ObjectionWindowClosed):
        OBJECTION.fire(None, "raise", **window("opening", opening_status="opened", sealed_bid=False))
    with pytest.raises(NotAnInterestedParty):
        OBJECTION.fire(None, "raise", **window("opening", opening_status="decrypting", sealed_bid=False))
    assert OBJECTION.fire(None, "raise", **window("opening", opening_status="decrypting")) is ObjectionStatus.PENDING


def test_an_objection_on_the_candidates_runs_with_their_publicity():
    during = window("publicity", publicity_starts_at=NOW - timedelta(days=1), publicity_ends_at=NOW + timedelta(days=2))
    assert OBJECTION.fire(None, "raise", **during) is ObjectionStatus.PENDING
    with pytest.raises(ObjectionWindowClosed):
        OBJECTION.fire(None, "raise", **(during | {"publicity_ends_at": NOW}))
    with pytest.raises(ObjectionWindowClosed):
        OBJECTION.fire(None, "raise", **window("publicity"))


def test_a_complaint_is_too_late_from_the_end_of_its_window():
    last = NOW + timedelta(hours=1)
    assert COMPLAINT.fire(None, "file", now=NOW, last=last, days=10) is ComplaintStatus.SUBMITTED
    with pytest.raises(ComplaintTooLate) as late:
        COMPLAINT.fire(None, "file", now=last, last=last, days=10)
    assert late.value.params["days"] == 10


def test_the_chronograph_flags_what_is_past_due_and_nothing_before():
    assert OBJECTION.due("pending", now=NOW, due_at=NOW + timedelta(seconds=1)) is None
    assert OBJECTION.due("pending", now=NOW, due_at=NOW).name == "flag_overdue"
    assert OBJECTION.due("answered", now=NOW, due_at=NOW - timedelta(days=1)) is None
    assert COMPLAINT.due("submitted", now=NOW, due_at=NOW).name == "flag_accept_overdue"
    assert COMPLAINT.due("accepted", now=NOW, due_at=NOW).name == "flag_decide_overdue"
    assert COMPLAINT.due("decided", now=NOW, due_at=NOW) is None
    assert all(t.by == frozenset({SYSTEM}) for table in (OBJECTION, COMPLAINT) for t in table.transitions if t.timed)
