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

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.common.errors import DomainError, InvalidInput, InvalidTransition
from domain.common.lifecycle import SYSTEM, Facts, Guard, Lifecycle, fact_in, guard, move
from domain.common.money import Money
from domain.publication.states import LotStatus
from domain.results.errors import (
    AlreadyConfirmed,
    AwardStands,
    CandidateNotNext,
    CandidatesMissing,
    CandidateWithdrawn,
    ContractAmountMismatch,
    ContractChangeDecided,
    ContractChangeTooLarge,
    ContractSignedAlready,
    LotPaused,
    PaymentsExceedContract,
    PublicityNotOver,
    WithdrawalUnfounded,
)

# 招标投标法 第四十六条: the written contract within 30 days of the award notice
CONTRACT_DAYS = 30


class AwardStatus(StrEnum):
    AWARDED = "awarded"  # result announced, notices sent
    CONFIRMED = "confirmed"  # the winner acknowledged the result confirmation
    CONTRACTED = "contracted"  # the contract is recorded and announced
    COMPLETED = "completed"  # the performance record is published
    WITHDRAWN = "withdrawn"  # the winner declined or was disqualified: the next candidate, or the lot fails
    FAILED = "failed"  # no candidate remained: the lot failed (流标)


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


@guard("flagged overdue, and the lot's grace after the flag (contract_grace_days, 0 = never) has passed")
def grace_over(facts: Facts) -> DomainError | None:
    flagged_at, days = facts["contract_overdue_at"], facts["grace_days"]
    if flagged_at is None or days <= 0 or facts["now"] < flagged_at + timedelta(days=days):
        return DomainError()
    return None


@guard("no party has signed the winner's contract yet (a half-signed contract waits for its other signature)")
def unsigned(facts: Facts) -> DomainError | None:
    return DomainError() if facts["half_signed"] else None


# ---------------------------------------------------------------- sequential award


class WithdrawalReason(StrEnum):
    """Why an award leaves its winner (招标投标法实施条例 第五十五条, 第七十四条; 政府采购法实施条例 第四十九条)."""

    DECLINED = "declined"  # 放弃中标: the winner itself
    CONTRACT_NOT_SIGNED = "contract_not_signed"  # 不按规定订立合同: the 30-day deadline passed (flagged)
    SECURITY_NOT_SUBMITTED = "security_not_submitted"  # 不按照招标文件要求提交履约保证金
    FORCE_MAJEURE = "force_majeure"  # 因不可抗力不能履行合同
    COMPLAINT_UPHELD = "complaint_upheld"  # 被查实存在影响中标结果的违法行为: a complaint on the lot upheld
    CREDIT_BLOCKED = "credit_blocked"  # 失信联合惩戒: the winner is under joint punishment


@dataclass(frozen=True, slots=True)
class Ground:
    zh: str
    basis: str  # the rule, cited in the new result notice
    winner_may: bool  # the winner itself may invoke it (else only the tenderer, its agency or an operator)


WITHDRAWAL_GROUNDS: dict[WithdrawalReason, Ground] = {
    WithdrawalReason.DECLINED: Ground("中标人放弃中标", "《招标投标法实施条例》第五十五条", True),
    WithdrawalReason.CONTRACT_NOT_SIGNED: Ground(
        "中标人未在规定期限内订立书面合同", "《招标投标法》第四十六条、《招标投标法实施条例》第七十四条", False
    ),
    WithdrawalReason.SECURITY_NOT_SUBMITTED: Ground(
        "中标人未按照招标文件要求提交履约保证金", "《招标投标法实施条例》第五十五条", False
    ),
    WithdrawalReason.FORCE_MAJEURE: Ground("中标人因不可抗力不能履行合同", "《招标投标法实施条例》第五十五条", True),
    WithdrawalReason.COMPLAINT_UPHELD: Ground(
        "经投诉查实中标人存在影响中标结果的违法行为", "《招标投标法实施条例》第五十五条、第八十一条", False
    ),
    WithdrawalReason.CREDIT_BLOCKED: Ground(
        "中标人被列入失信联合惩戒名单", "《招标投标法实施条例》第五十五条；失信联合惩戒备忘录", False
    ),
}


