"""Platform evaluation (第三方评价): rate an ended lot's service, read one's own rating, aggregates for operators and
supervisors, an agency's own averages (domain/ratings)."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.ratings import services as ratings
from domain.ratings.models import PlatformRating as RatingModel
from domain.supervision import statistics
from schema import fields
from schema.accounts.types import CatalogueCategory
from schema.errors import mutation, result_union
from schema.permissions import IsSupervisorOrOperator, IsUser, has_role
from schema.relay import int_id, to_global_id
from schema.supervision.statistics import StatisticsPeriod

IsAgency = has_role(Role.AGENCY)


@strawberry.input(description="Stars (1-5) for each dimension of the platform's service.")
class PlatformScoresInput:
    convenience: int = strawberry.field(description="操作便捷: how easy the platform was to use.")
    efficiency: int = strawberry.field(description="办事效率: how quickly things were done.")
    transparency: int = strawberry.field(description="公开透明: how open and traceable the process was.")
    support: int = strawberry.field(description="咨询服务: help and answers from the trading centre.")


@strawberry.input(description="Stars (1-5) for each dimension of the agency's service.")
class AgencyScoresInput:
    professionalism: int = strawberry.field(description="专业水平: the agency's competence.")
    efficiency: int = strawberry.field(description="服务效率: how quickly the agency worked.")
    conduct: int = strawberry.field(description="规范廉洁: whether the agency kept the rules.")


@strawberry.type(description="Stars (1-5) per dimension of the platform's service.")
class PlatformScores:
    convenience: float = strawberry.field(description="操作便捷.")
    efficiency: float = strawberry.field(description="办事效率.")
    transparency: float = strawberry.field(description="公开透明.")
    support: float = strawberry.field(description="咨询服务.")


@strawberry.type(description="Stars (1-5) per dimension of the agency's service.")
class AgencyScores:
    professionalism: float = strawberry.field(description="专业水平.")
    efficiency: float = strawberry.field(description="服务效率.")
    conduct: float = strawberry.field(description="规范廉洁.")


def _platform(scores: Mapping[str, float]) -> PlatformScores | None:
    return PlatformScores(**scores) if scores else None


def _agency(scores: Mapping[str, float] | None) -> AgencyScores | None:
    return AgencyScores(**scores) if scores else None


@strawberry.type(description="The caller organisation's own rating of one ended lot's service.")
class PlatformRating:
    id: strawberry.ID = strawberry.field(description="Global id.")
    lot_id: strawberry.ID = strawberry.field(description="The lot rated.")
    rater_role: str = strawberry.field(description="How the organisation took part: tenderer, agency or bidder.")
    platform: PlatformScores = strawberry.field(description="The platform's service.")
    agency: AgencyScores | None = strawberry.field(description="The agency's service; null where not rated.")
    comment: str | None = strawberry.field(description="The comment as stored: plain text, personal numbers masked.")
    rated_at: datetime = strawberry.field(description="When it was first given.")
    editable_until: datetime = strawberry.field(description="Until when it may be changed.")

    @classmethod
    def from_model(cls, m: RatingModel) -> "PlatformRating":
        return cls(
            id=strawberry.ID(to_global_id("PlatformRating", m.id)),
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            rater_role=m.rater_role,
            platform=PlatformScores(**m.platform_scores),
            agency=_agency(m.agency_scores),
            comment=m.comment,
            rated_at=m.rated_at,
            editable_until=m.editable_until,
        )


@strawberry.input(description="Rate the service of a lot whose trading has ended, once per organisation.")
class PlatformRateInput:
    lot_id: strawberry.ID = strawberry.field(description="An ended lot (result announced, failed or terminated).")
    platform: PlatformScoresInput = strawberry.field(description="The platform's service.")
    agency: AgencyScoresInput | None = strawberry.field(
        default=None, description="The agency's service: required where the project had an agency, unless you are it."
    )
    comment: str | None = strawberry.field(default=None, description="Optional, plain text, up to 1000 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="Rated (or the rating changed, within its edit window).")
class PlatformRated:
    rating: PlatformRating = strawberry.field(description="The rating as stored.")


PlatformRateResult = result_union("PlatformRateResult", PlatformRated, [ratings.rate])


@strawberry.type(description="Averages of the ratings of one period, category and agency; no rater is named.")
class PlatformRatingAggregate:
    period: str = strawberry.field(description="2026-01, 2026-Q1, 2026-H1 or 2026 (Beijing time, when rated).")
    category: CatalogueCategory = strawberry.field(description="The rated lots' category.")
    agency_id: strawberry.ID | None = strawberry.field(description="The projects' agency; null: no agency.")
    ratings: int = strawberry.field(description="How many ratings.")
    platform: PlatformScores | None = strawberry.field(description="Average stars of the platform's service.")
    agency_ratings: int = strawberry.field(description="How many of them rated the agency.")
    agency: AgencyScores | None = strawberry.field(description="Average stars of the agency's service.")


@strawberry.type(description="An agency's own service as rated: averages only, from 3 ratings on.")
class AgencyRatingSummary:
    ratings: int = strawberry.field(description="How many ratings of the agency's service.")
    averages: AgencyScores | None = strawberry.field(description="Average stars; null below 3 ratings.")


@strawberry.type
class RatingQueries:
    @fields.field(
        description="The caller organisation's own rating of a lot, if it gave one.", permission_classes=[IsUser]
    )
    async def my_platform_rating(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="The lot's global id.")]
    ) -> PlatformRating | None:
        found = await ratings.my_rating(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        return PlatformRating.from_model(found) if found else None

    @fields.field(
        description="Platform evaluation: average stars by period, category and agency (operators; supervisors for "
        "their categories); individual ratings and raters are never shown.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def platform_rating_report(
        self,
        info: Info,
        period: Annotated[StatisticsPeriod, strawberry.argument(description="How to group by when rated.")],
        starts_on: Annotated[date, strawberry.argument(description="The first day counted (Beijing date).")],
        ends_on: Annotated[date, strawberry.argument(description="The day after the last one (Beijing date).")],
        category: Annotated[
            CatalogueCategory | None, strawberry.argument(description="Only this category; null: all the caller sees.")
        ] = None,
        agency_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only the projects of this agency.")
        ] = None,
    ) -> list[PlatformRatingAggregate]:
        try:
            rows = await ratings.report(
                info.context.actor,
                statistics.Period(period),
                starts_on,
                ends_on,
                category.value if category else None,
                int_id(agency_id, "Organisation", "agencyId") if agency_id else None,
            )
        except DomainError as err:
            raise GraphQLError(err.message(info.context.locale), extensions={"code": err.code}) from None
        return [
            PlatformRatingAggregate(
                period=r.period,
                category=CatalogueCategory(r.category),
                agency_id=strawberry.ID(to_global_id("Organisation", r.agency_id)) if r.agency_id else None,
                ratings=r.ratings,
                platform=_platform(r.platform),
                agency_ratings=r.agency_ratings,
                agency=_agency(r.agency),
            )
            for r in rows
        ]

    @fields.field(
        description="An agency's own service as its raters scored it: averages only, from 3 ratings on.",
        permission_classes=[IsUser, IsAgency],
    )
    async def my_agency_rating_summary(self, info: Info) -> AgencyRatingSummary:
        count, averages = await ratings.agency_summary(info.context.actor)
        return AgencyRatingSummary(ratings=count, averages=_agency(averages))


@strawberry.type
class RatingMutations:
    @mutation(
        PlatformRateResult,
        description="Rate the platform's (and the agency's) service on an ended lot: once per organisation, "
        "changeable for 15 days (a participant's user).",
        permission_classes=[IsUser],
    )
    async def platform_rate(
        self, info: Info, input: Annotated[PlatformRateInput, strawberry.argument(description="The rating.")]
    ) -> PlatformRated:
        rating = await ratings.rate(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            {
                "convenience": input.platform.convenience,
                "efficiency": input.platform.efficiency,
                "transparency": input.platform.transparency,
                "support": input.platform.support,
            },
            {
                "professionalism": input.agency.professionalism,
                "efficiency": input.agency.efficiency,
                "conduct": input.agency.conduct,
            }
            if input.agency
            else None,
            input.comment,
            input.idempotency_key,
        )
        return PlatformRated(rating=PlatformRating.from_model(rating))
