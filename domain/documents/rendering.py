"""Documents the platform renders to PDF: the opening record (开标记录), the evaluation report (评标报告), the
award notice (中标通知书) and each witness's signed witness record (见证记录).

Pure: plain data in, PDF bytes out, no database. The Chinese font (Kurinto Sans SC, SIL OFL 1.1, from the
weblate-fonts package) is embedded as a subset, so a reader without Chinese fonts shows the text, and it
stays extractable. The same data gives the same bytes (the creation date is the document's own date and
the file id derives from the content), so the SHA-256 of a rendered PDF can go into the audit chain.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import Align, WrapMode, XPos, YPos

from domain.common.clock import SHANGHAI
from domain.common.money import Money
from domain.publication.procedures import EvaluationMethod

FAMILY = "KurintoSansSC"
FONT_DIR = "static/weblate_fonts/kurinto/ttf"
PLATFORM = "PalmTrade 掌上交易"
GREY = (235, 235, 235)
BODY_PT = 10.5
TABLE_PT = 9.5
LINE_MM = 6.5
HEADINGS = FontFace(emphasis="BOLD", fill_color=GREY)
# a run of printable ASCII (a code, a number, a Latin word) breaks as one; any other character alone
_TOKEN = re.compile(r"[!-~¥]+|.", re.DOTALL)
# 禁则: what may not begin a line, and what may not end one
_NO_START = frozenset("，。、；：？！）》」』】〕〉…—·％,.;:?!)]%")
_NO_END = frozenset("（《「『【〔〈([")
_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_UNITS = ("", "拾", "佰", "仟")
_CAPITAL_GROUPS = ("", "万", "亿", "万亿")
_RANKS = {1: "第一中标候选人", 2: "第二中标候选人", 3: "第三中标候选人"}
_METHODS = {
    EvaluationMethod.LOWEST_PRICE: "经评审的最低投标价法",
    EvaluationMethod.COMPREHENSIVE: "综合评估法",
}


class BidLineStatus(StrEnum):
    """How a bid stands in the opening record; the values are BidStatus's."""

    DECRYPTED = "decrypted"
    INVALID = "invalid"
    PLATFORM_FAULT = "platform_fault"


