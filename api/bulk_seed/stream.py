"""Projects moving through their steps: the announcements of the seed, in publication order."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from api.bulk_seed.plans import Plan, Publication
from api.bulk_seed.publishers import Publisher
from api.bulk_seed.segmentation import segment
from api.bulk_seed.texts import announcement_body, announcement_title
from api.bulk_seed.vocabulary import (
    ASSETS,
    BUYER_UNITS,
    CATEGORY_WEIGHTS,
    COMPANIES,
    CONSUMABLES,
    ESTIMATES_WAN,
    GOODS,
    HILLS,
    POLLUTANTS,
    PROCEDURES,
    REGION_WEIGHTS,
    ROADS,
    RURAL_ASSETS,
    VILLAGES,
    WORKS,
    eligibility_rules,
    region_name,
)
from domain.common import clock
from domain.common.catalogue import Category
from domain.publication.announcements import plain_text, sanitize
from domain.publication.procedures import SALES, configure
from domain.publication.states import AnnouncementType

ANNOUNCEMENTS_PER_PROJECT = 2.5
T = AnnouncementType


def _pick(rng: random.Random, weighted: dict[Any, int] | Sequence[tuple[Any, int]]) -> Any:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


class Stream:
    """Announcements in publication order: new projects arrive steadily, each then moves on its own."""

    def __init__(
        self,
        rng: random.Random,
        start: datetime,
        end: datetime,
        n: int,
        tenderers: list[Publisher],
        agencies: list[Publisher],
    ) -> None:
        self.rng = rng
        self.end = end
        self.n = n
        self.by_category = {c: [t for t in tenderers if c in t.categories] or tenderers for c in Category}
        self.agencies = agencies
        # about 2.5 announcements a project (see _arrive); a little early, for the steps the window's end cuts off
        self.interval = (end - start) / max(1.0, n / ANNOUNCEMENTS_PER_PROJECT) * 0.97
        self.next_arrival = start
        self.pending: list[tuple[datetime, int, AnnouncementType, Plan]] = []
        self.order = itertools.count()
        self.emitted = 0

    def __iter__(self) -> Iterator[Publication]:
        return self

    def __next__(self) -> Publication:
        if self.emitted >= self.n:
            raise StopIteration
        while not self.pending or self.pending[0][0] > self.next_arrival:
            if not self.pending and self.next_arrival > self.end:
                # the window ran out short of n (arrivals are random): the rest arrive at its end, rather
                # than arrivals running on past the end, where nothing is scheduled, until dates overflow
                self.next_arrival = self.end
            self._arrive()
        at, _, kind, plan = heapq.heappop(self.pending)
        self.emitted += 1
        return self._publication(plan, kind, min(at, self.end))

    def _schedule(self, plan: Plan, at: datetime, kind: AnnouncementType) -> None:
        if at <= self.end:
            heapq.heappush(self.pending, (at, next(self.order), kind, plan))

    def _arrive(self) -> None:
        rng = self.rng
        at = self.next_arrival
        self.next_arrival = at + self.interval * rng.uniform(0.5, 1.5)
        plan = self._plan(at - timedelta(days=rng.uniform(1, 5)), at)
        self._schedule(plan, at, T.TENDER)
        if rng.random() < 0.03:
            self._schedule(plan, at + timedelta(days=rng.uniform(5, 15)), T.TERMINATION)
            return
        deadline = datetime.fromisoformat(plan.config["bid_deadline"])
        if rng.random() < 0.25:  # a clarification, well before the deadline
            self._schedule(plan, at + (deadline - at) * rng.uniform(0.2, 0.6), T.CHANGE)
        if plan.procedure in SALES:
            if rng.random() < 0.7:
                self._schedule(plan, deadline + timedelta(days=rng.uniform(1, 5)), T.RESULT)
            return
        if rng.random() < 0.75:
            publicity = deadline + timedelta(days=rng.uniform(2, 10))
            self._schedule(plan, publicity, T.CANDIDATE_PUBLICITY)
            if rng.random() < 0.9:
                days = plan.config["candidate_publicity_days"] + rng.uniform(1, 4)
                self._schedule(plan, publicity + timedelta(days=days), T.RESULT)
        elif rng.random() < 0.3:
            self._schedule(plan, deadline + timedelta(days=rng.uniform(3, 12)), T.RESULT)

    def _plan(self, created_at: datetime, tender_at: datetime) -> Plan:
        rng = self.rng
        category = _pick(rng, CATEGORY_WEIGHTS)
        region = _pick(rng, REGION_WEIGHTS)
        procedure = _pick(rng, PROCEDURES[category])
        tenderer = rng.choice(self.by_category[category])
        agency = rng.choice(self.agencies) if self.agencies and rng.random() < 0.5 else None
        year = clock.to_shanghai(tender_at).year
        name, details = self._name(category, region, year)
        minimum = configure(procedure, {})["min_submission_days"]
        opens = tender_at + timedelta(hours=rng.randint(1, 24))
        deadline = (tender_at + timedelta(days=minimum + rng.randint(1, 10))).replace(
            minute=30, second=0, microsecond=0
        )
        times = {
            "registration_opens_at": opens,
            "registration_closes_at": max(opens + timedelta(hours=1), deadline - timedelta(days=rng.randint(1, 3))),
            "bid_deadline": deadline,
            "opening_at": deadline,
        }
        config = configure(procedure, times)
        return Plan(
            category=category,
            region=region,
            procedure=procedure,
            name=name,
            tenderer=tenderer,
            agency=agency,
            estimate_wan=rng.choice(ESTIMATES_WAN),
            config=config,
            eligibility=eligibility_rules().get(category, []),
            created_at=created_at,
            details=details,
        )

    def _name(self, category: Category, region: str, year: int) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        place = region_name(region)
        details: dict[str, Any] = {"place": place}
        if category is Category.ENGINEERING_CONSTRUCTION:
            work, scale, scope = rng.choice(WORKS)
            road = rng.choice(ROADS)
            details |= {
                "scale": scale.format(
                    km=round(rng.uniform(0.5, 8.0), 1),
                    width=rng.choice([20, 30, 40, 50, 60]),
                    n=rng.randint(2, 40),
                    area=round(rng.uniform(0.5, 12.0), 1),
                ),
                "scope": scope,
                "days": rng.choice([90, 120, 180, 240, 365, 540]),
                "location": f"{place}{road}",
            }
            return f"{year}年{place}{road}{work}工程", details
        if category is Category.GOVERNMENT_PROCUREMENT:
            goods, kind = rng.choice(GOODS)
            details |= {"goods": goods, "kind": kind, "days": rng.choice([30, 60, 90, 365])}
            return f"{rng.choice(BUYER_UNITS)}{year}年{goods}采购项目", details
        if category is Category.MEDICAL_CONSUMABLES:
            item = rng.choice(CONSUMABLES)
            details |= {"goods": item, "kind": "货物", "days": 365}
            return f"{year}年青岛市公立医疗机构{item}集中带量采购项目", details
        if category is Category.LAND_USE_RIGHTS:
            plot = f"{region[2:4]}{year}-{rng.randint(1, 120):03d}"
            use = rng.choice(["工业用地", "商服用地", "住宅用地", "仓储用地"])
            details |= {"use": use, "area": round(rng.uniform(0.8, 25.0), 2), "years": 50 if use == "工业用地" else 40}
            return f"{place}{plot}号地块国有建设用地使用权（{use}）", details
        if category is Category.MINING_RIGHTS:
            details |= {"years": rng.choice([3, 5, 10])}
            return f"{place}{rng.choice(HILLS)}建筑用花岗岩矿采矿权", details
        if category is Category.NATURAL_RESOURCE_ASSETS:
            details |= {"years": rng.choice([10, 15, 20])}
            return f"{place}{rng.choice(HILLS)}林地经营权", details
        if category is Category.STATE_OWNED_PROPERTY:
            asset = rng.choice(ASSETS).format(pct=rng.choice([10, 20, 25, 35, 51, 100]))
            return f"{rng.choice(COMPANIES)}{asset}", details
        if category is Category.ENVIRONMENTAL_RIGHTS:
            details |= {"tons": rng.choice([20, 50, 80, 120, 200])}
            return f"{place}{rng.choice(POLLUTANTS)}排污权有偿使用网络竞价交易", details
        if category is Category.RURAL_COLLECTIVE_PROPERTY:
            asset = rng.choice(RURAL_ASSETS)
            details |= {"years": rng.choice([5, 10, 15])}
            return f"{place}{rng.choice(VILLAGES)}村集体{asset}经营权公开流转", details
        details |= {"goods": "配套服务", "kind": "服务", "days": 90}
        return f"{place}{year}年公共配套服务项目", details

    def _publication(self, plan: Plan, kind: AnnouncementType, at: datetime) -> Publication:
        title = announcement_title(plan, kind)
        body = sanitize(announcement_body(self.rng, plan, kind, at))
        text = plain_text(body)
        drafted = at - timedelta(minutes=self.rng.randint(10, 2 * 24 * 60))
        return Publication(
            plan=plan,
            kind=kind,
            at=at,
            title=title,
            body_html=body,
            body_text=text,
            search_text=segment(f"{title}\n{text}"),
            drafted_at=max(drafted, plan.created_at),
        )
