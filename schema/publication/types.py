"""GraphQL types of the public trading information: regions, projects, lots, announcements."""

from collections.abc import Hashable
from datetime import datetime
from typing import Optional, TypeAlias

import strawberry
from strawberry.types import Info

from domain.common.catalogue import Category
from domain.common.errors import DomainError
from domain.common.money import Money
from domain.publication import models, projects, reading
from domain.publication.procedures import EvaluationMethod, Procedure, evaluation_settings, security_amount_fen
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus
from schema import fields, fragment_cache
from schema.accounts.types import CatalogueCategory
from schema.describe import describe_values
from schema.relay import Node, node_resolver
from schema.scalars import Fen

ProcedureType: TypeAlias = Procedure
strawberry.enum(ProcedureType, name="ProcedureType", description="Trading procedure (交易方式).")
describe_values(
    ProcedureType,
    {
        "OPEN_TENDER": "Open tender (公开招标): anyone eligible may bid, sealed bids opened together.",
        "INVITED_TENDER": "Invited tender (邀请招标): only invited bidders, at least three, may bid.",
        "COMPETITIVE_NEGOTIATION": (
            "Competitive negotiation (竞争性谈判): the purchaser negotiates with chosen suppliers."
        ),
        "COMPETITIVE_CONSULTATION": (
            "Competitive consultation (竞争性磋商): rounds with each supplier, then final offers scored."
        ),
        "INQUIRY": "Inquiry (询价): chosen suppliers quote one price each, the lowest wins.",
        "LISTING": "Listing (挂牌): an asset or right is listed at a price for a period; bidders register.",
        "ONLINE_AUCTION": "Online auction (网络竞价): open ascending bidding, ending with timed countdowns.",
        "REVERSE_AUCTION": "Reverse auction (反向竞价): procurement bidding downwards by steps, the lowest wins.",
    },
)
AnnouncementKind: TypeAlias = AnnouncementType
strawberry.enum(AnnouncementKind, name="AnnouncementType", description="Kind of announcement.")
describe_values(
    AnnouncementKind,
    {
        "TENDER": "Tender, listing or auction notice (招标/挂牌/竞价公告): opens the procedure.",
        "QUALIFICATION_RESULT": "Result of the prequalification (资格预审结果公告).",
        "CHANGE": "Change or clarification (变更/澄清公告) of an earlier notice, which it names.",
        "CANDIDATE_PUBLICITY": "Winning-bid candidates publicised (中标候选人公示), at least 3 days for works tenders.",
        "RESULT": "The result (中标/成交结果公告): the winner and the price.",
        "CONTRACT": "The signed contract (合同公告).",
        "PERFORMANCE": "How the contract was performed (履约信息).",
        "TERMINATION": "The procedure is terminated or failed (终止/流标公告).",
        "COMPLAINT_DECISION": "A supervisor's decision on a complaint (投诉处理决定), published by the platform.",
        "CONTRACT_CHANGE": "A change or early end of the signed contract (合同变更/终止公告).",
        "BAD_CONDUCT": "A bad-conduct record of a party in the lot (不良行为记录公告), published by the platform "
        "for its publicity period (creditPublicRecords shows which are still in public view).",
    },
)
AnnouncementState: TypeAlias = AnnouncementStatus
strawberry.enum(AnnouncementState, name="AnnouncementStatus", description="Draft or published.")
describe_values(
    AnnouncementState,
    {
        "DRAFT": "Saved but not public; it may still change.",
        "PUBLISHED": "Public, and never changed again (a change notice corrects it).",
    },
)
LotState: TypeAlias = LotStatus
strawberry.enum(LotState, name="LotStatus", description="Where a lot stands.")
describe_values(
    LotState,
    {
        "DRAFT": "Being prepared; nothing is public yet and the configuration may change.",
        "OPEN": "The tender notice is out: registration and bids are taken until the deadline.",
        "EVALUATING": "Bids are opened and the committee evaluates them.",
        "PUBLICITY": "The winning-bid candidates are publicised; objections may be raised.",
        "AWARDED": "The winner is decided; the contract is due within 30 days.",
        "CONTRACTED": "The contract is signed and recorded.",
        "COMPLETED": "The contract was performed; the procedure is closed.",
        "FAILED": "No valid outcome (流标/流拍), e.g. too few bids.",
        "TERMINATED": "Stopped by the tenderer or a supervisor before an outcome.",
    },
)
EvaluationMethodType: TypeAlias = EvaluationMethod
strawberry.enum(
    EvaluationMethodType,
    name="EvaluationMethod",
    description="How a sealed tender is evaluated: LOWEST_PRICE (经评审的最低投标价法) or COMPREHENSIVE (综合评估法).",
)
describe_values(
    EvaluationMethodType,
    {
        "LOWEST_PRICE": "经评审的最低投标价法: the lowest evaluated price among qualified bids wins.",
        "COMPREHENSIVE": "综合评估法: price, technical and commercial parts are scored, the highest total wins.",
    },
)

