"""Projects, lots, announcements and saved searches: decode, call one service, map the outcome."""

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.documents.errors import ScanPending
from domain.publication import announcements, projects, saved_searches
from domain.registration.errors import TooFewInvitees
from schema.accounts.types import CatalogueCategory
from schema.errors import mutation, result_union
from schema.permissions import IsAuthenticated, has_role
from schema.publication.types import (
    Announcement,
    AnnouncementKind,
    EvaluationMethodType,
    Lot,
    ProcedureType,
    Project,
    SavedSearch,
)
from schema.relay import int_id
from schema.scalars import Fen

CanManageProjects = has_role(Role.TENDERER, Role.AGENCY, Role.OPERATOR)


@strawberry.input(description="Eligibility condition; locality restrictions are refused (Qingdao 2(二)1).")
class EligibilityRuleInput:
    kind: str = strawberry.field(description="e.g. qualification, performance, personnel, finance.")
    text: str = strawberry.field(description="The condition as the tender documents state it.")


@strawberry.input(description="Overrides of the procedure's defaults, within legal bounds.")
class LotConfigInput:
    min_bids: int | None = strawberry.field(
        default=None,
        description="The fewest valid bids for the lot to go on (at least 3 for tenders).",
    )
    candidate_publicity_days: int | None = strawberry.field(
        default=None,
        description="Days the winning-bid candidates are publicised (at least 3 for tenders).",
    )
    complaint_window_days: int | None = strawberry.field(
        default=None,
        description="Days after knowing of an act in which a complaint may be filed (at least 10).",
    )
    objection_answer_days: int | None = strawberry.field(
        default=None,
        description="Days the tenderer has to answer an objection (1 to 3).",
    )
    deposit_cap_basis_points: int | None = strawberry.field(
        default=None,
        description="The cap on bid security in hundredths of a percent of the estimate (at most 200: 2%).",
    )
    auction_countdown_seconds: int | None = strawberry.field(
        default=None,
        description="Online auctions: length of each countdown in seconds (60 to 1800).",
    )
    min_submission_days: int | None = strawberry.field(
        default=None,
        description="The least number of days from the tender notice to the bid deadline (at least 20 for tenders).",
    )
    decryption_window_minutes: int | None = strawberry.field(
        default=None,
        description="Minutes bidders have to decrypt their bids at the opening (15 to 240).",
    )
    question_cutoff_days: int | None = strawberry.field(
        default=None,
        description="Bidders' questions (答疑) close this many days before the bid deadline (1 to 30; 10 for tenders).",
    )
    deposit_required: bool | None = strawberry.field(
        default=None,
        description="Whether bidders must give security (a deposit or a guarantee).",
    )
    security_amount_fen: Fen | None = strawberry.field(
        default=None, description="Security per bidder in fen, at most the cap (2% of the estimate)."
    )
    bid_validity_days: int | None = strawberry.field(
        default=None,
        description="How many days a bid stays binding after the deadline (30 to 365).",
    )
    registrants_secret: bool | None = strawberry.field(
        default=None,
        description="Keep the list of registrants from the tenderer and its agency until the opening (operators and "
        "supervisors always see it).",
    )
    registration_opens_at: datetime | None = strawberry.field(
        default=None,
        description="When registration opens; null: when the tender notice is published.",
    )
    registration_closes_at: datetime | None = strawberry.field(
        default=None,
        description="When registration closes; null: at the bid deadline.",
    )
    bid_deadline: datetime | None = strawberry.field(
        default=None,
        description="When bids are due (for an auction: when entries close).",
    )
    opening_at: datetime | None = strawberry.field(
        default=None,
        description="When sealed bids are opened; null: at the bid deadline.",
    )
    evaluation_method: EvaluationMethodType | None = strawberry.field(
        default=None, description="Sealed tenders only: LOWEST_PRICE or COMPREHENSIVE (the default)."
    )
    price_weight: int | None = strawberry.field(
        default=None, description="Sealed tenders: price points of 100 (10 to 100); the three weights add up to 100."
    )
    technical_weight: int | None = strawberry.field(default=None, description="Technical points of 100 (0 to 90).")
    commercial_weight: int | None = strawberry.field(default=None, description="Commercial points of 100 (0 to 90).")
    negotiation_rounds_min: int | None = strawberry.field(
        default=None,
        description="Competitive negotiation / consultation: rounds before the final offers may be called (1 to 10).",
    )
    negotiation_rounds_max: int | None = strawberry.field(
        default=None, description="Competitive negotiation / consultation: the most rounds (1 to 10)."
    )
    final_offer_window_minutes: int | None = strawberry.field(
        default=None,
        description="Competitive negotiation / consultation: minutes every supplier has for its sealed final offer "
        "(最后报价), 15 to 1440.",
    )
    require_signed_bids: bool | None = strawberry.field(
        default=None,
        description="Bids (sealed bids, keys at the opening, auction bids) must carry a certificate signature "
        "(mobile_contract/SIGNATURES.md).",
    )
    require_two_factor_for_bids: bool | None = strawberry.field(
        default=None,
        description="Bidding (sealed bids, auction bids) needs a two-factor sign-in (certificate plus SMS code).",
    )
    credit_commitment_required: bool | None = strawberry.field(
        default=None,
        description="Registrations and sealed bids need the signed credit commitment (信用承诺书, creditCommitmentSign "
        "at each stage); on by default for open tenders.",
    )
    evaluation_signatures_required: bool | None = strawberry.field(
        default=None,
        description="Candidates may be publicised (and the lot awarded) only once every member of the committee has "
        "signed the evaluation report (签章完毕); on by default for open and invited tenders.",
    )

    tender_threshold_reached: bool | None = strawberry.field(
        default=None,
        description="Competitive negotiation: the project reaches the public-tender threshold (公开招标数额标准), so "
        "its panel has at least five members (财政部令第74号 第七条).",
    )
    contract_grace_days: int | None = strawberry.field(
        default=None,
        description="Days after the contract-overdue flag (30 days from the award, 招标投标法 第四十六条) before the "
        "platform withdraws the award itself (0 to 60; 0, the default: never by itself, the tenderer does).",
    )

    def overrides(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@strawberry.input(description="A lot of a new project.")
class LotInput:
    name: str = strawberry.field(description="The lot's name.")
    procedure: ProcedureType = strawberry.field(description="How the lot is traded.")
    estimated_price_fen: Fen = strawberry.field(description="Estimated price in fen (分).")
    config: LotConfigInput | None = strawberry.field(
        default=None,
        description="Overrides of the procedure's defaults; null keeps them all.",
    )
    eligibility: list[EligibilityRuleInput] = strawberry.field(
        default_factory=list,
        description="Conditions a bidder must meet; local protection is refused.",
    )


@strawberry.input(description="A new project with its lots.")
class ProjectCreateInput:
    name: str = strawberry.field(description="The project's name, as it will be published.")
    category: CatalogueCategory = strawberry.field(
        description="The trading catalogue category; it decides who supervises the project."
    )
    region_code: str = strawberry.field(description="GB/T 2260 code of the project's region.")
    industry: str | None = strawberry.field(
        default=None,
        description="Engineering projects: the 招标项目类型 (industry) as the national data specification codes it, "
        "sent to the provincial platform as TENDER_PROJECT_TYPE: A01 房屋建筑, A02 市政, A03 公路, A04 铁路, A05 民航, "
        "A06 水运, A07 水利, A08 能源, A09 邮电通信, A10 桥梁, A11 城市轨道, A12 矿产冶金, A13 信息网络, A14 工业制造, "
        "A97 海洋渔港项目, A98 园林绿化, A99 其他. Optional for now (data quality reports an engineering lot without "
        "one); another code is INDUSTRY_UNKNOWN, any code on another trade's project an InvalidInput on `industry`.",
    )
    lots: list[LotInput] = strawberry.field(description="The lots (标段/包), at least one.")
    tenderer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Agencies and operators: the tenderer they act for."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The project exists with its lots and trade identifiers.")
