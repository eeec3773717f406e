"""The pool's pure rules: the rating from appraisals, a declared conflict matching a lot's organisations, the day a
committee sits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.experts.models import ExpertAppraisal, ExpertConflict
from domain.experts.pool import matches
from domain.experts.service import FULL_RATING, rating_of, sitting_day
from domain.publication.models import Lot

ORGS = {7: ("91370200MA3C8XXX1X", "青岛海湾路桥建设有限公司")}


def appraisal(a: int, d: int, c: int) -> ExpertAppraisal:
    return ExpertAppraisal(attendance=a, diligence=d, conduct=c)


def conflict(**named: object) -> ExpertConflict:
    return ExpertConflict(expert_id=1, relation="named_entity", **named)


def test_an_expert_never_appraised_has_full_marks_and_each_appraisal_weighs_the_same():
    assert rating_of([]) == FULL_RATING
    assert rating_of([appraisal(10, 10, 10)]) == 100
    assert rating_of([appraisal(4, 5, 6), appraisal(8, 8, 8)]) == 65  # (15 + 24) / 60
    assert rating_of([appraisal(0, 0, 0)]) == 0


def test_a_conflict_matches_by_organisation_credit_code_or_exact_name():
    assert matches(conflict(organisation_id=7), ORGS)
    assert matches(conflict(credit_code="91370200MA3C8XXX1X"), ORGS)
    assert matches(conflict(entity_name="青岛海湾路桥建设有限公司"), ORGS)
    assert not matches(conflict(organisation_id=8), ORGS)
    assert not matches(conflict(entity_name="青岛海湾路桥"), ORGS)
    assert not matches(conflict(credit_code="91370200MA3C8XXX2X"), ORGS)


def test_the_committee_sits_on_the_evaluation_day_else_the_opening_else_the_deadline_in_beijing():
    late = datetime(2026, 12, 20, 17, 30, tzinfo=UTC).isoformat()  # 01:30 on the 21st in Beijing
    assert sitting_day(Lot(config={"bid_deadline": late})) == date(2026, 12, 21)
    assert sitting_day(Lot(config={"bid_deadline": late, "evaluation_at": "2026-12-23T09:00:00+08:00"})) == date(
        2026, 12, 23
    )
    assert sitting_day(Lot(config={})) is None


def test_an_application_is_reviewed_once_by_an_operator_and_a_rejection_gives_its_reason():
    from domain.common.actors import Actor, Role
    from domain.common.errors import InvalidInput, PermissionDenied
    from domain.experts.errors import ApplicationReviewed
    from domain.experts.states import APPLICATION, ApplicationStatus

    operator = Actor(user_id=1, org_id=1, roles=frozenset({Role.OPERATOR}))
    bidder = Actor(user_id=2, org_id=2, roles=frozenset({Role.BIDDER}))
    # an operator approves a submitted application, or rejects it with a reason
    assert APPLICATION.fire("submitted", "approve", by=operator, reason=None) is ApplicationStatus.APPROVED
    assert APPLICATION.fire("submitted", "reject", by=operator, reason="资格证书过期") is ApplicationStatus.REJECTED
    # and nobody else, not without a reason, and never twice
    with pytest.raises(PermissionDenied):
        APPLICATION.fire("submitted", "approve", by=bidder, reason=None)
    with pytest.raises(InvalidInput):
        APPLICATION.fire("submitted", "reject", by=operator, reason=None)
    with pytest.raises(ApplicationReviewed):
        APPLICATION.fire("approved", "reject", by=operator, reason="重复")