CATEGORY_NAMES = {
    Category.ENGINEERING_CONSTRUCTION: "工程建设",
    Category.GOVERNMENT_PROCUREMENT: "政府采购",
    Category.LAND_USE_RIGHTS: "土地使用权",
    Category.MINING_RIGHTS: "矿业权",
    Category.STATE_OWNED_PROPERTY: "国有产权",
    Category.NATURAL_RESOURCE_ASSETS: "自然资源资产",
    Category.ENVIRONMENTAL_RIGHTS: "环境权益（排污权、碳排放权、用能权）",
    Category.RURAL_COLLECTIVE_PROPERTY: "农村集体产权",
    Category.MEDICAL_CONSUMABLES: "药品和医用耗材",
    Category.OTHER: "其他",
}
TYPE_NAMES = {
    AnnouncementType.TENDER: "招标（采购、出让）公告",
    AnnouncementType.QUALIFICATION_RESULT: "资格预审结果公告",
    AnnouncementType.CHANGE: "变更（澄清）公告",
    AnnouncementType.CANDIDATE_PUBLICITY: "中标（成交）候选人公示",
    AnnouncementType.RESULT: "中标（成交）结果公告",
    AnnouncementType.CONTRACT: "合同公告",
    AnnouncementType.PERFORMANCE: "履约信息公告",
    AnnouncementType.TERMINATION: "终止公告",
    AnnouncementType.CONTRACT_CHANGE: "合同变更（终止）公告",
    AnnouncementType.COMPLAINT_DECISION: "投诉处理决定公告",
    AnnouncementType.BAD_CONDUCT: "不良行为记录公告",
}


@strawberry.type(description="A catalogue category (交易目录) with its Chinese name.")
class CategoryInfo:
    category: CatalogueCategory = strawberry.field(description="The category's code.")
    name: str = strawberry.field(description="The category's name in Chinese, as the catalogue lists it.")


@strawberry.type(description="An administrative division (GB/T 2260).")
class Region:
    code: str = strawberry.field(description="6-digit GB/T 2260 code.")
    name: str = strawberry.field(description="The region's name in Chinese, e.g. 青岛市.")
    parent_code: str | None = strawberry.field(
        description="GB/T 2260 code of the region it belongs to; null for a province."
    )
    level: int = strawberry.field(description="1 province, 2 city, 3 district or county.")

    @classmethod
    def from_model(cls, m: models.Region) -> "Region":
        return cls(code=m.code, name=m.name, parent_code=m.parent_code, level=m.level)


