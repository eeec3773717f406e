"""Trading statistics for supervisors and operators: monthly, quarterly, half-yearly and yearly figures by category and
region (sensitive data never public, Qingdao 2(二)6).

A lot counts in the period (Beijing time) in which it concluded: the first result announcement (awarded)
or termination announcement (failed) of the lot published in it. Per category, region and period:
- lots: lots concluded; awarded, failed; failure_rate = failed / lots;
- amount_fen: the awarded prices (a tender's award, an auction's winning bid);
- average_bidders: bids at the opening (sealed tenders) or qualified entries (auctions), per lot;
- estimate_fen / savings_fen: the estimates of the awarded lots and estimate minus price summed over
  them (negative when prices exceed estimates, as auctions usually do); savings_rate = savings / estimate;
- average_days_to_award: days from the lot's tender announcement to its result announcement, over
  the awarded lots that have both.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time
from enum import StrEnum

from domain.auctions.models import Auction, AuctionEntry
from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, PermissionDenied
from domain.publication.models import Announcement, Lot
from domain.results.models import Award
from domain.tendering.models import Opening

MAX_DAYS = 3660


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Row:
    period: str
    category: str
    region_code: str
    lots: int
    awarded: int
    failed: int
    failure_rate: float
    amount_fen: int
    average_bidders: float
    estimate_fen: int
    savings_fen: int
    savings_rate: float | None
    average_days_to_award: float | None


def period_of(at: datetime, period: Period) -> str:
    """The period label of a moment in Beijing time: 2026-01, 2026-Q1, 2026-H1 or 2026."""
    local = clock.to_shanghai(at)
    if period is Period.MONTH:
        return f"{local.year}-{local.month:02d}"
    if period is Period.QUARTER:
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    if period is Period.HALF_YEAR:
        return f"{local.year}-H{(local.month - 1) // 6 + 1}"
    return str(local.year)


_MONTHS: dict[Period, int] = {Period.MONTH: 1, Period.QUARTER: 3, Period.HALF_YEAR: 6, Period.YEAR: 12}


def last_complete(period: Period, now: datetime) -> tuple[date, date]:
    """The last period of this kind that ended at or before `now` (Beijing dates): (first day, day after)."""
    local = clock.to_shanghai(now).date()
    span = _MONTHS[period]
    index = (local.year * 12 + local.month - 1) // span * span  # months since year 0 at the current period's start
    end = date(index // 12, index % 12 + 1, 1)
    start_index = index - span
    return date(start_index // 12, start_index % 12 + 1, 1), end


def region_prefix(code: str) -> str:
    """A region and everything under it: 370000 -> 37, 370200 -> 3702 (GB/T 2260 pairs of digits)."""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=clock.SHANGHAI).astimezone(UTC)


@dataclass
class _Lot:
    category: str
    region_code: str
    concluded_at: datetime
    awarded: bool
    price_fen: int
    estimate_fen: int
    bidders: int
    days_to_award: float | None


def _categories(actor: Actor, wanted: str | None) -> set[str] | None:
    """The categories the caller may see (None: all), narrowed to `wanted`."""
    if actor.has(Role.OPERATOR):
        return None if wanted is None else {wanted}
    if actor.has(Role.SUPERVISOR) and actor.supervised_categories:
        allowed = set(actor.supervised_categories)
        return allowed if wanted is None else allowed & {wanted}
    raise PermissionDenied()


async def _concluded(starts_on: date, ends_on: date, categories: set[str] | None, region: str | None) -> list[_Lot]:
    query = Announcement.filter(type__in=["result", "termination"], status="published", lot_id__not_isnull=True)
    if categories is not None:
        query = query.filter(category__in=sorted(categories))
    if region:
        query = query.filter(region_code__startswith=region_prefix(region))
    start, end = _start_of(starts_on), _start_of(ends_on)
    # a lot concludes once: its first result or termination; later ones are corrections
    first: dict[int, Announcement] = {}
    awarded: set[int] = set()
    for a in await query.filter(published_at__lt=end).order_by("published_at", "id"):
        if a.lot_id is None:  # excluded by the query (lot_id__not_isnull)
            continue
        lot_id = int(a.lot_id)
        first.setdefault(lot_id, a)
        if a.type == "result":
            awarded.add(lot_id)
    ids = [i for i, a in first.items() if a.published_at is not None and a.published_at >= start]
    if not ids:
        return []
    lots = {lot.id: lot for lot in await Lot.filter(id__in=ids)}
    prices = dict(await Award.filter(lot_id__in=ids).values_list("lot_id", "price_fen"))
    bidders = dict(await Opening.filter(lot_id__in=ids).values_list("lot_id", "bids"))
    for auction in await Auction.filter(lot_id__in=ids):
        bidders.setdefault(auction.lot_id, await AuctionEntry.filter(auction_id=auction.id).count())
        if auction.winner_entry_id is not None and auction.current_price_fen is not None:
            prices.setdefault(auction.lot_id, auction.current_price_fen)
    tenders: dict[int, datetime] = {}
    for lot_id, published in await Announcement.filter(
        lot_id__in=ids, type="tender", status="published", published_at__not_isnull=True
    ).values_list("lot_id", "published_at"):
        tenders[int(lot_id)] = min(published, tenders.get(int(lot_id), published))
    out = []
    for lot_id in ids:
        a = first[lot_id]
        won = lot_id in awarded and lot_id in prices
        concluded = a.published_at
        assert concluded is not None
        announced = tenders.get(lot_id)
        days = (concluded - announced).total_seconds() / 86400 if won and announced else None
        out.append(
            _Lot(
                category=a.category,
                region_code=a.region_code,
                concluded_at=concluded,
                awarded=won,
                price_fen=int(prices.get(lot_id, 0)) if won else 0,
                estimate_fen=lots[lot_id].estimated_price_fen if lot_id in lots else 0,
                bidders=int(bidders.get(lot_id, 0)),
                days_to_award=days,
            )
        )
    return out


async def figures(
    actor: Actor,
    period: Period,
    starts_on: date,
    ends_on: date,
    category: str | None = None,
    region_code: str | None = None,
) -> list[Row]:
    """The figures of lots concluded from starts_on (inclusive) to ends_on (exclusive), Beijing dates, by
    period, category and region; a supervisor sees its categories only."""
    if not starts_on < ends_on or (ends_on - starts_on).days > MAX_DAYS:
        raise InvalidInput(field="endsOn")
    categories = _categories(actor, category)
    if categories is not None and not categories:
        return []
    groups: dict[tuple[str, str, str], list[_Lot]] = defaultdict(list)
    for lot in await _concluded(starts_on, ends_on, categories, region_code):
        groups[(period_of(lot.concluded_at, period), lot.category, lot.region_code)].append(lot)
    rows = []
    for (label, cat, region), lots in sorted(groups.items()):
        won = [x for x in lots if x.awarded]
        estimate = sum(x.estimate_fen for x in won)
        savings = sum(x.estimate_fen - x.price_fen for x in won)
        days = [x.days_to_award for x in won if x.days_to_award is not None]
        rows.append(
            Row(
                period=label,
                category=cat,
                region_code=region,
                lots=len(lots),
                awarded=len(won),
                failed=len(lots) - len(won),
                failure_rate=round((len(lots) - len(won)) / len(lots), 4),
                amount_fen=sum(x.price_fen for x in won),
                average_bidders=round(sum(x.bidders for x in lots) / len(lots), 2),
                estimate_fen=estimate,
                savings_fen=savings,
                savings_rate=round(savings / estimate, 4) if estimate else None,
                average_days_to_award=round(sum(days) / len(days), 2) if days else None,
            )
        )
    return rows


CSV_COLUMNS = [f.name for f in fields(Row)]


def as_csv(rows: list[Row]) -> str:
    """The rows as CSV (RFC 4180, a header line, amounts in fen, empty for no value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["" if getattr(row, c) is None else getattr(row, c) for c in CSV_COLUMNS])
    return out.getvalue()
