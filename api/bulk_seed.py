"""Bulk seeding for scale tests: many realistic Chinese announcements, written in batches.

Each seeded announcement leaves the rows that `create_project`, `draft_announcement` and
`publish_announcement` leave once the dispatcher has run, computed with the same functions:
a project and its lot (trade identifiers with check characters, configuration through
`procedures.configure`, lawful eligibility rules), the announcement (HTML through `sanitize`,
`plain_text`, `search_text = search.segment(title + "\\n" + body_text)`, lot status and
publicity window as publishing sets them, a change notice pointing at the tender it corrects),
the lot's status moved by `states.lot_after`, the search index row (`search.index`), and the
change-feed entries (AnnouncementPublished, then LotStatusChanged when the lot moved) with the
payloads those events carry, numbered under the feed's lock like `feed.append`.

Not written: outbox events and therefore audit entries, saved-search notifications and live
messages (a million notifications are not what a seed wants), idempotency records, attachments.

Fast because rows go in with one bulk insert per table and batch, ids come from the sequences
(PostgreSQL) or after the current maximum (SQLite, single writer), and the jieba segmentation is
done once per distinct text run: jieba cuts each run of word characters on its own, so a text's
segmentation is the concatenation of its runs' segmentations. Every batch checks a sample
against `search.segment` itself and stops the seeding on any difference.

Announcements are published in time order over the last two years, projects moving through
tender, change, candidate publicity, result or termination as real ones do.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import jieba
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.accounts import services as accounts
from domain.accounts.models import Organisation, User
from domain.accounts.states import OrgStatus
from domain.common import clock
from domain.common.actors import SYSTEM
from domain.common.catalogue import Category
from domain.common.events import Audience, DomainEvent
from domain.common.ids import uscc_check_char
from domain.common.storage import lock_named, using_postgres
from domain.publication import events as ev
from domain.publication import search
from domain.publication.identifiers import CATEGORY_CODES, lot_code, trade_code
from domain.publication.models import Announcement, FeedEntry, Lot, Project
from domain.publication.procedures import SALES, TIME_SETTINGS, Procedure, check_eligibility, configure
from domain.publication.regions import REGIONS
from domain.publication.services import plain_text, sanitize
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus, lot_after

DEFAULT_BATCH = 5000
MAX_BATCH = 50_000
SPAN = timedelta(days=730)
ANNOUNCEMENTS_PER_PROJECT = 2.5
CHECKED_PER_BATCH = 5  # announcements per batch whose segmentation is compared with search.segment
T = AnnouncementType

# ---------------------------------------------------------------- who publishes

# (first 17 characters of the credit code, name, region, kind, categories it tenders in)
SEED_ORGANISATIONS: list[tuple[str, str, str, str, tuple[Category, ...]]] = [
    (
        "91370200PT0000001",
        "青岛西海岸新区城市建设发展有限公司",
        "370211",
        "tenderer",
        (Category.ENGINEERING_CONSTRUCTION,),
    ),
    (
        "91370200PT0000002",
        "青岛地铁集团有限公司",
        "370202",
        "tenderer",
        (Category.ENGINEERING_CONSTRUCTION, Category.GOVERNMENT_PROCUREMENT),
    ),
    ("12370200PT0000003", "青岛市市政工程管理服务中心", "370202", "tenderer", (Category.ENGINEERING_CONSTRUCTION,)),
    (
        "12370200PT0000004",
        "青岛市市立医院",
        "370202",
        "tenderer",
        (Category.GOVERNMENT_PROCUREMENT, Category.MEDICAL_CONSUMABLES),
    ),
    ("11370200PT0000005", "青岛市教育局", "370202", "tenderer", (Category.GOVERNMENT_PROCUREMENT,)),
    ("91370100PT0000006", "济南城市建设集团有限公司", "370102", "tenderer", (Category.ENGINEERING_CONSTRUCTION,)),
    (
        "11370200PT0000007",
        "青岛市自然资源和规划局",
        "370202",
        "tenderer",
        (Category.LAND_USE_RIGHTS, Category.MINING_RIGHTS, Category.NATURAL_RESOURCE_ASSETS),
    ),
    (
        "91370100PT0000008",
        "山东省国有资产投资控股有限公司",
        "370102",
        "tenderer",
        (Category.STATE_OWNED_PROPERTY,),
    ),
    (
        "11370200PT0000009",
        "青岛市即墨区农业农村局",
        "370215",
        "tenderer",
        (Category.RURAL_COLLECTIVE_PROPERTY, Category.OTHER),
    ),
    ("11370200PT0000010", "青岛市生态环境局", "370202", "tenderer", (Category.ENVIRONMENTAL_RIGHTS,)),
    ("91370200PT0000011", "青岛建设工程招标代理有限公司", "370203", "agency", ()),
    ("91370100PT0000012", "山东省招标股份有限公司", "370102", "agency", ()),
    ("91370200PT0000013", "青岛信达项目管理有限公司", "370213", "agency", ()),
]
SEED_PHONE = "136000{:05d}"


@dataclass(frozen=True, slots=True)
class Publisher:
    org_id: int
    user_id: int
    name: str
    categories: tuple[Category, ...]


async def ensure_organisations() -> tuple[list[Publisher], list[Publisher]]:
    """The seed's tenderers and agencies, registered and approved once (random, unprinted passwords)."""
    tenderers: list[Publisher] = []
    agencies: list[Publisher] = []
    for i, (first17, name, region, kind, categories) in enumerate(SEED_ORGANISATIONS, start=1):
        code = first17 + uscc_check_char(first17)
        org = await Organisation.get_or_none(credit_code=code)
        if org is None:
            form = accounts.RegistrationForm(
                credit_code=code,
                name=name,
                region_code=region,
                kinds=[kind],
                contact_name="种子数据",
                phone=SEED_PHONE.format(i),
                password=secrets.token_urlsafe(24) + "a1",  # letters and digits, as check_password wants
            )
            org, _, _ = await accounts.register_organisation(SYSTEM, form)
        if org.status != OrgStatus.APPROVED:
            org = await accounts.approve_organisation(SYSTEM, org.id)
        user = await User.filter(organisation_id=org.id).order_by("id").first()
        if user is None:
            raise RuntimeError(f"seed organisation {name} has no user")
        publisher = Publisher(org.id, user.id, org.name, categories)
        (tenderers if kind == "tenderer" else agencies).append(publisher)
    return tenderers, agencies


