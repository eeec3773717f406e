"""The expert draw (专家抽取) and the committee's evaluation (评标) as data.

Facts the draw's services pass: `lot_status`, `now`, `deadline` (the bid deadline, or None),
`drawn` (the lot already has a first draw), `eligible` and `size` (experts eligible so far and how
many the round needs), `matches` (the revealed secret matches the commitment), `pending` (an earlier
round is not revealed), `rounds` (the lot's rounds so far), `last_revealed`, `sitting` (the
evaluation has started), `on_committee` (every expert to replace sits on the standing committee).

Facts the evaluation's services pass: `lot_status`, `opening_status` (None when the lot has no
opening), `committee_complete` (every round revealed and as many members as the first round drew),
`member` (the expert sits on the evaluation's committee); under post-qualification (资格后审) `qualification_decided`
(every member judged every bid on every criterion, so the outcome is fixed) and `qualification_pending` (the lot has
criteria and they are not decided yet: nothing is scored before).
"""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.common.lifecycle import SYSTEM, Facts, Lifecycle, fact_in, guard, move
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
    QualificationDecided,
    QualificationPending,
    RevealTooEarly,
    SecretMismatch,
)
from domain.publication.states import LotStatus


class DrawStatus(StrEnum):
    COMMITTED = "committed"  # the commitment is recorded and published; the secret is not
    REVEALED = "revealed"  # the secret is published and the round drawn from it


class EvaluationStatus(StrEnum):
    SCORING = "scoring"  # sheets being handed in
    REPORTED = "reported"  # the report and its candidates exist
    FAILED = "failed"  # no bid complied: the lot failed (流标)


# ---------------------------------------------------------------- the draw's guards


# the commitment binds the operator to one secret before anyone knows the receipts
@guard("strictly before the bid deadline, on server time (CommitmentTooLate)")
def before_deadline(facts: Facts) -> DomainError | None:
    deadline, now = facts["deadline"], facts["now"]
    return CommitmentTooLate(deadline=deadline or now) if deadline is None or now >= deadline else None


@guard("after the bid deadline, on server time (RevealTooEarly)")
def after_deadline(facts: Facts) -> DomainError | None:
    deadline, now = facts["deadline"], facts["now"]
    return RevealTooEarly(deadline=deadline or now) if deadline is None or now < deadline else None


@guard("the lot has no draw yet; replacements are rounds of their own (DrawExists)")
def first_draw(facts: Facts) -> DomainError | None:
    return DrawExists() if facts["drawn"] else None


@guard("at least `size` experts eligible (NotEnoughExperts)")
def enough_experts(facts: Facts) -> DomainError | None:
    eligible, size = facts["eligible"], facts["size"]
    return NotEnoughExperts(eligible=eligible, size=size) if eligible < size else None


@guard("SHA-256 of the secret is the commitment (SecretMismatch)")
def secret_matches(facts: Facts) -> DomainError | None:
    return None if facts["matches"] else SecretMismatch()


@guard("every earlier round revealed (DrawPending)")
def earlier_revealed(facts: Facts) -> DomainError | None:
    return DrawPending() if facts["pending"] else None


@guard("the lot has a drawn committee (NoCommittee)")
def has_committee(facts: Facts) -> DomainError | None:
    return None if facts["rounds"] else NoCommittee()


@guard("the last round revealed (DrawPending)")
def last_revealed(facts: Facts) -> DomainError | None:
    return None if facts["last_revealed"] else DrawPending()


@guard("the evaluation has not started: it scores with the committee it started with (CommitteeSitting)")
def not_sitting(facts: Facts) -> DomainError | None:
    return CommitteeSitting() if facts["sitting"] else None


@guard("every expert replaced sits on the standing committee (NotOnCommittee)")
def on_committee(facts: Facts) -> DomainError | None:
    return None if facts["on_committee"] else NotOnCommittee()


