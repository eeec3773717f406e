"""The negotiation and final-offer tables: who may move them, and the guards' typed refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidTransition, PermissionDenied
from domain.evaluation.errors import CommitteeIncomplete, EvaluationFinished, NotCommitteeMember, OpeningNotClosed
from domain.negotiation.errors import (
    FinalOfferOutsideWindow,
    FinalOffersNotCalled,
    NegotiationClosed,
    PanelComposition,
    RoundLimitReached,
    RoundsNotHeld,
    TooFewInvited,
    TooFewSuppliers,
)
from domain.negotiation.states import OFFER, TABLE, FinalOfferStatus, NegotiationStatus
from domain.tendering.opening import DecryptionClosed

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
OPERATOR = Actor(user_id=1, roles=frozenset({Role.OPERATOR}))
SUPPLIER = Actor(user_id=2, org_id=20, roles=frozenset({Role.BIDDER}))
EXPERT = Actor(expert_id=7, roles=frozenset({Role.EXPERT}))
N = NegotiationStatus


PANEL = {
    "panel_fault": None,
    "panel_minimum": 3,
    "panel_basis": "政府采购法 第三十八条",
    "experts": 2,
    "representatives": 1,
}


def start(**over: Any) -> dict[str, Any]:
    facts = {"lot_status": "evaluating", "opening_status": "closed", "committee_complete": True} | PANEL
    return facts | {"invited": 3, "invitation_basis": "财政部令第74号 第十二条", "suppliers": 3, "min_bids": 3} | over


def window(**over: Any) -> dict[str, Any]:
    facts = {"called": True, "opens_at": NOW, "closes_at": NOW + timedelta(minutes=60), "now": NOW}
    return facts | over


def test_start_checks_the_lot_the_opening_the_committee_then_the_suppliers() -> None:
    # when / then
    assert TABLE.fire(None, "start", by=OPERATOR, **start()) is N.NEGOTIATING
    assert TABLE.fire(None, "start", by=SYSTEM, **start(suppliers=2, min_bids=2)) is N.NEGOTIATING
    with pytest.raises(InvalidTransition):
        TABLE.fire(None, "start", by=OPERATOR, **start(lot_status="open", opening_status="scheduled"))
    with pytest.raises(OpeningNotClosed):
        TABLE.fire(None, "start", by=OPERATOR, **start(opening_status="decrypting", committee_complete=False))
    with pytest.raises(CommitteeIncomplete):
        TABLE.fire(None, "start", by=OPERATOR, **start(committee_complete=False, suppliers=0))
    with pytest.raises(TooFewSuppliers) as refused:
        TABLE.fire(None, "start", by=OPERATOR, **start(suppliers=2))
    assert refused.value.params["size"] == 3
    with pytest.raises(PermissionDenied):
        TABLE.fire(None, "start", by=SUPPLIER, **start())


def test_start_refuses_a_panel_that_breaks_its_rule_then_too_short_an_invitation_list() -> None:
    # when / then: the panel is checked before the invitation list, both before the suppliers who responded
    with pytest.raises(PanelComposition) as refused:
        TABLE.fire(None, "start", by=OPERATOR, **start(panel_fault="even", experts=3, representatives=1, invited=2))
    assert refused.value.params == {
        "minimum": 3,
        "experts": 3,
        "representatives": 1,
        "fault": "even",
        "basis": "政府采购法 第三十八条",
    }
    with pytest.raises(TooFewInvited) as short:
        TABLE.fire(None, "start", by=OPERATOR, **start(invited=2, suppliers=2))
    assert (short.value.params["size"], short.value.params["count"]) == (3, 2)


def test_the_panel_eliminates_only_while_the_rounds_go_on() -> None:
    # when / then
    assert TABLE.fire(N.NEGOTIATING, "eliminate", by=EXPERT) is N.NEGOTIATING
    with pytest.raises(NegotiationClosed):
        TABLE.fire(N.FINAL_OFFERS, "eliminate", by=EXPERT)


def test_rounds_stay_within_their_bounds_and_close_with_the_call() -> None:
    # given two rounds allowed, at least two required
    bounds = {"rounds_min": 2, "rounds_max": 2}
    # when / then
    assert TABLE.fire(N.NEGOTIATING, "open_round", round=1, **bounds) is N.NEGOTIATING
    with pytest.raises(RoundLimitReached):
        TABLE.fire(N.NEGOTIATING, "open_round", round=2, **bounds)
    with pytest.raises(RoundsNotHeld):
        TABLE.fire(N.NEGOTIATING, "call_final_offers", round=1, **bounds)
    assert TABLE.fire(N.NEGOTIATING, "call_final_offers", round=2, **bounds) is N.FINAL_OFFERS
    with pytest.raises(NegotiationClosed):
        TABLE.fire(N.FINAL_OFFERS, "exchange")


@pytest.mark.parametrize(
    ("facts", "error"),
    [
        (window(called=False, opens_at=None, closes_at=None), FinalOffersNotCalled),
        (window(now=NOW - timedelta(seconds=1)), FinalOfferOutsideWindow),
        (window(now=NOW + timedelta(minutes=60)), FinalOfferOutsideWindow),
    ],
)
def test_a_final_offer_outside_its_window_is_refused(facts: dict[str, Any], error: type[Exception]) -> None:
    # when / then: the window is [opens_at, closes_at) on server time
    with pytest.raises(error):
        TABLE.precheck("submit_offer", by=SUPPLIER, **facts)
    assert TABLE.fire(N.FINAL_OFFERS, "submit_offer", by=SUPPLIER, **window(now=NOW + timedelta(minutes=59))) is (
        N.FINAL_OFFERS
    )


def test_the_windows_close_on_time_or_fail_with_too_few_offers() -> None:
    # when / then
    assert TABLE.fire(N.FINAL_OFFERS, "close_offers", by=SYSTEM, offers=3, min_bids=3) is N.DECRYPTING
    with pytest.raises(TooFewSuppliers):
        TABLE.fire(N.FINAL_OFFERS, "close_offers", by=SYSTEM, offers=2, min_bids=3)
    assert TABLE.fire(N.FINAL_OFFERS, "fail", by=SYSTEM, offers=2, min_bids=3) is N.FAILED
    with pytest.raises(InvalidTransition):
        TABLE.fire(N.DECRYPTING, "fail", by=SYSTEM, offers=3, min_bids=3)
    assert TABLE.fire(N.DECRYPTING, "close_decryption", by=SYSTEM, offers=3, min_bids=3) is N.SCORING
    with pytest.raises(DecryptionClosed):
        TABLE.fire(N.SCORING, "decrypt_offer", by=SUPPLIER)


def test_only_panel_experts_hand_in_sheets_while_scoring() -> None:
    # when / then
    assert TABLE.fire(N.SCORING, "submit_sheet", by=EXPERT, member=True) is N.SCORING
    with pytest.raises(NotCommitteeMember):
        TABLE.fire(N.SCORING, "submit_sheet", by=EXPERT, member=False)
    with pytest.raises(EvaluationFinished):
        TABLE.fire(N.REPORTED, "submit_sheet", by=EXPERT, member=True)
    with pytest.raises(PermissionDenied):
        TABLE.fire(N.SCORING, "submit_sheet", by=SUPPLIER, member=True)


def test_a_final_offer_is_superseded_or_decrypted_once() -> None:
    # when / then
    assert OFFER.fire(None, "submit", by=SUPPLIER) is FinalOfferStatus.SUBMITTED
    assert OFFER.fire("submitted", "supersede", by=SUPPLIER) is FinalOfferStatus.SUPERSEDED
    assert OFFER.fire("submitted", "decrypt", by=SUPPLIER) is FinalOfferStatus.DECRYPTED
    with pytest.raises(InvalidTransition):
        OFFER.fire("decrypted", "decrypt", by=SUPPLIER)
    assert OFFER.fire("submitted", "invalidate", by=SYSTEM) is FinalOfferStatus.INVALID