# ---------------------------------------------------------------- what the announcements say

CITY_OF = {"3701": "济南市", "3702": "青岛市"}
# region code -> weight; Qingdao's districts carry most of the platform's trading
REGION_WEIGHTS = {
    "370202": 8,
    "370203": 8,
    "370211": 12,
    "370212": 5,
    "370213": 5,
    "370214": 7,
    "370215": 7,
    "370281": 5,
    "370283": 4,
    "370285": 3,
    "370200": 6,
    "370102": 3,
    "370103": 2,
    "370112": 3,
    "370114": 2,
    "370100": 3,
    "370300": 1,
    "370600": 2,
    "370700": 2,
    "370800": 1,
    "371000": 1,
    "371100": 1,
    "371300": 1,
}
CATEGORY_WEIGHTS = {
    Category.ENGINEERING_CONSTRUCTION: 34,
    Category.GOVERNMENT_PROCUREMENT: 34,
    Category.LAND_USE_RIGHTS: 7,
    Category.STATE_OWNED_PROPERTY: 6,
    Category.MEDICAL_CONSUMABLES: 6,
    Category.MINING_RIGHTS: 2,
    Category.NATURAL_RESOURCE_ASSETS: 2,
    Category.ENVIRONMENTAL_RIGHTS: 2,
    Category.RURAL_COLLECTIVE_PROPERTY: 4,
    Category.OTHER: 3,
}
PROCEDURES: dict[Category, tuple[tuple[Procedure, int], ...]] = {
    Category.ENGINEERING_CONSTRUCTION: ((Procedure.OPEN_TENDER, 85), (Procedure.INVITED_TENDER, 15)),
    Category.GOVERNMENT_PROCUREMENT: (
        (Procedure.OPEN_TENDER, 50),
        (Procedure.COMPETITIVE_NEGOTIATION, 30),
        (Procedure.INQUIRY, 20),
    ),
    Category.LAND_USE_RIGHTS: ((Procedure.LISTING, 70), (Procedure.ONLINE_AUCTION, 30)),
    Category.STATE_OWNED_PROPERTY: ((Procedure.LISTING, 60), (Procedure.ONLINE_AUCTION, 40)),
    Category.MEDICAL_CONSUMABLES: ((Procedure.OPEN_TENDER, 100),),
    Category.MINING_RIGHTS: ((Procedure.LISTING, 100),),
    Category.NATURAL_RESOURCE_ASSETS: ((Procedure.LISTING, 100),),
    Category.ENVIRONMENTAL_RIGHTS: ((Procedure.ONLINE_AUCTION, 100),),
    Category.RURAL_COLLECTIVE_PROPERTY: ((Procedure.LISTING, 100),),
    Category.OTHER: ((Procedure.INQUIRY, 100),),
}
ROADS = [
    "长江路",
    "香港中路",
    "辽阳西路",
    "重庆中路",
    "黑龙江路",
    "胶州湾大道",
    "滨海大道",
    "株洲路",
    "山东路",
    "福州路",
    "杭州路",
    "海尔路",
    "青威路",
    "烟台路",
    "正阳路",
    "春阳路",
    "九水东路",
    "金水路",
    "唐河路",
    "漓江路",
    "经十路",
    "旅游路",
    "工业南路",
    "二环东路",
]
WORKS = [
    ("道路综合整治", "道路全长约{km}公里，红线宽度{width}米", "道路、排水、照明、绿化及交通设施"),
    ("雨污分流改造", "改造雨污水管线约{km}公里", "雨水、污水管道及附属构筑物"),
    ("老旧小区改造", "改造住宅楼{n}栋，建筑面积约{area}万平方米", "外墙保温、屋面防水、管网及环境提升"),
    ("供热管网改造", "改造一次供热管网约{km}公里", "管网、阀门井及换热站设备"),
    ("中小学校新建", "总建筑面积约{area}万平方米，设{n}个教学班", "土建、安装、室外配套"),
    ("污水处理厂提标改造", "处理规模{n}万立方米/日", "土建、工艺设备安装及调试"),
    ("河道综合治理", "治理河道长度约{km}公里", "清淤、护岸、生态修复及景观"),
    ("公园绿化提升", "绿化面积约{area}万平方米", "绿化种植、园路铺装及照明"),
    ("桥梁维修加固", "桥梁{n}座，全长约{km}公里", "上部结构加固、伸缩缝更换及桥面铺装"),
    ("农贸市场改造提升", "建筑面积约{area}万平方米", "土建、水电安装及消防"),
]
BUYER_UNITS = [
    "青岛市市立医院",
    "青岛市第二中学",
    "青岛市公安局交通警察支队",
    "青岛市城市管理局",
    "青岛市市南区教育和体育局",
    "青岛市黄岛区人民医院",
    "青岛市中心医院",
    "青岛市图书馆",
    "青岛市大数据发展管理局",
    "济南市历下区政务服务中心",
    "青岛市城阳区人民政府办公室",
    "青岛市气象局",
]
GOODS = [
    ("医用耗材", "货物"),
    ("智慧教室设备", "货物"),
    ("办公家具", "货物"),
    ("信息化系统运维服务", "服务"),
    ("物业管理服务", "服务"),
    ("食材配送服务", "服务"),
    ("公务用车租赁服务", "服务"),
    ("网络安全设备", "货物"),
    ("图书资料", "货物"),
    ("消防设施维护保养服务", "服务"),
    ("视频监控系统升级", "货物"),
    ("数据中心云服务", "服务"),
    ("保洁服务", "服务"),
    ("电梯维保服务", "服务"),
]
CONSUMABLES = ["冠脉支架", "人工晶体", "骨科创伤类耗材", "吻合器", "血液透析器", "心脏起搏器", "医用敷料", "输液器"]
COMPANIES = [
    "青岛国信实业有限公司",
    "青岛城运控股集团有限公司",
    "青岛华通国有资本投资运营集团有限公司",
    "青岛港国际股份有限公司",
    "山东鲁信投资控股集团有限公司",
    "青岛海发国有资本投资运营集团有限公司",
]
ASSETS = [
    "所持青岛某物流有限公司{pct}%股权",
    "闲置办公用房出租",
    "报废车辆及设备",
    "临街商铺五年租赁权",
    "所持青岛某科技有限公司{pct}%股权",
    "仓储厂房及附属设施",
]
HILLS = ["大珠山", "小珠山", "铁橛山", "藏马山", "马山", "大泽山"]
VILLAGES = ["南泉", "东障", "大信", "王哥庄", "李家", "小庄", "前海", "后疃"]
RURAL_ASSETS = ["土地", "果园", "鱼塘", "厂房", "林地"]
POLLUTANTS = ["化学需氧量", "氨氮", "二氧化硫", "氮氧化物"]
WINNERS = [
    "青岛海湾路桥建设有限公司",
    "中铁十四局集团有限公司",
    "山东高速路桥集团股份有限公司",
    "青岛建设集团股份有限公司",
    "中建八局第一建设有限公司",
    "青岛海信网络科技股份有限公司",
    "国药控股青岛有限公司",
    "山东鲁信工程集团有限公司",
    "青岛城市建设投资（集团）有限责任公司",
    "浪潮软件集团有限公司",
    "青岛润德物业管理有限公司",
    "青岛康大食品有限公司",
]
CONTACTS = ["王工", "李工", "张女士", "刘先生", "陈女士", "赵工", "孙先生", "周女士"]
PHONES = [f"0532-{n}" for n in range(85871200, 85871260)] + [f"0531-{n}" for n in range(66601100, 66601120)]
ESTIMATES_WAN = sorted({int(round(10 ** (1 + 3.2 * i / 400), -1 if i > 150 else 0)) or 10 for i in range(400)})
ELIGIBILITY: dict[Category, list[dict[str, str]]] = {
    Category.ENGINEERING_CONSTRUCTION: [
        {"kind": "qualification", "text": "具有市政公用工程施工总承包二级及以上资质"},
        {"kind": "personnel", "text": "拟派项目经理须具备市政公用工程专业二级及以上注册建造师执业资格"},
    ],
    Category.GOVERNMENT_PROCUREMENT: [
        {"kind": "capacity", "text": "具有独立承担民事责任的能力，近三年内无重大违法记录"},
    ],
    Category.MEDICAL_CONSUMABLES: [
        {"kind": "qualification", "text": "具有医疗器械经营许可证或备案凭证"},
    ],
}


