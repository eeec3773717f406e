"""The demo city: a small set of real-looking market entities so a new user sees something.

Later issues add announcements, projects and lots to it. Every account's password is
DEMO_PASSWORD; the operator signs in as 13800000001.
"""

from __future__ import annotations

from domain.accounts import services as accounts
from domain.accounts.models import Organisation, User
from domain.accounts.states import OrgStatus
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
    pending = await Organisation.filter(status=OrgStatus.PENDING.value).count()
    return pending >= 0
