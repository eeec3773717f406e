"""The draw and evaluation tables: each move leaves only its states, and the guards raise the errors the
services raised before the tables, in the same order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidTransition, PermissionDenied
from domain.evaluation.errors import (
    CommitmentTooLate,
    CommitteeIncomplete,
    CommitteeSitting,
    DrawExists,
    DrawPending,
    EvaluationFinished,
    NoCommittee,
    NotCommitteeMember,
    NotEnoughExperts,
    NotOnCommittee,
    OpeningNotClosed,
    RevealTooEarly,
    SecretMismatch,
)
from domain.evaluation.states import DRAW, EVALUATION, DrawStatus, EvaluationStatus

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
OPERATOR = Actor(user_id=1, roles=frozenset({Role.OPERATOR}))
EXPERT = Actor(expert_id=7, roles=frozenset({Role.EXPERT}))


def commit(**over: Any) -> dict[str, Any]:
    facts = {"lot_status": "open", "now": NOW, "deadline": NOW + timedelta(days=1), "drawn": False}
    return facts | {"eligible": 9, "size": 5} | over


def replace(**over: Any) -> dict[str, Any]:
    facts = {"lot_status": "evaluating", "rounds": 1, "last_revealed": True, "sitting": False}
    return facts | {"on_committee": True, "eligible": 3, "size": 1} | over


def test_commit_checks_the_deadline_then_the_lot_then_the_first_draw_then_the_pool() -> None:
    # when / then
    assert DRAW.fire(None, "commit", by=OPERATOR, **commit()) is DrawStatus.COMMITTED
    with pytest.raises(CommitmentTooLate):
        DRAW.fire(None, "commit", by=OPERATOR, **commit(deadline=NOW, lot_status="evaluating", drawn=True))
    with pytest.raises(CommitmentTooLate):
        DRAW.fire(None, "commit", by=OPERATOR, **commit(deadline=None))
    with pytest.raises(InvalidTransition) as closed:
        DRAW.fire(None, "commit", by=OPERATOR, **commit(lot_status="terminated", drawn=True))
    assert closed.value.params == {"state": "terminated"}
    with pytest.raises(DrawExists):
        DRAW.fire(None, "commit", by=OPERATOR, **commit(drawn=True, eligible=0))
    with pytest.raises(NotEnoughExperts) as few:
        DRAW.fire(None, "commit", by=OPERATOR, **commit(eligible=4))
    assert few.value.params == {"eligible": 4, "size": 5}
    with pytest.raises(PermissionDenied):
        DRAW.fire(None, "commit", by=EXPERT, **commit())


def test_replace_checks_the_lot_then_the_rounds_then_the_sitting_then_the_experts() -> None:
    # when / then
    assert DRAW.fire(None, "replace", by=OPERATOR, **replace(lot_status="open")) is DrawStatus.COMMITTED
    with pytest.raises(InvalidTransition) as closed:
        DRAW.fire(None, "replace", by=OPERATOR, **replace(lot_status="publicity", rounds=0))
    assert closed.value.params == {"state": "publicity"}
    with pytest.raises(NoCommittee):
        DRAW.fire(None, "replace", by=OPERATOR, **replace(rounds=0, last_revealed=False))
    with pytest.raises(DrawPending):
        DRAW.fire(None, "replace", by=OPERATOR, **replace(last_revealed=False, sitting=True))
    with pytest.raises(CommitteeSitting):
        DRAW.fire(None, "replace", by=OPERATOR, **replace(sitting=True, on_committee=False))
    with pytest.raises(NotOnCommittee):
        DRAW.fire(None, "replace", by=OPERATOR, **replace(on_committee=False, eligible=0))
    with pytest.raises(NotEnoughExperts):
        DRAW.fire(None, "replace", by=OPERATOR, **replace(eligible=0))


def test_reveal_leaves_a_committed_round_after_the_deadline_with_the_secret() -> None:
    # given
    facts = {"now": NOW, "deadline": NOW - timedelta(seconds=1), "matches": True, "pending": False}
    # when / then
    assert DRAW.fire("committed", "reveal", by=OPERATOR, **facts) is DrawStatus.REVEALED
    with pytest.raises(InvalidTransition):
        DRAW.fire("revealed", "reveal", by=OPERATOR, **facts)
    with pytest.raises(RevealTooEarly):
        DRAW.fire(
            "committed", "reveal", by=OPERATOR, **facts | {"deadline": NOW + timedelta(seconds=1), "matches": False}
        )
    with pytest.raises(SecretMismatch):
        DRAW.precheck("reveal", by=OPERATOR, **facts | {"matches": False, "pending": True})
    with pytest.raises(DrawPending):
        DRAW.fire("committed", "reveal", by=OPERATOR, **facts | {"pending": True})


def test_start_needs_an_evaluating_lot_a_closed_opening_and_the_whole_committee() -> None:
    # given
    facts = {"lot_status": "evaluating", "opening_status": "closed", "committee_complete": True}
    # when / then
    assert EVALUATION.fire(None, "start", by=SYSTEM, **facts) is EvaluationStatus.SCORING
    with pytest.raises(InvalidTransition) as wrong:
        EVALUATION.fire(None, "start", by=OPERATOR, **facts | {"lot_status": "open", "opening_status": None})
    assert wrong.value.params == {"state": "open"}
    with pytest.raises(OpeningNotClosed):
        EVALUATION.fire(None, "start", by=OPERATOR, **facts | {"opening_status": None, "committee_complete": False})
    with pytest.raises(CommitteeIncomplete):
        EVALUATION.fire(None, "start", by=OPERATOR, **facts | {"committee_complete": False})


@pytest.mark.parametrize("state", list(EvaluationStatus))
def test_a_sheet_is_taken_only_while_scoring_and_from_a_member(state: EvaluationStatus) -> None:
    # when / then
    if state is EvaluationStatus.SCORING:
        assert EVALUATION.fire(state.value, "submit_sheet", by=EXPERT, member=True) is EvaluationStatus.SCORING
    else:
        with pytest.raises(EvaluationFinished):
            EVALUATION.fire(state.value, "submit_sheet", by=EXPERT, member=True)
    with pytest.raises(NotCommitteeMember):
        EVALUATION.precheck("submit_sheet", by=EXPERT, member=False)
    with pytest.raises(PermissionDenied):
        EVALUATION.precheck("submit_sheet", by=OPERATOR, member=True)


def test_the_last_sheet_reports_or_fails_a_scoring_evaluation_once() -> None:
    # when / then
    assert EVALUATION.fire("scoring", "report", by=SYSTEM) is EvaluationStatus.REPORTED
    assert EVALUATION.fire("scoring", "fail", by=SYSTEM) is EvaluationStatus.FAILED
    for done in ("reported", "failed"):
        assert not EVALUATION.allows(done, "report", by=SYSTEM)
        assert not EVALUATION.allows(done, "fail", by=SYSTEM)
    assert not EVALUATION.allows("scoring", "report", by=EXPERT)