@lru_cache(maxsize=1)
def _eligibility() -> dict[Category, list[dict[str, str]]]:
    """The seed's eligibility rules, through the same check that refuses locality restrictions."""
    return {c: check_eligibility(rules) for c, rules in ELIGIBILITY.items()}


@cache
def region_name(code: str) -> str:
    """370211 -> 青岛市黄岛区, 370200 -> 青岛市."""
    names = {c: n for c, n, _ in REGIONS}
    if code.endswith("00"):
        return names[code]
    return CITY_OF.get(code[:4], "") + names[code]


# ---------------------------------------------------------------- segmentation, once per text run

_RUNS = jieba.re_han_default  # the runs jieba's default mode cuts one at a time


@lru_cache(maxsize=500_000)
def _run_tokens(run: str) -> tuple[str, ...]:
    return tuple(search.tokens(run))


def segment(text: str) -> str:
    """search.segment(text), reusing the tokens of text runs seen before (checked against it per batch)."""
    return " ".join(itertools.chain.from_iterable(_run_tokens(run) for run in _RUNS.split(text) if run))


# ---------------------------------------------------------------- projects moving through their steps


@dataclass(slots=True)
class Plan:
    """One project with one lot, the announcements it will publish, and what the database gave it."""

    category: Category
    region: str
    procedure: Procedure
    name: str
    tenderer: Publisher
    agency: Publisher | None
    estimate_wan: int
    config: dict[str, Any]
    eligibility: list[dict[str, str]]
    created_at: datetime
    details: dict[str, Any]
    project_id: int = 0
    lot_id: int = 0
    code: str = ""
    lot_code: str = ""
    tender_id: int | None = None
    lot_status: str = LotStatus.DRAFT.value
    lot_written: bool = False

    @property
    def publisher(self) -> Publisher:
        return self.agency or self.tenderer

    @property
    def prefix(self) -> str:
        return f"{self.region}{CATEGORY_CODES[self.category]}{clock.to_shanghai(self.created_at).year:04d}"