class ProjectCreated:
    project: Project = strawberry.field(description="The new project with its lots and their trade identifiers.")


ProjectCreateResult = result_union("ProjectCreateResult", ProjectCreated, [projects.create_project])


@strawberry.input(description="Give an engineering project its 招标项目类型 (industry), or correct it.")
class ProjectIndustrySetInput:
    project_id: strawberry.ID = strawberry.field(description="Global id of a project the caller manages.")
    industry: str = strawberry.field(
        description="The 招标项目类型 code, as projectCreate's `industry` lists them (A01 房屋建筑 ... A99 其他)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The project's 招标项目类型 is set; messages to the province from now on carry it.")
class ProjectIndustrySet:
    project: Project = strawberry.field(description="The project with its industry.")


ProjectIndustrySetResult = result_union("ProjectIndustrySetResult", ProjectIndustrySet, [projects.set_industry])


@strawberry.input(description="Change a draft lot's configuration or eligibility.")
class LotConfigureInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of a draft lot of a project the caller manages.")
    config: LotConfigInput | None = strawberry.field(
        default=None,
        description="Settings to change; null leaves them as they are.",
    )
    eligibility: list[EligibilityRuleInput] | None = strawberry.field(
        default=None,
        description="New eligibility conditions, replacing the old ones; null leaves them.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The lot's configuration was changed.")
