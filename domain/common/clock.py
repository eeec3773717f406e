"""The one source of time. Production uses the system clock; tests move a manual one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta or timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


_clock: Clock = SystemClock()


def set_clock(clock: Clock) -> Clock:
    """Installs the clock used by every service; returns the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _clock.now().astimezone(UTC)


def to_shanghai(when: datetime) -> datetime:
    return when.astimezone(SHANGHAI)


def today() -> date:
    """Today's date as users read it: in Asia/Shanghai, not UTC (the two differ from 16:00 to 24:00 UTC)."""
    return to_shanghai(now()).date()


def shanghai_text(when: datetime) -> str:
    """A time as users read it: Asia/Shanghai, to the second."""
    return to_shanghai(when).strftime("%Y-%m-%d %H:%M:%S")
