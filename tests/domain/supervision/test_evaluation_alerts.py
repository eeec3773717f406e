"""The abnormal-evaluation signals as pure functions: who is far from the committee, who scored every bid alike,
who was too fast, with the thresholds as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.supervision.evaluation_alerts import EvaluationThresholds, identical, outliers, too_fast

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def test_an_expert_far_from_the_median_on_most_bids_is_an_outlier_and_a_close_one_is_not():
    # given five members' points on three bids, the fifth far below on every bid
    sheets = {
        1: {10: 5500, 11: 5100, 12: 5300},
        2: {10: 5600, 11: 5200, 12: 5400},
        3: {10: 5400, 11: 5000, 12: 5200},
        4: {10: 5550, 11: 5150, 12: 5350},
        5: {10: 2500, 11: 2400, 12: 2450},
    }

    # when
    found = outliers(sheets)

    # then
    assert [f["expertId"] for f in found] == [5]
    assert [b["sealedBidId"] for b in found[0]["bids"]] == [10, 11, 12]


def test_the_outlier_floor_keeps_small_differences_quiet_and_the_share_is_a_setting():
    # given one member 8 points off on one bid of three
    sheets = {m: {10: 5000, 11: 5000, 12: 5000} for m in range(1, 5)}
    sheets[5] = {10: 4200, 11: 5000, 12: 5000}

    # then under the default floor of 10 points nothing; with a 5-point floor and a third of the bids, the member
    assert outliers(sheets) == []
    stricter = EvaluationThresholds(outlier_min_centi=500, outlier_min_share=0.3)
    assert [f["expertId"] for f in outliers(sheets, stricter)] == [5]


def test_identical_scores_are_flagged_only_when_the_rest_of_the_committee_told_the_bids_apart():
    same = {10: (4000, 1500), 11: (4000, 1500), 12: (4000, 1500)}
    varied = {10: (4000, 1500), 11: (3600, 1500), 12: (3800, 1400)}

    assert [f["expertId"] for f in identical({1: varied, 2: varied, 3: same})] == [3]
    assert identical({1: same, 2: same, 3: same}) == []
    assert identical({1: varied, 2: {10: (4000, 1500), 11: (4000, 1500)}}) == []  # fewer than 3 bids


def test_a_sheet_under_five_minutes_a_bid_from_opening_the_bids_is_too_fast():
    timings = {
        1: (T0, T0 + timedelta(minutes=14, seconds=59), True),
        2: (T0, T0 + timedelta(minutes=15), True),
        3: (T0, T0 + timedelta(minutes=2), False),
    }

    found = too_fast(timings, bids=3)

    assert [(f["expertId"], f["seconds"], f["openedBids"]) for f in found] == [(1, 899, True), (3, 120, False)]
    assert too_fast(timings, bids=3, t=EvaluationThresholds(fast_seconds_per_bid=30)) == []
