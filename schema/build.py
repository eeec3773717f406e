"""The schema, assembled from per-area classes."""

from typing import Annotated

import strawberry
from strawberry.extensions import ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from schema import fields
from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.accounts.third_party import ThirdPartyMutations, ThirdPartyQueries
from schema.accounts.types import CreditRecord, Expert, JointPunishment, Organisation, User
from schema.auctions.mutations import AuctionMutations
from schema.auctions.queries import AuctionQueries
from schema.auctions.subscriptions import AuctionSubscriptions
from schema.audit.queries import AuditQueries
from schema.certificates.mutations import CertificateMutations
from schema.certificates.queries import CertificateQueries
from schema.certificates.types import ActSignature, BoundCertificate, CertificateAuthority
from schema.complaints.calendar import CalendarMutations, CalendarQueries
from schema.complaints.mutations import ComplaintMutations
from schema.complaints.queries import ComplaintQueries
from schema.credit.exchange import CreditExchangeMutations, CreditExchangeQueries
from schema.credit.mutations import CreditMutations
from schema.credit.public import CreditPublicMutations, CreditPublicQueries
from schema.credit.rating import CreditRatingMutations, CreditRatingQueries
from schema.delegation_guard import DelegationGuard
from schema.deposits.mutations import DepositMutations
from schema.deposits.queries import DepositQueries
from schema.documents.mutations import DocumentMutations
from schema.documents.queries import DocumentQueries
from schema.documents.types import Document
from schema.errors import Error, FieldError, error_type
from schema.evaluation.mutations import EvaluationMutations
from schema.evaluation.notices import ExpertNoticeMutations
from schema.evaluation.qualification import QualificationMutations, QualificationQueries
from schema.evaluation.queries import EvaluationQueries
from schema.evaluation.scoring import ScoringMutations, ScoringQueries
from schema.evaluation.signing import SigningMutations, SigningQueries
from schema.evaluation.witnesses import WitnessMutations, WitnessQueries
from schema.experts.mutations import ExpertPoolMutations
from schema.experts.queries import ExpertPoolQueries
from schema.fragment_cache import DEFAULT_ENTRIES, FragmentCache, executor_for
from schema.guarantees.mutations import GuaranteeMutations
from schema.guarantees.queries import GuaranteeQueries
from schema.keys.mutations import PartnerKeyMutations, PartnerKeyQueries
from schema.kiosk_guard import KioskGuard
from schema.limits import BoundedLogSchema, MaskUnexpected, Parser, limit_extensions
from schema.live.subscriptions import LiveSubscriptions
from schema.negotiation.mutations import NegotiationMutations
from schema.negotiation.queries import NegotiationQueries
from schema.notifications.mutations import NotificationMutations
from schema.notifications.queries import NotificationQueries
from schema.notifications.subscriptions import NotificationSubscriptions
from schema.notifications.types import Device, Notification
from schema.provincial.root import ProvincialMutations, ProvincialQueries
from schema.publication.clarifications import ClarificationMutations, ClarificationQueries
from schema.publication.feed import FeedQueries
from schema.publication.mutations import PublicationMutations
from schema.publication.ocds import OcdsQueries
from schema.publication.queries import PublicationQueries
from schema.publication.types import Announcement, Lot, Project, SavedSearch
from schema.ratings.root import RatingMutations, RatingQueries
from schema.registration.mutations import RegistrationMutations
from schema.registration.queries import RegistrationQueries
from schema.relay import Node, resolve_node, resolve_nodes
from schema.results.after_award import AfterAwardMutations
from schema.results.mutations import ResultMutations
from schema.results.queries import ResultQueries
from schema.scalars import SCALARS
from schema.settlement.mutations import SettlementMutations
from schema.settlement.queries import SettlementQueries
from schema.sso.root import SsoMutations, SsoQueries
from schema.supervision.root import SupervisionMutations, SupervisionQueries
from schema.tasks.queries import TaskQueries
from schema.tendering.multi_lot import MultiLotMutations
from schema.tendering.mutations import OpeningFaultMutations, OpeningMutations, TenderingMutations
from schema.tendering.queries import OpeningQueries, TenderingQueries
from schema.tendering.subscriptions import OpeningSubscriptions
from schema.terminals.mutations import TerminalMutations
from schema.terminals.queries import TerminalQueries
from schema.terminals.types import Terminal
from schema.venues.mutations import VenueMutations
from schema.venues.queries import VenueQueries


