"""GraphQL types of market entities, users and sessions."""

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.accounts import experts, models, organisations, sessions
from domain.accounts.states import OrgKind, OrgStatus
from domain.common.actors import Actor, Role
from domain.common.catalogue import Category
from domain.common.errors import NotFound
from domain.common.ids import mask_mobile
from domain.credit import models as credit_models
from domain.credit import services as credit
from schema import fields
from schema.describe import describe_values
from schema.relay import Node, node_resolver, to_global_id

OrganisationStatus: TypeAlias = OrgStatus
strawberry.enum(OrganisationStatus, name="OrganisationStatus", description="Review state.")
describe_values(
    OrganisationStatus,
    {
        "PENDING": "Registered, waiting for the trading centre's review.",
        "APPROVED": "Approved: may trade in its kinds.",
        "REJECTED": "Rejected by the review, with a reason.",
        "SUSPENDED": "Suspended: may not trade until reinstated.",
    },
)
OrganisationKind: TypeAlias = OrgKind
strawberry.enum(OrganisationKind, name="OrganisationKind", description="What an entity does.")
describe_values(
    OrganisationKind,
    {
        "BIDDER": "Bids for lots (投标人/竞买人).",
        "TENDERER": "Tenders, procures or sells through the platform (招标人/采购人/出让人).",
        "AGENCY": "Runs procedures for tenderers (招标代理机构).",
        "GUARANTOR": "Issues bid guarantees (保函): a bank, insurer or guarantee company.",
        "SUPERVISOR": "Supervises trading in its categories (行政监督部门); created by operators.",
        "OPERATOR": "Runs the platform (公共资源交易中心); created by operators.",
        "WITNESS": (
            "Witnesses openings and evaluations of the lots it is assigned (见证), read-only; created by operators."
        ),
    },
)
CatalogueCategory: TypeAlias = Category
strawberry.enum(CatalogueCategory, name="CatalogueCategory", description="交易目录.")
describe_values(
    CatalogueCategory,
    {
        "ENGINEERING_CONSTRUCTION": "工程建设: works tendered under the Tendering and Bidding Law.",
        "GOVERNMENT_PROCUREMENT": "政府采购: goods, works and services bought with public funds.",
        "LAND_USE_RIGHTS": "土地使用权: state-owned land use rights sold by listing or auction.",
        "MINING_RIGHTS": "矿业权: exploration and mining rights.",
        "STATE_OWNED_PROPERTY": "国有产权: equity and assets of state-owned enterprises.",
        "NATURAL_RESOURCE_ASSETS": "自然资源资产: forests, grassland, sea areas and other natural resources.",
        "ENVIRONMENTAL_RIGHTS": "环境权益: emission rights, carbon allowances, water rights and the like.",
        "RURAL_COLLECTIVE_PROPERTY": "农村集体产权: property rights of rural collectives.",
        "MEDICAL_CONSUMABLES": "医疗耗材: volume-based procurement of drugs and medical consumables.",
        "OTHER": "其他: anything the catalogue lists under no other heading.",
    },
)


@strawberry.type(description="A credit record (信用记录).")
class CreditRecord(Node):
    kind: str = strawberry.field(description="good or bad")
    category: str = strawberry.field(description="What kind of behaviour.")
    description: str = strawberry.field(description="What happened.")
    source: str = strawberry.field(description="Who reported it.")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_model(cls, m: credit_models.CreditRecord) -> "CreditRecord":
        return cls(
            _pk=m.pk,
            kind=m.kind,
            category=m.category,
            description=m.description,
            source=m.source,
            recorded_at=m.recorded_at,
        )


@strawberry.type(description="An entry of the joint-punishment list (失信联合惩戒).")
class JointPunishment(Node):
    reason: str = strawberry.field(description="Why.")
    authority: str = strawberry.field(description="Who decided.")
    document_no: str = strawberry.field(description="Decision document number.")
    starts_at: datetime = strawberry.field(description="In force from.")
    ends_at: datetime | None = strawberry.field(description="In force until (none: indefinite).")
    lifted_at: datetime | None = strawberry.field(description="Lifted early at.")

    @classmethod
    def from_model(cls, m: credit_models.JointPunishment) -> "JointPunishment":
        return cls(
            _pk=m.pk,
            reason=m.reason,
            authority=m.authority,
            document_no=m.document_no,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            lifted_at=m.lifted_at,
        )


