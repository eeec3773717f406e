"""The panel rule of a negotiation or consultation (procedures.panel_rule) and how suppliers are invited
(procedures.invitation_rule), as data with their legal basis."""

from __future__ import annotations

import pytest

from domain.publication.procedures import InvitationMethod, Procedure, configure, invitation_rule, panel_rule


@pytest.mark.parametrize(
    ("experts", "representatives", "fault"),
    [
        (3, 0, None),  # three experts
        (2, 1, None),  # 政府采购法 第三十八条: three, two of them experts (2/3)
        (4, 1, None),
        (4, 3, "too_few_experts"),  # 4 of 7 < 2/3
        (3, 1, "even"),
        (2, 0, "too_few"),
        (1, 2, "too_few_experts"),
        (5, 2, None),  # 5 of 7 >= 2/3
    ],
)
def test_a_negotiation_panel_is_an_odd_number_of_three_or_more_two_thirds_experts(
    experts: int, representatives: int, fault: str | None
) -> None:
    # given the negotiation's rule and a lot below the public-tender threshold
    rule = panel_rule(Procedure.COMPETITIVE_NEGOTIATION)
    assert rule is not None

    # when / then
    assert rule.fault(experts, representatives, configure(Procedure.COMPETITIVE_NEGOTIATION, {})) == fault
    assert "第三十八条" in rule.basis
    assert "第七条" in rule.basis


def test_at_the_public_tender_threshold_a_negotiation_panel_has_five_but_a_consultation_panel_three() -> None:
    # given lots at the public-tender threshold (财政部令第74号 第七条)
    at = {"tender_threshold_reached": True}
    negotiation, consultation = (
        panel_rule(p) for p in (Procedure.COMPETITIVE_NEGOTIATION, Procedure.COMPETITIVE_CONSULTATION)
    )
    assert negotiation is not None
    assert consultation is not None

    # when / then
    config = configure(Procedure.COMPETITIVE_NEGOTIATION, at)
    assert negotiation.fault(2, 1, config) == "too_few"
    assert negotiation.fault(4, 1, config) is None
    assert consultation.fault(2, 1, configure(Procedure.COMPETITIVE_CONSULTATION, at)) is None
    assert "214号" in consultation.basis
    assert panel_rule(Procedure.OPEN_TENDER) is None


def test_negotiations_invite_by_announcement_pool_draw_or_recommendation_and_invited_tenders_by_letter() -> None:
    # when
    negotiation = invitation_rule(Procedure.COMPETITIVE_NEGOTIATION)
    tender = invitation_rule(Procedure.INVITED_TENDER)

    # then
    assert negotiation is not None
    assert tender is not None
    assert negotiation.methods == {
        InvitationMethod.ANNOUNCEMENT,
        InvitationMethod.POOL_DRAW,
        InvitationMethod.RECOMMENDATION,
    }
    assert negotiation.purchaser_share == (1, 2)
    assert "第十二条" in negotiation.basis
    assert tender.methods == {InvitationMethod.LETTER}
    assert invitation_rule(Procedure.OPEN_TENDER) is None


def test_the_purchaser_recommends_at_most_half_of_the_suppliers_recommended() -> None:
    # given the negotiation's invitation rule (财政部令第74号 第十二条: 不得高于推荐供应商总数的50%)
    rule = invitation_rule(Procedure.COMPETITIVE_NEGOTIATION)
    assert rule is not None

    # when / then
    assert not rule.purchaser_over_share(1, 2)
    assert not rule.purchaser_over_share(0, 0)
    assert not rule.purchaser_over_share(2, 4)
    assert rule.purchaser_over_share(2, 3)
    assert rule.purchaser_over_share(1, 1)
