"""Scheduled statistics reports for supervisors (domain/supervision/reports.py): never public."""

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.documents import downloads
from domain.supervision import reports, statistics
from domain.supervision.report_models import StatisticsReport as ReportModel
from schema import fields
from schema.accounts.types import CatalogueCategory
from schema.documents.types import Document
from schema.permissions import IsSupervisorOrOperator
from schema.relay import int_id, to_global_id
from schema.supervision.statistics import StatisticsPeriod, TradingFigures


@strawberry.type(
    description="A scheduled statistics report: one complete period's figures of a supervisor's categories."
)
class StatisticsReport:
    id: strawberry.ID = strawberry.field(description="Global id.")
    supervisor_id: strawberry.ID = strawberry.field(description="The supervisor organisation it was made for.")
    period: StatisticsPeriod = strawberry.field(description="Monthly, quarterly, half-yearly or yearly.")
    label: str = strawberry.field(description="The period: 2026-01, 2026-Q1, 2026-H1 or 2026 (Beijing time).")
    starts_on: date = strawberry.field(description="The first day counted (Beijing date).")
    ends_on: date = strawberry.field(description="The day after the last one counted (Beijing date).")
    categories: list[CatalogueCategory] = strawberry.field(description="The categories it covers.")
    rows: list[TradingFigures] = strawberry.field(description="The figures, as tradingStatistics gives them.")
    csv: str = strawberry.field(description="The same figures as CSV (as tradingStatisticsCsv).")
    created_at: datetime = strawberry.field(description="When it was made.")
    _pk: strawberry.Private[int]

    @fields.field(
        description="Its files, the CSV and the PDF (purpose STATISTICS_REPORT): fetch each with documentDownload "
        "(a signed link); the supervisor it was made for and operators only."
    )
    async def files(self, info: Info) -> list[Document]:
        found = await downloads.documents_of(info.context.actor, "statistics_report", self._pk)
        return [Document.from_model(d) for d in found]

    @classmethod
    def from_model(cls, m: ReportModel) -> "StatisticsReport":
        return cls(
            id=strawberry.ID(to_global_id("StatisticsReport", m.id)),
            supervisor_id=strawberry.ID(to_global_id("Organisation", m.supervisor_id)),
            period=statistics.Period(m.period),
            label=m.label,
            starts_on=m.starts_on,
            ends_on=m.ends_on,
            categories=[CatalogueCategory(c) for c in m.categories],
            rows=[TradingFigures.from_row(statistics.Row(**r)) for r in m.rows],
            csv=m.csv,
            created_at=m.created_at,
            _pk=m.id,
        )


@strawberry.type
class StatisticsReportQueries:
    @fields.field(
        description="Scheduled statistics reports, newest first (at most 200): a supervisor its own, an operator all.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def statistics_reports(
        self,
        info: Info,
        period: Annotated[
            StatisticsPeriod | None, strawberry.argument(description="Only reports of this kind; null: all kinds.")
        ] = None,
    ) -> list[StatisticsReport]:
        found = await reports.reports(info.context.actor, statistics.Period(period) if period else None)
        return [StatisticsReport.from_model(r) for r in found]

    @fields.field(
        description="One scheduled statistics report, if the caller may read it.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def statistics_report(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The report's global id.")]
    ) -> StatisticsReport | None:
        try:
            return StatisticsReport.from_model(await reports.report(info.context.actor, int_id(id, "StatisticsReport")))
        except DomainError:
            return None