_STATUS_TEXT = {
    BidLineStatus.DECRYPTED: "已解密",
    BidLineStatus.INVALID: "未解密（撤销）",
    BidLineStatus.PLATFORM_FAULT: "平台故障（撤回）",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningLine:
    """A bid in the opening record: the bidder, its status, its price once decrypted, its receipt digest."""

    bidder: str
    status: BidLineStatus
    receipt_sha256: str
    price_fen: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningObjectionData:
    """An objection raised on the spot and the tenderer's answer, if given."""

    bidder: str
    text: str
    raised_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.raised_at, self.answered_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningRecordData:
    """The opening record (开标记录) of one lot; opened_at is when the decryption window opened."""

    trade_code: str
    lot_name: str
    opened_at: datetime
    closed_at: datetime | None
    lines: tuple[OpeningLine, ...]
    objections: tuple[OpeningObjectionData, ...] = ()

    def __post_init__(self) -> None:
        _aware(self.opened_at, self.closed_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportLine:
    """A bid as the report judged it: rank (None when rejected), votes and scores in hundredths of a point."""

    bidder: str
    price_fen: int
    compliant_votes: int
    non_compliant_votes: int
    rank: int | None = None
    price_score_centi: int | None = None
    technical_centi: int | None = None
    commercial_centi: int | None = None
    total_centi: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationReportData:
    """The evaluation report (评标报告); the committee by expert pool numbers only."""

    trade_code: str
    lot_name: str
    method: EvaluationMethod
    price_weight: int
    technical_weight: int
    commercial_weight: int
    committee: tuple[int, ...]
    lines: tuple[ReportLine, ...]
    lowest_compliant_price_fen: int | None
    report_sha256: str
    reported_at: datetime
    candidates: int = 3

    def __post_init__(self) -> None:
        _aware(self.reported_at)

    @classmethod
    def from_report(
        cls,
        report: Mapping[str, Any],
        *,
        trade_code: str,
        lot_name: str,
        report_sha256: str,
        reported_at: datetime,
        bidders: Mapping[int, str],
        candidates: int = 3,
    ) -> EvaluationReportData:
        """The data of a report made by scoring.rank, with the bidders' names by organisation id."""
        weights = report["weights"]
        return cls(
            trade_code=trade_code,
            lot_name=lot_name,
            method=EvaluationMethod(report["method"]),
            price_weight=int(weights["price"]),
            technical_weight=int(weights["technical"]),
            commercial_weight=int(weights["commercial"]),
            committee=tuple(int(m) for m in report["committee"]),
            lines=tuple(
                ReportLine(
                    bidder=bidders.get(int(line["organisation_id"]), ""),
                    price_fen=int(line["price_fen"]),
                    compliant_votes=int(line["compliant_votes"]),
                    non_compliant_votes=int(line["non_compliant_votes"]),
                    rank=line["rank"],
                    price_score_centi=line["price_score_centi"],
                    technical_centi=line["technical_centi"],
                    commercial_centi=line["commercial_centi"],
                    total_centi=line["total_centi"],
                )
                for line in report["bids"]
            ),
            lowest_compliant_price_fen=report["lowest_compliant_price_fen"],
            report_sha256=report_sha256,
            reported_at=reported_at,
            candidates=candidates,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AwardNoticeData:
    """The award notice (中标通知书) to the winning bidder; notice_no is the award's confirmation number."""

    notice_no: str
    trade_code: str
    lot_name: str
    tenderer: str
    winner: str
    price_fen: int
    issued_on: date
    contract_days: int = 30
    contract_due_on: date | None = None


# ---------------------------------------------------------------- text


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessEntryData:
    """An entry of a witness record: its number, the stage witnessed, observation or anomaly, the text, when."""

    seq: int
    stage: str
    kind: str
    text: str
    at: datetime

    def __post_init__(self) -> None:
        _aware(self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class WitnessRecordData:
    """A witness's signed record (见证记录) of one lot: who witnessed, the entries, the signed content's digest and
    the signing certificate's subject."""

    trade_code: str
    lot_name: str
    witness: str
    organisation: str
    entries: tuple[WitnessEntryData, ...]
    content_sha256: str
    signer: str
    signed_at: datetime

    def __post_init__(self) -> None:
        _aware(self.signed_at)


def yuan(fen: int) -> str:
    """An amount of integer fen as people read it: ¥12,345,678.90."""
    return f"¥{Money(fen).yuan_text()}"


def capital_yuan(fen: int) -> str:
    """An amount in capital numerals (大写) as on financial documents: 壹万贰仟叁佰肆拾伍元陆角柒分."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError("an amount is a non-negative integer of fen")
    whole, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if whole >= 10 ** (4 * len(_CAPITAL_GROUPS)):
        raise ValueError("amount too large")
    text = f"{_capital_integer(whole)}元" if whole else ""
    if not cents:
        return f"{text or '零元'}整"
    if jiao:
        text += f"{_CAPITAL_DIGITS[jiao]}角"
    elif whole:
        text += "零"
    return text + (f"{_CAPITAL_DIGITS[fen_digit]}分" if fen_digit else "整")


def _capital_integer(n: int) -> str:
    groups: list[int] = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    text, gap = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if not group:
            gap = True
            continue
        if text and (gap or group < 1000):
            text += "零"
        text += _capital_group(group) + _CAPITAL_GROUPS[index]
        gap = False
    return text


def _capital_group(group: int) -> str:
    text, zero = "", False
    for position in (3, 2, 1, 0):
        digit = group // 10**position % 10
        if not digit:
            zero = bool(text)
            continue
        if zero:
            text += "零"
        text += _CAPITAL_DIGITS[digit] + _CAPITAL_UNITS[position]
        zero = False
    return text


def _aware(*times: datetime | None) -> None:
    if any(when is not None and when.utcoffset() is None for when in times):
        raise ValueError("a time in a document must be timezone-aware")


def shanghai_time(when: datetime) -> str:
    """An aware time in Asia/Shanghai with the zone named: 2026-03-01 09:30:00 Asia/Shanghai (UTC+08:00)."""
    _aware(when)
    local = when.astimezone(SHANGHAI)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} Asia/Shanghai (UTC{offset[:3]}:{offset[3:]})"


def chinese_date(day: date) -> str:
    """A day as written in Chinese documents: 2026年3月31日."""
    return f"{day.year}年{day.month}月{day.day}日"


def short_sha256(digest: str) -> str:
    """A SHA-256 hex digest shortened to its first and last eight characters."""
    value = digest.lower()
    return value if len(value) <= 17 else f"{value[:8]}…{value[-8:]}"


def _points(centi: int | None) -> str:
    return "—" if centi is None else f"{centi // 100}.{centi % 100:02d}"


def _optional_time(when: datetime | None) -> str:
    return "—" if when is None else shanghai_time(when)


# ---------------------------------------------------------------- layout


@cache
def font_path(style: str = "") -> Path:
    """The embedded font's file (Kurinto Sans SC, Regular or Bold) in the weblate-fonts package."""
    name = "KurintoSansSC-Bd.ttf" if style == "B" else "KurintoSansSC-Rg.ttf"
    return Path(str(files("weblate_fonts").joinpath(FONT_DIR, name)))


class _Document(FPDF):
    """An A4 page set in the embedded font, with the document's name and page numbers in the footer."""

    def __init__(self, title: str, dated: datetime) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._document_title = title
        self.add_font(FAMILY, "", font_path(""))
        self.add_font(FAMILY, "B", font_path("B"))
        self.set_creation_date(dated.astimezone(SHANGHAI))
        self.set_title(title)
        self.set_lang("zh-CN")
        self.set_creator(PLATFORM)
        self.set_producer(PLATFORM)
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=22)
        self.add_page()
        self.set_font(FAMILY, size=BODY_PT)

    def footer(self) -> None:
        """The document's name and the page number."""
        self.set_y(-16)
        self.set_font(FAMILY, size=8)
        self.set_text_color(110)
        self.cell(0, 6, f"{PLATFORM} · {self._document_title} · 第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")
        self.set_text_color(0)

    def heading(self, text: str, subtitle: str = "") -> None:
        """The document's title, centred, with an optional line under it."""
        self.set_font(FAMILY, "B", 20)
        self.cell(0, 12, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.set_font(FAMILY, size=BODY_PT)
            self.cell(0, LINE_MM, subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, size=BODY_PT)
        self.ln(4)

    def section(self, text: str) -> None:
        """A section title."""
        self.ln(3)
        self.set_font(FAMILY, "B", 12)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, size=BODY_PT)

    def wrap(self, text: str, width: float) -> str:
        """Text broken into lines that fit width in the current font, keeping the line-breaking rules (禁则)."""
        return "\n".join(line for part in text.split("\n") for line in self._lines(part, width))

    def _lines(self, text: str, width: float) -> list[str]:
        lines: list[list[str]] = [[]]
        used = 0.0
        for token in self._fitting(_TOKEN.findall(text), width):
            size = self.get_string_width(token)
            line = lines[-1]
            if line and used + size > width and not token.isspace():
                carry: list[str] = []
                if token[0] in _NO_START:
                    while len(line) > 1 and (not carry or carry[0][0] in _NO_START):
                        carry.insert(0, line.pop())
                while len(line) > 1 and line[-1][-1] in _NO_END:
                    carry.insert(0, line.pop())
                while line and line[-1].isspace():
                    line.pop()
                line = carry
                lines.append(line)
                used = sum(self.get_string_width(t) for t in line)
            if token.isspace() and not line and len(lines) > 1:
                continue
            line.append(token)
            used += size
        return ["".join(line) for line in lines]

    def _fitting(self, tokens: Sequence[str], width: float) -> list[str]:
        pieces: list[str] = []
        for token in tokens:
            if len(token) == 1 or self.get_string_width(token) <= width:
                pieces.append(token)
                continue
            chunk = ""
            for char in token:
                if chunk and self.get_string_width(chunk + char) > width:
                    pieces.append(chunk)
                    chunk = ""
                chunk += char
            pieces.append(chunk)
        return pieces

    def paragraph(self, text: str, align: Align = Align.L, bold: bool = False, size: float = BODY_PT) -> None:
        """Running text across the page."""
        self.set_font(FAMILY, "B" if bold else "", size)
        lines = self.wrap(text, self.epw - 2 * self.c_margin - 0.1)
        self.multi_cell(0, LINE_MM * size / BODY_PT, lines, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, size=BODY_PT)

    def fields(self, rows: Sequence[tuple[str, str]]) -> None:
        """Labelled facts, two columns, the labels shaded."""
        self._table((28, 72), "LL", rows, headings=None, label_column=True, size=BODY_PT)

    def grid(
        self, headings: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], aligns: str
    ) -> None:
        """A table with a shaded heading row; aligns has one letter (L, C, R) per column."""
        self._table(widths, aligns, rows, headings=headings, label_column=False, size=TABLE_PT)

    def _table(
        self,
        widths: Sequence[float],
        aligns: str,
        rows: Sequence[Sequence[str]],
        *,
        headings: Sequence[str] | None,
        label_column: bool,
        size: float,
    ) -> None:
        padding = (1.2, 1.5)
        room = [w / sum(widths) * self.epw - 2 * padding[1] - self.line_width - 0.1 for w in widths]
        self.set_font(FAMILY, "B", size)
        titles = [self.wrap(text, room[column]) for column, text in enumerate(headings or ())]
        self.set_font(FAMILY, size=size)
        text_align = tuple({"L": "LEFT", "C": "CENTER", "R": "RIGHT"}[a] for a in aligns)
        with self.table(
            col_widths=tuple(widths),
            first_row_as_headings=headings is not None,
            headings_style=HEADINGS,
            text_align=text_align,
            wrapmode=WrapMode.CHAR,
            line_height=LINE_MM * size / BODY_PT,
            padding=padding,
        ) as table:
            if headings is not None:
                heading = table.row()
                for text in titles:
                    heading.cell(text, align=Align.C)
            for cells in rows:
                row = table.row()
                for column, text in enumerate(cells):
                    if label_column and column == 0:
                        row.cell(text, style=HEADINGS)
                    else:
                        row.cell(self.wrap(text, room[column]))
        self.set_font(FAMILY, size=BODY_PT)
        self.ln(1.5)

    def closing(self, text: str) -> None:
        """The note that ends every document: how to check it."""
        self.ln(6)
        self.set_text_color(90)
        self.paragraph(text, size=8.5)
        self.set_text_color(0)

    def render(self) -> bytes:
        """The PDF file. The document is spent: what it held is let go, and its garbage collected at once in a
        process whose start-up heap is frozen (api/gc_tuning.py).

        Each document parses the two 10 MB Chinese fonts: about 240,000 objects held by about 600 reference
        cycles inside fontTools, so only the collector frees them, and by then they are in the oldest generation,
        which a frozen process with a young threshold of 7,000 collects rarely. The worker's hourly statistics
        reports (8 PDFs in one run) held 1.9 million such blocks at once and left it at 400 MiB of RSS, kept by
        the allocators once the collection came (bench/README.md: Runs for months: the worker's RSS slope). In a
        frozen process the collection costs what was made since start-up (a few ms); in an unfrozen one (tests,
        tools) it would walk the whole heap, and the garbage waits for the collector's own turn."""
        data = bytes(self.output())
        vars(self).clear()  # the fonts, pages and buffers: unreachable now, though the caller holds the document
        if gc.get_freeze_count():
            gc.collect()
        return data


_AUDIT_NOTE = "本文件由 PalmTrade 掌上交易平台生成，文件的 SHA-256 摘要记入平台审计链，可据此核验文件未被改动。"


# ---------------------------------------------------------------- the documents


def opening_record_pdf(record: OpeningRecordData) -> bytes:
    """The opening record (开标记录) as PDF: the lot, the opening time, each bid's line and the objections."""
    pdf = _Document(f"开标记录 {record.trade_code}", record.closed_at or record.opened_at)
    pdf.heading("开标记录", "不见面开标 · 电子投标文件解密")
    decrypted = sum(1 for line in record.lines if line.status is BidLineStatus.DECRYPTED)
    pdf.fields(
        [
            ("标段名称", record.lot_name),
            ("交易标识码", record.trade_code),
            ("开标时间", shanghai_time(record.opened_at)),
            ("解密结束时间", _optional_time(record.closed_at)),
            ("投标文件", f"共 {len(record.lines)} 份，已解密 {decrypted} 份"),
        ]
    )
    pdf.section("一、投标人及开标情况")
    if record.lines:
        pdf.grid(
            ("序号", "投标人", "解密状态", "投标报价（元）", "投标回执 SHA-256"),
            [
                (
                    str(number),
                    line.bidder,
                    _STATUS_TEXT[BidLineStatus(line.status)],
                    yuan(line.price_fen) if line.price_fen is not None else "—",
                    short_sha256(line.receipt_sha256),
                )
                for number, line in enumerate(record.lines, start=1)
            ],
            (12, 48, 31, 33, 46),
            "CLCRC",
        )
    else:
        pdf.paragraph("无。")
    pdf.section("二、开标过程中的异议及答复")
    if not record.objections:
        pdf.paragraph("开标过程中无投标人提出异议。")
    for number, objection in enumerate(record.objections, start=1):
        pdf.paragraph(f"异议 {number}：{objection.bidder}（{shanghai_time(objection.raised_at)}）", bold=True)
        pdf.paragraph(objection.text)
        if objection.answer is None:
            pdf.paragraph("答复：尚未答复。")
        else:
            pdf.paragraph(f"答复（{_optional_time(objection.answered_at)}）：{objection.answer}")
        pdf.ln(2)
    pdf.closing(
        "投标回执 SHA-256 为投标人递交的加密投标文件的摘要（此处显示首尾各 8 位），与投标人所持回执一致。" + _AUDIT_NOTE
    )
    return pdf.render()


def evaluation_report_pdf(report: EvaluationReportData) -> bytes:
    """The evaluation report (评标报告) as PDF: the method, the committee, the ranking with scores, its digest."""
    pdf = _Document(f"评标报告 {report.trade_code}", report.reported_at)
    pdf.heading("评标报告")
    comprehensive = report.method is EvaluationMethod.COMPREHENSIVE
    facts = [
        ("标段名称", report.lot_name),
        ("交易标识码", report.trade_code),
        ("评标办法", _METHODS[EvaluationMethod(report.method)]),
    ]
    if comprehensive:
        facts.append(
            (
                "分值构成",
                f"价格 {report.price_weight} 分，技术 {report.technical_weight} 分，商务 {report.commercial_weight} 分",
            )
        )
    members = "、".join(str(m) for m in report.committee)
    facts += [
        ("评标委员会", f"专家库编号 {members}（共 {len(report.committee)} 人）"),
        (
            "最低有效报价",
            yuan(report.lowest_compliant_price_fen) if report.lowest_compliant_price_fen is not None else "—",
        ),
        ("报告形成时间", shanghai_time(report.reported_at)),
    ]
    pdf.fields(facts)

    ranked = sorted((line for line in report.lines if line.rank is not None), key=lambda line: line.rank or 0)
    rejected = [line for line in report.lines if line.rank is None]
    pdf.section("一、评审排名及中标候选人")
    if not ranked:
        pdf.paragraph("所有投标均未通过符合性审查，评标委员会依法否决全部投标，本次招标失败（流标）。")
    elif comprehensive:
        pdf.grid(
            ("排名", "投标人", "投标报价（元）", "价格分", "技术分", "商务分", "总分", "推荐"),
            [
                (
                    str(line.rank),
                    line.bidder,
                    yuan(line.price_fen),
                    _points(line.price_score_centi),
                    _points(line.technical_centi),
                    _points(line.commercial_centi),
                    _points(line.total_centi),
                    _candidate(line.rank, report.candidates),
                )
                for line in ranked
            ],
            (12, 44, 30, 14, 14, 14, 14, 28),
            "CLRRRRRC",
        )
    else:
        pdf.grid(
            ("排名", "投标人", "投标报价（元）", "表决（合格/不合格）", "推荐"),
            [
                (
                    str(line.rank),
                    line.bidder,
                    yuan(line.price_fen),
                    f"{line.compliant_votes} / {line.non_compliant_votes}",
                    _candidate(line.rank, report.candidates),
                )
                for line in ranked
            ],
            (12, 58, 34, 36, 30),
            "CLRCC",
        )
    pdf.section("二、被否决的投标")
    if rejected:
        pdf.grid(
            ("投标人", "投标报价（元）", "表决（合格/不合格）"),
            [
                (line.bidder, yuan(line.price_fen), f"{line.compliant_votes} / {line.non_compliant_votes}")
                for line in rejected
            ],
            (70, 45, 55),
            "LRC",
        )
        pdf.paragraph("投标须经评标委员会成员过半数认定为合格，方进入评审排名。")
    else:
        pdf.paragraph("无。")
    pdf.section("三、报告摘要")
    pdf.paragraph("评标报告 SHA-256：")
    pdf.paragraph(report.report_sha256.lower())
    pdf.closing(
        "报告摘要为评标报告完整数据（各评委的评审意见、表决与评分）的规范 JSON 的 SHA-256，"
        "持有报告数据者可据此核验。" + _AUDIT_NOTE
    )
    return pdf.render()


def _candidate(rank: int | None, candidates: int) -> str:
    if rank is None or rank > candidates:
        return ""
    return _RANKS.get(rank, f"第{rank}中标候选人")


def award_notice_pdf(notice: AwardNoticeData) -> bytes:
    """The award notice (中标通知书) as PDF: to the winning bidder, from the tenderer, with the price."""
    dated = datetime.combine(notice.issued_on, time(), tzinfo=SHANGHAI)
    pdf = _Document(f"中标通知书 {notice.notice_no}", dated)
    pdf.heading("中标通知书")
    pdf.cell(0, LINE_MM, f"编号：{notice.notice_no}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.paragraph(f"{notice.winner}：", bold=True)
    pdf.ln(1)
    pdf.paragraph(
        f"　　{notice.tenderer}的{notice.lot_name}（交易标识码 {notice.trade_code}）招标，"
        "经评标委员会评审推荐、中标候选人公示期满，确定你单位为中标人。"
    )
    pdf.ln(2)
    pdf.fields(
        [
            ("标段名称", notice.lot_name),
            ("交易标识码", notice.trade_code),
            ("招标人", notice.tenderer),
            ("中标人", notice.winner),
            ("中标价", f"{yuan(notice.price_fen)}（人民币{capital_yuan(notice.price_fen)}）"),
        ]
    )
    pdf.ln(2)
    due = f"（即{chinese_date(notice.contract_due_on)}前）" if notice.contract_due_on else ""
    pdf.paragraph(
        f"　　请你单位自本通知书发出之日起 {notice.contract_days} 日内{due}，按照招标文件和你单位的投标文件"
        "与招标人订立书面合同。"
    )
    pdf.paragraph("　　依据《中华人民共和国招标投标法》第四十五条、第四十六条，本通知书对招标人和中标人具有法律效力。")
    pdf.ln(12)
    pdf.cell(0, LINE_MM, f"招标人：{notice.tenderer}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, LINE_MM, chinese_date(notice.issued_on), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.closing(_AUDIT_NOTE)
    return pdf.render()


_WITNESS_STAGES = {"opening": "开标", "evaluation": "评标", "other": "其他"}
_WITNESS_KINDS = {"observation": "见证情况", "anomaly": "异常情况"}


def witness_record_pdf(record: WitnessRecordData) -> bytes:
    """A witness's signed record (见证记录) as PDF: the lot, the witness, every entry, the signed content's digest."""
    pdf = _Document(f"见证记录 {record.trade_code}", record.signed_at)
    pdf.heading("见证记录", "公共资源交易见证 · 远程见证")
    anomalies = sum(1 for e in record.entries if e.kind == "anomaly")
    pdf.fields(
        [
            ("标段名称", record.lot_name),
            ("交易标识码", record.trade_code),
            ("见证人", record.witness),
            ("见证机构", record.organisation),
            ("记载", f"共 {len(record.entries)} 条，其中异常情况 {anomalies} 条"),
            ("签章时间", shanghai_time(record.signed_at)),
        ]
    )
    pdf.section("一、见证记载")
    if record.entries:
        pdf.grid(
            ("序号", "环节", "类别", "记载内容", "记载时间"),
            [
                (
                    str(e.seq),
                    _WITNESS_STAGES.get(e.stage, e.stage),
                    _WITNESS_KINDS.get(e.kind, e.kind),
                    e.text,
                    shanghai_time(e.at),
                )
                for e in record.entries
            ],
            (10, 14, 18, 90, 38),
            "CCCLC",
        )
    else:
        pdf.paragraph("无。")
    pdf.section("二、签章")
    pdf.paragraph(f"见证人以数字证书签章：{record.signer}")
    pdf.paragraph("签章内容（规范 JSON）SHA-256：")
    pdf.paragraph(record.content_sha256.lower())
    pdf.closing(
        "签章内容为见证记录的规范 JSON（act witness.record），签名及证书载于本标段的证据包，可离线核验。" + _AUDIT_NOTE
    )
    return pdf.render()