def _unfounded(zh: str, en: str) -> WithdrawalUnfounded:
    return WithdrawalUnfounded(reason=en, reason_zh=zh, reason_en=en)


# 实施条例 第五十五条: only a ground the rule names moves the award; each is checked against the record
@guard(
    "the ground holds: declined or force majeure by the winner or the tenderer; contract_not_signed once the "
    "30-day deadline was flagged; complaint_upheld with an upheld complaint on the lot; credit_blocked while "
    "the winner is under joint punishment (WithdrawalUnfounded)"
)
def ground_holds(facts: Facts) -> DomainError | None:
    reason = WithdrawalReason(facts["reason"])
    if facts["by_winner"] and not WITHDRAWAL_GROUNDS[reason].winner_may:
        return _unfounded("中标人不能以此事由放弃", "the winner cannot invoke this ground")
    if reason is WithdrawalReason.CONTRACT_NOT_SIGNED and not facts["overdue"]:
        return _unfounded("订立合同期限尚未届满", "the contract deadline has not passed")
    if reason is WithdrawalReason.COMPLAINT_UPHELD and not facts["upheld"]:
        return _unfounded("该标段无成立的投诉", "no complaint on the lot was upheld")
    if reason is WithdrawalReason.CREDIT_BLOCKED and not facts["punished"]:
        return _unfounded("中标人未被列入失信联合惩戒名单", "the winner is not under joint punishment")
    return None


@guard("the chosen candidate is still in the running and next in rank (CandidateWithdrawn, CandidateNotNext)")
def next_in_rank(facts: Facts) -> DomainError | None:
    chosen, next_rank = facts["chosen_rank"], facts["next_rank"]
    if chosen is not None and chosen in facts["withdrawn_ranks"]:
        return CandidateWithdrawn(rank=chosen)
    if next_rank is None:
        return CandidatesMissing()
    if chosen is not None and chosen != next_rank:
        return CandidateNotNext(next_rank=next_rank)
    return None


@guard("no candidate remains in the running")
def none_remains(facts: Facts) -> DomainError | None:
    return None if facts["next_rank"] is None else InvalidTransition(state="candidates remain")


