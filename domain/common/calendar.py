"""Working days (工作日) for legal deadlines: weekends and public holidays off, adjusted working days
(调休) on. The State Council's schedule for a year is shipped as a file (calendar_cn_<year>.json) and
operators may set or correct any day in the database (CalendarDay), which wins over the file.

A deadline of N working days after an event ends at the end (24:00, Asia/Shanghai) of the N-th
working day after the day of the event; the day of the event itself is not counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import ClassVar

from tortoise.transactions import in_transaction

from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.clock import SHANGHAI
from domain.common.errors import InvalidInput, PermissionDenied, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.models import CalendarDay

SHIPPED = Path(__file__).with_name("calendar_cn_{year}.json")


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    working: bool
    name: str


@dataclass(slots=True)
class WorkingCalendar:
    """Exceptions to the weekend rule; years lists the years whose official schedule is known."""

    exceptions: dict[date, Day] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)

    def is_working_day(self, day: date) -> bool:
        special = self.exceptions.get(day)
        if special is not None:
            return special.working
        return day.weekday() < 5

    def knows(self, year: int) -> bool:
        """Whether the official schedule of that year is in the calendar (else weekends only)."""
        return year in self.years

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after the day (in Shanghai) of `start`, in UTC."""
        if days < 1:
            raise ValueError("days must be at least 1")
        day = clock.to_shanghai(start).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return end_of(day)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after the day of `start` up to and including the day of `end` (Shanghai)."""
        first, last = clock.to_shanghai(start).date(), clock.to_shanghai(end).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def end_of(day: date) -> datetime:
    """24:00 of a Shanghai calendar day, as an aware UTC time."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


@cache
def _shipped(year: int) -> dict[date, Day] | None:
    path = Path(str(SHIPPED).format(year=year))
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    days = {date.fromisoformat(d): Day(date.fromisoformat(d), False, n) for d, n in data["holidays"].items()}
    days.update({date.fromisoformat(d): Day(date.fromisoformat(d), True, n) for d, n in data["workdays"].items()})
    return days


def shipped_years() -> list[int]:
    return sorted(int(p.stem.rsplit("_", 1)[1]) for p in Path(__file__).parent.glob("calendar_cn_*.json"))


async def current() -> WorkingCalendar:
    """The shipped schedules with the operators' days from the database over them."""
    calendar = WorkingCalendar()
    for year in shipped_years():
        calendar.exceptions.update(_shipped(year) or {})
        calendar.years.add(year)
    for row in await CalendarDay.all():
        calendar.exceptions[row.day] = Day(row.day, row.working, row.name)
        calendar.years.add(row.day.year)
    return calendar


@dataclass(frozen=True, kw_only=True)
class CalendarDaySet(DomainEvent):
    type: ClassVar[str] = "calendar.day_set"
    object_type: ClassVar[str] = "CalendarDay"
    day: str
    working: bool | None
    name: str


def _operator(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()


@use_case("calendar.set_day", "CalendarDay", lambda actor, day, *a, **k: day.isoformat())
async def set_day(actor: Actor, day: date, working: bool, name: str) -> CalendarDay:
    """An operator sets a day: a public holiday (working false) or an adjusted working day (调休),
    for example when the State Council publishes next year's schedule. Deadlines computed later use it."""
    _operator(actor)
    label = required_text(name, "name", 32)
    async with in_transaction():
        row, _ = await CalendarDay.update_or_create(
            day=day, defaults={"working": working, "name": label, "set_by": actor.user_id, "set_at": clock.now()}
        )
        await events.record(
            CalendarDaySet(
                object_id=day.isoformat(),
                day=day.isoformat(),
                working=working,
                name=label,
                audience=Audience(roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
            ),
            actor,
        )
    return row


@use_case("calendar.clear_day", "CalendarDay", lambda actor, day, *a, **k: day.isoformat())
async def clear_day(actor: Actor, day: date) -> bool:
    """Removes an operator's day: the shipped schedule (or the weekend rule) applies again."""
    _operator(actor)
    async with in_transaction():
        removed = await CalendarDay.filter(day=day).delete()
        if removed:
            await events.record(
                CalendarDaySet(
                    object_id=day.isoformat(),
                    day=day.isoformat(),
                    working=None,
                    name="",
                    audience=Audience(roles=(Role.OPERATOR.value, Role.SUPERVISOR.value)),
                ),
                actor,
            )
    return bool(removed)


async def days_of(year: int) -> tuple[list[Day], bool]:
    """The exceptions to the weekend rule in a year, and whether its official schedule is known."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(field="year")
    calendar = await current()
    days = sorted((d for d in calendar.exceptions.values() if d.day.year == year), key=lambda d: d.day)
    return days, calendar.knows(year)
