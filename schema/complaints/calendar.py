"""The working-day calendar behind complaint and objection deadlines: read by anyone, set by operators."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common import calendar
from schema import fields
from schema.errors import mutation, result_union
from schema.permissions import IsOperator


@strawberry.type(description="A day unlike the weekend rule: a public holiday or an adjusted working day (调休).")
class CalendarDay:
    day: date = strawberry.field(description="The date.")
    working: bool = strawberry.field(
        description="True for an adjusted working day (调休上班), false for a public holiday."
    )
    name: str = strawberry.field(description="What the day is, e.g. 春节 or 国庆节调休上班.")


@strawberry.type(description="The exceptions of one year and whether its official schedule is in the calendar.")
class WorkingCalendarYear:
    year: int = strawberry.field(description="The calendar year.")
    official_schedule_known: bool = strawberry.field(
        description="False: no schedule for the year yet, deadlines count weekends only until operators set it."
    )
    days: list[CalendarDay] = strawberry.field(
        description="The year's public holidays and adjusted working days, by date."
    )


@strawberry.input(description="Set a day of the calendar (operators), e.g. when next year's schedule is published.")
class CalendarDaySetInput:
    day: date = strawberry.field(description="The date to set.")
    working: bool = strawberry.field(description="false: a public holiday; true: an adjusted working day.")
    name: str = strawberry.field(description="e.g. 春节, 国庆节调休上班 (at most 32 characters).")


@strawberry.type(description="The day is set; deadlines computed from now on use it.")
class CalendarDayUpdated:
    day: CalendarDay | None = strawberry.field(description="The day as set; null when it was cleared.")


CalendarDayResult = result_union("CalendarDayResult", CalendarDayUpdated, [])


@strawberry.type
class CalendarQueries:
    @fields.field(description="The working-day calendar of a year (public).")
    async def working_calendar(
        self, year: Annotated[int, strawberry.argument(description="The calendar year, e.g. 2026.")]
    ) -> WorkingCalendarYear:
        days, known = await calendar.days_of(year)
        return WorkingCalendarYear(
            year=year,
            official_schedule_known=known,
            days=[CalendarDay(day=d.day, working=d.working, name=d.name) for d in days],
        )


@strawberry.type
class CalendarMutations:
    @mutation(
        CalendarDayResult,
        description="Set a day of the working-day calendar (operators).",
        permission_classes=[IsOperator],
    )
    async def calendar_day_set(
        self,
        info: Info,
        input: Annotated[CalendarDaySetInput, strawberry.argument(description="The day and whether it is worked.")],
    ) -> CalendarDayUpdated:
        row = await calendar.set_day(info.context.actor, input.day, input.working, input.name)
        return CalendarDayUpdated(day=CalendarDay(day=row.day, working=row.working, name=row.name))

    @mutation(
        CalendarDayResult,
        description="Clear an operator's day: the shipped schedule or the weekend rule applies again (operators).",
        permission_classes=[IsOperator],
    )
    async def calendar_day_clear(
        self,
        info: Info,
        day: Annotated[date, strawberry.argument(description="The date whose operator setting to remove.")],
    ) -> CalendarDayUpdated:
        await calendar.clear_day(info.context.actor, day)
        return CalendarDayUpdated(day=None)