@strawberry.type(description="A lot's configuration: national defaults, overridden within legal bounds.")
class LotConfig:
    min_bids: int = strawberry.field(description="Fewer bids at the deadline: the lot fails (流标).")
    candidate_publicity_days: int = strawberry.field(
        description="How many days the winning-bid candidates are publicised."
    )
    complaint_window_days: int = strawberry.field(
        description="How many days after knowing of an act a complaint may be filed."
    )
    objection_answer_days: int = strawberry.field(description="How many days the tenderer has to answer an objection.")
    deposit_cap_basis_points: int = strawberry.field(description="Security cap, 200 = 2% of the estimate.")
    deposit_cap_fen: Fen = strawberry.field(description="The security cap in fen for this lot.")
    deposit_required: bool = strawberry.field(
        description="Whether bidders must give security (a deposit or a guarantee) to bid."
    )
    security_amount_fen: Fen = strawberry.field(
        description="The deposit or guarantee each bidder must put up, in fen; 0: none (at most the cap)."
    )
    bid_validity_days: int = strawberry.field(description="Bids stay valid this long after the deadline.")
    registrants_secret: bool = strawberry.field(description="Registrants stay secret until the opening.")
    auction_countdown_seconds: int = strawberry.field(
        description="Online auctions: the length of each countdown of timed bidding, in seconds."
    )
    min_submission_days: int = strawberry.field(
        description="The least number of days between the tender notice and the bid deadline."
    )
    decryption_window_minutes: int = strawberry.field(
        description="How many minutes bidders have to decrypt their sealed bids at the opening."
    )
    question_cutoff_days: int | None = strawberry.field(
        default=None,
        description="Bidders' questions (答疑) close this many days before the bid deadline; null: the procedure's "
        "default, for lots configured before the setting existed.",
    )
    registration_opens_at: datetime | None = strawberry.field(
        description="When registration opens; null: when the tender notice is published."
    )
    registration_closes_at: datetime | None = strawberry.field(
        description="When registration closes; null: at the bid deadline."
    )
    bid_deadline: datetime | None = strawberry.field(
        description="When bids are due (and, for an auction, when entries close)."
    )
    opening_at: datetime | None = strawberry.field(
        description="When the sealed bids are opened; null: at the bid deadline."
    )
    evaluation_method: EvaluationMethodType | None = strawberry.field(
        description="Sealed tenders: how the committee evaluates (null for other procedures)."
    )
    price_weight: int | None = strawberry.field(
        description="Comprehensive evaluation: points of 100 for the price (10 to 100); null for other procedures."
    )
    technical_weight: int | None = strawberry.field(description="Points of 100 for the technical part (0 to 90).")
    commercial_weight: int | None = strawberry.field(description="Points of 100 for the commercial part (0 to 90).")
    negotiation_rounds_min: int | None = strawberry.field(
        default=None, description="Negotiation / consultation: rounds before the final offers; null for others."
    )
    negotiation_rounds_max: int | None = strawberry.field(
        default=None, description="Negotiation / consultation: the most rounds; null for other procedures."
    )
    final_offer_window_minutes: int | None = strawberry.field(
        default=None, description="Negotiation / consultation: the final-offer window in minutes; null for others."
    )
    require_signed_bids: bool = strawberry.field(
        default=False,
        description="Bids (sealed bids, keys at the opening, auction bids) must carry a certificate signature.",
    )
    require_two_factor_for_bids: bool = strawberry.field(
        default=False,
        description="Bidding (sealed bids, auction bids) needs a two-factor sign-in (certificate plus SMS code).",
    )
    credit_commitment_required: bool = strawberry.field(
        default=False,
        description="Registrations and sealed bids need the signed credit commitment (信用承诺书) for the lot.",
    )
    evaluation_signatures_required: bool = strawberry.field(
        default=False,
        description="Candidates are publicised (and the lot awarded) only once every member of the committee has "
        "signed the evaluation report; false for lots configured before the setting existed.",
    )
    contract_grace_days: int = strawberry.field(
        default=0,
        description="Days after the contract-overdue flag before the platform withdraws the award itself; 0: never "
        "by itself.",
    )

    @classmethod
    def from_lot(cls, lot: models.Lot) -> "LotConfig":
        c = lot.config
        evaluation = evaluation_settings(Procedure(lot.procedure), c)

        def at(name: str) -> datetime | None:
            return datetime.fromisoformat(c[name]) if c.get(name) else None

        return cls(
            min_bids=c["min_bids"],
            candidate_publicity_days=c["candidate_publicity_days"],
            complaint_window_days=c["complaint_window_days"],
            objection_answer_days=c["objection_answer_days"],
            deposit_cap_basis_points=c["deposit_cap_basis_points"],
            deposit_cap_fen=Fen(Money(lot.estimated_price_fen).percent(c["deposit_cap_basis_points"]).fen),
            deposit_required=c["deposit_required"],
            security_amount_fen=Fen(security_amount_fen(lot.estimated_price_fen, c)),
            bid_validity_days=c.get("bid_validity_days", 90),
            registrants_secret=c["registrants_secret"],
            auction_countdown_seconds=c["auction_countdown_seconds"],
            min_submission_days=c["min_submission_days"],
            decryption_window_minutes=c["decryption_window_minutes"],
            question_cutoff_days=c.get("question_cutoff_days"),
            registration_opens_at=at("registration_opens_at"),
            registration_closes_at=at("registration_closes_at"),
            bid_deadline=at("bid_deadline"),
            opening_at=at("opening_at"),
            evaluation_method=evaluation.method if evaluation else None,
            price_weight=evaluation.price_weight if evaluation else None,
            technical_weight=evaluation.technical_weight if evaluation else None,
            require_signed_bids=bool(c.get("require_signed_bids", False)),
            require_two_factor_for_bids=bool(c.get("require_two_factor_for_bids", False)),
            credit_commitment_required=bool(c.get("credit_commitment_required", False)),
            evaluation_signatures_required=bool(c.get("evaluation_signatures_required", False)),
            contract_grace_days=int(c.get("contract_grace_days", 0)),
            commercial_weight=evaluation.commercial_weight if evaluation else None,
            negotiation_rounds_min=c.get("negotiation_rounds_min"),
            negotiation_rounds_max=c.get("negotiation_rounds_max"),
            final_offer_window_minutes=c.get("final_offer_window_minutes"),
        )


