"""The award of a tendered lot (中标) as data: awarded after the candidate publicity, acknowledged by the
winner, contracted within 30 days, completed by the performance record.

Most moves depend on the lot as much as on the award, and refuse with InvalidTransition naming the
lot's status, as the services did before the table. Facts the services pass: `lot_status`, `now`,
`awarded` (the lot has an award), `publicity_ends_at` (None while no candidate publicity is published),
`pause` (why the lot may not be awarded now, or None), `candidates` (how many the report ranked),
`confirmed_at`, `open` (the award waits for this step: no contract, or no performance record, yet),
`day` / `today` / `not_before` (the signing or completion day, today in Shanghai, and the earliest day
allowed), `amount_fen` / `price_fen` (the contract amount and the winning price), `contract_due_at`
and `flagged` (the contract deadline, and whether it was flagged already).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from domain.common.errors import DomainError, InvalidInput, InvalidTransition
from domain.common.lifecycle import SYSTEM, Facts, Guard, Lifecycle, fact_in, guard, move
from domain.common.money import Money
from domain.publication.states import LotStatus
from domain.results.errors import (
    AlreadyConfirmed,
    CandidatesMissing,
    ContractAmountMismatch,
    LotPaused,
    PublicityNotOver,
)

# 招标投标法 第四十六条: the written contract within 30 days of the award notice
CONTRACT_DAYS = 30


class AwardStatus(StrEnum):
    AWARDED = "awarded"  # result announced, notices sent
    CONFIRMED = "confirmed"  # the winner acknowledged the result confirmation
    CONTRACTED = "contracted"  # the contract is recorded and announced
    COMPLETED = "completed"  # the performance record is published


class PublicityStage(StrEnum):
    """The lot's status as the candidate publicity sees it (the lot's own table is publication's)."""

    EVALUATING = LotStatus.EVALUATING.value  # the committee's report left its candidates
    PUBLICITY = LotStatus.PUBLICITY.value  # 中标候选人公示 published


def _lot_refuses(facts: Facts) -> DomainError:
    return InvalidTransition(state=str(facts["lot_status"]))


@guard("the lot has no award yet (InvalidTransition)")
def not_awarded(facts: Facts) -> DomainError | None:
    return _lot_refuses(facts) if facts["awarded"] else None


@guard("its candidate publicity is published (InvalidTransition)")
def publicity_published(facts: Facts) -> DomainError | None:
    return _lot_refuses(facts) if facts["publicity_ends_at"] is None else None


# 招标投标法实施条例 第五十四条: candidates publicised for at least 3 days before the award
@guard("the publicity has ended, on server time (PublicityNotOver)")
def publicity_over(facts: Facts) -> DomainError | None:
    ends_at: datetime = facts["publicity_ends_at"]
    return PublicityNotOver(ends_at=ends_at) if facts["now"] < ends_at else None


# 第五十四条: an objection during the publicity pauses the tender until answered (and a complaint, later)
@guard("nothing pauses the lot: an award blocker (an unanswered objection, a complaint) (LotPaused)")
def not_paused(facts: Facts) -> DomainError | None:
    pause = facts["pause"]
    return None if pause is None else LotPaused(reason=pause.reason, reason_zh=pause.zh, reason_en=pause.en)


@guard("the committee's report ranked a candidate (CandidatesMissing)")
def has_candidates(facts: Facts) -> DomainError | None:
    return None if facts["candidates"] else CandidatesMissing()


@guard("not acknowledged before (AlreadyConfirmed)")
def not_confirmed(facts: Facts) -> DomainError | None:
    confirmed_at = facts["confirmed_at"]
    return None if confirmed_at is None else AlreadyConfirmed(confirmed_at=confirmed_at)


@guard("the award waits for this record (InvalidTransition)")
def still_open(facts: Facts) -> DomainError | None:
    return None if facts["open"] else _lot_refuses(facts)


def day_in_range(field: str, words: str) -> Guard:
    """The day a record names: a date, not after today (Shanghai), not before `not_before`."""

    def check(facts: Facts) -> DomainError | None:
        day, not_before = facts["day"], facts["not_before"]
        if not isinstance(day, date) or isinstance(day, datetime) or day > facts["today"]:
            return InvalidInput(field=field)
        if not_before is not None and day < not_before:
            return InvalidInput(field=field)
        return None

    return Guard(f"{words} (InvalidInput {field})", check)


