"""Who publishes the seeded announcements: tenderers and agencies, registered and approved once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from domain.accounts import organisations
from domain.accounts.models import Organisation, User
from domain.accounts.states import OrgStatus
from domain.common.actors import SYSTEM
from domain.common.catalogue import Category
from domain.common.ids import uscc_check_char

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
            form = organisations.RegistrationForm(
                credit_code=code,
                name=name,
                region_code=region,
                kinds=[kind],
                contact_name="种子数据",
                phone=SEED_PHONE.format(i),
                password=secrets.token_urlsafe(24) + "a1",  # letters and digits, as check_password wants
            )
            org, _, _ = await organisations.register_organisation(SYSTEM, form)
        if org.status != OrgStatus.APPROVED:
            org = await organisations.approve_organisation(SYSTEM, org.id)
        user = await User.filter(organisation_id=org.id).order_by("id").first()
        if user is None:
            raise RuntimeError(f"seed organisation {name} has no user")
        publisher = Publisher(org.id, user.id, org.name, categories)
        (tenderers if kind == "tenderer" else agencies).append(publisher)
    return tenderers, agencies
