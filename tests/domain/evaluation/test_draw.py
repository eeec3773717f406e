"""The documented functions of the expert draw: fixed vectors, determinism, sizes the law allows, exclusions."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from domain.common.errors import InvalidInput
from domain.evaluation import draw
from domain.evaluation.draw import Candidate

SECRET = "0123456789abcdef" * 4
RECEIPTS = [hashlib.sha256(b"bid-2").hexdigest(), hashlib.sha256(b"bid-1").hexdigest()]
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_the_published_vector_holds():
    # the example of mobile_contract/EXPERT_DRAW.md: changing any definition breaks integrators
    digest = draw.receipts_digest_of(RECEIPTS)
    seed = draw.seed_of(SECRET, digest)
    assert digest == "84e3b6dfc2ce0ff2b769863ff97b7c3a0604ea93ebf0372dcb1d699345bd8a9f"
    assert seed == "535bbd4c5d373b20e5b3a54fbca2af15deabdbc9016668dab991df1b81281cda"
    assert draw.select(seed, list(range(1, 21)), 5) == [18, 13, 15, 8, 12]
    assert draw.receipts_digest_of([]) == hashlib.sha256(b"").hexdigest()


def test_the_definitions_are_plain_sha256_and_hmac():
    digest = hashlib.sha256("\n".join(sorted(RECEIPTS)).encode()).hexdigest()
    seed = hmac.new(SECRET.encode(), digest.encode(), hashlib.sha256).hexdigest()
    ranks = {i: hmac.new(bytes.fromhex(seed), str(i).encode(), hashlib.sha256).hexdigest() for i in range(1, 40)}
    assert draw.commitment_of(SECRET) == hashlib.sha256(SECRET.encode()).hexdigest()
    assert draw.receipts_digest_of(RECEIPTS) == digest
    assert draw.seed_of(SECRET, digest) == seed
    assert draw.select(seed, list(ranks), 7) == sorted(ranks, key=lambda i: ranks[i])[:7]


def test_the_receipts_digest_does_not_depend_on_their_order():
    assert draw.receipts_digest_of(RECEIPTS) == draw.receipts_digest_of(reversed(RECEIPTS))


def test_selection_is_deterministic_and_ignores_the_order_of_the_eligible_list():
    seed = draw.seed_of(SECRET, draw.receipts_digest_of(RECEIPTS))
    eligible = [3, 41, 7, 19, 101, 56, 12, 88, 23]
    first = draw.select(seed, eligible, 5)
    assert first == draw.select(seed, list(reversed(eligible)), 5)
    assert first == draw.select(seed, sorted(eligible), 5)
    assert len(set(first)) == 5
    assert set(first) <= set(eligible)


def test_another_seed_gives_another_committee():
    eligible = list(range(1, 201))
    committees = {tuple(draw.select(draw.seed_of(f"{SECRET}{n}", "0" * 64), eligible, 5)) for n in range(20)}
    assert len(committees) == 20


def test_a_larger_draw_extends_a_smaller_one():
    seed = draw.seed_of(SECRET, "f" * 64)
    eligible = list(range(1, 30))
    assert draw.select(seed, eligible, 7)[:5] == draw.select(seed, eligible, 5)


def test_too_few_eligible_experts_is_refused():
    with pytest.raises(draw.NotEnoughExperts) as refused:
        draw.select("a" * 64, [1, 2, 3, 4], 5)
    assert refused.value.params == {"eligible": 4, "size": 5}


@pytest.mark.parametrize("size", [5, 7, 9, 99])
def test_odd_sizes_of_five_and_more_are_allowed(size):
    assert draw.check_size(size) == size


@pytest.mark.parametrize("size", [-1, 0, 1, 3, 4, 6, 8, 100, 101])
def test_even_small_or_huge_sizes_are_refused(size):
    with pytest.raises(InvalidInput) as refused:
        draw.check_size(size)
    assert refused.value.field == "size"


def _expert(id_: int, *, employer: int | None = None, fields: tuple[str, ...] = ("市政",), **kw: Any) -> Candidate:
    return Candidate(
        id=id_,
        specialties=fields,
        employer_id=employer,
        is_active=kw.get("is_active", True),
        created_at=kw.get("created_at", T0),
    )


def test_eligibility_excludes_conflicts_earlier_rounds_other_specialties_inactive_and_late_experts():
    pool = [
        _expert(1),
        _expert(2, employer=500),  # works for a bidder
        _expert(3, employer=600),  # works for the tenderer
        _expert(4, employer=700),  # works for nobody involved
        _expert(5),  # drawn in an earlier round
        _expert(6, fields=("给排水",)),
        _expert(7, fields=("给排水", "市政")),
        _expert(8, is_active=False),
        _expert(9, created_at=T0 + timedelta(seconds=1)),  # added after the commitment
        _expert(10, created_at=T0),
    ]
    eligible = draw.eligible_of(reversed(pool), "市政", conflicted={500, 600}, drawn_before={5}, committed_at=T0)
    assert eligible == [1, 4, 7, 10]


def _round(round_no: int, selected: list[int], replaces: list[int] | None = None, revealed: bool = True) -> Any:
    status = draw.DrawStatus.REVEALED.value if revealed else draw.DrawStatus.COMMITTED.value
    return SimpleNamespace(round=round_no, selected=selected, replaces=replaces, status=status)


def test_the_standing_committee_follows_the_revealed_replacements():
    rounds = [
        _round(3, [40], [11], revealed=False),
        _round(2, [30, 31], [12, 14]),
        _round(1, [10, 11, 12, 13, 14]),
    ]
    assert draw.committee(rounds) == [10, 11, 13, 30, 31]