@dataclass(slots=True)
class Publication:
    plan: Plan
    kind: AnnouncementType
    at: datetime
    title: str
    body_html: str
    body_text: str
    search_text: str
    drafted_at: datetime


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
            eligibility=_eligibility().get(category, []),
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
        title = _title(plan, kind)
        body = sanitize(_body(self.rng, plan, kind, at))
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


def _tender_word(plan: Plan) -> str:
    if plan.procedure in SALES:
        if plan.category in (Category.LAND_USE_RIGHTS, Category.MINING_RIGHTS):
            return "挂牌出让公告" if plan.procedure is Procedure.LISTING else "拍卖出让公告"
        if plan.category is Category.STATE_OWNED_PROPERTY:
            return "转让公告"
        if plan.category is Category.ENVIRONMENTAL_RIGHTS:
            return "竞价公告"
        return "交易公告"
    return {
        Procedure.OPEN_TENDER: "招标公告" if plan.category is Category.ENGINEERING_CONSTRUCTION else "公开招标公告",
        Procedure.INVITED_TENDER: "邀请招标公告",
        Procedure.COMPETITIVE_NEGOTIATION: "竞争性谈判公告",
        Procedure.INQUIRY: "询价公告",
    }[plan.procedure]


def _title(plan: Plan, kind: AnnouncementType) -> str:
    if kind is T.TENDER:
        suffix = ("施工" if plan.category is Category.ENGINEERING_CONSTRUCTION else "") + _tender_word(plan)
    elif kind is T.CHANGE:
        suffix = "变更公告（第1号）"
    elif kind is T.CANDIDATE_PUBLICITY:
        suffix = "中标候选人公示"
    elif kind is T.RESULT:
        suffix = "成交结果公告" if plan.procedure in SALES or plan.procedure is Procedure.INQUIRY else "中标结果公告"
    else:
        suffix = "终止公告"
    return f"{plan.name}{suffix}"[:300]