@strawberry.type(description="A lawful eligibility condition (no locality restrictions).")
class EligibilityRule:
    kind: str = strawberry.field(
        description="What the rule is about, e.g. qualification, performance, personnel, finance."
    )
    text: str = strawberry.field(description="The rule as the tender documents state it.")


@strawberry.type(description="A lot (标段/包/标的).")
class Lot(Node):
    _project: strawberry.Private[int]
    _model: strawberry.Private[models.Lot]
    trade_code: str = strawberry.field(description="Unified trade identifier (统一交易标识码) of the deal.")
    lot_no: int = strawberry.field(description="The lot's number within its project, from 1.")
    name: str = strawberry.field(description="The lot's name, e.g. 第一标段：道路施工.")
    procedure: ProcedureType = strawberry.field(
        description="How the lot is traded: open or invited tender, negotiation, inquiry, listing or online auction."
    )
    estimated_price_fen: Fen = strawberry.field(description="Estimated price in fen (分).")
    status: LotState = strawberry.field(description="Where the lot stands in its procedure.")
    eligibility: list[EligibilityRule] = strawberry.field(description="The conditions a bidder must meet to register.")

    @fields.field(description="Procedure settings and deadlines.")
    def config(self) -> LotConfig:
        return LotConfig.from_lot(self._model)

    @classmethod
    def from_model(cls, m: models.Lot) -> "Lot":
        return cls(
            _pk=m.id,
            _project=m.project_id,
            _model=m,
            trade_code=m.trade_code,
            lot_no=m.lot_no,
            name=m.name,
            procedure=Procedure(m.procedure),
            estimated_price_fen=m.estimated_price_fen,
            status=LotStatus(m.status),
            eligibility=[EligibilityRule(kind=r["kind"], text=r["text"]) for r in m.eligibility],
        )


@strawberry.type(description="A project (项目) with its lots.")
class Project(Node):
    trade_code: str = strawberry.field(description="Unified trade identifier of the project (lot 000).")
    name: str = strawberry.field(description="The project's name.")
    category: CatalogueCategory = strawberry.field(description="Its trading catalogue category (交易目录).")
    region_code: str = strawberry.field(description="GB/T 2260 code of the project's region.")
    industry: str | None = strawberry.field(
        description="Engineering projects: the 招标项目类型 (industry) code, e.g. A01 房屋建筑 (projectCreate's "
        "`industry`); null for other trades and for projects made without one."
    )
    created_at: datetime = strawberry.field(description="When the project was created.")

    @fields.field(description="The lots, in order.")
    async def lots(self) -> list[Lot]:
        return [Lot.from_model(m) for m in await models.Lot.filter(project_id=self._pk).order_by("lot_no")]

    @classmethod
    def from_model(cls, m: models.Project) -> "Project":
        return cls(
            _pk=m.id,
            trade_code=m.trade_code,
            name=m.name,
            category=Category(m.category),
            region_code=m.region_code,
            industry=m.industry,
            created_at=m.created_at,
        )


