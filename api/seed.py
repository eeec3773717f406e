"""The demo city: real-looking market entities, projects, lots and announcements of every type,
so a new user sees something, and in every procedure something to try right after `make run`
(README, "The demo city"). Every account's password is DEMO_PASSWORD; the operator signs in as
13800000001.

Times are relative to the moment of seeding: finished procedures lie in the past, in the order the
law gives them (bids due, then the results, then the contract); the live ones are open now or start
soon: the online auction's bidding starts AUCTION_STARTS_IN after seeding, with two demo bidders
already entered.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from domain.accounts import organisations
from domain.accounts.models import Organisation, User
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.ids import uscc_check_char

DEMO_PASSWORD = "palmtrade2026"


def credit_code(first17: str) -> str:
    return first17 + uscc_check_char(first17)


DEMO_ENTITIES = [
    # (first 17 of the credit code, name, region, kinds, supervised categories, contact, phone)
    ("12370200MB1234567", "青岛市公共资源交易中心", "370200", ["operator"], [], "王晓", "13800000001"),
    (
        "11370200MB0012345",
        "青岛市住房和城乡建设局",
        "370200",
        ["supervisor"],
        ["engineering_construction"],
        "李监",
        "13800000002",
    ),
    ("11370200MB0023456", "青岛市财政局", "370200", ["supervisor"], ["government_procurement"], "赵政", "13800000003"),
    ("91370200MA3C12345", "青岛海湾路桥建设有限公司", "370211", ["bidder"], [], "张伟", "13900000001"),
    ("91370200MA3D23456", "山东鲁信工程集团有限公司", "370102", ["bidder"], [], "刘洋", "13900000002"),
    ("91370200MA3E34567", "青岛城市建设投资（集团）有限责任公司", "370202", ["tenderer"], [], "陈静", "13900000003"),
    ("91370200MA3F45678", "青岛中诚招标代理有限公司", "370203", ["agency"], [], "周敏", "13900000004"),
    ("91370200MA3G56789", "中国工商银行股份有限公司青岛分行", "370202", ["guarantor"], [], "孙强", "13900000005"),
    ("91370200MA3H67890", "胶州湾新材料科技有限公司", "370281", ["bidder"], [], "吴芳", "13900000006"),
]


async def create_operator(phone: str, name: str, password: str) -> Organisation:
    """Opens the platform's operator organisation (bootstrap: no operator exists yet)."""
    form = organisations.RegistrationForm(
        credit_code=credit_code("12370200MB1234567"),
        name="公共资源交易中心",
        region_code="370200",
        kinds=["operator"],
        contact_name=name,
        phone=phone,
        password=password,
    )
    org, _, _ = await organisations.register_organisation(SYSTEM, form)
    operator = Actor(client_id="system", roles=frozenset({Role.OPERATOR}))
    return await organisations.approve_organisation(operator, org.id)


async def seed_demo_city(secret_key: bytes) -> bool:
    """Loads the demo city into an empty database; returns False if anything is there already."""
    if await Organisation.exists() or await User.exists():
        return False
    for first17, name, region, kinds, categories, contact, phone in DEMO_ENTITIES:
        form = organisations.RegistrationForm(
            credit_code=credit_code(first17),
            name=name,
            region_code=region,
            kinds=kinds,
            contact_name=contact,
            phone=phone,
            password=DEMO_PASSWORD,
            supervised_categories=categories,
        )
        org, _, _ = await organisations.register_organisation(SYSTEM, form)
        if phone != "13900000006":  # one bidder is left pending, for the operator's review queue
            await organisations.approve_organisation(SYSTEM, org.id)
    await seed_demo_publication()
    return True


# A finished procedure's bids were due this long after the project started (the tender is published
# 2 days 3 hours in: 招标投标法 第二十四条, at least 20 days to prepare bids).
PAST_DEADLINE = timedelta(days=23, hours=6)
# the online auction: entries close, then bidding starts, soon after seeding; free bidding lasts an hour
AUCTION_ENTRY_CLOSES_IN = timedelta(minutes=20)
AUCTION_STARTS_IN = timedelta(minutes=30)
AUCTION_FREE_MINUTES = 60
# announcement types that follow the opening of bids: published only once the bids were due
AFTER_OPENING = frozenset(
    {
        "candidate_publicity",
        "result",
        "contract",
        "contract_change",
        "performance",
        "complaint_decision",
        "bad_conduct",
    }
)

