"""Scheduled statistics reports as files over HTTP: at the half-year's end each supervisor organisation gets its
report as CSV and PDF kept in the documents store; its supervisor downloads both through documentDownload's signed
links (the bytes are the report's own, their SHA-256 the document's); another supervisor organisation and an
anonymous caller get nothing, operators read them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.documents.models import Document
from domain.supervision import reports
from domain.supervision.report_models import StatisticsReport
from tests import factories as f
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_supervision import seed_concluded_lots
from tests.support import documents as docs

BJ = ZoneInfo("Asia/Shanghai")
JULY = datetime(2026, 7, 1, 1, tzinfo=BJ)  # the step's time: the first half of 2026 has ended
REPORTS = """query($period: StatisticsPeriod) { statisticsReports(period: $period) { id label csv
  files { id name kind mediaType purpose sha256 size } } }"""
REPORT = """query($id: ID!) { statisticsReport(id: $id) { id files { id } } }"""
DOCUMENTS = """query($ownerId: ID!) { documents(purpose: STATISTICS_REPORT, ownerId: $ownerId) { id } }"""


async def half_year(api: Any, token: str) -> dict[str, Any]:
    found = (await api.gql(REPORTS, {"period": "HALF_YEAR"}, token=token))["data"]["statisticsReports"]
    assert len(found) == 1, found
    return dict(found[0])


async def test_a_supervisor_downloads_its_report_files_and_no_one_else_may(api):
    # given lots concluded in the first half of 2026 and two supervisor organisations of engineering construction
    await seed_concluded_lots()
    operator = await f.operator_token(api)
    mine = await f.login(api, await supervisor_phone(api, operator))
    theirs = await f.login(api, await supervisor_phone(api, operator))

    # when the scheduled step runs after the half-year ended
    assert await reports.produce_due(JULY) == 8

    # then the supervisor's half-year report has its CSV and its PDF, as documents of the report
    report = await half_year(api, mine)
    assert report["label"] == "2026-H1"
    files = {d["kind"]: d for d in report["files"]}
    assert set(files) == {"csv", "pdf"}
    assert {d["purpose"] for d in files.values()} == {"STATISTICS_REPORT"}
    assert files["csv"]["mediaType"] == "text/csv; charset=utf-8"
    assert files["csv"]["name"] == "统计报表-2026-H1-半年报.csv"
    assert files["pdf"]["mediaType"] == "application/pdf"

    # when its supervisor downloads each through a signed link
    csv_link = await docs.link(api, mine, files["csv"]["id"])
    pdf_link = await docs.link(api, mine, files["pdf"]["id"])
    assert (csv_link["__typename"], pdf_link["__typename"]) == ("DocumentDownloadGranted", "DocumentDownloadGranted")
    csv_got = await docs.fetch(csv_link["link"]["url"])
    pdf_got = await docs.fetch(pdf_link["link"]["url"])
    # then the CSV is the report's own figures (UTF-8 with a byte-order mark), the PDF a PDF, each as stored
    assert csv_got.status_code == 200
    assert csv_got.content == ("\ufeff" + report["csv"]).encode("utf-8")
    assert "engineering_construction" in csv_got.content.decode("utf-8-sig")
    assert pdf_got.content.startswith(b"%PDF")
    for got, doc in ((csv_got, files["csv"]), (pdf_got, files["pdf"])):
        assert (hashlib.sha256(got.content).hexdigest(), len(got.content)) == (doc["sha256"], doc["size"])

    # and another supervisor organisation may neither fetch them nor see the report or its files
    for doc in files.values():
        assert (await docs.link(api, theirs, doc["id"]))["code"] == "NOT_FOUND"
    assert (await api.gql(REPORT, {"id": report["id"]}, token=theirs))["data"]["statisticsReport"] is None
    assert (await api.gql(DOCUMENTS, {"ownerId": report["id"]}, token=theirs))["data"]["documents"] == []
    assert (await api.gql(DOCUMENTS, {"ownerId": report["id"]}, token=mine))["data"]["documents"] != []
    # and its own report's files are its own
    other = await half_year(api, theirs)
    assert other["id"] != report["id"]
    assert {d["id"] for d in other["files"]}.isdisjoint({d["id"] for d in files.values()})
    # and an anonymous caller gets nothing
    assert (await docs.link(api, None, files["pdf"]["id"]))["code"] == "NOT_FOUND"
    assert (await api.gql(DOCUMENTS, {"ownerId": report["id"]}))["data"]["documents"] == []
    # and an operator may fetch them
    granted = await docs.link(api, operator, files["pdf"]["id"])
    assert (await docs.fetch(granted["link"]["url"])).content == pdf_got.content


async def test_a_report_made_before_reports_had_files_gets_them_at_the_next_run(api):
    # given a supervisor's reports made, then their files gone (as for reports stored before this change)
    await seed_concluded_lots()
    operator = await f.operator_token(api)
    mine = await f.login(api, await supervisor_phone(api, operator))
    assert await reports.produce_due(JULY) == 4
    await Document.filter(purpose="statistics_report").delete()
    assert (await half_year(api, mine))["files"] == []
    # when the step runs again
    assert await reports.produce_due(JULY) == 0
    # then no report is made twice, and each has its two files again
    assert await StatisticsReport.all().count() == 4
    assert sorted(d["kind"] for d in (await half_year(api, mine))["files"]) == ["csv", "pdf"]
