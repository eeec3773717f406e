"""Working-day deadlines across weekends, public holidays and adjusted working days (调休) of 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.common import calendar
from domain.common.clock import SHANGHAI
from domain.common.models import CalendarDay


def shanghai(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


def end_of_day(y: int, m: int, d: int) -> datetime:
    """24:00 of that Shanghai day, in UTC (16:00 UTC of the same date)."""
    return datetime(y, m, d, 16, tzinfo=UTC)


async def test_three_working_days_across_national_day_end_on_the_adjusted_saturday(db):
    cal = await calendar.current()
    # filed on Wednesday 30 September: 1-7 October off, 8 and 9 October count, Saturday 10 October is worked
    assert cal.add_working_days(shanghai(2026, 9, 30), 3) == end_of_day(2026, 10, 10)
    # an adjusted Sunday counts too: Friday 18 September + 3 -> Sunday 20, Monday 21, Tuesday 22
    assert cal.add_working_days(shanghai(2026, 9, 18), 3) == end_of_day(2026, 9, 22)


async def test_the_spring_festival_counts_nothing(db):
    cal = await calendar.current()
    assert cal.add_working_days(shanghai(2026, 2, 13), 1) == end_of_day(2026, 2, 14)  # adjusted Saturday
    assert cal.add_working_days(shanghai(2026, 2, 14), 1) == end_of_day(2026, 2, 24)  # 15-23 off
    assert cal.working_days_between(shanghai(2026, 2, 13), shanghai(2026, 3, 2)) == 7  # 14, 24-28 (28 worked), 2 March


async def test_the_day_is_the_shanghai_day_not_the_utc_day(db):
    cal = await calendar.current()
    # 20:00 UTC on Thursday 24 September is 04:00 on Friday 25 September in Shanghai: Mid-Autumn starts
    late = datetime(2026, 9, 24, 20, tzinfo=UTC)
    assert cal.add_working_days(late, 1) == end_of_day(2026, 9, 28)


async def test_30_working_days_and_unknown_years(db):
    cal = await calendar.current()
    assert cal.knows(2026)
    assert not cal.knows(2031)
    assert cal.add_working_days(shanghai(2026, 1, 5), 30) == end_of_day(2026, 2, 14)
    # a year without a schedule: weekends only
    assert cal.add_working_days(shanghai(2031, 1, 3), 1) == end_of_day(2031, 1, 6)
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days(shanghai(2026, 1, 5), 0)


async def test_an_operator_day_wins_over_the_shipped_schedule(db, manual_clock):
    await CalendarDay.create(day=date(2026, 10, 10), working=False, name="调整", set_at=manual_clock.now())
    await CalendarDay.create(day=date(2031, 1, 1), working=False, name="元旦", set_at=manual_clock.now())
    cal = await calendar.current()
    assert cal.add_working_days(shanghai(2026, 9, 30), 3) == end_of_day(2026, 10, 12)
    assert cal.knows(2031)