@strawberry.type(description="An attached file, identified by its SHA-256.")
class Attachment:
    name: str = strawberry.field(description="The file name as uploaded.")
    size: int = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the file's content, in hex: check a download against it.")
    content_type: str = strawberry.field(description="MIME type of the file, e.g. application/pdf.")


@strawberry.type(description="A public announcement (公告). Published ones never change.")
class Announcement(Node):
    _project: strawberry.Private[int]
    _lot: strawberry.Private[int | None]
    _corrects: strawberry.Private[int | None]
    trade_code: str = strawberry.field(description="Unified trade identifier of its lot or project.")
    type: AnnouncementKind = strawberry.field(
        description="What kind of notice it is: tender, change, candidate publicity, result and so on."
    )
    status: AnnouncementState = strawberry.field(
        description="Draft (seen only by those who manage the project) or published (public)."
    )
    title: str = strawberry.field(description="The title as published.")
    body_html: str = strawberry.field(description="Sanitised rich text: safe to render.")
    category: CatalogueCategory = strawberry.field(
        description="The trading catalogue category (交易目录) of its project."
    )
    region_code: str = strawberry.field(description="GB/T 2260 code of the project's region.")
    lot_status: LotState | None = strawberry.field(description="The lot's status when published.")
    published_at: datetime | None = strawberry.field(description="When it was published; null for a draft.")
    publicity_starts_at: datetime | None = strawberry.field(
        description="For a publicity (公示) such as the candidate publicity: when the period starts."
    )
    publicity_ends_at: datetime | None = strawberry.field(
        description="For a publicity (公示): when the period ends; objections are taken until then."
    )

    @fields.field(description="The Chinese name of the announcement type.")
    def type_name(self) -> str:
        return TYPE_NAMES[AnnouncementType(self.type.value)]

    @fields.field(description="Region with its name.")
    def region(self) -> Region | None:
        # synchronous once the divisions are in memory: a list of cards then needs no task per card
        loaded = reading.loaded_regions()
        if loaded is None:
            return _region_later(self.region_code)  # type: ignore[return-value]  # awaited by the executor
        region = loaded.get(self.region_code)
        return Region.from_model(region) if region else None

    @fields.field(description="Attached files.")
    async def attachments(self) -> list[Attachment]:
        rows = await models.AnnouncementAttachment.filter(announcement_id=self._pk).order_by("id")
        return [Attachment(name=a.name, size=a.size, sha256=a.sha256, content_type=a.content_type) for a in rows]

    @fields.field(description="The announcement this one corrects (change announcements).")
    async def corrects(self) -> Optional["Announcement"]:
        if self._corrects is None:
            return None
        m = await models.Announcement.get_or_none(id=self._corrects, status=AnnouncementStatus.PUBLISHED.value)
        return Announcement.from_model(m) if m else None

    @fields.field(description="Published change announcements that correct this one.")
    async def corrections(self) -> list["Announcement"]:
        rows = await models.Announcement.filter(
            corrects_id=self._pk, status=AnnouncementStatus.PUBLISHED.value
        ).order_by("published_at")
        return [Announcement.from_model(m) for m in rows]

    @fields.field(description="The lot it belongs to, if any.")
    async def lot(self) -> Lot | None:
        if self._lot is None:
            return None
        m = await models.Lot.get_or_none(id=self._lot)
        return Lot.from_model(m) if m else None

    @fields.field(description="The project it belongs to.")
    async def project(self) -> Project:
        return Project.from_model(await models.Project.get(id=self._project))

    @classmethod
    def from_model(cls, m: models.Announcement | reading.ListedAnnouncement) -> "Announcement":
        return cls(
            _pk=m.id,
            _project=m.project_id,
            _lot=m.lot_id,
            _corrects=m.corrects_id,
            trade_code=m.trade_code,
            type=AnnouncementType(m.type),
            status=AnnouncementStatus(m.status),
            title=m.title,
            body_html=m.body_html,
            category=Category(m.category),
            region_code=m.region_code,
            lot_status=LotStatus(m.lot_status) if m.lot_status else None,
            published_at=m.published_at,
            publicity_starts_at=m.publicity_starts_at,
            publicity_ends_at=m.publicity_ends_at,
        )