# 招标投标法实施条例 第五十七条: the price agreed is the price of the winning bid
@guard("the contract amount is the winning price (ContractAmountMismatch)")
def price_agreed(facts: Facts) -> DomainError | None:
    amount, price = facts["amount_fen"], facts["price_fen"]
    if amount == price:
        return None
    return ContractAmountMismatch(
        field="amountFen",
        amount_fen=amount,
        price_fen=price,
        amount_text=Money(amount).yuan_text(),
        price_text=Money(price).yuan_text(),
    )


@guard(f"contract_due_at ({CONTRACT_DAYS} days after the award) has passed")
def contract_overdue(facts: Facts) -> DomainError | None:
    return None if facts["now"] >= facts["contract_due_at"] else DomainError()


@guard("not flagged before")
def not_flagged(facts: Facts) -> DomainError | None:
    return DomainError() if facts["flagged"] else None


P = PublicityStage
PUBLICITY: Lifecycle[PublicityStage] = Lifecycle(
    name="CandidatePublicity",
    states=PublicityStage,
    doc="The candidate publicity (中标候选人公示) of an evaluated lot, once, for its candidate_publicity_days "
    "(招标投标法实施条例 第五十四条: at least 3 days). The state is the lot's status; any other status is refused.",
    field_name="lot.status",
    transitions=(
        move(
            "publish_candidates",
            P.EVALUATING,
            P.PUBLICITY,
            guards=[has_candidates],
            note="the tenderer, its agency or an operator; publishing again returns the same announcement",
        ),
    ),
    initial=frozenset({P.EVALUATING}),
    final=frozenset({P.PUBLICITY}),
)


A = AwardStatus
AWARDING = fact_in("lot_status", {LotStatus.PUBLICITY})
TABLE: Lifecycle[AwardStatus] = Lifecycle(
    name="Award",
    states=AwardStatus,
    doc="The award of a tendered lot to its first candidate, once the candidate publicity has ended and "
    "nothing pauses the lot; the lot itself moves with the result, contract and performance announcements.",
    transitions=(
        move(
            "award",
            None,
            A.AWARDED,
            guards=[AWARDING, not_awarded, publicity_published, publicity_over, not_paused, has_candidates],
            note="the tenderer, its agency or an operator; the other bidders' security is let go at once",
        ),
        move(
            "confirm",
            A.AWARDED,
            A.CONFIRMED,
            guards=[not_confirmed],
            note="the winner acknowledges the result confirmation (成交确认书); after the contract is recorded "
            "the acknowledgement is kept and the status stays",
        ),
        move(
            "record_contract",
            {A.AWARDED, A.CONFIRMED},
            A.CONTRACTED,
            guards=[
                fact_in("lot_status", {LotStatus.AWARDED}),
                still_open,
                day_in_range("signedOn", "signed on a past day, not before the award"),
                price_agreed,
            ],
            note="the tenderer, its agency or an operator; the contract announcement; the winner's security goes",
        ),
        move(
            "record_performance",
            A.CONTRACTED,
            A.COMPLETED,
            guards=[
                fact_in("lot_status", {LotStatus.CONTRACTED}),
                still_open,
                day_in_range("completedOn", "completed on a past day, not before the contract was signed"),
            ],
            note="the performance record (履约信息) is published",
        ),
        move(
            "flag_contract_overdue",
            A.AWARDED,
            A.AWARDED,
            by={SYSTEM},
            timed=True,
            guards=[contract_overdue, not_flagged],
            note="once, to the tenderer and the supervisors (contract_overdue_at)",
        ),
        move(
            "flag_contract_overdue_confirmed",
            A.CONFIRMED,
            A.CONFIRMED,
            by={SYSTEM},
            timed=True,
            guards=[contract_overdue, not_flagged],
            note="the same, once the winner has acknowledged",
        ),
    ),
    initial=frozenset({A.AWARDED}),
    final=frozenset({A.COMPLETED}),
)