def _stands(state: str) -> DomainError:
    return AwardStands()


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
            "withdraw",
            {A.AWARDED, A.CONFIRMED},
            A.WITHDRAWN,
            guards=[fact_in("lot_status", {LotStatus.AWARDED}), still_open, ground_holds],
            note="the winner declines (放弃中标), or the tenderer, its agency or an operator disqualifies it on a "
            "ground of 实施条例 第五十五条; audited; with no candidate left the award fails at once",
        ),
        move(
            "award_next",
            A.WITHDRAWN,
            A.AWARDED,
            guards=[fact_in("lot_status", {LotStatus.AWARDED}), next_in_rank],
            refusal=_stands,
            note="the tenderer, its agency or an operator awards the next candidate in rank order: a new result "
            "notice, award and result notices, a new 30-day contract deadline",
        ),
        move(
            "fail",
            A.WITHDRAWN,
            A.FAILED,
            guards=[none_remains],
            note="with the withdrawal of the last candidate: the lot fails (流标); re-tender or cancel",
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
        # 招标投标法 第四十六条 (30 days), 实施条例 第五十五条、第七十四条: a winner that does not sign loses the award;
        # the platform withdraws it by itself only where the lot set a grace, and the tenderer then awards the next
        # candidate (第五十五条: 可以) or the lot fails
        move(
            "withdraw_overdue",
            {A.AWARDED, A.CONFIRMED},
            A.WITHDRAWN,
            by={SYSTEM},
            timed=True,
            guards=[fact_in("lot_status", {LotStatus.AWARDED}), still_open, grace_over, unsigned],
            note="contract_grace_days after the overdue flag with no contract signed: withdrawn on the ground "
            "contract_not_signed, audited and notified; not while one party has signed the contract (it waits)",
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
    final=frozenset({A.COMPLETED, A.FAILED}),
)


# ---------------------------------------------------------------- contracts


class ContractStatus(StrEnum):
    PENDING = "pending"  # drafted: the contract file waits for both parties' signatures
    ACTIVE = "active"  # signed by both, recorded and announced
    COMPLETED = "completed"  # the performance record is published
    TERMINATED = "terminated"  # ended early (解除/终止), announced


class ChangeReason(StrEnum):
    """Why a signed contract changes (变更), with the rule that allows it."""

    SUPPLEMENT = "supplement"  # 追加: same subject, <= 10% of the original amount
    PUBLIC_INTEREST = "public_interest"  # 继续履行将损害国家利益和社会公共利益
    AGREED_TERMS = "agreed_terms"  # 合同约定的调价、工程量调整 within the contract's own terms
    NON_SUBSTANTIVE = "non_substantive"  # names, contacts, bank accounts: no amount changes


class TerminationReason(StrEnum):
    PUBLIC_INTEREST = "public_interest"  # 政府采购法 第五十条第二款
    MUTUAL_AGREEMENT = "mutual_agreement"  # 民法典 第五百六十二条
    BREACH = "breach"  # 民法典 第五百六十三条第一款第二至四项
    FORCE_MAJEURE = "force_majeure"  # 民法典 第五百六十三条第一款第一项


CHANGE_BASIS: dict[ChangeReason, tuple[str, str]] = {
    ChangeReason.SUPPLEMENT: ("追加与合同标的相同的货物、工程或者服务", "《政府采购法》第四十九条"),
    ChangeReason.PUBLIC_INTEREST: ("继续履行将损害国家利益和社会公共利益", "《政府采购法》第五十条"),
    ChangeReason.AGREED_TERMS: ("按照合同约定调整", "《招标投标法》第四十六条、《民法典》第五百四十三条"),
    ChangeReason.NON_SUBSTANTIVE: ("非实质性内容变更", "《民法典》第五百四十三条"),
}
TERMINATION_BASIS: dict[TerminationReason, tuple[str, str]] = {
    TerminationReason.PUBLIC_INTEREST: ("继续履行将损害国家利益和社会公共利益", "《政府采购法》第五十条"),
    TerminationReason.MUTUAL_AGREEMENT: ("双方协商一致解除", "《民法典》第五百六十二条"),
    TerminationReason.BREACH: ("一方违约致使不能实现合同目的", "《民法典》第五百六十三条"),
    TerminationReason.FORCE_MAJEURE: ("因不可抗力致使不能实现合同目的", "《民法典》第五百六十三条"),
}
# 政府采购法 第四十九条: supplements add at most 10% of the original amount, all of them together
SUPPLEMENT_PERCENT = 10
# 政府采购法实施条例 第五十条: the contract is announced within 2 working days of its signing (here: at once)
CONTRACT_PUBLISH_WORKING_DAYS = 2


@guard("this party has not signed yet (ContractSignedAlready)")
def party_unsigned(facts: Facts) -> DomainError | None:
    return ContractSignedAlready() if facts["signed_before"] else None


@guard("the other party has signed")
def other_signed(facts: Facts) -> DomainError | None:
    return None if facts["other_signed"] else InvalidTransition(state="waiting for the other party")


@guard("the other party has not signed yet")
def other_unsigned(facts: Facts) -> DomainError | None:
    return InvalidTransition(state="both signed") if facts["other_signed"] else None


@guard(
    "the new amount: unchanged for a non-substantive change; a supplement adds, and all supplements add at "
    "most 10% of the original amount (ContractChangeTooLarge)"
)
def change_within_rules(facts: Facts) -> DomainError | None:
    reason = ChangeReason(facts["reason"])
    original, before, after = facts["original_fen"], facts["before_fen"], facts["after_fen"]
    if reason is ChangeReason.NON_SUBSTANTIVE and after != before:
        return InvalidInput(field="amountFen")
    if reason is ChangeReason.SUPPLEMENT:
        limit = original * SUPPLEMENT_PERCENT // 100
        if after <= before:
            return InvalidInput(field="amountFen")
        if facts["supplemented_fen"] + (after - before) > limit:
            return ContractChangeTooLarge(field="amountFen", limit_fen=limit, limit_text=Money(limit).yuan_text())
    return None


@guard("payments together stay within the contract's current amount (PaymentsExceedContract)")
def payments_within(facts: Facts) -> DomainError | None:
    amount = facts["amount_fen"]
    if facts["paid_fen"] + facts["payment_fen"] > amount:
        return PaymentsExceedContract(field="amountFen", amount_fen=amount, amount_text=Money(amount).yuan_text())
    return None


@guard("not accepted before")
def not_accepted(facts: Facts) -> DomainError | None:
    return InvalidTransition(state="accepted") if facts["accepted"] else None


K = ContractStatus
CONTRACT: Lifecycle[ContractStatus] = Lifecycle(
    name="Contract",
    states=ContractStatus,
    doc="The contract file of an award (documents purpose contract), signed by the tenderer and the winner with "
    "their bound certificates; once both have signed it is recorded and announced at once (政府采购法实施条例 "
    "第五十条: within 2 working days), then changed, accepted (验收), paid, and completed or terminated.",
    transitions=(
        move(
            "draft",
            None,
            K.PENDING,
            guards=[fact_in("award_status", {A.AWARDED, A.CONFIRMED}), price_agreed],
            note="the tenderer, its agency or an operator: number, amount (the winning price) and the contract file",
        ),
        move(
            "sign",
            K.PENDING,
            K.PENDING,
            guards=[party_unsigned, other_unsigned],
            note="the first party signs the contract content with its certificate",
        ),
        move(
            "sign_last",
            K.PENDING,
            K.ACTIVE,
            guards=[party_unsigned, other_signed],
            note="the second party signs: the contract is recorded and announced, the winner's security goes",
        ),
        move(
            "change",
            K.ACTIVE,
            K.ACTIVE,
            guards=[change_within_rules],
            note="a change (变更) with its reason, amount and documents; published as 合同变更公告",
        ),
        move("accept", K.ACTIVE, K.ACTIVE, guards=[not_accepted], note="the acceptance (验收) with its result"),
        move("pay", K.ACTIVE, K.ACTIVE, guards=[payments_within], note="a payment to the supplier, recorded"),
        move("terminate", K.ACTIVE, K.TERMINATED, note="ended early with its reason; published as 合同终止公告"),
        move("complete", K.ACTIVE, K.COMPLETED, note="the performance record (履约信息) is published"),
    ),
    initial=frozenset({K.PENDING}),
    final=frozenset({K.COMPLETED, K.TERMINATED}),
)


class ChangeStatus(StrEnum):
    PROPOSED = "proposed"  # one party proposed it: both parties' signatures awaited
    EFFECTIVE = "effective"  # signed by both: in force (and announced where the law asks)
    DECLINED = "declined"  # the other party refused it
    WITHDRAWN = "withdrawn"  # its proposer took it back


class ChangeKind(StrEnum):
    CHANGE = "change"  # 变更
    TERMINATION = "termination"  # 解除/终止


def _decided(state: str) -> DomainError:
    return ContractChangeDecided(status=state)


G = ChangeStatus
# 民法典 第五百四十三条: 当事人协商一致，可以变更合同; 第五百六十二条: 协商一致，可以解除合同
CONTRACT_CHANGE: Lifecycle[ChangeStatus] = Lifecycle(
    name="ContractChange",
    states=ChangeStatus,
    doc="A change (变更) or termination of a signed contract: proposed by one party with its reason, amount and "
    "documents, it takes effect only once both parties signed it with their bound certificates (民法典 第五百四十三条、"
    "第五百六十二条: 协商一致), and is then published where the law asks; the other party may decline it and its "
    "proposer withdraw it while it waits. One proposal waits at a time.",
    transitions=(
        move("propose", None, G.PROPOSED, note="the tenderer, its agency, or the supplier"),
        move(
            "sign",
            G.PROPOSED,
            G.PROPOSED,
            guards=[party_unsigned, other_unsigned],
            refusal=_decided,
            note="the first party signs the change's content (act contract.change) with its certificate",
        ),
        move(
            "sign_last",
            G.PROPOSED,
            G.EFFECTIVE,
            guards=[party_unsigned, other_signed],
            refusal=_decided,
            note="the second party signs: in force, the contract's amount or status follows, announced where asked",
        ),
        move("decline", G.PROPOSED, G.DECLINED, refusal=_decided, note="the party that did not propose it"),
        move("withdraw", G.PROPOSED, G.WITHDRAWN, refusal=_decided, note="the party that proposed it"),
    ),
    initial=frozenset({G.PROPOSED}),
    final=frozenset({G.EFFECTIVE, G.DECLINED, G.WITHDRAWN}),
)


# ---------------------------------------------------------------- cancellation (终止/废标)


class CancellationStatus(StrEnum):
    OBJECTION_WINDOW = "objection_window"  # announced; bidders may object until objection_ends_at
    EFFECTIVE = "effective"  # the window ended and every objection to it is answered


@guard("the objection window has ended")
def window_over(facts: Facts) -> DomainError | None:
    return None if facts["now"] >= facts["objection_ends_at"] else InvalidTransition(state="window open")


@guard("every objection to the cancellation is answered")
def objections_answered(facts: Facts) -> DomainError | None:
    return None if not facts["unanswered"] else InvalidTransition(state="objection unanswered")


@guard("no award stands on the lot: none, or withdrawn or failed (AwardStands)")
def no_standing_award(facts: Facts) -> DomainError | None:
    status = facts["award_status"]
    return AwardStands() if status in (A.AWARDED, A.CONFIRMED, A.CONTRACTED, A.COMPLETED) else None


CANCELLABLE = frozenset(
    {LotStatus.OPEN, LotStatus.EVALUATING, LotStatus.PUBLICITY, LotStatus.AWARDED, LotStatus.FAILED}
)
X = CancellationStatus
CANCELLATION: Lifecycle[CancellationStatus] = Lifecycle(
    name="Cancellation",
    states=CancellationStatus,
    doc="A cancellation (终止招标/废标) of a lot or of every open lot of a project, with a reason from the list and "
    "its legal basis, documents, a termination announcement per lot (deposits and guarantees are let go with it, "
    "实施条例 第三十一条: 及时退还) and an objection window; effective once the window is over and every "
    "objection to it is answered.",
    transitions=(
        move(
            "cancel",
            None,
            X.OBJECTION_WINDOW,
            guards=[fact_in("lot_status", CANCELLABLE), no_standing_award],
            note="the tenderer, its agency or an operator; per lot a termination announcement",
        ),
        move(
            "take_effect",
            X.OBJECTION_WINDOW,
            X.EFFECTIVE,
            by={SYSTEM},
            timed=True,
            guards=[window_over, objections_answered],
            note="the chronograph, at objection_ends_at (again at each answer's due time while one waits)",
        ),
    ),
    initial=frozenset({X.OBJECTION_WINDOW}),
    final=frozenset({X.EFFECTIVE}),
)
