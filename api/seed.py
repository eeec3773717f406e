"""The demo city: real-looking market entities, projects, lots and announcements of every type,
so a new user sees something. Every account's password is DEMO_PASSWORD; the operator signs in
as 13800000001.
"""

from __future__ import annotations

import hashlib

from domain.accounts import services as accounts
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
    form = accounts.RegistrationForm(
        credit_code=credit_code("12370200MB1234567"),
        name="公共资源交易中心",
        region_code="370200",
        kinds=["operator"],
        contact_name=name,
        phone=phone,
        password=password,
    )
    org, _, _ = await accounts.register_organisation(SYSTEM, form)
    operator = Actor(client_id="system", roles=frozenset({Role.OPERATOR}))
    return await accounts.approve_organisation(operator, org.id)


async def seed_demo_city(secret_key: bytes) -> bool:
    """Loads the demo city into an empty database; returns False if anything is there already."""
    if await Organisation.exists() or await User.exists():
        return False
    for first17, name, region, kinds, categories, contact, phone in DEMO_ENTITIES:
        form = accounts.RegistrationForm(
            credit_code=credit_code(first17),
            name=name,
            region_code=region,
            kinds=kinds,
            contact_name=contact,
            phone=phone,
            password=DEMO_PASSWORD,
            supervised_categories=categories,
        )
        org, _, _ = await accounts.register_organisation(SYSTEM, form)
        if phone != "13900000006":  # one bidder is left pending, for the operator's review queue
            await accounts.approve_organisation(SYSTEM, org.id)
    await seed_demo_publication()
    return True


# (project name, category, region, [(lot name, procedure, estimate in fen)], [announcement types for lot 1])
DEMO_PROJECTS = [
    (
        "胶州湾大道（双积路至204国道段）维修改造工程",
        "engineering_construction",
        "370211",
        [("第一标段：道路施工", "open_tender", 2_680_000_000), ("第二标段：交通设施", "open_tender", 460_000_000)],
        ["tender", "qualification_result", "change", "candidate_publicity", "result", "contract", "performance"],
    ),
    (
        "青岛市市南区中小学智慧教室设备采购项目",
        "government_procurement",
        "370202",
        [("智慧黑板及配套设备", "open_tender", 1_150_000_000)],
        ["tender", "change", "candidate_publicity", "complaint_decision"],
    ),
    (
        "崂山区沙子口街道2026年道路绿化养护服务",
        "government_procurement",
        "370212",
        [("绿化养护服务", "competitive_negotiation", 86_000_000)],
        ["tender", "termination"],
    ),
    (
        "即墨区温泉街道工业用地国有建设用地使用权挂牌出让",
        "land_use_rights",
        "370215",
        [("JM2026-015地块", "listing", 5_320_000_000)],
        ["tender"],
    ),
    (
        "胶州市排污权有偿使用网络竞价交易",
        "environmental_rights",
        "370281",
        [("化学需氧量排污权 120 吨", "online_auction", 36_000_000)],
        ["tender"],
    ),
]
TITLES = {
    "tender": "{project}招标公告",
    "qualification_result": "{project}资格预审结果公告",
    "change": "{project}变更公告（第1号）",
    "candidate_publicity": "{project}中标候选人公示",
    "result": "{project}中标结果公告",
    "contract": "{project}合同公告",
    "performance": "{project}合同履约信息公告",
    "termination": "{project}终止公告",
    "complaint_decision": "{project}投诉处理决定公告",
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
    "performance": "<p>{project}合同履约情况：工程已按期完工并通过验收。</p>",
    "termination": "<p>因采购需求发生重大变化，{project}终止采购活动。</p>",
    "complaint_decision": "<p>投诉人就{project}中标候选人公示提出的投诉，经审查，投诉事项缺乏事实依据，"
    "根据《政府采购质疑和投诉办法》第二十九条，驳回投诉。</p>",
}


def _title(kind: str, project: str) -> str:
    if kind == "tender" and project.endswith(("出让", "交易")):
        return f"{project}公告"  # sales announce a listing or an auction, not a tender
    return TITLES[kind].format(project=project)


async def seed_demo_publication() -> None:
    """Projects of the demo tenderer with announcements of every type, spread over recent weeks."""
    from datetime import timedelta

    from domain.common import clock
    from domain.common.clock import ManualClock
    from domain.publication import services as publication

    tenderer = await Organisation.get(credit_code=credit_code("91370200MA3E34567"))
    user = await User.get(organisation_id=tenderer.id)
    actor = Actor(user_id=user.id, org_id=tenderer.id, roles=frozenset({Role.TENDERER}))
    real = clock.now()
    moving = ManualClock(real - timedelta(days=60))
    previous = clock.set_clock(moving)
    try:
        for name, category, region, lots, kinds in DEMO_PROJECTS:
            forms = [
                publication.LotForm(
                    name=lot_name,
                    procedure=procedure,
                    estimated_price_fen=estimate,
                    config={"bid_deadline": moving.now() + timedelta(days=30)},
                    eligibility=[
                        {"kind": "qualification", "text": "具有独立承担民事责任的能力，近三年内无重大违法记录"}
                    ],
                )
                for lot_name, procedure, estimate in lots
            ]
            project = await publication.create_project(
                actor, publication.ProjectForm(name=name, category=category, region_code=region, lots=forms)
            )
            first_lot = await project.lots.all().order_by("lot_no").first()
            tender_id = None
            for kind in kinds:
                moving.advance(days=2, hours=3)
                # a complaint decision is the supervisor's, published by the platform
                publisher = SYSTEM if kind == "complaint_decision" else actor
                draft = await publication.draft_announcement(
                    publisher,
                    publication.AnnouncementForm(
                        project_id=project.id,
                        lot_id=first_lot.id if first_lot else None,
                        type=kind,
                        title=_title(kind, name),
                        body_html=BODIES[kind].format(project=name),
                        corrects_id=tender_id if kind == "change" else None,
                        attachments=[
                            publication.AttachmentForm(
                                name=f"{_title(kind, name)}.pdf",
                                size=524_288,
                                sha256=hashlib.sha256(f"{name}{kind}".encode()).hexdigest(),
                            )
                        ],
                    ),
                )
                published = await publication.publish_announcement(publisher, draft.id)
                if kind == "tender":
                    tender_id = published.id
    finally:
        clock.set_clock(previous)