def _date(value: datetime, minutes: bool = False) -> str:
    local = clock.to_shanghai(value)
    text = f"{local.year}年{local.month}月{local.day}日"
    return text + f"{local.hour}时{local.minute:02d}分" if minutes else text


def _contact(rng: random.Random, plan: Plan) -> str:
    rows = [
        f"<tr><td>招标人：{plan.tenderer.name}</td><td>联系人：{rng.choice(CONTACTS)}</td>"
        f"<td>电话：{rng.choice(PHONES)}</td></tr>"
    ]
    if plan.agency is not None:
        rows.append(
            f"<tr><td>招标代理机构：{plan.agency.name}</td><td>联系人：{rng.choice(CONTACTS)}</td>"
            f"<td>电话：{rng.choice(PHONES)}</td></tr>"
        )
    return "<h3>联系方式</h3><table>" + "".join(rows) + "</table>"


def _body(rng: random.Random, plan: Plan, kind: AnnouncementType, at: datetime) -> str:
    deadline = datetime.fromisoformat(plan.config["bid_deadline"])
    estimate = f"{plan.estimate_wan}万元"
    if kind is T.TENDER:
        return _tender_body(rng, plan, at, deadline, estimate) + _contact(rng, plan)
    if kind is T.CHANGE:
        moved = deadline + timedelta(days=rng.choice([3, 5, 7]))
        return (
            f"<p>各潜在投标人：</p><p>现对本项目（{plan.name}）的招标（采购）文件作如下澄清和修改：</p>"
            f"<p>一、投标文件递交截止时间及开标时间顺延。原截止时间：{_date(deadline, True)}；"
            f"调整后截止时间：{_date(moved, True)}。</p>"
            f"<p>二、评分办法中“类似项目业绩”的认定范围调整为近三年（自{_date(at - timedelta(days=1095))}起）"
            "完成的项目。</p>"
            "<p>三、其他内容不变。本澄清和修改内容为招标文件的组成部分，与招标文件具有同等法律效力。</p>"
            + _contact(rng, plan)
        )
    if kind is T.CANDIDATE_PUBLICITY:
        ranked = "".join(
            f"<tr><td>第{place}名</td><td>{name}，</td><td>投标报价：{price}万元</td></tr>"
            for place, name, price in zip(
                "一二三",
                rng.sample(WINNERS, 3),
                sorted(round(plan.estimate_wan * rng.uniform(0.86, 0.99), 2) for _ in range(3)),
                strict=True,
            )
        )
        ends = at + timedelta(days=plan.config["candidate_publicity_days"])
        return (
            f"<p>本项目（{plan.name}）评标工作已结束，根据评标委员会的书面评标报告，现将中标候选人公示如下：</p>"
            "<table><tr><th>排名</th><th>中标候选人</th><th>投标报价</th></tr>" + ranked + "</table>"
            f"<p>公示期：{_date(at)}至{_date(ends)}。投标人或者其他利害关系人对评标结果有异议的，"
            "应当在中标候选人公示期间以书面形式向招标人提出。</p>" + _contact(rng, plan)
        )
    if kind is T.RESULT:
        winner = rng.choice(WINNERS)
        price = round(plan.estimate_wan * rng.uniform(0.85, 1.0 if plan.procedure not in SALES else 1.6), 2)
        word = "成交人" if plan.procedure in SALES or plan.procedure is Procedure.INQUIRY else "中标人"
        return (
            f"<p>本项目（{plan.name}）已按规定程序完成，现将结果公告如下：</p>"
            f"<p>{word}：{winner}；{word[:2]}金额：{price}万元；预算金额（起始价）：{estimate}。</p>"
            f"<p>请{word}自本公告发布之日起30日内与招标人签订合同。感谢各投标人的积极参与。</p>" + _contact(rng, plan)
        )
    return (
        f"<p>因采购需求发生重大变化，经{plan.tenderer.name}研究决定，本项目（{plan.name}）终止本次交易活动。</p>"
        "<p>已缴纳投标保证金的投标人，保证金将在五个工作日内原路退还。由此给各潜在投标人带来的不便，敬请谅解。</p>"
        + _contact(rng, plan)
    )


