"""The rating rule table and the score: weights by kind and category, half-life decay, records too old, punishments in
force and ended, grades; the table's validation; recomputation keeps a history only of changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.common.errors import InvalidInput
from domain.credit import rating
from domain.credit.models import CreditRatingChange, CreditRecord, JointPunishment
from tests.domain.factories import organisation

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TABLE = rating.BUILT_IN.rules


def record(kind: str, category: str, days_ago: float, pk: int = 1) -> CreditRecord:
    return CreditRecord(
        id=pk,
        organisation_id=1,
        kind=kind,
        category=category,
        description="-",
        source="-",
        recorded_by=0,
        recorded_at=NOW - timedelta(days=days_ago),
    )


def punishment(
    starts_days_ago: float, ends_in_days: float | None, lifted_days_ago: float | None = None
) -> JointPunishment:
    return JointPunishment(
        id=7,
        organisation_id=1,
        reason="串通投标",
        authority="-",
        document_no="-",
        starts_at=NOW - timedelta(days=starts_days_ago),
        ends_at=None if ends_in_days is None else NOW + timedelta(days=ends_in_days),
        lifted_at=None if lifted_days_ago is None else NOW - timedelta(days=lifted_days_ago),
        recorded_by=0,
        recorded_at=NOW,
    )


def test_a_clean_entity_scores_the_base_and_its_grade():
    assert rating.score_of(TABLE, [], [], NOW)[:2] == (80, "B")


def test_a_listed_category_weighs_its_weight_and_an_unlisted_one_the_default():
    score, grade, parts = rating.score_of(TABLE, [record("good", "表彰", 0), record("bad", "迟到", 0, pk=2)], [], NOW)
    assert (score, grade) == (80 + 10 - 10, "B")
    assert {(p.category, p.weight) for p in parts} == {("表彰", 10), ("迟到", -10)}


def test_a_record_halves_every_half_life_and_stops_counting_after_the_maximum_age():
    one_half_life = rating.score_of(TABLE, [record("bad", "串通投标", 365)], [], NOW)
    too_old = rating.score_of(TABLE, [record("bad", "串通投标", 1826)], [], NOW)
    assert one_half_life[0] == 80 - 20
    assert one_half_life[2][0].factor == pytest.approx(0.5)
    assert too_old[:2] == (80, "B")
    assert too_old[2] == ()


def test_a_punishment_in_force_weighs_fully_and_an_ended_one_decays_from_its_end():
    in_force = rating.score_of(TABLE, [], [punishment(10, 100)], NOW)
    lifted = rating.score_of(TABLE, [], [punishment(400, 100, lifted_days_ago=365)], NOW)
    not_yet = rating.score_of(TABLE, [], [punishment(-5, 100)], NOW)
    assert in_force[:2] == (0, "D")
    assert lifted[0] == 80 - 10
    assert not_yet[:2] == (80, "B")


def test_the_score_stays_within_0_and_100():
    many = [record("good", "表彰", 0, pk=i) for i in range(5)]
    assert rating.score_of(TABLE, many, [], NOW)[:2] == (100, "A")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base": 101}, "base"),
        ({"halfLifeDays": 0}, "halfLifeDays"),
        ({"grades": [{"grade": "A", "minScore": 90}, {"grade": "B", "minScore": 95}]}, "grades"),
        ({"grades": [{"grade": "A", "minScore": 90}]}, "grades"),
        ({"weights": [{"kind": "bad", "category": "违约", "weight": -1}] * 2}, "weights"),
        ({"weights": [{"kind": "neutral", "category": "违约", "weight": -1}]}, "weights"),
        ({"punishmentInForce": 5}, "punishmentInForceWeight"),
    ],
)
def test_a_bad_rule_table_names_its_field(change, field):
    with pytest.raises(InvalidInput) as err:
        rating.validate_rules({**rating.DEFAULT_RULES, **change})
    assert err.value.field == field


async def test_a_recomputation_keeps_a_history_of_changes_only(db):
    # given an organisation with a commendation
    org = await organisation()
    await CreditRecord.create(
        organisation_id=org.id,
        kind="good",
        category="表彰",
        description="-",
        source="-",
        recorded_by=0,
        recorded_at=datetime.now(UTC),
    )
    # when it is rated twice, then a breach is recorded and it is rated again
    first = await rating.recompute(org.id, "credit.recorded")
    await rating.recompute(org.id, "daily")
    await CreditRecord.create(
        organisation_id=org.id,
        kind="bad",
        category="违约",
        description="-",
        source="-",
        recorded_by=0,
        recorded_at=datetime.now(UTC),
    )
    last = await rating.recompute(org.id, "credit.recorded")
    # then the history holds the two changes, not the unchanged daily run
    assert first is not None
    assert last is not None
    assert (first.score, first.grade) == (90, "A")
    assert (last.score, last.grade) == (75, "B")
    changes = await CreditRatingChange.filter(organisation_id=org.id).order_by("id").values_list("score", "trigger")
    assert changes == [(90, "credit.recorded"), (75, "credit.recorded")]


def test_the_repaired_reason_rating_leaves_out_is_the_one_a_repair_withdraws_with():
    from domain.credit import rating
    from domain.credit_public.publicity import Withdrawal

    assert Withdrawal.REPAIRED.value == rating.REPAIRED