class LotConfigured:
    lot: Lot = strawberry.field(description="The lot with its configuration as it now stands.")


LotConfigureResult = result_union("LotConfigureResult", LotConfigured, [projects.configure_lot])


@strawberry.input(description="An attached file: name, size and SHA-256 of its content.")
class AttachmentInput:
    name: str = strawberry.field(description="The file name to show.")
    size: int = strawberry.field(description="Size of the file in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the file's content, 64 hex digits.")
    content_type: str = strawberry.field(
        default="application/pdf",
        description="MIME type of the file; PDF by default.",
    )


@strawberry.input(description="A draft announcement; change announcements name what they correct.")
class AnnouncementDraftInput:
    project_id: strawberry.ID = strawberry.field(description="Global id of a project the caller manages.")
    type: AnnouncementKind = strawberry.field(description="What kind of notice it is.")
    title: str = strawberry.field(description="The title to publish.")
    body_html: str = strawberry.field(description="Rich text; sanitised on the way in.")
    lot_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the lot it concerns; null for the whole project.",
    )
    corrects_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Change notices: global id of the published notice they correct.",
    )
    attachments: list[AttachmentInput] = strawberry.field(
        default_factory=list,
        description="Files published with the notice.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The draft is saved; nothing is public yet.")
class AnnouncementDrafted:
    announcement: Announcement = strawberry.field(description="The saved draft.")


AnnouncementDraftResult = result_union(
    "AnnouncementDraftResult", AnnouncementDrafted, [announcements.draft_announcement]
)


@strawberry.input(description="Publish a draft: public at once, never changed again.")
class AnnouncementPublishInput:
    announcement_id: strawberry.ID = strawberry.field(description="Global id of the draft.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Published.")
class AnnouncementPublished:
    announcement: Announcement = strawberry.field(description="The announcement as published.")


# ScanPending: raised by documents' malware hold, which publication asks through publication/holds (plugged at
# domain/wiring) without importing documents, so publish_announcement cannot name it; TooFewInvitees likewise, by
# registration's invitation hold (an invited tender needs three invitees)
AnnouncementPublishResult = result_union(
    "AnnouncementPublishResult",
    AnnouncementPublished,
    [announcements.publish_announcement, ScanPending, TooFewInvitees],
)


@strawberry.input(description="Save a search: keywords, categories and regions.")
class SavedSearchCreateInput:
    name: str = strawberry.field(description="A name to recognise the search by.")
    keywords: str = strawberry.field(
        default="",
        description="Words a new announcement must contain; empty matches any text.",
    )
    categories: list[CatalogueCategory] = strawberry.field(
        default_factory=list,
        description="Categories to watch; empty: all.",
    )
    regions: list[str] = strawberry.field(
        default_factory=list,
        description="GB/T 2260 codes to watch (a city includes its districts); empty: all.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Saved; new matching announcements will be notified.")
class SavedSearchCreated:
    saved_search: SavedSearch = strawberry.field(description="The saved search.")


SavedSearchCreateResult = result_union("SavedSearchCreateResult", SavedSearchCreated, [saved_searches.save_search])


@strawberry.input(description="Delete a saved search.")
class SavedSearchDeleteInput:
    saved_search_id: strawberry.ID = strawberry.field(description="Global id of one of the caller's saved searches.")


@strawberry.type(description="Deleted.")
class SavedSearchDeleted:
    ok: bool = strawberry.field(default=True, description="True once the search is gone.")


SavedSearchDeleteResult = result_union(
    "SavedSearchDeleteResult", SavedSearchDeleted, [saved_searches.delete_saved_search]
)


def _rules(items: list[EligibilityRuleInput]) -> list[dict[str, str]]:
    return [{"kind": r.kind, "text": r.text} for r in items]