def _tender_body(rng: random.Random, plan: Plan, at: datetime, deadline: datetime, estimate: str) -> str:
    d = plan.details
    opens = datetime.fromisoformat(plan.config["registration_opens_at"])
    closes = datetime.fromisoformat(plan.config["registration_closes_at"])
    rules = "".join(f"<li>{r['text']}；</li>" for r in plan.eligibility)
    if plan.category is Category.ENGINEERING_CONSTRUCTION:
        overview = (
            f"<p>本项目（{plan.name}）已由{d['place']}发展和改革局批准建设，项目业主：{plan.tenderer.name}，"
            f"建设资金来自财政资金，项目出资比例为100%。项目已具备招标条件，现对该项目的施工进行公开招标。</p>"
            f"<p>建设地点：{d['location']}；建设规模：{d['scale']}；计划工期：{d['days']}日历天；"
            f"招标范围：{d['scope']}工程；最高投标限价：{estimate}。</p>"
        )
    elif plan.category in (Category.GOVERNMENT_PROCUREMENT, Category.MEDICAL_CONSUMABLES, Category.OTHER):
        overview = (
            f"<p>{plan.tenderer.name}就本项目（{plan.name}）进行采购，欢迎合格的供应商参加。</p>"
            f"<p>采购内容：{d['goods']}（{d['kind']}类）；预算金额：{estimate}；"
            f"合同履行期限：{d['days']}日；本项目不接受进口产品。</p>"
        )
    elif plan.category is Category.STATE_OWNED_PROPERTY:
        overview = (
            f"<p>经有关国有资产监督管理机构批准，现将本项目（{plan.name}）公开挂牌，征集意向受让方。</p>"
            f"<p>转让底价：{estimate}；信息披露期：自{_date(at)}起20个工作日。</p>"
        )
    else:
        overview = (
            f"<p>经{d['place']}人民政府批准，现将本项目（{plan.name}）公开交易。</p>"
            f"<p>起始价：{estimate}；出让（流转）年限：{d.get('years', 20)}年；竞买保证金为起始价的20%。</p>"
        )
    return (
        "<h3>一、项目概况</h3>"
        + overview
        + "<h3>二、投标人（竞买人）资格要求</h3><ul>"
        + rules
        + "<li>未被列入失信被执行人、重大税收违法失信主体名单；</li><li>本项目不接受联合体。</li></ul>"
        + "<h3>三、文件的获取</h3>"
        + f"<p>获取时间：{_date(opens)}—{_date(closes)}。凡有意参加者，请登录公共资源交易电子服务系统下载电子文件。</p>"
        + "<h3>四、文件的递交</h3>"
        + f"<p>递交截止时间：{_date(deadline, True)}。开标（竞价）时间同截止时间，通过掌上交易远程解密。</p>"
    )


# ---------------------------------------------------------------- writing a batch


async def _reserve_ids(conn: BaseDBAsyncClient, table: str, n: int, postgres: bool) -> list[int]:
    """n ids no one else will take: from the table's sequence (PostgreSQL), after the maximum (SQLite)."""
    if n == 0:
        return []
    if postgres:
        rows = await conn.execute_query_dict(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, $1)", [n]
        )
        return [int(r["id"]) for r in rows]
    rows = await conn.execute_query_dict(
        f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), "
        f'coalesce((SELECT max(id) FROM "{table}"), 0)) AS last'
    )
    last = int(rows[0]["last"])
    return list(range(last + 1, last + 1 + n))


async def _next_serials(conn: BaseDBAsyncClient, prefixes: set[str], postgres: bool) -> dict[str, int]:
    """The next free serial for each trade-code prefix (hold the trade_code lock, as create_project does)."""
    marks = ("$1", "$2") if postgres else ("?", "?")
    serials = {}
    for prefix in sorted(prefixes):
        rows = await conn.execute_query_dict(
            f"SELECT max(trade_code) AS code FROM project WHERE trade_code >= {marks[0]} AND trade_code < {marks[1]}",
            [prefix, prefix + "~"],
        )
        code = rows[0]["code"]
        serials[prefix] = int(code[12:18]) + 1 if code else 1
    return serials