@strawberry.type(description="Everything a client can read: public listings without a token, the rest by role.")
class Query(
    AccountQueries,
    ExpertPoolQueries,
    AuditQueries,
    PublicationQueries,
    FeedQueries,
    OcdsQueries,
    NotificationQueries,
    RegistrationQueries,
    DepositQueries,
    GuaranteeQueries,
    PartnerKeyQueries,
    SsoQueries,
    AuctionQueries,
    TenderingQueries,
    ClarificationQueries,
    OpeningQueries,
    EvaluationQueries,
    ScoringQueries,
    SigningQueries,
    WitnessQueries,
    NegotiationQueries,
    QualificationQueries,
    ResultQueries,
    ComplaintQueries,
    CalendarQueries,
    TerminalQueries,
    SupervisionQueries,
    CertificateQueries,
    DocumentQueries,
    CreditPublicQueries,
    CreditRatingQueries,
    CreditExchangeQueries,
    ThirdPartyQueries,
    RatingQueries,
    TaskQueries,
    VenueQueries,
    ProvincialQueries,
    SettlementQueries,
):
    @fields.field(description="Any object by its global id, if the caller may see it.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The object's global id.")]
    ) -> Node | None:
        return await resolve_node(info, id)

    @fields.field(
        description="Objects by their global ids, in the order asked (null where the caller may not see one); "
        "at most the server's page size at once."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="The objects' global ids.")],
    ) -> list[Node | None]:
        return await resolve_nodes(info, ids)

    @fields.field(description="The server's time (UTC); clients align countdowns to it.")
    def server_time(self) -> str:
        from domain.common import clock

        return clock.now().isoformat()


@strawberry.type(
    description="Everything a client can do; a mutation answers with its success type or a typed business error."
)
class Mutation(
    AccountMutations,
    ExpertPoolMutations,
    CreditMutations,
    CreditPublicMutations,
    CreditRatingMutations,
    CreditExchangeMutations,
    PublicationMutations,
    NotificationMutations,
    RegistrationMutations,
    DepositMutations,
    GuaranteeMutations,
    PartnerKeyMutations,
    SsoMutations,
    AuctionMutations,
    TenderingMutations,
    MultiLotMutations,
    ClarificationMutations,
    OpeningMutations,
    OpeningFaultMutations,
    EvaluationMutations,
    ScoringMutations,
    SigningMutations,
    WitnessMutations,
    NegotiationMutations,
    QualificationMutations,
    ExpertNoticeMutations,
    ResultMutations,
    AfterAwardMutations,
    ComplaintMutations,
    CalendarMutations,
    TerminalMutations,
    SupervisionMutations,
    CertificateMutations,
    DocumentMutations,
    ThirdPartyMutations,
    RatingMutations,
    VenueMutations,
    ProvincialMutations,
    SettlementMutations,
):
    pass


@strawberry.type(
    description="Live streams over WebSocket (graphql-transport-ws): events, notifications, auctions and openings."
)
class Subscription(LiveSubscriptions, NotificationSubscriptions, AuctionSubscriptions, OpeningSubscriptions):
    pass


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 3000,
    max_cost: int = 5000,
    page_cap: int = 100,
    anonymous_introspection: bool = True,
    fragment_cache_entries: int = DEFAULT_ENTRIES,
) -> strawberry.Schema:
    """The schema with its limits; its own fragment cache of `fragment_cache_entries` completed objects
    (schema/fragment_cache.py; 0: none)."""
    extensions = [
        *limit_extensions(
            max_depth=max_depth,
            max_aliases=max_aliases,
            max_tokens=max_tokens,
            max_cost=max_cost,
            page_cap=page_cap,
            anonymous_introspection=anonymous_introspection,
        ),
        lambda: Parser(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        KioskGuard,
        DelegationGuard,
        MaskUnexpected,
    ]
    return BoundedLogSchema(
        config=StrawberryConfig(scalar_map=SCALARS),
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Organisation,
            User,
            Expert,
            CreditRecord,
            JointPunishment,
            Announcement,
            Lot,
            Project,
            Notification,
            Device,
            SavedSearch,
            Terminal,
            CertificateAuthority,
            BoundCertificate,
            ActSignature,
            Document,
            Error,
            FieldError,
            *(error_type(e) for e in _all_errors()),
        ],
        extensions=extensions,
        execution_context_class=executor_for(FragmentCache(fragment_cache_entries)) if fragment_cache_entries else None,
    )


def _all_errors() -> list[type]:
    from schema.errors import _types

    return list(_types)