@strawberry.type(description="A market entity (市场主体).")
class Organisation(Node):
    credit_code: str = strawberry.field(description="Unified social credit code (18 characters).")
    name: str = strawberry.field(description="Registered name.")
    region_code: str = strawberry.field(description="GB/T 2260 region code.")
    kinds: list[OrganisationKind] = strawberry.field(description="What it does on the platform.")
    supervised_categories: list[CatalogueCategory] = strawberry.field(
        description="Catalogue categories a supervisor oversees."
    )
    status: OrganisationStatus = strawberry.field(description="Review state.")
    review_reason: str | None = strawberry.field(description="The operator's reason, if rejected.")
    created_at: datetime = strawberry.field(description="When the form was submitted.")
    # `underPunishment` when it was read with the organisation (`query Me`: credit.user_of_and_punished)
    _punished: strawberry.Private[bool | None] = None

    @fields.field(description="Credit records; the organisation itself, operators and supervisors.")
    async def credit_records(self, info: Info) -> list[CreditRecord]:
        if not _may_see_credit(info, self._pk):
            return []
        return [CreditRecord.from_model(r) for r in await credit.records_of(self._pk)]

    @fields.field(description="Joint punishments; the organisation itself, operators and supervisors.")
    async def punishments(self, info: Info) -> list[JointPunishment]:
        if not _may_see_credit(info, self._pk):
            return []
        return [JointPunishment.from_model(p) for p in await credit.punishments_of(self._pk)]

    @fields.field(description="Whether it is under joint punishment now (barred from registering).")
    async def under_punishment(self) -> bool:
        if self._punished is not None:
            return self._punished
        return await credit.is_punished(self._pk)

    @classmethod
    def from_model(cls, m: models.Organisation, punished: bool | None = None) -> "Organisation":
        return cls(
            _pk=m.id,
            _punished=punished,
            credit_code=m.credit_code,
            name=m.name,
            region_code=m.region_code,
            kinds=[OrgKind(k) for k in m.kinds],
            supervised_categories=[Category(c) for c in m.supervised_categories],
            status=OrgStatus(m.status),
            review_reason=m.review_reason,
            created_at=m.created_at,
        )


def _may_see_credit(info: Info, org_id: int) -> bool:
    actor: Actor = info.context.actor
    return actor.org_id == org_id or actor.has(*_KEEPERS)


_KEEPERS = (Role.OPERATOR, Role.SUPERVISOR)


@strawberry.type(description="A person who signs in for an organisation.")
class User(Node):
    _org: strawberry.Private[int]
    name: str = strawberry.field(description="The person's name, as registered.")
    phone_masked: str = strawberry.field(description="Mobile number with the middle digits hidden.")
    last_login_at: datetime | None = strawberry.field(description="Last successful sign-in.")
    _org_row: strawberry.Private[models.Organisation | None] = None  # the organisation when the caller holds it

    @fields.field(description="The organisation the user acts for.")
    async def organisation(self, info: Info) -> Organisation:
        if self._org_row is not None and self._org_row.id == self._org:  # this request's loader starts with it
            info.context.loaders.organisation.prime(self._org, self._org_row)
        org = await info.context.loaders.organisation.load(self._org)
        if org is None:
            raise NotFound()
        return Organisation.from_model(org)

    @classmethod
    def from_model(cls, m: models.User, organisation: models.Organisation | None = None) -> "User":
        return cls(
            _pk=m.id,
            _org=m.organisation_id,
            name=m.name,
            phone_masked=mask_mobile(m.phone),
            last_login_at=m.last_login_at,
            _org_row=organisation,
        )


