"""The candidate publicity and award tables: the lot's status refusals, the guards with the errors the
services raised before the tables in the same order, and what the chronograph finds due."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.common.actors import SYSTEM
from domain.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from domain.results.errors import (
    AlreadyConfirmed,
    CandidatesMissing,
    ContractAmountMismatch,
    LotPaused,
    PublicityNotOver,
)
from domain.results.services import Pause
from domain.results.states import PUBLICITY, TABLE, AwardStatus

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 2)


def award(**over: Any) -> dict[str, Any]:
    facts = {"lot_status": "publicity", "awarded": False, "publicity_ends_at": NOW, "now": NOW}
    return facts | {"pause": None, "candidates": 2} | over


def contract(**over: Any) -> dict[str, Any]:
    facts = {"lot_status": "awarded", "open": True, "day": TODAY, "today": TODAY, "not_before": TODAY}
    return facts | {"amount_fen": 100, "price_fen": 100} | over


@pytest.mark.parametrize("status", ["open", "publicity", "awarded", "terminated", "draft"])
def test_only_an_evaluated_lot_publicises_its_candidates_and_any_other_status_is_named(status: str) -> None:
    # when / then
    with pytest.raises(InvalidTransition) as refused:
        PUBLICITY.fire(status, "publish_candidates", candidates=0)
    assert refused.value.params == {"state": status}
    assert PUBLICITY.fire("evaluating", "publish_candidates", candidates=1).value == "publicity"
    with pytest.raises(CandidatesMissing):
        PUBLICITY.fire("evaluating", "publish_candidates", candidates=0)


def test_the_award_checks_the_lot_the_publicity_the_pause_then_the_candidates() -> None:
    # given
    pause = Pause(reason="objection_pending", zh="异议未答复", en="an objection is unanswered")
    # when / then
    assert TABLE.fire(None, "award", **award()) is AwardStatus.AWARDED
    for refused in (award(lot_status="evaluating"), award(awarded=True), award(publicity_ends_at=None)):
        with pytest.raises(InvalidTransition) as wrong:
            TABLE.fire(None, "award", **refused | {"candidates": 0})
        assert wrong.value.params == {"state": refused["lot_status"]}
    with pytest.raises(PublicityNotOver):
        TABLE.fire(None, "award", **award(now=NOW - timedelta(seconds=1), pause=pause))
    with pytest.raises(LotPaused) as paused:
        TABLE.fire(None, "award", **award(pause=pause, candidates=0))
    assert paused.value.params["reason"] == "objection_pending"
    with pytest.raises(CandidatesMissing):
        TABLE.fire(None, "award", **award(candidates=0))


def test_the_winner_confirms_once_and_only_an_awarded_award_changes_status() -> None:
    # when / then
    assert TABLE.fire("awarded", "confirm", confirmed_at=None) is AwardStatus.CONFIRMED
    for later in ("confirmed", "contracted", "completed"):
        assert not TABLE.allows(later, "confirm", confirmed_at=None)
    with pytest.raises(AlreadyConfirmed):
        TABLE.precheck("confirm", confirmed_at=NOW)


def test_the_contract_names_the_lot_when_refused_then_checks_the_day_then_the_price() -> None:
    # when / then
    for state in ("awarded", "confirmed"):
        assert TABLE.fire(state, "record_contract", **contract()) is AwardStatus.CONTRACTED
    with pytest.raises(InvalidTransition) as wrong:
        TABLE.precheck("record_contract", **contract(lot_status="contracted", day=TODAY + timedelta(days=1)))
    assert wrong.value.params == {"state": "contracted"}
    with pytest.raises(InvalidTransition):
        TABLE.precheck("record_contract", **contract(open=False))
    for day in (TODAY + timedelta(days=1), TODAY - timedelta(days=1), NOW):
        with pytest.raises(InvalidInput) as bad:
            TABLE.precheck("record_contract", **contract(day=day, amount_fen=1))
        assert bad.value.params == {"field": "signedOn"}
    with pytest.raises(ContractAmountMismatch):
        TABLE.precheck("record_contract", **contract(amount_fen=99))


def test_the_performance_record_completes_a_contracted_award() -> None:
    # given
    facts = {"lot_status": "contracted", "open": True, "day": TODAY, "today": TODAY, "not_before": None}
    # when / then
    assert TABLE.fire("contracted", "record_performance", **facts) is AwardStatus.COMPLETED
    with pytest.raises(InvalidTransition):
        TABLE.fire("completed", "record_performance", **facts)
    with pytest.raises(InvalidInput) as bad:
        TABLE.precheck("record_performance", **facts | {"not_before": TODAY + timedelta(days=1)})
    assert bad.value.params == {"field": "completedOn"}


def test_the_chronograph_flags_a_missing_contract_once_after_its_deadline() -> None:
    # given
    due = {
        "now": NOW,
        "contract_due_at": NOW,
        "flagged": False,
        "contract_overdue_at": None,
        "grace_days": 0,
        "lot_status": "awarded",
        "open": True,
    }
    # when / then
    assert TABLE.due("awarded", **due) is TABLE["flag_contract_overdue"]
    assert TABLE.due("confirmed", **due) is TABLE["flag_contract_overdue_confirmed"]
    assert TABLE.fire("confirmed", "flag_contract_overdue_confirmed", by=SYSTEM, **due) is AwardStatus.CONFIRMED
    assert TABLE.due("awarded", **due | {"contract_due_at": NOW + timedelta(seconds=1)}) is None
    assert TABLE.due("awarded", **due | {"flagged": True}) is None
    assert TABLE.due("contracted", **due) is None


def test_the_chronograph_withdraws_a_flagged_award_only_after_the_lots_grace() -> None:
    # given an award flagged overdue 5 days ago
    flagged = {
        "now": NOW,
        "contract_due_at": NOW - timedelta(days=5),
        "flagged": True,
        "contract_overdue_at": NOW - timedelta(days=5),
        "lot_status": "awarded",
        "open": True,
        "half_signed": False,
    }
    # when / then: no grace set, a grace not over, a grace over
    assert TABLE.due("awarded", **flagged, grace_days=0) is None
    assert TABLE.due("awarded", **flagged, grace_days=6) is None
    assert TABLE.due("confirmed", **flagged, grace_days=5) is TABLE["withdraw_overdue"]
    assert TABLE.fire("awarded", "withdraw_overdue", by=SYSTEM, **flagged, grace_days=5) is AwardStatus.WITHDRAWN
    # and never once the contract is recorded, nor while one party has signed it, nor by a person
    assert TABLE.due("contracted", **flagged, grace_days=5) is None
    assert TABLE.due("awarded", **flagged | {"half_signed": True}, grace_days=5) is None
    with pytest.raises(PermissionDenied):
        TABLE.fire("awarded", "withdraw_overdue", by="tenderer", **flagged, grace_days=5)