# (project name, category, region,
#  [(lot name, procedure, estimate in fen, bids due: None for PAST_DEADLINE after the start, else from now)],
#  [announcement types for lot 1], [lots (by position) that also get a tender notice just before now])
DEMO_PROJECTS: list[tuple[str, str, str, list[tuple[str, str, int, timedelta | None]], list[str], list[int]]] = [
    (
        "胶州湾大道（双积路至204国道段）维修改造工程",
        "engineering_construction",
        "370211",
        [
            ("第一标段：道路施工", "open_tender", 2_680_000_000, None),
            ("第二标段：交通设施", "open_tender", 460_000_000, timedelta(days=21)),  # open for bids
        ],
        [
            "tender",
            "qualification_result",
            "change",
            "candidate_publicity",
            "result",
            "contract",
            "contract_change",
            "performance",
        ],
        [1],
    ),
    (
        "青岛市市南区中小学智慧教室设备采购项目",
        "government_procurement",
        "370202",
        [("智慧黑板及配套设备", "open_tender", 1_150_000_000, None)],
        ["tender", "change", "candidate_publicity", "complaint_decision", "bad_conduct"],
        [],
    ),
    (
        "崂山区沙子口街道2026年道路绿化养护服务",
        "government_procurement",
        "370212",
        [("绿化养护服务", "competitive_negotiation", 86_000_000, None)],
        ["tender", "termination"],
        [],
    ),
    (
        "即墨区温泉街道工业用地国有建设用地使用权挂牌出让",
        "land_use_rights",
        "370215",
        [("JM2026-015地块", "listing", 5_320_000_000, timedelta(days=14))],  # open for registration
        ["tender"],
        [],
    ),
    (
        "胶州市排污权有偿使用网络竞价交易",
        "environmental_rights",
        "370281",
        [("化学需氧量排污权 120 吨", "online_auction", 36_000_000, AUCTION_ENTRY_CLOSES_IN)],
        ["tender"],
        [],
    ),
]
# the demo bidders entered in the online auction (their contacts' phones)
AUCTION_BIDDERS = ("13900000001", "13900000002")
# the demo bidder whose complaint about the open road-works lot waits for the supervisor (13800000002)
COMPLAINANT = "13900000002"
TITLES = {
    "tender": "{project}招标公告",
    "qualification_result": "{project}资格预审结果公告",
    "change": "{project}变更公告（第1号）",
    "candidate_publicity": "{project}中标候选人公示",
    "result": "{project}中标结果公告",
    "contract": "{project}合同公告",
    "contract_change": "{project}合同变更公告",
    "performance": "{project}合同履约信息公告",
    "termination": "{project}终止公告",
    "complaint_decision": "{project}投诉处理决定公告",
    "bad_conduct": "{project}不良行为记录公告",
}
BODIES = {
    "tender": "<p>{project}已由相关部门批准建设，资金已落实，现对该项目进行公开招标，欢迎符合条件的投标人参加投标。</p>"
    "<p>投标人须具备相应资质，投标文件递交截止时间见交易平台。本项目实行不见面开标，投标人通过掌上交易远程解密。</p>",
    "qualification_result": "<p>{project}资格预审已结束，通过资格预审的申请人名单已在交易平台公布。</p>",
    "change": "<p>现对{project}招标文件作如下澄清和修改：投标文件递交截止时间及开标时间顺延，其他内容不变。</p>",
    "candidate_publicity": "<p>{project}评标工作已结束，现将中标候选人公示如下，公示期不少于3日。"
    "投标人或者其他利害关系人对评标结果有异议的，应当在公示期间提出。</p>",
    "result": "<p>{project}中标结果已确定，中标人为青岛海湾路桥建设有限公司。</p>",
    "contract": "<p>{project}合同已签订，合同金额及主要条款已在交易平台公开。</p>",
    "contract_change": "<p>{project}合同经双方协商变更：增加附属工程，增加金额不超过原合同金额的10%。</p>",
    "performance": "<p>{project}合同履约情况：工程已按期完工并通过验收。</p>",
    "termination": "<p>因采购需求发生重大变化，{project}终止采购活动。</p>",
    "complaint_decision": "<p>投诉人就{project}中标候选人公示提出的投诉，经审查，投诉事项缺乏事实依据，"
    "根据《政府采购质疑和投诉办法》第二十九条，驳回投诉。</p>",
    "bad_conduct": "<p>市场主体：山东鲁信工程集团有限公司。不良行为：在{project}中提出投诉缺乏事实依据，"
    "违反其签署的信用承诺书。失信程度：一般失信行为，公示期一年，期满自动撤下。法定代表人：王**。</p>",
}


def _title(kind: str, project: str) -> str:
    if kind == "tender" and project.endswith(("出让", "交易")):
        return f"{project}公告"  # sales announce a listing or an auction, not a tender
    return TITLES[kind].format(project=project)