def card_values(a: Announcement) -> Hashable | None:
    """What the pure fields of an announcement (below) read, for the fragment cache; None for a draft, which
    still changes and is seen by few."""
    if a.status is not AnnouncementStatus.PUBLISHED:
        return None
    return (
        a._pk,
        a.trade_code,
        a.type,
        a.status,
        a.title,
        a.body_html,
        a.category,
        a.region_code,
        a.lot_status,
        a.published_at,
        a.publicity_starts_at,
        a.publicity_ends_at,
    )


# region reads the shipped divisions (migration data, read once per process) by region_code; the lot, the
# project, the attachments and the corrections are other rows and are not listed
fragment_cache.pure("Region", ["code", "name", "parentCode", "level"])
fragment_cache.pure(
    "Announcement",
    [
        "id",
        "tradeCode",
        "type",
        "typeName",
        "status",
        "title",
        "bodyHtml",
        "category",
        "regionCode",
        "region",
        "lotStatus",
        "publishedAt",
        "publicityStartsAt",
        "publicityEndsAt",
    ],
    key=card_values,
)


@strawberry.type(description="A saved search: new matching announcements are notified to its owner.")
class SavedSearch(Node):
    name: str = strawberry.field(description="The name the user gave the search.")
    keywords: str = strawberry.field(description="Words a new announcement must contain; empty matches any text.")
    categories: list[CatalogueCategory] = strawberry.field(
        description="Categories a new announcement must be in; empty matches all."
    )
    regions: list[str] = strawberry.field(
        description="GB/T 2260 codes a new announcement must be in (a city includes its districts); empty matches all."
    )
    created_at: datetime = strawberry.field(description="When the search was saved.")

    @classmethod
    def from_model(cls, m: models.SavedSearch) -> "SavedSearch":
        return cls(
            _pk=m.id,
            name=m.name,
            keywords=m.keywords,
            categories=[Category(c) for c in m.categories],
            regions=list(m.regions),
            created_at=m.created_at,
        )


async def _region_later(code: str) -> Region | None:
    region = (await reading.regions()).get(code)
    return Region.from_model(region) if region else None


@node_resolver("Announcement")
async def _announcement_node(info: Info, pk: str) -> Announcement | None:
    if not pk.isascii() or not pk.isdigit():
        return None
    try:
        return Announcement.from_model(await reading.visible_announcement(info.context.actor, int(pk)))
    except DomainError:
        return None


@node_resolver("Lot")
async def _lot_node(info: Info, pk: str) -> Lot | None:
    if not pk.isascii() or not pk.isdigit():
        return None
    lot = await models.Lot.get_or_none(id=int(pk)).prefetch_related("project")
    if lot is None:
        return None
    if lot.status == LotStatus.DRAFT.value:
        try:
            await projects.managed_project(info.context.actor, lot.project_id)
        except DomainError:
            return None
    return Lot.from_model(lot)


@node_resolver("SavedSearch")
async def _saved_search_node(info: Info, pk: str) -> SavedSearch | None:
    user_id = info.context.actor.user_id
    if not pk.isascii() or not pk.isdigit() or user_id is None:
        return None
    found = await models.SavedSearch.get_or_none(id=int(pk), user_id=user_id)
    return SavedSearch.from_model(found) if found else None


@node_resolver("Project")
async def _project_node(info: Info, pk: str) -> Project | None:
    if not pk.isascii() or not pk.isdigit():
        return None
    project = await models.Project.get_or_none(id=int(pk))
    if project is None:
        return None
    if not await models.Lot.filter(project_id=project.id).exclude(status=LotStatus.DRAFT.value).exists():
        try:
            await projects.managed_project(info.context.actor, project.id)
        except DomainError:
            return None
    return Project.from_model(project)
