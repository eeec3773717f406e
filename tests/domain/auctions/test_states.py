"""The auction's phase table: what the chronograph finds due, in the order the loop fires it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.auctions.states import TABLE, AuctionNotLive, Phase

STARTS = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def clock(now: datetime, **over: Any) -> dict[str, Any]:
    facts = {"now": now, "starts_at": STARTS, "reminded": True, "free_ends_at": STARTS + timedelta(hours=1)}
    return facts | {"ends_at": None, "price_fen": None, "reserve_fen": 100, "bidders": 1} | over


def due(phase: str, now: datetime, **over: Any) -> str | None:
    step = TABLE.due(phase, **clock(now, **over))
    return None if step is None else step.name


def test_a_scheduled_auction_reminds_ten_minutes_before_then_starts_or_fails_without_bidders() -> None:
    # when / then
    assert due("scheduled", STARTS - timedelta(minutes=11), reminded=False) is None
    assert due("scheduled", STARTS - timedelta(minutes=10), reminded=False) == "remind"
    assert due("scheduled", STARTS, reminded=False) == "remind"  # the reminder first, then the start
    assert due("scheduled", STARTS - timedelta(seconds=1)) is None
    assert due("scheduled", STARTS) == "start"
    assert due("scheduled", STARTS, bidders=0) == "fail_unattended"
    # a reverse auction asks for the lot's min_bids (2) at the start
    assert due("scheduled", STARTS, bidders=1, min_bidders=2) == "fail_unattended"
    assert due("scheduled", STARTS, bidders=2, min_bidders=2) == "start"


def test_a_reverse_auction_sells_at_or_under_its_ceiling() -> None:
    # given
    end = STARTS + timedelta(hours=2)
    # when / then
    assert due("timed", end, ends_at=end, price_fen=100, descending=True) == "sell"
    assert due("timed", end, ends_at=end, price_fen=90, descending=True) == "sell"
    assert due("timed", end, ends_at=end, price_fen=101, descending=True) == "close_unsold"
    assert due("timed", end, ends_at=end, descending=True) == "close_unsold"


def test_free_bidding_gives_way_to_the_countdown_which_sells_at_the_reserve_or_closes_unsold() -> None:
    # given
    end = STARTS + timedelta(hours=2)
    # when / then
    assert due("free", STARTS + timedelta(minutes=59)) is None
    assert due("free", STARTS + timedelta(hours=1)) == "start_countdown"
    assert due("timed", end, ends_at=None) is None
    assert due("timed", end - timedelta(seconds=1), ends_at=end, price_fen=100) is None
    assert due("timed", end, ends_at=end, price_fen=100) == "sell"
    assert due("timed", end, ends_at=end, price_fen=99) == "close_unsold"
    assert due("timed", end, ends_at=end) == "close_unsold"
    for over in ("sold", "failed"):
        assert due(over, end, ends_at=end, reminded=False, bidders=0) is None


def test_a_bid_keeps_a_live_phase_and_any_other_phase_refuses_it_as_not_live() -> None:
    # when / then
    assert TABLE.fire("free", "bid") is Phase.FREE
    assert TABLE.fire("timed", "bid_in_countdown") is Phase.TIMED
    for phase in ("scheduled", "sold", "failed"):
        for name in ("bid", "bid_in_countdown"):
            with pytest.raises(AuctionNotLive) as refused:
                TABLE.fire(phase, name)
            assert (refused.value.code, refused.value.params) == ("AUCTION_NOT_LIVE", {"phase": phase})