async def seed_demo_publication() -> None:
    """Projects of the demo tenderer with announcements of every type, spread over recent weeks, in the
    order of the law; a tender open for bids, a listing open for registration and an auction about to start."""
    from domain.auctions import services as auctions
    from domain.common import clock
    from domain.common.clock import ManualClock
    from domain.publication import announcements, projects

    tenderer = await Organisation.get(credit_code=credit_code("91370200MA3E34567"))
    user = await User.get(organisation_id=tenderer.id)
    actor = Actor(user_id=user.id, org_id=tenderer.id, roles=frozenset({Role.TENDERER}))
    real = clock.now()
    moving = ManualClock(real - timedelta(days=60))
    previous = clock.set_clock(moving)
    try:
        complained = 0
        for name, category, region, lots, kinds, opened_now in DEMO_PROJECTS:
            start = real - timedelta(days=60)
            moving.set(start)
            deadlines = [start + PAST_DEADLINE if due is None else real + due for *_, due in lots]
            forms = [
                projects.LotForm(
                    name=lot_name,
                    procedure=procedure,
                    estimated_price_fen=estimate,
                    config={"bid_deadline": deadline}
                    | ({"deposit_required": False} if procedure == "online_auction" else {}),
                    eligibility=[
                        {"kind": "qualification", "text": "具有独立承担民事责任的能力，近三年内无重大违法记录"}
                    ],
                )
                for (lot_name, procedure, estimate, _), deadline in zip(lots, deadlines, strict=True)
            ]
            # an engineering project's 招标项目类型: the demo's is a city road, A02 市政 (domain/publication/industries)
            industry = "A02" if category == "engineering_construction" else None
            project = await projects.create_project(
                actor,
                projects.ProjectForm(name=name, category=category, region_code=region, lots=forms, industry=industry),
            )
            project_lots = list(await project.lots.all().order_by("lot_no"))
            first_lot = project_lots[0] if project_lots else None
            if first_lot is not None and first_lot.procedure == "online_auction":
                await auctions.configure_auction(
                    actor,
                    first_lot.id,
                    starting_price_fen=first_lot.estimated_price_fen,
                    increment_fen=first_lot.estimated_price_fen // 100,
                    reserve_price_fen=first_lot.estimated_price_fen,
                    starts_at=real + AUCTION_STARTS_IN,
                    free_bidding_minutes=AUCTION_FREE_MINUTES,
                )
            tender_id = None
            for kind in kinds:
                if kind in AFTER_OPENING and moving.now() < deadlines[0]:
                    moving.set(deadlines[0] + timedelta(days=1))  # bids opened and evaluated first
                moving.advance(days=2, hours=3)
                # a complaint decision is the supervisor's, a bad-conduct record the credit keepers': the platform's
                publisher = SYSTEM if kind in ("complaint_decision", "bad_conduct") else actor
                draft = await announcements.draft_announcement(
                    publisher,
                    announcements.AnnouncementForm(
                        project_id=project.id,
                        lot_id=first_lot.id if first_lot else None,
                        type=kind,
                        title=_title(kind, name),
                        body_html=BODIES[kind].format(project=name),
                        corrects_id=tender_id if kind == "change" else None,
                        attachments=[
                            announcements.AttachmentForm(
                                name=f"{_title(kind, name)}.pdf",
                                size=524_288,
                                sha256=hashlib.sha256(f"{name}{kind}".encode()).hexdigest(),
                            )
                        ],
                    ),
                )
                published = await announcements.publish_announcement(publisher, draft.id)
                if kind == "tender":
                    tender_id = published.id
            for position in opened_now:
                lot = project_lots[position]
                moving.set(real - timedelta(days=1))
                await _publish_tender(actor, project.id, lot.id, f"{name}{lot.name}")
            if first_lot is not None and first_lot.procedure == "online_auction":
                await _enter_auction_bidders(first_lot.id)
            if opened_now:
                complained = project_lots[opened_now[0]].id
    finally:
        clock.set_clock(previous)
    await _file_demo_complaint(complained)


async def _publish_tender(actor: Actor, project_id: int, lot_id: int, name: str) -> None:
    from domain.publication import announcements

    form = announcements.AnnouncementForm(
        project_id=project_id,
        lot_id=lot_id,
        type="tender",
        title=_title("tender", name),
        body_html=BODIES["tender"].format(project=name),
        attachments=[
            announcements.AttachmentForm(
                name=f"{_title('tender', name)}.pdf", size=524_288, sha256=hashlib.sha256(name.encode()).hexdigest()
            )
        ],
    )
    await announcements.publish_announcement(actor, (await announcements.draft_announcement(actor, form)).id)


async def _file_demo_complaint(lot_id: int) -> None:
    """A bidder complains about the lot open for bids, now, so its supervisor has a complaint to handle."""
    from domain.common import clock
    from domain.complaints import complaints

    user = await User.get(phone=COMPLAINANT)
    bidder = Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))
    await complaints.file_complaint(
        bidder,
        lot_id,
        "other",
        clock.today(),
        "招标公告要求投标人近三年具有同类工程业绩，但未明确“同类工程”的认定标准，可能排斥潜在投标人。",
        "请求责令招标人澄清同类工程业绩的认定标准，并相应顺延投标截止时间。",
        [],
    )


async def _enter_auction_bidders(lot_id: int) -> None:
    """The demo bidders register for the auction, so they qualify when bidding starts."""
    from domain.registration import services as registration

    for phone in AUCTION_BIDDERS:
        user = await User.get(phone=phone)
        bidder = Actor(user_id=user.id, org_id=user.organisation_id, roles=frozenset({Role.BIDDER}))
        await registration.register(bidder, lot_id)
