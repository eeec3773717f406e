"""Operators keep the working-day calendar: next year's schedule set over HTTP, read by anyone, and
used at once by complaint deadlines."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.audit.models import AuditEntry
from domain.common import calendar
from tests import factories as f

SET = """mutation($input: CalendarDaySetInput!) { calendarDaySet(input: $input) {
  __typename ... on CalendarDayUpdated { day { day working name } } ... on Error { code message } } }"""
CLEAR = """mutation($day: Date!) { calendarDayClear(day: $day) { __typename ... on Error { code } } }"""
YEAR = """query($year: Int!) {
  workingCalendar(year: $year) { year officialScheduleKnown days { day working name } } }"""


async def test_an_operator_sets_next_years_holidays_and_deadlines_follow(api):
    operator = await f.operator_token(api)
    # given no schedule for 2027 yet: weekends only
    before = (await api.gql(YEAR, {"year": 2027}))["data"]["workingCalendar"]
    assert before == {"year": 2027, "officialScheduleKnown": False, "days": []}
    # the shipped 2026 schedule is readable by anyone (a kiosk, an app)
    known = (await api.gql(YEAR, {"year": 2026}))["data"]["workingCalendar"]
    assert known["officialScheduleKnown"] is True
    assert {"day": "2026-10-10", "working": True, "name": "国庆节调休上班"} in known["days"]

    # when the operator sets New Year's Day 2027 (a Friday)
    done = await api.gql(SET, {"input": {"day": "2027-01-01", "working": False, "name": "元旦"}}, token=operator)
    assert done["data"]["calendarDaySet"] == {
        "__typename": "CalendarDayUpdated",
        "day": {"day": "2027-01-01", "working": False, "name": "元旦"},
    }

    # then the year reads as known, and one working day after Thursday 31 December is Monday 4 January
    after = (await api.gql(YEAR, {"year": 2027}))["data"]["workingCalendar"]
    assert after["officialScheduleKnown"] is True
    assert after["days"] == [{"day": "2027-01-01", "working": False, "name": "元旦"}]
    due = (await calendar.current()).add_working_days(datetime(2026, 12, 31, 2, tzinfo=UTC), 1)
    assert due == datetime(2027, 1, 4, 16, tzinfo=UTC)
    await api.dispatch()
    assert await AuditEntry.filter(action="calendar.day_set", object_id="2027-01-01").count() == 1

    # and a bidder may not touch the calendar, and a bad name is a typed error that changes nothing
    _, _, bidder = await f.approved_org(api, operator)
    day2 = {"input": {"day": "2027-01-02", "working": False, "name": "x"}}
    refused = await api.gql(SET, day2, token=bidder, expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await api.gql(SET, {"input": {"day": "2027-01-02", "working": False, "name": " "}}, token=operator)
    assert bad["data"]["calendarDaySet"]["code"] == "INVALID_INPUT"

    # and clearing the day brings the weekend rule back
    cleared = await api.gql(CLEAR, {"day": "2027-01-01"}, token=operator)
    assert cleared["data"]["calendarDayClear"]["__typename"] == "CalendarDayUpdated"
    assert (await api.gql(YEAR, {"year": 2027}))["data"]["workingCalendar"]["days"] == []
