"""The legal minimums of a change of the documents per procedure, the deadline they move to, the flags a change puts
on sealed bids, and the question deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.common.actors import SYSTEM, Actor, Role
from domain.common.calendar import WorkingCalendar
from domain.common.errors import DomainError
from domain.publication.models import Lot
from domain.publication.procedures import Procedure, clarification_minimum, configure
from domain.registration.questions import question_deadline
from domain.registration.states import QUESTION, QuestionStatus
from domain.tendering.clarifications import earliest_deadline, reaches_in_time
from domain.tendering.errors import BidDeadlinePassed
from domain.tendering.states import BID, BidStatus

BIDDER = Actor(user_id=7, org_id=7, roles=frozenset({Role.BIDDER}))
# a Thursday, 09:30 in Beijing
DEADLINE = datetime(2026, 12, 17, 1, 30, tzinfo=UTC)


def test_each_procedure_keeps_its_minimum_with_its_legal_basis():
    # given / when
    engineering = clarification_minimum(Procedure.OPEN_TENDER, "engineering_construction")
    procurement = clarification_minimum(Procedure.OPEN_TENDER, "government_procurement")
    invited = clarification_minimum(Procedure.INVITED_TENDER, "engineering_construction")
    consultation = clarification_minimum(Procedure.COMPETITIVE_CONSULTATION, "government_procurement")
    negotiation = clarification_minimum(Procedure.COMPETITIVE_NEGOTIATION, "government_procurement")
    inquiry = clarification_minimum(Procedure.INQUIRY, "government_procurement")
    # then
    assert engineering is not None
    assert (engineering.days, engineering.working_days) == (15, False)
    assert "招标投标法 第二十三条" in engineering.basis
    assert procurement is not None
    assert (procurement.days, "第二十七条" in procurement.basis) == (15, True)
    assert invited == engineering
    assert consultation is not None
    assert (consultation.days, consultation.working_days, "第十条" in consultation.basis) == (5, False, True)
    assert negotiation is not None
    assert (negotiation.days, negotiation.working_days, "第二十九条" in negotiation.basis) == (3, True, True)
    assert inquiry is not None
    assert (inquiry.days, inquiry.working_days) == (3, True)
    assert clarification_minimum(Procedure.ONLINE_AUCTION, "environmental_rights") is None


def test_a_change_ten_days_ahead_moves_the_deadline_to_fifteen_days_at_its_time_of_day():
    # given a change ten days before the deadline, and one an hour later
    minimum = clarification_minimum(Procedure.OPEN_TENDER, "engineering_construction")
    assert minimum is not None
    days = WorkingCalendar()
    exactly, later = DEADLINE - timedelta(days=10), DEADLINE - timedelta(days=10) + timedelta(hours=1)
    # when / then
    assert earliest_deadline(exactly, DEADLINE, minimum, days) == exactly + timedelta(days=15)
    assert earliest_deadline(later, DEADLINE, minimum, days) == DEADLINE + timedelta(days=6)
    # and a change sixteen days ahead moves nothing
    assert earliest_deadline(DEADLINE - timedelta(days=16), DEADLINE, minimum, days) == DEADLINE


def test_working_days_skip_the_weekend():
    # given a negotiation due on a Thursday and a change on the Monday before, then on the Tuesday
    minimum = clarification_minimum(Procedure.COMPETITIVE_NEGOTIATION, "government_procurement")
    assert minimum is not None
    days = WorkingCalendar()
    monday, tuesday = DEADLINE - timedelta(days=3, hours=2), DEADLINE - timedelta(days=2, hours=2)
    # then Monday leaves Tuesday, Wednesday and Thursday: enough
    assert reaches_in_time(monday, DEADLINE, minimum, days)
    # and Tuesday leaves two (Wednesday, Thursday): Friday; the Thursday itself: past the weekend to Tuesday
    moved = earliest_deadline(tuesday, DEADLINE, minimum, days)
    assert moved == DEADLINE + timedelta(days=1)
    assert earliest_deadline(DEADLINE - timedelta(hours=2), DEADLINE, minimum, days) == DEADLINE + timedelta(days=5)


@pytest.mark.parametrize(
    ("transition", "source", "allowed"),
    [
        ("flag", BidStatus.SUBMITTED, True),
        ("flag", BidStatus.UNCONFIRMED, False),
        ("flag", BidStatus.DECRYPTED, False),
        ("confirm", BidStatus.UNCONFIRMED, True),
        ("confirm", BidStatus.SUBMITTED, False),
        ("lapse", BidStatus.UNCONFIRMED, True),
        ("lapse", BidStatus.SUBMITTED, False),
        ("supersede", BidStatus.UNCONFIRMED, True),
        ("withdraw", BidStatus.UNCONFIRMED, True),
        ("decrypt", BidStatus.UNCONFIRMED, False),
    ],
)
def test_a_flagged_bid_moves_only_as_its_table_says(transition, source, allowed):
    # given a bidder before the deadline, or the platform
    by = SYSTEM if transition in ("flag", "lapse") else BIDDER
    facts = {"lot_status": "open", "now": DEADLINE - timedelta(days=1), "deadline": DEADLINE}
    # when / then
    assert BID.allows(source, transition, by=by, **facts, registered=True, security=True) is allowed


def test_a_confirmation_after_the_deadline_or_by_the_platform_is_refused():
    facts = {"lot_status": "open", "deadline": DEADLINE, "registered": True, "security": True}
    with pytest.raises(BidDeadlinePassed):
        BID.fire(BidStatus.UNCONFIRMED, "confirm", by=BIDDER, now=DEADLINE, **facts)
    with pytest.raises(DomainError):
        BID.fire(BidStatus.UNCONFIRMED, "confirm", by=SYSTEM, now=DEADLINE - timedelta(days=1), **facts)


def test_questions_close_their_cutoff_before_the_deadline():
    # given an open tender with the default cutoff and one that keeps questions open until 3 days before
    config = configure(Procedure.OPEN_TENDER, {"bid_deadline": DEADLINE})
    short = configure(Procedure.OPEN_TENDER, {"bid_deadline": DEADLINE, "question_cutoff_days": 3})
    lot, other = Lot(procedure="open_tender", config=config), Lot(procedure="open_tender", config=short)
    # when / then
    assert question_deadline(lot) == DEADLINE - timedelta(days=10)
    assert question_deadline(other) == DEADLINE - timedelta(days=3)
    assert QUESTION.allows(None, "ask", by=BIDDER, now=DEADLINE - timedelta(days=11), closes_at=question_deadline(lot))
    assert not QUESTION.allows(
        None, "ask", by=BIDDER, now=DEADLINE - timedelta(days=10), closes_at=question_deadline(lot)
    )
    assert QUESTION.fire(QuestionStatus.OPEN, "answer", by=BIDDER) is QuestionStatus.ANSWERED
