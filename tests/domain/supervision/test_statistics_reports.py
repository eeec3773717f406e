"""Half-year periods, and the scheduled statistics reports made for each supervisor at each period's end: stored
once, notified to the supervisor's users, read by that supervisor and operators only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.common.actors import ANONYMOUS, Actor, Role
from domain.common.errors import NotFound, PermissionDenied
from domain.common.models import OutboxEvent
from domain.supervision import reports, statistics
from domain.supervision.report_models import StatisticsReport
from notifications.rules import notifications_for
from tests.domain.factories import OPERATOR, organisation, user
from tests.scenarios.test_supervision import EC, SEEDED, expected_quarter, seed_concluded_lots

BJ = ZoneInfo("Asia/Shanghai")


def test_half_years_and_the_last_complete_period_of_each_kind_in_beijing_time():
    # given the first minutes of July in Beijing, still June 30th in UTC
    now = datetime(2026, 7, 1, 0, 30, tzinfo=BJ)

    # then the half-year labels and the periods that ended are Beijing's
    assert statistics.period_of(datetime(2026, 6, 30, 17, tzinfo=BJ), statistics.Period.HALF_YEAR) == "2026-H1"
    assert statistics.period_of(now, statistics.Period.HALF_YEAR) == "2026-H2"
    assert {p: statistics.last_complete(p, now) for p in statistics.Period} == {
        statistics.Period.MONTH: (date(2026, 6, 1), date(2026, 7, 1)),
        statistics.Period.QUARTER: (date(2026, 4, 1), date(2026, 7, 1)),
        statistics.Period.HALF_YEAR: (date(2026, 1, 1), date(2026, 7, 1)),
        statistics.Period.YEAR: (date(2025, 1, 1), date(2026, 1, 1)),
    }
    assert statistics.last_complete(statistics.Period.HALF_YEAR, datetime(2026, 1, 1, 0, 1, tzinfo=BJ)) == (
        date(2025, 7, 1),
        date(2026, 1, 1),
    )


async def test_reports_are_made_once_per_supervisor_and_period_notified_and_never_public(api, manual_clock):
    # (`api`: the reports store their files, through the document store the test server's adapters configure; run
    # alone, this test found none)
    # given lots concluded in 2026-Q1, a supervisor of engineering construction with a user, and a bidder
    await seed_concluded_lots()
    org = await organisation(kinds=["supervisor"])
    org.supervised_categories = [EC]
    await org.save()
    member = await user(org)
    keeper = Actor(
        user_id=member.id, org_id=org.id, roles=frozenset({Role.SUPERVISOR}), supervised_categories=frozenset({EC})
    )
    other_org = await organisation(kinds=["supervisor"])
    other = Actor(
        user_id=0, org_id=other_org.id, roles=frozenset({Role.SUPERVISOR}), supervised_categories=frozenset({EC})
    )
    bidder = Actor(user_id=1, org_id=(await organisation()).id, roles=frozenset({Role.BIDDER}))

    # when the scheduled step runs after the first half-year ended, and again
    manual_clock.set(datetime(2026, 7, 1, 1, tzinfo=BJ))
    made = await reports.produce_due(manual_clock.now())
    again = await reports.produce_due(manual_clock.now())

    # then one report of each kind exists for the supervisor with categories (the other has none), made once
    assert (made, again) == (4, 0)
    mine = await reports.reports(keeper)
    assert sorted((r.period, r.label) for r in mine) == [
        ("half_year", "2026-H1"),
        ("month", "2026-06"),
        ("quarter", "2026-Q2"),
        ("year", "2025"),
    ]
    # and the half-year holds the seeded lots of its category concluded from January to June, worked out by hand
    half = next(r for r in mine if r.period == "half_year")
    by_hand: dict[str, list[int]] = {}
    for category, region, _, concluded, outcome, estimate, price, _ in SEEDED:
        if category == EC and datetime(2026, 1, 1, tzinfo=BJ) <= concluded < datetime(2026, 7, 1, tzinfo=BJ):
            row = by_hand.setdefault(region, [0, 0, 0])
            row[0] += 1
            row[1] += price if outcome == "result" else 0
            row[2] += estimate - price if outcome == "result" else 0
    assert [(r["region_code"], r["lots"], r["amount_fen"], r["savings_fen"]) for r in half.rows] == [
        (region, *row) for region, row in sorted(by_hand.items())
    ]
    assert sum(r["lots"] for r in half.rows) > sum(q["lots"] for q in expected_quarter({EC}))  # Q2 is in it too
    assert {r["period"] for r in half.rows} == {"2026-H1"}
    assert half.csv.splitlines()[0].startswith("period,category,region_code")

    # and the supervisor's users are told, each report once
    ready = await OutboxEvent.filter(type="statistics.report_ready").order_by("id")
    notices = await notifications_for(ready)
    assert sorted(n.user_id for n in notices) == [member.id] * 4
    assert {n.kind.value for n in notices} == {"statistics_report"}

    # and nobody else reads them: operators all, another supervisor none, a bidder or anonymous caller never
    assert len(await reports.reports(OPERATOR)) == 4
    assert await reports.reports(other) == []
    with pytest.raises(NotFound):
        await reports.report(other, half.id)
    for outsider in (bidder, ANONYMOUS):
        with pytest.raises(PermissionDenied):
            await reports.reports(outsider)
        with pytest.raises(PermissionDenied):
            await reports.report(outsider, half.id)
    assert await StatisticsReport.all().count() == 4