@dataclass
class Written:
    announcements: int = 0
    projects: int = 0
    lots_moved: int = 0
    feed_entries: int = 0


async def _write(batch: list[Publication], postgres: bool) -> Written:
    """One batch in one transaction: projects, lots, announcements, index rows, lot moves, feed entries."""
    written = Written(announcements=len(batch))
    async with in_transaction() as conn:
        new = list({id(p.plan): p.plan for p in batch if p.kind is T.TENDER}.values())
        await lock_named("trade_code")
        serials = await _next_serials(conn, {p.prefix for p in new}, postgres)
        project_ids = await _reserve_ids(conn, "project", len(new), postgres)
        lot_ids = await _reserve_ids(conn, "lot", len(new), postgres)
        ann_ids = await _reserve_ids(conn, "announcement", len(batch), postgres)
        for plan, project_id, lot_id in zip(new, project_ids, lot_ids, strict=True):
            serial = serials[plan.prefix]
            serials[plan.prefix] = serial + 1
            if serial > 999_999:
                raise RuntimeError(f"trade-code serials exhausted for {plan.prefix}")
            plan.project_id, plan.lot_id = project_id, lot_id
            year = int(plan.prefix[8:12])
            plan.code = trade_code(plan.region, plan.category, year, serial)
            plan.lot_code = lot_code(plan.code, 1)

        announcements, moved = [], {}
        events: list[tuple[DomainEvent, datetime]] = []
        for pub, ann_id in zip(batch, ann_ids, strict=True):
            plan = pub.plan
            before = plan.lot_status
            after = lot_after(pub.kind, before)
            if pub.kind is T.TENDER:
                # as publishing a tender re-checks the lot's times against the publication time
                configure(
                    plan.procedure,
                    {k: datetime.fromisoformat(plan.config[k]) for k in TIME_SETTINGS},
                    published_at=pub.at,
                )
            publicity = None
            if pub.kind is T.CANDIDATE_PUBLICITY:
                publicity = (pub.at, pub.at + timedelta(days=int(plan.config["candidate_publicity_days"])))
            ann = Announcement(
                id=ann_id,
                project_id=plan.project_id,
                lot_id=plan.lot_id,
                trade_code=plan.lot_code,
                type=pub.kind.value,
                status=AnnouncementStatus.PUBLISHED.value,
                title=pub.title,
                body_html=pub.body_html,
                body_text=pub.body_text,
                search_text=pub.search_text,
                category=plan.category.value,
                region_code=plan.region,
                lot_status=(after or before),
                corrects_id=plan.tender_id if pub.kind is T.CHANGE else None,
                publicity_starts_at=publicity[0] if publicity else None,
                publicity_ends_at=publicity[1] if publicity else None,
                published_at=pub.at,
                published_by=plan.publisher.user_id,
                created_by=plan.publisher.user_id,
                created_at=pub.drafted_at,
            )
            announcements.append(ann)
            events.append(
                (
                    ev.AnnouncementPublished(
                        object_id=str(ann_id),
                        trade_code=plan.lot_code,
                        kind=pub.kind.value,
                        title=pub.title,
                        category=plan.category.value,
                        region_code=plan.region,
                        project_id=plan.project_id,
                        lot_id=plan.lot_id,
                        corrects_id=ann.corrects_id,
                        published_at=pub.at.isoformat(),
                        audience=Audience(public=True),
                    ),
                    pub.at,
                )
            )
            if pub.kind is T.TENDER:
                plan.tender_id = ann_id
            if after is not None and after != before:
                plan.lot_status = after.value
                events.append(
                    (
                        ev.LotStatusChanged(
                            object_id=str(plan.lot_id),
                            trade_code=plan.lot_code,
                            before=str(before),
                            after=after.value,
                            audience=Audience(public=True),
                        ),
                        pub.at,
                    )
                )
                if plan.lot_written:
                    moved[plan.lot_id] = Lot(id=plan.lot_id, status=plan.lot_status, updated_at=pub.at)
                else:
                    plan.details["lot_updated_at"] = pub.at

        projects, lots = [], []
        for plan in new:
            projects.append(
                Project(
                    id=plan.project_id,
                    trade_code=plan.code,
                    name=plan.name,
                    category=plan.category.value,
                    region_code=plan.region,
                    tenderer_id=plan.tenderer.org_id,
                    agency_id=plan.agency.org_id if plan.agency else None,
                    created_by=plan.publisher.user_id,
                    created_at=plan.created_at,
                )
            )
            lots.append(
                Lot(
                    id=plan.lot_id,
                    project_id=plan.project_id,
                    lot_no=1,
                    trade_code=plan.lot_code,
                    name=_lot_name(plan),
                    procedure=plan.procedure.value,
                    estimated_price_fen=plan.estimate_wan * 1_000_000,
                    config=plan.config,
                    eligibility=plan.eligibility,
                    status=plan.lot_status,
                    created_at=plan.created_at,
                    updated_at=plan.details.pop("lot_updated_at", plan.created_at),
                )
            )
            plan.lot_written = True
        await Project.bulk_create(projects)
        await Lot.bulk_create(lots)
        await Announcement.bulk_create(announcements)
        for ann in announcements:
            await search.index(ann)
        if moved:
            await Lot.bulk_update(list(moved.values()), fields=["status", "updated_at"], batch_size=1000)

        # numbered last and under the feed's lock, exactly as feed.append numbers entries
        await lock_named("change_feed")
        last = await FeedEntry.all().order_by("-seq").first()
        seq = last.seq if last else 0
        entries = []
        for event, at in events:
            seq += 1
            payload = event.payload()
            entries.append(
                FeedEntry(
                    seq=seq,
                    event_id=uuid.uuid4(),
                    kind=event.type,
                    object_type=event.object_type,
                    object_id=event.object_id,
                    trade_code=payload.get("trade_code"),
                    payload=payload,
                    committed_at=at,
                )
            )
        await FeedEntry.bulk_create(entries)
    written.projects, written.lots_moved, written.feed_entries = len(projects), len(moved), len(entries)
    return written


