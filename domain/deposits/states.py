"""A bid deposit's sub-account (投标保证金) as data: paid by a bank callback, due back with the lot's
result, refunded by a bank callback, or kept by an operator.

Facts the service passes: `amount_fen` (the callback's amount), `expected_fen` (due, or paid for a
refund), `occurred_at` (when the bank says the money moved), `deadline` (the bid deadline, or None).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, guard, move
from domain.common.money import Money
from domain.deposits.errors import DepositAlreadyPaid, DepositAmountMismatch, DepositTooLate, RefundNotDue


class DepositStatus(StrEnum):
    AWAITING = "awaiting"  # reference issued, nothing received
    PAID = "paid"  # the full amount arrived before the bid deadline: security in place
    REFUND_DUE = "refund_due"  # the result is in: to be refunded by refund_due_at
    REFUNDED = "refunded"  # the bank confirmed the refund
    KEPT = "kept"  # forfeited where the rules say so (e.g. the winner refused to sign)


def _yuan(fen: int) -> str:
    return Money(fen).yuan_text()


def _mismatch(facts: Facts) -> DepositAmountMismatch:
    amount, expected = facts["amount_fen"], facts["expected_fen"]
    return DepositAmountMismatch(
        amount_fen=amount, expected_fen=expected, amount_text=_yuan(amount), expected_text=_yuan(expected)
    )


@guard("the full amount due (DepositAmountMismatch)")
def full_amount(facts: Facts) -> DomainError | None:
    return None if facts["amount_fen"] == facts["expected_fen"] else _mismatch(facts)


# 招标投标法实施条例 第二十六条: the deposit is submitted with the bid, i.e. before the bid deadline
@guard("paid before the bid deadline (DepositTooLate)")
def before_deadline(facts: Facts) -> DomainError | None:
    deadline = facts["deadline"]
    return DepositTooLate(deadline=deadline) if deadline is not None and facts["occurred_at"] >= deadline else None


# 实施条例 第五十七条: refunded with bank interest, so a refund may exceed the deposit, never fall short
@guard("at least the amount paid (DepositAmountMismatch)")
def at_least_paid(facts: Facts) -> DomainError | None:
    return None if facts["amount_fen"] >= facts["expected_fen"] else _mismatch(facts)


BANK = "bank"  # a bank's signed callback, its key checked before the table is asked
S = DepositStatus
TABLE: Lifecycle[DepositStatus] = Lifecycle(
    name="DepositAccount",
    states=DepositStatus,
    doc="One sub-account per registration of a lot that asks for security; banks move it by signed callbacks.",
    transitions=(
        move("open", None, S.AWAITING, by={SYSTEM}, note="the registration of a lot that asks for security"),
        move(
            "pay",
            S.AWAITING,
            S.PAID,
            by={BANK},
            guards=[full_amount, before_deadline],
            refusal=lambda _: DepositAlreadyPaid(),
            note="the bank's signed payment callback",
        ),
        move(
            "schedule_refund",
            S.PAID,
            S.REFUND_DUE,
            by={SYSTEM},
            note="the lot has its result, the bidder withdrew, or it lost an auction (实施条例 第五十七条: in 5 days)",
        ),
        move(
            "flag_overdue",
            S.REFUND_DUE,
            S.REFUND_DUE,
            by={SYSTEM},
            timed=True,
            note="refund_due_at passed: flagged to supervisors once (overdue_flagged_at)",
        ),
        move(
            "refund",
            {S.REFUND_DUE, S.PAID},
            S.REFUNDED,
            by={BANK},
            guards=[at_least_paid],
            refusal=lambda state: RefundNotDue(state=state),
            note="the bank's signed refund callback; from paid too (e.g. a bidder that withdrew)",
        ),
        move("keep", {S.PAID, S.REFUND_DUE}, S.KEPT, by={Role.OPERATOR}, note="forfeited where the rules say so"),
    ),
    initial=frozenset({S.AWAITING}),
    final=frozenset({S.REFUNDED, S.KEPT}),
)
