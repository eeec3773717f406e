"""The platform's PDF documents: the opening record, the evaluation report and the award notice carry their
Chinese text in an embedded font subset, their text can be extracted, and the same data gives the same bytes."""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fpdf.fonts import TTFFont
from pypdf import PdfReader

from domain.common.events import digest
from domain.documents import rendering
from domain.documents.rendering import (
    AwardNoticeData,
    BidLineStatus,
    EvaluationReportData,
    OpeningLine,
    OpeningObjectionData,
    OpeningRecordData,
    ReportLine,
    award_notice_pdf,
    capital_yuan,
    evaluation_report_pdf,
    opening_record_pdf,
)
from domain.evaluation.scoring import BidFacts, Judgement, rank
from domain.publication.procedures import EvaluationMethod

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
LOT = "城东污水处理厂提标改造工程施工（一标段）"
CODE = "JS2026-0001-01"
BIDDERS = {
    101: "江苏长江建设集团有限公司",
    102: "南京鑫燊市政工程有限公司",
    103: "苏州园区建筑安装工程有限公司",
    104: "无锡太湖路桥股份有限公司",
}
MEMBERS = [1021, 1033, 1047, 1052, 1068]


def receipt(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def opening_record(**changes: object) -> OpeningRecordData:
    data: dict[str, object] = {
        "trade_code": CODE,
        "lot_name": LOT,
        "opened_at": T0,
        "closed_at": T0 + timedelta(hours=1),
        "lines": (
            OpeningLine(
                bidder=BIDDERS[101],
                status=BidLineStatus.DECRYPTED,
                receipt_sha256=receipt("a"),
                price_fen=1_234_567_890,
            ),
            OpeningLine(bidder=BIDDERS[102], status=BidLineStatus.INVALID, receipt_sha256=receipt("b")),
            OpeningLine(bidder=BIDDERS[103], status=BidLineStatus.PLATFORM_FAULT, receipt_sha256=receipt("c")),
            OpeningLine(
                bidder=BIDDERS[104],
                status=BidLineStatus.DECRYPTED,
                receipt_sha256=receipt("d"),
                price_fen=1_198_000_000,
            ),
        ),
        "objections": (
            OpeningObjectionData(
                bidder=BIDDERS[102],
                text="我公司在解密时间内多次提交密钥均提示网络超时，请求核查平台日志。",
                raised_at=T0 + timedelta(minutes=35),
                answer="经核查，平台日志显示贵公司未提交密钥；解密时间不予延长。",
                answered_at=T0 + timedelta(minutes=50),
            ),
        ),
    }
    data.update(changes)
    return OpeningRecordData(**data)  # type: ignore[arg-type]


def evaluation_report() -> EvaluationReportData:
    bids = [
        BidFacts(n, 100 + n, price, T0) for n, price in ((1, 1_234_567_890), (2, 1_198_000_000), (3, 1_300_000_000))
    ]
    sheets = {
        m: [
            Judgement(1, True, None, 4200, 1600),
            Judgement(2, True, None, 4000, 1500),
            Judgement(3, m < 1040, None if m < 1040 else "业绩证明不符合招标文件要求", 3000, 1000),
        ]
        for m in MEMBERS
    }
    report = rank(bids, MEMBERS, sheets, "comprehensive", {"price": 30, "technical": 50, "commercial": 20})
    return EvaluationReportData.from_report(
        report,
        trade_code=CODE,
        lot_name=LOT,
        report_sha256=digest(report),
        reported_at=T0 + timedelta(days=2),
        bidders=BIDDERS,
    )


def award_notice() -> AwardNoticeData:
    return AwardNoticeData(
        notice_no=f"CJ{CODE}",
        trade_code=CODE,
        lot_name=LOT,
        tenderer="某市水务集团有限公司",
        winner=BIDDERS[104],
        price_fen=1_198_000_000,
        issued_on=date(2026, 3, 31),
        contract_due_on=date(2026, 4, 30),
    )


def text_of(pdf: bytes) -> str:
    """The extracted text of every page, without whitespace (lines wrap anywhere in Chinese text)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def render(name: str) -> bytes:
    """The named document rendered from its sample data."""
    if name == "opening":
        return opening_record_pdf(opening_record())
    if name == "report":
        return evaluation_report_pdf(evaluation_report())
    return award_notice_pdf(award_notice())


@pytest.fixture(scope="module")
def warnings_logged() -> Iterator[list[str]]:
    handler = Collected()
    logger = logging.getLogger("fpdf")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


@pytest.fixture(scope="module")
def documents(warnings_logged: list[str]) -> dict[str, bytes]:
    return {name: render(name) for name in ("opening", "report", "award")}


@pytest.mark.parametrize("name", ["opening", "report", "award"])
def test_each_document_is_a_pdf_with_the_chinese_font_embedded_as_a_subset(
    documents: dict[str, bytes], name: str
) -> None:
    # given a rendered document
    pdf = documents[name]
    # then it is a whole PDF file
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    # and its font is Kurinto Sans SC, a subset (tagged name) with the font program in the file
    assert b"/FontFile2" in pdf
    assert b"/BaseFont /MPDFAA+KurintoSansSC" in pdf
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            assert font["/Subtype"] == "/Type0"
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor
            assert str(descriptor["/FontName"]).startswith("/MPDFAA+KurintoSansSC")


@pytest.mark.parametrize("name", ["opening", "report", "award"])
def test_the_same_data_renders_to_the_same_bytes(documents: dict[str, bytes], name: str) -> None:
    # when a document is rendered again from equal data
    again = render(name)
    # then the bytes, so their SHA-256, are the same
    assert again == documents[name]
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(documents[name]).hexdigest()


def test_the_digest_is_reproducible_in_another_process(documents: dict[str, bytes]) -> None:
    # given the opening record rendered in another interpreter, with another hash seed
    script = (
        "import hashlib, sys\n"
        "from tests.domain.documents.test_rendering import opening_record\n"
        "from domain.documents.rendering import opening_record_pdf\n"
        "sys.stdout.write(hashlib.sha256(opening_record_pdf(opening_record())).hexdigest())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    # then its digest is this process's
    assert run.stdout == hashlib.sha256(documents["opening"]).hexdigest()


def test_different_data_renders_differently(documents: dict[str, bytes]) -> None:
    # given an award notice that differs in its date only
    changed = replace(award_notice(), issued_on=date(2026, 4, 1))
    # then the files differ
    assert award_notice_pdf(changed) != documents["award"]


def test_the_opening_record_shows_the_lot_the_time_in_shanghai_each_bid_and_the_objections(
    documents: dict[str, bytes],
) -> None:
    # when the opening record's text is extracted
    text = text_of(documents["opening"])
    # then the lot, the opening time in Asia/Shanghai with its zone
    for expected in ("开标记录", CODE, LOT, "2026-03-0109:30:00Asia/Shanghai(UTC+08:00)"):
        assert squeezed(expected) in text
    # each bidder with its status, price and shortened receipt
    for name in BIDDERS.values():
        assert name in text
    for expected in ("已解密", "未解密（撤销）", "平台故障（撤回）", "¥12,345,678.90", "¥11,980,000.00"):
        assert expected in text
    assert f"{receipt('a')[:8]}…{receipt('a')[-8:]}" in text
    # and the objection with its answer
    assert "请求核查平台日志" in text
    assert "解密时间不予延长" in text


def test_an_opening_without_objections_says_so_and_an_unanswered_objection_shows_it() -> None:
    # given a record without objections, and one whose objection is not answered yet
    quiet = opening_record(objections=())
    pending = opening_record(
        objections=(OpeningObjectionData(bidder=BIDDERS[101], text="报价单位有误。", raised_at=T0),)
    )
    # then
    assert "开标过程中无投标人提出异议" in text_of(opening_record_pdf(quiet))
    assert "答复：尚未答复" in text_of(opening_record_pdf(pending))


def test_the_evaluation_report_shows_the_method_the_committee_the_ranking_with_scores_and_its_digest(
    documents: dict[str, bytes],
) -> None:
    # given the report of the comprehensive method
    report = evaluation_report()
    # when its text is extracted
    text = text_of(documents["report"])
    # then the method and the committee by pool numbers
    assert "评标报告" in text
    assert "综合评估法" in text
    assert "专家库编号1021、1033、1047、1052、1068（共5人）" in text
    # the ranked bids with their scores, the first candidates named so
    ranked = sorted((line for line in report.lines if line.rank), key=lambda line: line.rank or 0)
    assert [line.bidder for line in ranked] == [BIDDERS[101], BIDDERS[102]]
    first = ranked[0]
    assert f"1{BIDDERS[101]}¥12,345,678.90" in text
    assert f"{first.total_centi // 100}.{first.total_centi % 100:02d}第一中标候选人" in text  # type: ignore[operator]
    assert "第二中标候选人" in text
    # the rejected bid with its votes
    assert f"{BIDDERS[103]}¥13,000,000.00" in text
    assert "2/3" in text
    # and the report's full digest
    assert report.report_sha256 in text


def test_from_report_maps_the_scoring_report() -> None:
    # when the data is made from scoring.rank's report
    report = evaluation_report()
    # then the method, weights, committee and every bid line come across
    assert report.method is EvaluationMethod.COMPREHENSIVE
    assert (report.price_weight, report.technical_weight, report.commercial_weight) == (30, 50, 20)
    assert report.committee == tuple(MEMBERS)
    assert report.lowest_compliant_price_fen == 1_198_000_000
    lines = {line.bidder: line for line in report.lines}
    assert (lines[BIDDERS[102]].rank, lines[BIDDERS[102]].price_score_centi) == (2, 3000)
    assert (lines[BIDDERS[103]].rank, lines[BIDDERS[103]].compliant_votes) == (None, 2)


def test_a_report_with_no_compliant_bid_says_the_lot_failed() -> None:
    # given a lowest-price report where nothing complied
    report = EvaluationReportData(
        trade_code=CODE,
        lot_name=LOT,
        method=EvaluationMethod.LOWEST_PRICE,
        price_weight=30,
        technical_weight=50,
        commercial_weight=20,
        committee=(3, 5, 8, 13, 21),
        lines=(ReportLine(bidder=BIDDERS[101], price_fen=500, compliant_votes=1, non_compliant_votes=4),),
        lowest_compliant_price_fen=None,
        report_sha256="ab" * 32,
        reported_at=T0,
    )
    # when
    text = text_of(evaluation_report_pdf(report))
    # then
    assert "经评审的最低投标价法" in text
    assert "本次招标失败（流标）" in text
    assert "1/4" in text


def test_the_award_notice_names_tenderer_winner_lot_price_date_and_number(documents: dict[str, bytes]) -> None:
    # when the notice's text is extracted
    text = text_of(documents["award"])
    # then
    for expected in (
        "中标通知书",
        "编号：CJJS2026-0001-01",
        "某市水务集团有限公司",
        f"{BIDDERS[104]}：",
        LOT,
        CODE,
        "¥11,980,000.00（人民币壹仟壹佰玖拾捌万元整）",
        "2026年3月31日",
        "30日内（即2026年4月30日前）",
    ):
        assert squeezed(expected) in text


def test_a_long_record_runs_over_pages_with_numbered_footers() -> None:
    # given sixty bidders and a long objection
    lines = tuple(
        OpeningLine(
            bidder=f"第{n}建设工程（集团）股份有限公司",
            status=BidLineStatus.DECRYPTED,
            receipt_sha256=receipt(str(n)),
            price_fen=100_000_000 + n,
        )
        for n in range(1, 61)
    )
    objection = OpeningObjectionData(bidder="第1建设工程（集团）股份有限公司", text="异议内容。" * 300, raised_at=T0)
    # when
    pdf = opening_record_pdf(opening_record(lines=lines, objections=(objection,)))
    # then every page is numbered out of the whole, and every bidder is there
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页/共{len(pages)}页" in squeezed(page.extract_text())
    text = text_of(pdf)
    assert all(f"第{n}建设工程（集团）股份有限公司" in text for n in (1, 30, 60))


def test_no_character_of_the_documents_falls_outside_the_font(
    documents: dict[str, bytes], warnings_logged: list[str]
) -> None:
    # when the three documents were rendered, fpdf2 reported no glyph missing from Kurinto Sans SC
    assert len(documents) == 3
    assert not [message for message in warnings_logged if "missing" in message]


def test_times_must_be_timezone_aware() -> None:
    naive = datetime(2026, 3, 1, 9, 30)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        opening_record(opened_at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        OpeningObjectionData(bidder="甲", text="乙", raised_at=T0, answered_at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(evaluation_report(), reported_at=naive)


def test_amounts_in_figures_and_in_capitals() -> None:
    assert rendering.yuan(1_234_567_890) == "¥12,345,678.90"
    assert rendering.yuan(5) == "¥0.05"
    assert capital_yuan(1_234_567_890) == "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"
    assert capital_yuan(1_198_000_000) == "壹仟壹佰玖拾捌万元整"
    assert capital_yuan(100_105) == "壹仟零壹元零伍分"
    assert capital_yuan(10_000_000_100) == "壹亿零壹元整"
    assert capital_yuan(10_001_000_000) == "壹亿零壹万元整"
    assert capital_yuan(101_000) == "壹仟零壹拾元整"
    assert capital_yuan(1_000_050) == "壹万元伍角整"
    assert capital_yuan(50) == "伍角整"
    assert capital_yuan(0) == "零元整"
    with pytest.raises(ValueError, match="non-negative"):
        capital_yuan(-1)


def test_digests_are_shortened_to_their_ends() -> None:
    digest_hex = receipt("x")
    assert rendering.short_sha256(digest_hex.upper()) == f"{digest_hex[:8]}…{digest_hex[-8:]}"


def test_a_rendered_document_leaves_no_garbage_in_a_frozen_process() -> None:
    """In a process whose start-up heap is frozen (api/gc_tuning.py), a rendered document's fonts (about 240,000
    objects in reference cycles) are freed by the time the bytes come back, not when the oldest generation is
    next collected."""
    enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()  # the collector's own turns out of the way: only what render does counts
    try:
        award_notice_pdf(award_notice())
        left = [o for o in gc.get_objects() if isinstance(o, (TTFFont, rendering._Document))]
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
    assert left == []
