"""The tables after the award: the grounds a withdrawal stands on, the rank order of the next award, a contract's
signatures, changes and payments, and when a cancellation takes effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.common.actors import SYSTEM
from domain.common.errors import InvalidInput, InvalidTransition
from domain.results.errors import (
    AwardStands,
    CandidateNotNext,
    CandidatesMissing,
    CandidateWithdrawn,
    ContractChangeTooLarge,
    ContractSignedAlready,
    PaymentsExceedContract,
    WithdrawalUnfounded,
)
from domain.results.states import (
    CANCELLATION,
    CONTRACT,
    TABLE,
    AwardStatus,
    CancellationStatus,
    ContractStatus,
    WithdrawalReason,
)

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def withdrawal(reason: WithdrawalReason, **over: Any) -> dict[str, Any]:
    facts = {"lot_status": "awarded", "open": True, "reason": reason.value, "by_winner": False}
    return facts | {"overdue": False, "upheld": False, "punished": False} | over


@pytest.mark.parametrize(
    ("reason", "holds"),
    [
        (WithdrawalReason.DECLINED, {}),
        (WithdrawalReason.FORCE_MAJEURE, {}),
        (WithdrawalReason.SECURITY_NOT_SUBMITTED, {}),
        (WithdrawalReason.CONTRACT_NOT_SIGNED, {"overdue": True}),
        (WithdrawalReason.COMPLAINT_UPHELD, {"upheld": True}),
        (WithdrawalReason.CREDIT_BLOCKED, {"punished": True}),
    ],
)
def test_a_ground_moves_the_award_only_when_the_record_bears_it_out(reason: WithdrawalReason, holds: dict[str, bool]):
    # when / then: with the fact the ground needs, the award is withdrawn
    assert TABLE.fire(AwardStatus.AWARDED, "withdraw", **withdrawal(reason, **holds)) is AwardStatus.WITHDRAWN
    assert TABLE.fire(AwardStatus.CONFIRMED, "withdraw", **withdrawal(reason, **holds)) is AwardStatus.WITHDRAWN
    # and without it, a ground that needs one is unfounded
    if holds:
        with pytest.raises(WithdrawalUnfounded):
            TABLE.fire(AwardStatus.AWARDED, "withdraw", **withdrawal(reason))


@pytest.mark.parametrize("reason", [r for r in WithdrawalReason if r not in ("declined", "force_majeure")])
def test_the_winner_itself_may_only_decline_or_invoke_force_majeure(reason: WithdrawalReason) -> None:
    facts = withdrawal(reason, by_winner=True, overdue=True, upheld=True, punished=True)
    with pytest.raises(WithdrawalUnfounded):
        TABLE.fire(AwardStatus.AWARDED, "withdraw", **facts)


@pytest.mark.parametrize("status", [AwardStatus.CONTRACTED, AwardStatus.COMPLETED, AwardStatus.WITHDRAWN])
def test_a_contracted_or_withdrawn_award_is_not_withdrawn(status: AwardStatus) -> None:
    with pytest.raises(InvalidTransition):
        TABLE.fire(status, "withdraw", **withdrawal(WithdrawalReason.DECLINED))


def next_award(**over: Any) -> dict[str, Any]:
    return {"lot_status": "awarded", "chosen_rank": None, "withdrawn_ranks": {1}, "next_rank": 2} | over


def test_the_next_award_goes_in_rank_order_to_a_candidate_still_in_the_running() -> None:
    assert TABLE.fire(AwardStatus.WITHDRAWN, "award_next", **next_award()) is AwardStatus.AWARDED
    assert TABLE.fire(AwardStatus.WITHDRAWN, "award_next", **next_award(chosen_rank=2)) is AwardStatus.AWARDED
    with pytest.raises(CandidateNotNext) as skipped:
        TABLE.fire(AwardStatus.WITHDRAWN, "award_next", **next_award(chosen_rank=3))
    assert skipped.value.params["next_rank"] == 2
    with pytest.raises(CandidateWithdrawn):
        TABLE.fire(AwardStatus.WITHDRAWN, "award_next", **next_award(chosen_rank=1))
    with pytest.raises(CandidatesMissing):
        TABLE.fire(AwardStatus.WITHDRAWN, "award_next", **next_award(withdrawn_ranks={1, 2}, next_rank=None))
    with pytest.raises(AwardStands):
        TABLE.fire(AwardStatus.AWARDED, "award_next", **next_award())
    # and only when none remains does the award fail
    assert TABLE.fire(AwardStatus.WITHDRAWN, "fail", next_rank=None) is AwardStatus.FAILED
    with pytest.raises(InvalidTransition):
        TABLE.fire(AwardStatus.WITHDRAWN, "fail", next_rank=2)


def test_both_parties_sign_once_and_the_second_signature_puts_the_contract_in_force() -> None:
    assert CONTRACT.fire(ContractStatus.PENDING, "sign", signed_before=False, other_signed=False) is (
        ContractStatus.PENDING
    )
    assert CONTRACT.fire(ContractStatus.PENDING, "sign_last", signed_before=False, other_signed=True) is (
        ContractStatus.ACTIVE
    )
    with pytest.raises(ContractSignedAlready):
        CONTRACT.fire(ContractStatus.PENDING, "sign", signed_before=True, other_signed=False)
    with pytest.raises(InvalidTransition):
        CONTRACT.fire(ContractStatus.ACTIVE, "sign_last", signed_before=False, other_signed=True)


def change(reason: str, after: int, supplemented: int = 0) -> dict[str, Any]:
    return {
        "reason": reason,
        "original_fen": 1000,
        "before_fen": 1000,
        "after_fen": after,
        "supplemented_fen": supplemented,
    }


def test_supplements_add_at_most_ten_percent_and_a_non_substantive_change_keeps_the_amount() -> None:
    assert CONTRACT.fire(ContractStatus.ACTIVE, "change", **change("supplement", 1100)) is ContractStatus.ACTIVE
    with pytest.raises(ContractChangeTooLarge) as refused:
        CONTRACT.fire(ContractStatus.ACTIVE, "change", **change("supplement", 1050, supplemented=60))
    assert refused.value.params["limit_fen"] == 100
    with pytest.raises(InvalidInput):
        CONTRACT.fire(ContractStatus.ACTIVE, "change", **change("supplement", 900))
    with pytest.raises(InvalidInput):
        CONTRACT.fire(ContractStatus.ACTIVE, "change", **change("non_substantive", 1001))
    assert CONTRACT.fire(ContractStatus.ACTIVE, "change", **change("public_interest", 800)) is ContractStatus.ACTIVE
    with pytest.raises(InvalidTransition):
        CONTRACT.fire(ContractStatus.PENDING, "change", **change("agreed_terms", 1000))


def test_payments_stay_within_the_contract_amount() -> None:
    assert CONTRACT.fire(ContractStatus.ACTIVE, "pay", amount_fen=100, paid_fen=60, payment_fen=40)
    with pytest.raises(PaymentsExceedContract):
        CONTRACT.fire(ContractStatus.ACTIVE, "pay", amount_fen=100, paid_fen=60, payment_fen=41)


def test_a_cancellation_takes_effect_after_its_window_with_every_objection_answered() -> None:
    window = {"objection_ends_at": NOW}
    before = {"now": NOW - timedelta(seconds=1), "unanswered": False} | window
    waiting = {"now": NOW, "unanswered": True} | window
    over = {"now": NOW, "unanswered": False} | window
    status = CancellationStatus.OBJECTION_WINDOW
    assert CANCELLATION.due(status, **before) is None
    assert CANCELLATION.due(status, **waiting) is None
    assert CANCELLATION.fire(status, "take_effect", by=SYSTEM, **over) is CancellationStatus.EFFECTIVE


@pytest.mark.parametrize("award", ["awarded", "confirmed", "contracted"])
def test_a_lot_whose_award_stands_is_not_cancelled(award: str) -> None:
    with pytest.raises(AwardStands):
        CANCELLATION.fire(None, "cancel", lot_status="awarded", award_status=award)
    assert CANCELLATION.fire(None, "cancel", lot_status="awarded", award_status="withdrawn")
    assert CANCELLATION.fire(None, "cancel", lot_status="open", award_status=None)
    with pytest.raises(InvalidTransition):
        CANCELLATION.fire(None, "cancel", lot_status="contracted", award_status=None)