@strawberry.type
class PublicationMutations:
    @mutation(
        ProjectCreateResult,
        description="Create a project with its lots (tenderer, its agency, operator).",
        permission_classes=[CanManageProjects],
    )
    async def project_create(
        self,
        info: Info,
        input: Annotated[
            ProjectCreateInput, strawberry.argument(description="The project, its lots and their configuration.")
        ],
    ) -> ProjectCreated:
        tenderer = int_id(input.tenderer_id, "Organisation", "tendererId") if input.tenderer_id else None
        form = projects.ProjectForm(
            name=input.name,
            category=input.category.value,
            region_code=input.region_code,
            industry=input.industry,
            tenderer_id=tenderer,
            lots=[
                projects.LotForm(
                    name=lot.name,
                    procedure=lot.procedure.value,
                    estimated_price_fen=lot.estimated_price_fen,
                    config=lot.config.overrides() if lot.config else {},
                    eligibility=_rules(lot.eligibility),
                )
                for lot in input.lots
            ],
        )
        project = await projects.create_project(info.context.actor, form, input.idempotency_key)
        return ProjectCreated(project=Project.from_model(project))

    @mutation(
        ProjectIndustrySetResult,
        description="Give an engineering project its 招标项目类型 (industry) or correct it (tenderer, its agency, "
        "operator): a project made without one is reported by data quality (DQ-REQ-002) until it has one.",
        permission_classes=[CanManageProjects],
    )
    async def project_industry_set(
        self,
        info: Info,
        input: Annotated[
            ProjectIndustrySetInput, strawberry.argument(description="The project and its 招标项目类型 code.")
        ],
    ) -> ProjectIndustrySet:
        project = await projects.set_industry(
            info.context.actor,
            int_id(input.project_id, "Project", "projectId"),
            input.industry,
            input.idempotency_key,
        )
        return ProjectIndustrySet(project=Project.from_model(project))

    @mutation(
        LotConfigureResult, description="Change a draft lot's configuration.", permission_classes=[CanManageProjects]
    )
    async def lot_configure(
        self,
        info: Info,
        input: Annotated[
            LotConfigureInput,
            strawberry.argument(description="The draft lot and its new configuration or eligibility."),
        ],
    ) -> LotConfigured:
        lot = await projects.configure_lot(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.config.overrides() if input.config else {},
            _rules(input.eligibility) if input.eligibility is not None else None,
            input.idempotency_key,
        )
        return LotConfigured(lot=Lot.from_model(lot))

    @mutation(AnnouncementDraftResult, description="Save a draft announcement.", permission_classes=[CanManageProjects])
    async def announcement_draft(
        self,
        info: Info,
        input: Annotated[
            AnnouncementDraftInput, strawberry.argument(description="The announcement to save as a draft.")
        ],
    ) -> AnnouncementDrafted:
        form = announcements.AnnouncementForm(
            project_id=int_id(input.project_id, "Project", "projectId"),
            type=input.type.value,
            title=input.title,
            body_html=input.body_html,
            lot_id=int_id(input.lot_id, "Lot", "lotId") if input.lot_id else None,
            corrects_id=int_id(input.corrects_id, "Announcement", "correctsId") if input.corrects_id else None,
            attachments=[
                announcements.AttachmentForm(name=a.name, size=a.size, sha256=a.sha256, content_type=a.content_type)
                for a in input.attachments
            ],
        )
        ann = await announcements.draft_announcement(info.context.actor, form, input.idempotency_key)
        return AnnouncementDrafted(announcement=Announcement.from_model(ann))

    @mutation(
        AnnouncementPublishResult, description="Publish a draft announcement.", permission_classes=[CanManageProjects]
    )
    async def announcement_publish(
        self,
        info: Info,
        input: Annotated[AnnouncementPublishInput, strawberry.argument(description="The draft to publish.")],
    ) -> AnnouncementPublished:
        ann_id = int_id(input.announcement_id, "Announcement", "announcementId")
        ann = await announcements.publish_announcement(info.context.actor, ann_id, input.idempotency_key)
        return AnnouncementPublished(announcement=Announcement.from_model(ann))

    @mutation(SavedSearchCreateResult, description="Save a search.", permission_classes=[IsAuthenticated])
    async def saved_search_create(
        self,
        info: Info,
        input: Annotated[SavedSearchCreateInput, strawberry.argument(description="The search to save.")],
    ) -> SavedSearchCreated:
        saved = await saved_searches.save_search(
            info.context.actor,
            input.name,
            input.keywords,
            [c.value for c in input.categories],
            list(input.regions),
            input.idempotency_key,
        )
        return SavedSearchCreated(saved_search=SavedSearch.from_model(saved))

    @mutation(
        SavedSearchDeleteResult,
        description="Delete one of the caller's saved searches.",
        permission_classes=[IsAuthenticated],
    )
    async def saved_search_delete(
        self,
        info: Info,
        input: Annotated[SavedSearchDeleteInput, strawberry.argument(description="The saved search to delete.")],
    ) -> SavedSearchDeleted:
        await saved_searches.delete_saved_search(info.context.actor, int_id(input.saved_search_id, "SavedSearch"))
        return SavedSearchDeleted()
