"""The expert app's and the operator's pool mutations retried under one idempotency key act once: a conflict
declared, a training recorded, a penalty, an exit; the key reused for another request is refused, nothing added."""

from __future__ import annotations

from datetime import date

import pytest

from domain.common.errors import IdempotencyKeyReused
from domain.experts import pool
from domain.experts.models import ExpertConflict, ExpertExit, ExpertPenalty, ExpertTraining
from tests.support.tendering import OPERATOR, add_experts, expert_actor


async def test_each_pool_mutation_retried_under_its_key_acts_once(db, manual_clock):
    # given two experts in the pool
    first, second = await add_experts(2)
    expert = expert_actor(first)
    named = pool.Entity(name="青岛海湾路桥建设有限公司")
    # when each mutation is sent twice under one key (a phone retrying after a lost answer)
    conflicts = [await pool.declare_conflict(expert, "former_employer", named, None, "c-1") for _ in range(2)]
    trainings = [
        await pool.record_training(OPERATOR, first, "评标规则培训", 8, date(2026, 5, 1), True, "t-1") for _ in range(2)
    ]
    penalties = [await pool.penalise(OPERATOR, first, "warning", "迟到", None, None, "p-1") for _ in range(2)]
    exits = [await pool.leave(OPERATOR, second, "age", "年满70周岁", "e-1") for _ in range(2)]
    # then each answers the first outcome and one row exists
    assert conflicts[0].id == conflicts[1].id
    assert trainings[0].id == trainings[1].id
    assert penalties[0].id == penalties[1].id
    assert exits[0].id == exits[1].id
    assert await ExpertConflict.filter(expert_id=first).count() == 1
    assert await ExpertTraining.filter(expert_id=first).count() == 1
    assert await ExpertPenalty.filter(expert_id=first).count() == 1
    assert await ExpertExit.filter(expert_id=second).count() == 1
    # and a key reused for another penalty is refused and records nothing
    with pytest.raises(IdempotencyKeyReused):
        await pool.penalise(OPERATOR, first, "warning", "早退", None, None, "p-1")
    assert await ExpertPenalty.filter(expert_id=first).count() == 1
