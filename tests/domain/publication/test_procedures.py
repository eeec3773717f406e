"""Procedure defaults, legal bounds, locality rules and trade identifiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.common.catalogue import Category
from domain.common.errors import InvalidInput
from domain.publication.identifiers import is_valid_trade_code, lot_code, trade_code
from domain.publication.procedures import (
    ConfigOutOfBounds,
    LocalProtectionBanned,
    Procedure,
    bounds,
    check_eligibility,
    configure,
)

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("procedure", list(Procedure))
def test_every_procedure_has_lawful_defaults(procedure):
    # when a lot is configured without overrides
    config = configure(procedure, {})

    # then every default lies within its own bounds, and the national numbers hold
    for name, bound in bounds(procedure).items():
        assert bound.low <= config[name] <= bound.high, name
    assert config["deposit_cap_basis_points"] == 200
    assert config["complaint_window_days"] == 10
    assert config["auction_countdown_seconds"] == 300


def test_tenders_default_to_three_bids_and_secret_registrants():
    config = configure(Procedure.OPEN_TENDER, {})
    assert config["min_bids"] == 3
    assert config["candidate_publicity_days"] == 3
    assert config["min_submission_days"] == 20
    assert config["registrants_secret"] is True


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [
        ("min_bids", 2, "minBids"),
        ("candidate_publicity_days", 2, "candidatePublicityDays"),
        ("deposit_cap_basis_points", 201, "depositCapBasisPoints"),
        ("complaint_window_days", 9, "complaintWindowDays"),
        ("auction_countdown_seconds", 10, "auctionCountdownSeconds"),
        ("min_submission_days", 19, "minSubmissionDays"),
    ],
)
def test_overrides_outside_the_law_are_refused(setting, value, field):
    with pytest.raises(ConfigOutOfBounds) as refused:
        configure(Procedure.OPEN_TENDER, {setting: value})
    assert refused.value.field == field


def test_overrides_inside_the_bounds_are_kept():
    config = configure(Procedure.OPEN_TENDER, {"min_bids": 5, "candidate_publicity_days": 5})
    assert (config["min_bids"], config["candidate_publicity_days"]) == (5, 5)


@pytest.mark.parametrize("bad", [{"unknown": 1}, {"min_bids": "3"}, {"min_bids": True}, {"deposit_required": 1}])
def test_unknown_or_mistyped_settings_are_invalid(bad):
    with pytest.raises(InvalidInput):
        configure(Procedure.OPEN_TENDER, bad)


def test_deadlines_must_be_in_order_and_leave_twenty_days():
    # given a registration window that closes after the bid deadline
    with pytest.raises(InvalidInput) as disorder:
        configure(
            Procedure.OPEN_TENDER,
            {"registration_closes_at": NOW + timedelta(days=30), "bid_deadline": NOW + timedelta(days=25)},
        )
    assert disorder.value.field == "bidDeadline"

    # and a deadline 19 days after publication (招标投标法 第二十四条: at least 20)
    with pytest.raises(ConfigOutOfBounds):
        configure(Procedure.OPEN_TENDER, {"bid_deadline": NOW + timedelta(days=19)}, published_at=NOW)
    assert configure(Procedure.OPEN_TENDER, {"bid_deadline": NOW + timedelta(days=20)}, published_at=NOW)


def test_naive_times_are_refused():
    with pytest.raises(InvalidInput):
        configure(Procedure.OPEN_TENDER, {"bid_deadline": datetime(2026, 12, 30)})  # noqa: DTZ001


@pytest.mark.parametrize(
    "text",
    [
        "投标人须在青岛市注册",
        "须在本市设立分公司或办事处",
        "投标人应在当地设有分支机构",
        "近三年内须有本地业绩",
        "中标后须在本省投资不少于1000万元",
        "须在本地缴纳社保满一年",
        "Bidders must be locally registered",
    ],
)
def test_locality_restrictions_are_banned(text):
    with pytest.raises(LocalProtectionBanned) as banned:
        check_eligibility([{"kind": "qualification", "text": text}])
    assert banned.value.code == "LOCAL_PROTECTION_BANNED"
    assert "二（二）1" in banned.value.message("zh")


@pytest.mark.parametrize("kind", ["local_registration", "local_branch", "local_investment", "local_performance"])
def test_banned_rule_kinds_are_refused_whatever_their_text(kind):
    with pytest.raises(LocalProtectionBanned):
        check_eligibility([{"kind": kind, "text": "见招标文件"}])


def test_lawful_rules_pass():
    rules = [
        {"kind": "qualification", "text": "具有市政公用工程施工总承包二级及以上资质"},
        {"kind": "performance", "text": "近三年完成过类似道路工程业绩（不限地域）"},
    ]
    assert check_eligibility(rules) == rules


def test_trade_codes_carry_a_check_character():
    # given a project code and its lot codes
    project = trade_code("370200", Category.ENGINEERING_CONSTRUCTION, 2026, 42)
    lots = [lot_code(project, n) for n in (1, 2, 3)]

    # then every code validates, shares the project's stem, and a typo is caught
    assert all(is_valid_trade_code(c) for c in [project, *lots])
    assert {c[:18] for c in lots} == {project[:18]}
    assert project.endswith(project[-1])
    assert project[18:21] == "000"
    typo = project[:5] + ("1" if project[5] != "1" else "2") + project[6:]
    assert not is_valid_trade_code(typo)
    assert not is_valid_trade_code(project[:-1])
