"""Trading statistics for supervisors (their categories) and operators, as rows or as CSV."""

from datetime import date
from typing import Annotated, TypeAlias

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain.common.catalogue import Category
from domain.common.errors import DomainError
from domain.supervision import statistics
from schema import fields
from schema.accounts.types import CatalogueCategory
from schema.describe import describe_values
from schema.permissions import IsSupervisorOrOperator
from schema.scalars import Fen

StatisticsPeriod: TypeAlias = statistics.Period
strawberry.enum(
    StatisticsPeriod,
    name="StatisticsPeriod",
    description="MONTH (2026-01), QUARTER (2026-Q1), HALF_YEAR (2026-H1) or YEAR (2026).",
)
describe_values(
    StatisticsPeriod,
    {
        "MONTH": "One row per calendar month.",
        "QUARTER": "One row per calendar quarter.",
        "HALF_YEAR": "One row per half-year (January-June, July-December).",
        "YEAR": "One row per calendar year.",
    },
)


@strawberry.type(description="The trading figures of one period, category and region (lots by when they concluded).")
class TradingFigures:
    period: str = strawberry.field(description="2026-01, 2026-Q1, 2026-H1 or 2026 (Beijing time).")
    category: CatalogueCategory = strawberry.field(description="The catalogue category the figures are for.")
    region_code: str = strawberry.field(description="GB/T 2260 code of the region the figures are for.")
    lots: int = strawberry.field(description="Lots concluded: awarded or failed.")
    awarded: int = strawberry.field(description="Lots awarded (or sold) in the period.")
    failed: int = strawberry.field(description="Lots that failed (流标/流拍) in the period.")
    failure_rate: float = strawberry.field(description="failed / lots.")
    amount_fen: Fen = strawberry.field(description="Sum of the awarded prices.")
    average_bidders: float = strawberry.field(description="Bids at the opening or auction entries, per lot.")
    estimate_fen: Fen = strawberry.field(description="Sum of the estimates of the awarded lots.")
    savings_fen: Fen = strawberry.field(description="Estimates minus awarded prices, over the awarded lots.")
    savings_rate: float | None = strawberry.field(description="savingsFen / estimateFen.")
    average_days_to_award: float | None = strawberry.field(
        description="Days from the tender announcement to the result announcement, over the awarded lots."
    )

    @classmethod
    def from_row(cls, r: statistics.Row) -> "TradingFigures":
        return cls(
            period=r.period,
            category=Category(r.category),
            region_code=r.region_code,
            lots=r.lots,
            awarded=r.awarded,
            failed=r.failed,
            failure_rate=r.failure_rate,
            amount_fen=Fen(r.amount_fen),
            average_bidders=r.average_bidders,
            estimate_fen=Fen(r.estimate_fen),
            savings_fen=Fen(r.savings_fen),
            savings_rate=r.savings_rate,
            average_days_to_award=r.average_days_to_award,
        )


async def _rows(
    info: Info,
    period: statistics.Period,
    starts_on: date,
    ends_on: date,
    category: Category | None,
    region_code: str | None,
) -> list[statistics.Row]:
    try:
        return await statistics.figures(
            info.context.actor,
            statistics.Period(period),
            starts_on,
            ends_on,
            Category(category).value if category else None,
            region_code,
        )
    except DomainError as err:
        raise GraphQLError(err.message(info.context.locale), extensions={"code": err.code}) from None


@strawberry.type
class StatisticsQueries:
    @fields.field(
        description="Trading figures of lots concluded from startsOn to endsOn (exclusive, Beijing dates, at most "
        "ten years) by period, category and region; supervisors see their categories only.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def trading_statistics(
        self,
        info: Info,
        period: Annotated[
            StatisticsPeriod,
            strawberry.argument(description="How to group the figures: by month, quarter, half-year or year."),
        ],
        starts_on: Annotated[date, strawberry.argument(description="The first day counted (Beijing date, inclusive).")],
        ends_on: Annotated[
            date, strawberry.argument(description="The day after the last one counted (Beijing date, exclusive).")
        ],
        category: Annotated[
            CatalogueCategory | None,
            strawberry.argument(description="Only this catalogue category; null: every category the caller may see."),
        ] = None,
        region_code: Annotated[
            str | None,
            strawberry.argument(description="Only this GB/T 2260 region (a city includes its districts); null: all."),
        ] = None,
    ) -> list[TradingFigures]:
        rows = await _rows(info, period, starts_on, ends_on, category, region_code)
        return [TradingFigures.from_row(r) for r in rows]

    @fields.field(
        description="The same figures as CSV text (a header line; amounts in fen; empty cells for no value).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def trading_statistics_csv(
        self,
        info: Info,
        period: Annotated[
            StatisticsPeriod,
            strawberry.argument(description="How to group the figures: by month, quarter, half-year or year."),
        ],
        starts_on: Annotated[date, strawberry.argument(description="The first day counted (Beijing date, inclusive).")],
        ends_on: Annotated[
            date, strawberry.argument(description="The day after the last one counted (Beijing date, exclusive).")
        ],
        category: Annotated[
            CatalogueCategory | None,
            strawberry.argument(description="Only this catalogue category; null: every category the caller may see."),
        ] = None,
        region_code: Annotated[
            str | None,
            strawberry.argument(description="Only this GB/T 2260 region (a city includes its districts); null: all."),
        ] = None,
    ) -> str:
        return statistics.as_csv(await _rows(info, period, starts_on, ends_on, category, region_code))
