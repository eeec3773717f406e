"""The files of a scheduled statistics report (domain/supervision/reports): the CSV (UTF-8 with a byte-order mark, so
that spreadsheet programs read the Chinese) and a PDF table, kept through the documents store (content-addressed,
purpose statistics_report, owner the report, organisation the supervisor it was made for). They are fetched through
documentDownload's signed links like any document, by that supervisor's users and operators only, never public
(domain/documents/access)."""

from __future__ import annotations

import io
from datetime import timedelta

from domain.common import cpu
from domain.common.catalogue import Category
from domain.documents import rendering
from domain.documents.models import Document
from domain.documents.storing import Made, keep_file
from domain.supervision import statistics
from domain.supervision.report_models import StatisticsReport

PURPOSE = "statistics_report"
OWNER = "StatisticsReport"

PERIOD_ZH = {
    statistics.Period.MONTH: "月报",
    statistics.Period.QUARTER: "季报",
    statistics.Period.HALF_YEAR: "半年报",
    statistics.Period.YEAR: "年报",
}
CATEGORY_ZH = {
    Category.ENGINEERING_CONSTRUCTION: "工程建设",
    Category.GOVERNMENT_PROCUREMENT: "政府采购",
    Category.LAND_USE_RIGHTS: "土地使用权",
    Category.MINING_RIGHTS: "矿业权",
    Category.STATE_OWNED_PROPERTY: "国有产权",
    Category.NATURAL_RESOURCE_ASSETS: "自然资源资产",
    Category.ENVIRONMENTAL_RIGHTS: "环境权益",
    Category.RURAL_COLLECTIVE_PROPERTY: "农村集体产权",
    Category.MEDICAL_CONSUMABLES: "医疗器械及耗材",
    Category.OTHER: "其他",
}
HEADINGS = (
    "类别",
    "行政区划",
    "项目数",
    "成交",
    "流标",
    "流标率",
    "成交金额（元）",
    "平均投标人",
    "节约资金（元）",
    "节约率",
)
WIDTHS = (16, 12, 8, 8, 8, 9, 18, 10, 18, 9)


def _category(value: str) -> str:
    try:
        return CATEGORY_ZH[Category(value)]
    except ValueError:
        return value


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def report_csv(report: StatisticsReport) -> bytes:
    """The report's CSV as stored on it (amounts in fen), UTF-8 with a byte-order mark."""
    return ("\ufeff" + report.csv).encode("utf-8")


def report_pdf(report: StatisticsReport, supervisor: str) -> bytes:
    """The report as a PDF: who it is for, the period, and one table row per category and region."""
    period = statistics.Period(report.period)
    pdf = rendering._Document(f"统计报表 {report.label}", report.created_at)
    pdf.heading("公共资源交易统计报表", f"{PERIOD_ZH[period]} · {report.label}")
    last_day = report.ends_on - timedelta(days=1)
    pdf.fields(
        [
            ("监管部门", supervisor),
            ("统计期间", f"{rendering.chinese_date(report.starts_on)} 至 {rendering.chinese_date(last_day)}"),
            ("交易类别", "、".join(_category(c) for c in report.categories)),
            ("生成时间", rendering.shanghai_time(report.created_at)),
        ]
    )
    rows = [statistics.Row(**r) for r in report.rows]
    pdf.grid(
        HEADINGS,
        [
            (
                _category(r.category),
                r.region_code,
                str(r.lots),
                str(r.awarded),
                str(r.failed),
                _rate(r.failure_rate),
                rendering.yuan(r.amount_fen),
                f"{r.average_bidders:.1f}",
                rendering.yuan(r.savings_fen),
                _rate(r.savings_rate),
            )
            for r in rows
        ]
        or [("本期无成交或流标项目", "", "", "", "", "", "", "", "", "")],
        WIDTHS,
        "LLRRRRRRRR",
    )
    pdf.closing(rendering._AUDIT_NOTE)
    return pdf.render()


async def keep(report: StatisticsReport, supervisor: str) -> list[Document]:
    """Stores the report's CSV and PDF as its documents (in the caller's transaction, if any)."""
    name = f"统计报表-{report.label}-{PERIOD_ZH[statistics.Period(report.period)]}"

    def made(suffix: str, kind: str | None) -> Made:
        return Made(
            name=f"{name}.{suffix}",
            purpose=PURPOSE,
            owner_type=OWNER,
            owner_id=report.id,
            lot_id=None,
            organisation_id=report.supervisor_id,
            kind=kind,
        )

    return [
        await keep_file(io.BytesIO(report_csv(report)), made("csv", "csv")),
        # rendered on the CPU pool: two 10 MB fonts parsed and a page laid out take ~0.4 s here, which held the
        # loop of a worker (or of a server running the workers) that long after each start, when reports are made
        await keep_file(io.BytesIO(await cpu.run(report_pdf, report, supervisor)), made("pdf", None)),
    ]


async def has_files(report_id: int) -> bool:
    return await Document.exists(owner_type=OWNER, owner_id=report_id, purpose=PURPOSE)
