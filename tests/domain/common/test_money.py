"""Money is integer fen; percentages round down to the fen; yuan only for people to read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.common.errors import InvalidInput
from domain.common.money import Money


@pytest.mark.parametrize("amount", [1.0, 0.5, Decimal("1"), "100", True, None])
def test_only_integer_fen(amount):
    with pytest.raises(TypeError):
        Money(amount)


def test_negative_input_amounts_are_refused_with_the_field():
    # when a client sends a negative amount
    with pytest.raises(InvalidInput) as raised:
        Money.of_fen(-1, field="estimateFen")

    # then the error names the field, and zero is a valid amount
    assert raised.value.field == "estimateFen"
    assert Money.of_fen(0) == Money(0)
    assert Money.of_fen(123) == Money(123)


def test_two_percent_of_an_estimate_rounds_down_to_the_fen():
    # given an estimate of 1,234,567.89 yuan
    estimate = Money(123_456_789)

    # when 2% (200 basis points) is taken, e.g. a bid bond cap
    bond = estimate.percent(200)

    # then it is 24,691.35 yuan: 24,691.3578 rounded down, never up
    assert bond == Money(2_469_135)
    assert bond.yuan_text() == "24,691.35"


@pytest.mark.parametrize(
    ("fen", "basis_points", "expected"),
    [
        (99, 200, 1),  # 1.98 fen -> 1
        (49, 200, 0),  # 0.98 fen -> 0
        (100, 10_000, 100),
        (1, 9_999, 0),
        (10_000, 1, 1),
        (0, 200, 0),
    ],
)
def test_percent_never_rounds_up(fen, basis_points, expected):
    assert Money(fen).percent(basis_points) == Money(expected)
    assert Money(fen).percent(basis_points).fen * 10_000 <= fen * basis_points


def test_arithmetic_stays_in_fen():
    total = Money(10) + Money(5)
    assert total == Money(15)
    assert Money(5) - Money(10) == Money(-5)
    assert Money(1) < Money(2)
    assert isinstance(total.fen, int)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (123_456_789, "1,234,567.89"),
        (100_000_000_00, "100,000,000.00"),
        (-1, "-0.01"),
        (-99, "-0.99"),
        (-123_456, "-1,234.56"),
    ],
)
def test_yuan_text(fen, text):
    assert Money(fen).yuan_text() == text
