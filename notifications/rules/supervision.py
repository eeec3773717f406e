"""What supervisors hear of their scheduled statistics reports."""

from __future__ import annotations

from domain.common.models import OutboxEvent
from domain.notifications.services import Kind, NewNotification, active_users_of
from notifications.rules.common import notify

_PERIODS = {"month": "月报", "quarter": "季报", "half_year": "半年报", "year": "年报"}


async def statistics_report_ready(event: OutboxEvent) -> list[NewNotification]:
    """To the users of the supervisor organisation the report was made for."""
    supervisor = int(event.payload["supervisor_id"])
    return notify(
        event,
        await active_users_of([supervisor]),
        Kind.STATISTICS_REPORT,
        "statistics.report_ready",
        label=str(event.payload["label"]),
        period=_PERIODS.get(str(event.payload["period"]), str(event.payload["period"])),
    )
