"""Public credit records, commitments and repair over HTTP (issue 23): a bad record is published masked for its
period and withdrawn by the chronograph (officials keep it); a winner that declines breaks the commitment it signed
and gets a bad record announced on its lot; a supervisor finds a false commitment; a repair after the minimum period
is approved and withdraws the record early; a repair too early or of another's record is refused as data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from domain.common import chronograph
from tests import factories as f
from tests.scenarios.test_certificates import supervisor_of
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_results import AWARD, PRICES, PUBLISH, bid, opened
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.schema.test_changes import CHANGES
from tests.support import documents as docs

PUBLIC = """query($code: String) { creditPublicRecords(creditCode: $code) {
  id organisationName creditCode severity severityText title summary basis publishedAt publicUntil repairableFrom
  announcementId withdrawnAt } }"""
OFFICIAL = """query($org: ID!) { creditPublications(organisationId: $org) {
  id title summary withdrawnAt withdrawnReason } }"""
PERIODS = "{ creditPublicityPeriods { severity publicityDays minimumDays basis } }"
TEXT = "{ creditCommitmentText { version title body sha256 } }"
SIGN = """mutation($input: CreditCommitmentSignInput!) { creditCommitmentSign(input: $input) {
  __typename ... on CreditCommitmentSigned { commitment { id stage version certificateSigned breachedAt } }
  ... on Error { code message } } }"""
MINE = "query($lotId: ID) { myCreditCommitments(lotId: $lotId) { id stage breachedAt } }"
LOT_COMMITMENTS = "query($lotId: ID!) { lotCreditCommitments(lotId: $lotId) { id stage breachedAt } }"
BREACH = """mutation($input: CreditCommitmentBreachInput!) { creditCommitmentBreach(input: $input) {
  __typename ... on CreditCommitmentBreached { commitment { breachedAt } } ... on Error { code message } } }"""
WITHDRAW = """mutation($input: AwardWithdrawInput!) { awardWithdraw(input: $input) {
  __typename ... on Error { code message } } }"""
ANNOUNCEMENT = "query($id: ID!) { node(id: $id) { ... on Announcement { type typeName title bodyHtml } } }"
APPLY = """mutation($input: CreditRepairApplyInput!) { creditRepairApply(input: $input) {
  __typename ... on CreditRepairChanged { repair { id status documentIds } }
  ... on CreditRepairTooEarly { repairableFrom } ... on Error { code message } } }"""
DECIDE = """mutation($input: CreditRepairDecideInput!) { creditRepairDecide(input: $input) {
  __typename ... on CreditRepairChanged { repair { status decisionNote } } ... on Error { code message } } }"""
SUPERVISED = "{ supervisedCreditRepairs { id status statement } }"
RECORD = f.CREDIT_RECORD


def bad_record(org_id: str) -> dict[str, Any]:
    """A bad record naming the project manager with the ID and phone numbers in its description."""
    return {
        **f.credit_record(org_id),
        "description": "项目经理：张伟明提供虚假业绩材料，身份证号370202198001011234，联系电话13912345678",
    }


async def public_codes(api: Any) -> list[str]:
    return [r["creditCode"] for r in (await api.gql(PUBLIC))["data"]["creditPublicRecords"]]


async def test_a_bad_record_is_published_masked_and_withdrawn_when_its_period_ends(api, manual_clock):
    # given an organisation and an operator
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    org_id, _, _ = await f.approved_org(api, operator)

    # when the operator records bad conduct naming a person, an ID number and a phone
    added = await api.gql(RECORD, {"input": bad_record(org_id)}, token=operator)
    assert added["data"]["creditRecordAdd"]["__typename"] == "CreditRecordAdded", added
    await api.dispatch()

    # then anyone, without a token, finds it in public view for a year, with the person's data masked
    [public] = (await api.gql(PUBLIC))["data"]["creditPublicRecords"]
    assert (public["severity"], public["severityText"]) == ("GENERAL", "一般失信行为")
    assert "第58号" in public["basis"]
    assert "张**" in public["summary"]
    assert "张伟明" not in public["summary"]
    assert "370202198001011234" not in public["summary"]
    assert "13912345678" not in public["summary"]
    assert "139****5678" in public["summary"]
    assert public["withdrawnAt"] is None
    periods = (await api.gql(PERIODS))["data"]["creditPublicityPeriods"]
    assert [(p["severity"], p["publicityDays"], p["minimumDays"]) for p in periods] == [
        ("GENERAL", 365, 90),
        ("SERIOUS", 1095, 365),
    ]
    # and the change feed carries it, masked
    feed = (await api.gql(CHANGES, {"first": 100}, token=operator))["data"]["changes"]["entries"]
    [entry] = [e for e in feed if e["kind"] == "credit.publicised"]
    assert "张伟明" not in str(entry["payload"])

    # when the year has passed and the chronograph runs
    manual_clock.advance(timedelta(days=365, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()

    # then it has left public view, and officials still read it, marked expired
    assert await public_codes(api) == []
    operator = await f.login(api, operator_at)
    [kept] = (await api.gql(OFFICIAL, {"org": org_id}, token=operator))["data"]["creditPublications"]
    assert (kept["id"], kept["withdrawnReason"]) == (public["id"], "expired")
    feed = (await api.gql(CHANGES, {"first": 100}, token=operator))["data"]["changes"]["entries"]
    assert "credit.publicity_ended" in [e["kind"] for e in feed]
    # and a stranger reads nothing of it
    _, _, stranger = await f.approved_org(api, operator)
    assert (await api.gql(OFFICIAL, {"org": org_id}, token=stranger))["data"]["creditPublications"] == []


async def sign(api: Any, token: str, lot_id: str, stage: str, version: int = 1) -> dict[str, Any]:
    body = await api.gql(SIGN, {"input": {"lotId": lot_id, "stage": stage, "version": version}}, token=token)
    return dict(body["data"]["creditCommitmentSign"])


async def test_a_winner_that_declines_breaks_its_commitment_and_gets_a_bad_record_announced(api, manual_clock):
    # given a tender whose three bidders signed the commitment at registration and with their bids
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    text = (await api.gql(TEXT))["data"]["creditCommitmentText"]
    assert text["version"] == 1
    assert "不放弃中标" in text["body"]
    phones = []
    for price in PRICES[:3]:
        phone, token = await registered_bidder(api, operator, lot["id"])
        outdated = await sign(api, token, lot["id"], "REGISTRATION", version=0)
        assert outdated["code"] == "COMMITMENT_VERSION_OUTDATED", outdated
        for stage in ("REGISTRATION", "BID"):
            signed = await sign(api, token, lot["id"], stage)
            assert signed["__typename"] == "CreditCommitmentSigned", signed
            assert signed["commitment"]["certificateSigned"] is False  # no certificate bound: unsigned is allowed
        await bid(api, token, lot["id"], lot["tradeCode"], price)
        phones.append(phone)
    # and the lot awarded to the lowest price (the second bidder)
    await opened(api, manual_clock, lot["id"], phones)
    tenderer = await f.login(api, tenderer_phone)
    published = await api.gql(PUBLISH, {"input": {"lotId": lot["id"]}}, token=tenderer)
    assert published["data"]["candidatesPublish"]["__typename"] == "CandidatesPublished", published
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]["resultAward"]
    assert awarded["__typename"] == "LotAwarded", awarded
    await api.dispatch()
    winner = await f.login(api, phones[1])

    # when the winner declines the award
    decline = {"lotId": lot["id"], "ground": "DECLINED", "detail": "产能不足，放弃中标"}
    declined = (await api.gql(WITHDRAW, {"input": decline}, token=winner))["data"]["awardWithdraw"]
    assert declined["__typename"] == "AwardWithdrawn", declined
    await api.dispatch()
    await api.dispatch()

    # then its commitments show the breach, and a bad record is in public view with the lot's 不良行为记录公告
    mine = (await api.gql(MINE, {"lotId": lot["id"]}, token=winner))["data"]["myCreditCommitments"]
    assert {c["stage"] for c in mine} == {"REGISTRATION", "BID"}
    assert any(c["breachedAt"] for c in mine)
    [public] = (await api.gql(PUBLIC))["data"]["creditPublicRecords"]
    assert public["title"] == "违反信用承诺"
    assert "放弃中标" in public["summary"]
    notice = (await api.gql(ANNOUNCEMENT, {"id": public["announcementId"]}))["data"]["node"]
    assert (notice["type"], notice["typeName"]) == ("BAD_CONDUCT", "不良行为记录公告")
    assert public["creditCode"] in notice["bodyHtml"]

    # when a supervisor of the category finds the third bidder's commitment false, and another finds it twice
    operator = await f.login(api, operator_at)
    supervisor = await supervisor_of(api, operator, "ENGINEERING_CONSTRUCTION")
    other = await supervisor_of(api, operator, "GOVERNMENT_PROCUREMENT")
    third = await f.login(api, phones[2])
    [mine_third, *_] = (await api.gql(MINE, {"lotId": lot["id"]}, token=third))["data"]["myCreditCommitments"]
    finding = {"commitmentId": mine_third["id"], "description": "承诺无串通投标，经查与他人串通", "serious": True}
    stranger = (await api.gql(BREACH, {"input": finding}, token=other))["data"]["creditCommitmentBreach"]
    found = (await api.gql(BREACH, {"input": finding}, token=supervisor))["data"]["creditCommitmentBreach"]
    again = (await api.gql(BREACH, {"input": finding}, token=supervisor))["data"]["creditCommitmentBreach"]
    await api.dispatch()
    # then the supervisor of another category sees no such commitment, the right one records the breach once
    assert stranger["code"] == "NOT_FOUND", stranger
    assert found["__typename"] == "CreditCommitmentBreached", found
    assert again["code"] == "COMMITMENT_ALREADY_BREACHED", again
    serious = [r for r in (await api.gql(PUBLIC))["data"]["creditPublicRecords"] if r["severity"] == "SERIOUS"]
    assert len(serious) == 1
    assert "串通" in serious[0]["summary"]
    listed = (await api.gql(LOT_COMMITMENTS, {"lotId": lot["id"]}, token=supervisor))["data"]["lotCreditCommitments"]
    assert len(listed) == 6
    assert (await api.gql(LOT_COMMITMENTS, {"lotId": lot["id"]}, token=other))["data"]["lotCreditCommitments"] == []


def report_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + "整改报告：已退还不当得利并完成培训".encode() + b"\n%%EOF\n")
    return path


async def evidence(api: Any, token: str, org_id: str, path: Path) -> str:
    """A PDF of purpose CREDIT_REPAIR_EVIDENCE handed in by the organisation; its document id."""
    granted = await docs.grant(api, token, "CREDIT_REPAIR_EVIDENCE", org_id, path)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, path)
    done = (await api.gql(docs.UPLOAD, {"id": granted["upload"]["id"]}, token=token))["data"]["documentUpload"]
    assert done["status"] == "COMPLETE", done
    return str(done["documentId"])


async def test_a_repair_after_the_minimum_period_is_approved_and_withdraws_the_record_early(
    api, manual_clock, tmp_path
):
    # given an organisation with a bad record in public view, and another organisation
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    org_id, phone, token = await f.approved_org(api, operator)
    _, _, stranger = await f.approved_org(api, operator)
    await api.gql(RECORD, {"input": bad_record(org_id)}, token=operator)
    await api.dispatch()
    [public] = (await api.gql(PUBLIC))["data"]["creditPublicRecords"]
    doc = await evidence(api, token, org_id, report_pdf(tmp_path / "整改报告.pdf"))
    form = {"publicationId": public["id"], "statement": "已整改，退还不当得利", "documentIds": [doc]}

    # when it applies for repair at once, and another organisation applies for its record
    early = (await api.gql(APPLY, {"input": form}, token=token))["data"]["creditRepairApply"]
    theirs = (await api.gql(APPLY, {"input": form}, token=stranger))["data"]["creditRepairApply"]
    # then both are refused as data: too early (with the date it may), and no such record for the other
    assert early["code"] == "CREDIT_REPAIR_TOO_EARLY", early
    assert early["repairableFrom"] == public["repairableFrom"]
    assert theirs["code"] == "NOT_FOUND", theirs
    # and a document that is not its own is refused too
    _, _, other_token = await f.approved_org(api, operator)
    other_org = (await api.gql("{ me { organisation { id } } }", token=other_token))["data"]["me"]["organisation"]["id"]
    foreign = await evidence(api, other_token, other_org, report_pdf(tmp_path / "他人材料.pdf"))

    # when three months have passed and it applies with its evidence
    manual_clock.advance(timedelta(days=90, seconds=1))
    token = await f.login(api, phone)
    wrong = (await api.gql(APPLY, {"input": {**form, "documentIds": [foreign]}}, token=token))["data"]
    applied = (await api.gql(APPLY, {"input": {**form, "idempotencyKey": "r-1"}}, token=token))["data"]
    replayed = (await api.gql(APPLY, {"input": {**form, "idempotencyKey": "r-1"}}, token=token))["data"]
    twice = (await api.gql(APPLY, {"input": form}, token=token))["data"]["creditRepairApply"]
    assert wrong["creditRepairApply"]["code"] == "INVALID_INPUT"
    repair = applied["creditRepairApply"]["repair"]
    assert repair["status"] == "pending"
    assert replayed["creditRepairApply"]["repair"]["id"] == repair["id"]
    assert twice["code"] == "CREDIT_REPAIR_PENDING", twice

    # (until then the record weighs on its credit rating)
    mine = """query { myCreditRating { score contributions { recordId } } }"""
    before = (await api.gql(mine, token=token))["data"]["myCreditRating"]
    assert before["contributions"], before

    # then a supervisor sees it waiting and approves it
    supervisor = await supervisor_of(api, await f.login(api, operator_at), "ENGINEERING_CONSTRUCTION")
    waiting = (await api.gql(SUPERVISED, token=supervisor))["data"]["supervisedCreditRepairs"]
    assert [w["id"] for w in waiting] == [repair["id"]]
    decision = {"repairId": repair["id"], "approve": True, "note": "整改到位，准予修复"}
    decided = (await api.gql(DECIDE, {"input": decision}, token=supervisor))["data"]["creditRepairDecide"]
    assert decided["repair"]["status"] == "approved", decided
    again = (await api.gql(DECIDE, {"input": decision}, token=supervisor))["data"]["creditRepairDecide"]
    assert again["code"] == "INVALID_TRANSITION", again
    await api.dispatch()

    # and the organisation heard of its record once (at its recording, not again at its publication) and that the
    # repair was approved, in its inbox
    inbox = "query { myNotifications(first: 50) { edges { node { kind title body } } } }"
    notes = [e["node"] for e in (await api.gql(inbox, token=token))["data"]["myNotifications"]["edges"]]
    titles = [n["title"] for n in notes if n["kind"] == "CREDIT_RECORDED"]
    assert titles.count("新增不良信用记录") == 1, notes
    assert "不良行为记录已公开" not in titles, notes
    assert "信用修复申请已通过" in titles, notes
    assert any("整改到位，准予修复" in n["body"] for n in notes)

    # and the repaired record no longer counts in its rating
    after = (await api.gql(mine, token=token))["data"]["myCreditRating"]
    assert after["contributions"] == [], after
    assert after["score"] > before["score"], (before, after)

    # and the record leaves public view long before its year, kept for officials as repaired
    assert await public_codes(api) == []
    operator = await f.login(api, operator_at)
    [kept] = (await api.gql(OFFICIAL, {"org": org_id}, token=operator))["data"]["creditPublications"]
    assert kept["withdrawnReason"] == "repaired"
    # and the chronograph leaves it so
    manual_clock.advance(timedelta(days=400))
    await chronograph.fire_due()
    assert await public_codes(api) == []