def _lot_name(plan: Plan) -> str:
    if plan.category is Category.ENGINEERING_CONSTRUCTION:
        return "施工"
    if plan.procedure in SALES:
        return "标的"
    return "采购包1"


async def _produce(
    stream: Iterator[Publication], size: int, out: asyncio.Queue[list[Publication] | BaseException]
) -> None:
    """Makes the next batch while the previous one is written: it yields after each announcement,
    so the writer's round trips go on while this one uses the processor."""
    try:
        while True:
            pubs = []
            for pub in itertools.islice(stream, size):
                pubs.append(pub)
                await asyncio.sleep(0)
            await out.put(pubs)
            if not pubs:
                return
    except Exception as err:
        await out.put(err)


def _check_segmentation(batch: list[Publication], rng: random.Random, first: bool) -> None:
    """Stops the seeding if the shortcut ever differs from search.segment itself."""
    sample = batch[:50] if first else rng.sample(batch, min(len(batch), CHECKED_PER_BATCH))
    for pub in sample:
        expected = search.segment(f"{pub.title}\n{pub.body_text}")
        if pub.search_text != expected:
            raise RuntimeError(f"segmentation differs from search.segment for {pub.title!r}; not seeding")


# ---------------------------------------------------------------- the command


@dataclass
class SeedReport:
    announcements: int = 0
    projects: int = 0
    feed_entries: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.announcements / self.seconds if self.seconds > 0 else 0.0


async def seed_announcements(
    n: int,
    batch: int = DEFAULT_BATCH,
    seed: int = 2026,
    progress: bool = True,
    end: datetime | None = None,
) -> SeedReport:
    """Publishes n generated announcements in batches; each batch commits whole or not at all."""
    if n < 0 or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"need n >= 0 and 1 <= batch <= {MAX_BATCH}")
    from tqdm import tqdm

    report = SeedReport()
    started = time.perf_counter()
    tenderers, agencies = await ensure_organisations()
    postgres = using_postgres()
    end = end or clock.now()
    rng = random.Random(seed)
    stream = Stream(random.Random(rng.random()), end - SPAN, end, n, tenderers, agencies)
    checker = random.Random(rng.random())
    batches: asyncio.Queue[list[Publication] | BaseException] = asyncio.Queue(maxsize=1)
    producer = asyncio.create_task(_produce(stream, batch, batches))
    try:
        with tqdm(total=n, unit="ann", disable=not progress, file=sys.stderr, smoothing=0.1) as bar:
            first = True
            while True:
                pubs = await batches.get()
                if isinstance(pubs, BaseException):
                    raise pubs
                if not pubs:
                    break
                _check_segmentation(pubs, checker, first)
                first = False
                written = await _write(pubs, postgres)
                report.announcements += written.announcements
                report.projects += written.projects
                report.feed_entries += written.feed_entries
                bar.update(written.announcements)
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
    report.seconds = time.perf_counter() - started
    return report