@strawberry.type(description="Tokens of a signed-in session.")
class Session:
    access_token: str = strawberry.field(description="ES256 JWT; send as `Authorization: Bearer`.")
    access_token_expires_at: datetime = strawberry.field(description="When the access token expires.")
    refresh_token: str = strawberry.field(description="Single use; exchange with authRefresh.")
    refresh_token_expires_at: datetime = strawberry.field(description="When the session ends at the latest.")
    user: User = strawberry.field(description="Who signed in.")
    authentication_methods: list[str] = strawberry.field(
        default_factory=list,
        description="How the session was signed in (the token's amr): pwd, sms, cert; cert + sms is two-factor.",
    )
    withheld_roles: list[str] = strawberry.field(
        default_factory=list,
        description="Roles the organisation has that the platform grants only to a two-factor session "
        "(TWO_FACTOR_ROLES): sign in with a certificate and an SMS code to get them.",
    )

    @classmethod
    def from_domain(cls, s: sessions.Session) -> "Session":
        return cls(
            access_token=s.access_token,
            access_token_expires_at=s.access_expires_at,
            refresh_token=s.refresh_token,
            refresh_token_expires_at=s.refresh_expires_at,
            user=User.from_model(s.user, s.organisation),
            authentication_methods=list(s.amr),
            withheld_roles=list(s.withheld_roles),
        )


@strawberry.type(description="An expert of the pool (评标专家).")
class Expert(Node):
    name: str = strawberry.field(description="The expert's name, as registered in the pool.")
    specialties: list[str] = strawberry.field(description="Specialties for the draw.")
    employer_id: strawberry.ID | None = strawberry.field(description="Employer organisation, for conflicts.")

    @classmethod
    def from_model(cls, m: models.Expert) -> "Expert":
        employer = strawberry.ID(to_global_id("Organisation", m.employer_id)) if m.employer_id else None
        return cls(_pk=m.id, name=m.name, specialties=list(m.specialties), employer_id=employer)


@strawberry.type(
    description="An expert's sign-in: one access token for an evaluation sitting (4 hours), no refresh token."
)
class ExpertSession:
    access_token: str = strawberry.field(description="ES256 JWT; send as `Authorization: Bearer`.")
    access_token_expires_at: datetime = strawberry.field(
        description="When the access token, and with it the session, ends; sign in again by SMS after it."
    )
    expert: Expert = strawberry.field(description="Who signed in.")

    @classmethod
    def from_domain(cls, s: experts.ExpertSession) -> "ExpertSession":
        return cls(
            access_token=s.access_token,
            access_token_expires_at=s.access_expires_at,
            expert=Expert.from_model(s.expert),
        )


@strawberry.type(description="An integrator's client credentials.")
class IntegratorClient:
    client_id: str = strawberry.field(description="Public client id.")
    name: str = strawberry.field(description="Who it is.")
    scopes: list[str] = strawberry.field(description="What it may read.")
    rate_per_minute: int = strawberry.field(description="Requests per minute allowed.")


@node_resolver("Organisation")
async def _organisation_node(info: Info, pk: str) -> Organisation | None:
    if not pk.isdigit():
        return None
    try:
        return Organisation.from_model(await organisations.visible_organisation(info.context.actor, int(pk)))
    except NotFound:
        return None


@node_resolver("User")
async def _user_node(info: Info, pk: str) -> User | None:
    actor = info.context.actor
    if not pk.isdigit():
        return None
    user = await models.User.get_or_none(id=int(pk))
    if user is None or not (user.id == actor.user_id or actor.has(Role.OPERATOR)):
        return None
    return User.from_model(user)


@node_resolver("Expert")
async def _expert_node(info: Info, pk: str) -> Expert | None:
    actor = info.context.actor
    if not pk.isdigit() or not (actor.has(Role.OPERATOR) or actor.expert_id == int(pk)):
        return None
    found = await models.Expert.get_or_none(id=int(pk))
    return Expert.from_model(found) if found else None


@node_resolver("CreditRecord")
async def _credit_record_node(info: Info, pk: str) -> CreditRecord | None:
    if not pk.isdigit():
        return None
    found = await credit_models.CreditRecord.get_or_none(id=int(pk))
    if found is None or not _may_see_credit(info, found.organisation_id):
        return None
    return CreditRecord.from_model(found)


@node_resolver("JointPunishment")
async def _punishment_node(info: Info, pk: str) -> JointPunishment | None:
    if not pk.isdigit():
        return None
    found = await credit_models.JointPunishment.get_or_none(id=int(pk))
    if found is None or not _may_see_credit(info, found.organisation_id):
        return None
    return JointPunishment.from_model(found)