D = DrawStatus
DRAW: Lifecycle[DrawStatus] = Lifecycle(
    name="ExpertDraw",
    states=DrawStatus,
    doc="One round of a lot's verifiable expert draw: committed before it can be known, revealed after "
    "(mobile_contract/EXPERT_DRAW.md). The committee is an odd number of at least five experts "
    "(招标投标法 第三十七条); a replacement round (补抽) replaces members who decline or must withdraw.",
    transitions=(
        move(
            "commit",
            None,
            D.COMMITTED,
            by={Role.OPERATOR},
            guards=[before_deadline, fact_in("lot_status", {LotStatus.OPEN}), first_draw, enough_experts],
            note="round 1 of the lot",
        ),
        move(
            "replace",
            None,
            D.COMMITTED,
            by={Role.OPERATOR},
            guards=[
                fact_in("lot_status", {LotStatus.OPEN, LotStatus.EVALUATING}),
                has_committee,
                last_revealed,
                not_sitting,
                on_committee,
                enough_experts,
            ],
            note="a replacement round (补抽), excluding everyone drawn for the lot before (回避)",
        ),
        move(
            "reveal",
            D.COMMITTED,
            D.REVEALED,
            by={Role.OPERATOR},
            guards=[after_deadline, secret_matches, earlier_revealed],
            note="revealing again with the secret changes nothing; each selected expert is then told",
        ),
    ),
    initial=frozenset({D.COMMITTED}),
    final=frozenset({D.REVEALED}),
)


# ---------------------------------------------------------------- the evaluation's guards


@guard("the lot's opening closed (OpeningNotClosed)")
def opening_closed(facts: Facts) -> DomainError | None:
    return None if facts["opening_status"] == "closed" else OpeningNotClosed()


@guard("every round revealed and the committee as large as the first round drew (CommitteeIncomplete)")
def committee_complete(facts: Facts) -> DomainError | None:
    return None if facts["committee_complete"] else CommitteeIncomplete()


@guard("the expert sits on the evaluation's committee (NotCommitteeMember)")
def member(facts: Facts) -> DomainError | None:
    return None if facts["member"] else NotCommitteeMember()


@guard("the qualification review is not decided yet (QualificationDecided)")
def qualification_open(facts: Facts) -> DomainError | None:
    return QualificationDecided() if facts["qualification_decided"] else None


@guard("no qualification review pending: the committee scores only bids it found qualified (QualificationPending)")
def qualification_done(facts: Facts) -> DomainError | None:
    return QualificationPending() if facts.get("qualification_pending") else None


E = EvaluationStatus
EVALUATION: Lifecycle[EvaluationStatus] = Lifecycle(
    name="Evaluation",
    states=EvaluationStatus,
    doc="The committee's evaluation of a sealed tender: method, weights and committee fixed at the start; "
    "each member hands in one complete sheet (and may replace it) until the last sheet makes the report.",
    transitions=(
        move(
            "start",
            None,
            E.SCORING,
            by={Role.OPERATOR, SYSTEM},
            guards=[fact_in("lot_status", {LotStatus.EVALUATING}), opening_closed, committee_complete],
            note="starting again returns the same evaluation",
        ),
        move(
            "submit_sheet",
            E.SCORING,
            E.SCORING,
            by={Role.EXPERT},
            guards=[member, qualification_done],
            refusal=lambda _: EvaluationFinished(),
            note="a member's complete sheet, replacing its previous one",
        ),
        move(
            "judge_qualification",
            E.SCORING,
            E.SCORING,
            by={Role.EXPERT},
            guards=[member, qualification_open],
            refusal=lambda _: EvaluationFinished(),
            note="资格后审: a member's judgements of bids against the lot's qualification criteria, replacing its "
            "earlier ones (招标投标法实施条例 第五十一条(三))",
        ),
        move(
            "decide_qualification",
            E.SCORING,
            E.SCORING,
            by={SYSTEM},
            note="the last judgement: a bid failing a mandatory criterion by a majority of the committee is rejected "
            "with its reasons; with none qualified the report fails the lot",
        ),
        move(
            "report",
            E.SCORING,
            E.REPORTED,
            by={SYSTEM},
            note="the last member's sheet: at least one bid complies, up to three candidates (中标候选人)",
        ),
        move(
            "fail",
            E.SCORING,
            E.FAILED,
            by={SYSTEM},
            note="the last member's sheet: no bid complies, the lot fails (流标) with a termination announcement",
        ),
    ),
    initial=frozenset({E.SCORING}),
    final=frozenset({E.REPORTED, E.FAILED}),
)
