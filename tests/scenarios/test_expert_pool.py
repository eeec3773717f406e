"""The expert pool's lifecycle over HTTP (评标专家库管理): a person applies with its certificates, is approved and
trained, is drawn (told by text like every drawn expert), finds a conflict and is replaced by a replacement draw
(补抽); the tenderer's appraisal lowers its rating, a suspension keeps it out of the next draw, and the statistics
show all of it. Suspended, busy and conflicted experts never reach a draw's eligible list."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from domain.accounts.models import Expert
from domain.common import chronograph
from domain.experts.service import sitting_day
from domain.publication.models import Lot
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import int_id, to_global_id
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_expert_draw import COMMIT, REPLACE, SPECIALTY, add_expert, id_number, new_secret, reveal
from tests.scenarios.test_results import inbox
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit
from tests.support import documents as docs

ERR = "... on Error { code message } ... on FieldError { field }"
APPLY = f"""mutation($input: ExpertApplyInput!) {{ expertApply(input: $input) {{ __typename
  ... on ExpertApplied {{ application {{ id status }} }} {ERR} }} }}"""
REVIEW = f"""mutation($input: ExpertApplicationReviewInput!) {{ expertApplicationReview(input: $input) {{ __typename
  ... on ExpertApplicationReviewed {{ application {{ status expertId }} }} {ERR} }} }}"""
TRAIN = f"""mutation($input: ExpertTrainingRecordInput!) {{ expertTrainingRecord(input: $input) {{ __typename
  ... on ExpertTrainingRecorded {{ training {{ course hours passed }} }} {ERR} }} }}"""
BUSY = f"""mutation($input: ExpertAvailabilitySetInput!) {{ expertAvailabilitySet(input: $input) {{ __typename
  ... on ExpertAvailabilitySet {{ busyDays }} {ERR} }} }}"""
DECLARE = f"""mutation($input: ExpertConflictEntityInput!) {{ expertConflictDeclare(input: $input) {{ __typename
  ... on ExpertConflictDeclared {{ conflict {{ relation entityName }} }} {ERR} }} }}"""
REPORT = f"""mutation($input: ExpertConflictReportInput!) {{ expertConflictReport(input: $input) {{ __typename
  ... on ExpertConflictReported {{ report {{ expertId reportedBy replacedInRound }} }} {ERR} }} }}"""
REPORTS = """query($lotId: ID!) { expertConflictReports(lotId: $lotId) { expertId reportedBy replacedInRound
  conflict { relation entityName } } }"""
APPRAISE = f"""mutation($input: ExpertAppraiseInput!) {{ expertAppraise(input: $input) {{ __typename
  ... on ExpertAppraised {{ appraisal {{ byRole attendance diligence conduct }} }} {ERR} }} }}"""
PENALISE = f"""mutation($input: ExpertPenaliseInput!) {{ expertPenalise(input: $input) {{ __typename
  ... on ExpertPenalised {{ penalty {{ kind endsAt }} }} {ERR} }} }}"""
FEE = f"""mutation($input: ExpertFeeRecordInput!) {{ expertFeeRecord(input: $input) {{ __typename
  ... on ExpertFeeRecorded {{ fee {{ amountFen }} }} {ERR} }} }}"""
EXIT = f"""mutation($input: ExpertExitInput!) {{ expertExit(input: $input) {{ __typename
  ... on ExpertExited {{ exit {{ kind }} }} {ERR} }} }}"""
RECORD = """query($id: ID!) { expertRecord(expertId: $id) { poolNumber status draws attendances refusals conflicts
  appraisals rating warnings suspensions feesFen } }"""
STATS = """query($s: String) { expertStatistics(specialty: $s) {
  experts { poolNumber status draws refusals conflicts appraisals rating suspensions feesFen }
  specialties { specialty experts active draws refusals appraisals feesFen } } }"""
FEES = "query($lotId: ID) { expertFees(lotId: $lotId) { expertId amountFen } }"


@dataclass
class Tender:
    operator_at: str
    operator: str
    tenderer: str
    tenderer_at: str
    lot: dict[str, Any]
    bidder_names: list[str]
    day: date


async def tender(api: Any, clock: Any, operator_at: str | None = None) -> Tender:
    """A sealed tender with two bids (deadline in 25 days); the operator and the tenderer signed in."""
    operator_at = operator_at or await operator_phone()
    operator = await f.login(api, operator_at)
    project, tenderer, tenderer_at = await sealed_lot(api, clock, operator)
    lot = project["lots"][0]
    names = []
    for price in (1_200_000_000, 1_210_000_000):
        _, token = await registered_bidder(api, operator, lot["id"])
        assert (await submit(api, token, lot["id"], seal(new_key(), lot["tradeCode"], price, {})))["__typename"] == (
            "BidSubmitted"
        )
        me = await api.gql("query { me { organisation { name } } }", token=token)
        names.append(me["data"]["me"]["organisation"]["name"])
    day = sitting_day(await Lot.get(id=int_id(lot["id"], "Lot")))
    assert day is not None
    return Tender(operator_at, operator, tenderer, tenderer_at, lot, names, day)


async def draw(api: Any, clock: Any, t: Tender) -> dict[str, Any]:
    """Commits a draw of 5, moves past the deadline and reveals it (the operator signed in again)."""
    secret, commitment = new_secret()
    form = {"lotId": t.lot["id"], "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    committed = (await api.gql(COMMIT, {"input": form}, token=t.operator))["data"]["expertDrawCommit"]
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    t.operator = await f.login(api, t.operator_at)
    t.tenderer = await f.login(api, t.tenderer_at)
    return await reveal(api, t.operator, secret, lotId=t.lot["id"], round=1)


def pool_numbers(rows: list[dict[str, Any]]) -> set[int]:
    return {int(r["poolNumber"]) for r in rows}


async def qualification(api: Any, token: str, tmp_path: Path) -> str:
    """The applicant's certificate uploaded as EXPERT_QUALIFICATION; its document's global id."""
    me = (await api.gql("query { me { user { id } } }", token=token))["data"]["me"]["user"]["id"]
    scan = tmp_path / "高级工程师证书.pdf"
    scan.write_bytes(b"%PDF-1.7\n" + os.urandom(20_000))
    granted = await docs.grant(api, token, "EXPERT_QUALIFICATION", me, scan)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, scan)
    listed = await api.gql(docs.LIST, {"purpose": "EXPERT_QUALIFICATION", "ownerId": me}, token=token)
    [doc] = listed["data"]["documents"]
    return str(doc["id"])


def application(document_id: str, phone: str, number: str) -> dict[str, Any]:
    return {
        "name": "王工",
        "idNumber": number,
        "phone": phone,
        "specialties": [SPECIALTY],
        "title": "高级工程师",
        "employerName": "青岛市政设计研究院",
        "documentIds": [document_id],
    }


async def test_an_expert_applies_is_drawn_withdraws_for_a_conflict_is_appraised_and_suspended(
    api, manual_clock, tmp_path
):
    # given a sealed tender with two bids, a pool of seven, and a person who hands in a certificate and applies
    t = await tender(api, manual_clock)
    pool = [await add_expert(api, t.operator, f"专家{n}", [SPECIALTY]) for n in range(7)]
    _, _, person = await f.approved_org(api, t.operator)
    document = await qualification(api, person, tmp_path)
    phone, number = f.new_phone(), id_number()
    form = application(document, phone, number)
    applied = (await api.gql(APPLY, {"input": form}, token=person))["data"]["expertApply"]
    assert applied["__typename"] == "ExpertApplied", applied
    assert applied["application"]["status"] == "submitted"

    # when the same person applies again, it is refused; a non-operator cannot review
    again = (await api.gql(APPLY, {"input": form}, token=person))["data"]["expertApply"]
    assert again["code"] == "EXPERT_APPLICATION_EXISTS"

    # when the operator approves and records a training
    decision = {"applicationId": applied["application"]["id"], "approve": True}
    reviewed = (await api.gql(REVIEW, {"input": decision}, token=t.operator))["data"]["expertApplicationReview"]
    assert reviewed["__typename"] == "ExpertApplicationReviewed", reviewed
    expert_gid = reviewed["application"]["expertId"]
    me = int_id(expert_gid, "Expert")
    course = {
        "expertId": expert_gid,
        "course": "评标专家继续教育",
        "hours": 8,
        "completedOn": "2026-11-20",
        "passed": True,
    }
    trained = (await api.gql(TRAIN, {"input": course}, token=t.operator))["data"]["expertTrainingRecord"]
    assert trained["__typename"] == "ExpertTrainingRecorded", trained

    # and three of the pool are kept out: one suspended, one busy on the sitting day, one conflicted with a bidder
    suspended, busy, conflicted = pool[0], pool[1], pool[2]
    penalty = {"expertId": to_global_id("Expert", suspended), "kind": "suspension", "days": 60, "reason": "迟到"}
    assert (await api.gql(PENALISE, {"input": penalty}, token=t.operator))["data"]["expertPenalise"][
        "__typename"
    ] == "ExpertPenalised"
    days = {"days": [t.day.isoformat()], "busy": True}
    marked = (await api.gql(BUSY, {"input": days}, token=await f.expert_token(api, busy)))["data"]
    assert marked["expertAvailabilitySet"]["busyDays"] == [t.day.isoformat()]
    named = {"relation": "relative_employer", "entityName": t.bidder_names[0]}
    declared = await api.gql(DECLARE, {"input": named}, token=await f.expert_token(api, conflicted))
    assert declared["data"]["expertConflictDeclare"]["__typename"] == "ExpertConflictDeclared", declared

    # when the draw is revealed after the deadline
    revealed = await draw(api, manual_clock, t)
    await api.send_texts()

    # then the three are not eligible, the new expert is drawn and told by text like the others
    eligible = pool_numbers(revealed["draw"]["eligible"])
    assert eligible == {*pool[3:], me}
    assert me in pool_numbers(revealed["draw"]["selected"])
    assert any(to == phone for to, _ in api.sms)

    # when the drawn expert finds its former employer is the tenderer... a conflict named after the draw
    token = await f.expert_token(api, me)
    report = {"lotId": t.lot["id"], "conflict": {"relation": "former_employer", "entityName": t.bidder_names[1]}}
    reported = (await api.gql(REPORT, {"input": report}, token=token))["data"]["expertConflictReport"]
    assert reported["__typename"] == "ExpertConflictReported", reported
    twice = (await api.gql(REPORT, {"input": report}, token=token))["data"]["expertConflictReport"]
    assert twice["code"] == "EXPERT_CONFLICT_REPORTED"
    await api.dispatch()

    # then the operators are asked for a replacement, which draws someone else in its place
    asked = [n for n in await inbox(api, t.operator) if n["kind"] == "EXPERT_REPLACEMENT_NEEDED"]
    assert len(asked) == 1
    assert "冲突" in asked[0]["body"]
    newcomer = await add_expert(api, t.operator, "补充专家", [SPECIALTY])
    secret, commitment = new_secret()
    replace = {"lotId": t.lot["id"], "expertIds": [expert_gid], "reason": "专家申报利益冲突", "commitment": commitment}
    committed = (await api.gql(REPLACE, {"input": replace}, token=t.operator))["data"]["expertDrawReplace"]
    assert committed["__typename"] == "ExpertDrawReplaceCommitted", committed
    second = await reveal(api, t.operator, secret, lotId=t.lot["id"], round=2)
    assert pool_numbers(second["draw"]["selected"]) == {newcomer}
    [kept] = (await api.gql(REPORTS, {"lotId": t.lot["id"]}, token=t.operator))["data"]["expertConflictReports"]
    assert (kept["expertId"], kept["reportedBy"], kept["replacedInRound"]) == (expert_gid, "expert", 2)

    # when the tenderer and the operator appraise the expert, and the operator records a fee
    low = {"lotId": t.lot["id"], "expertId": expert_gid, "attendance": 4, "diligence": 5, "conduct": 6}
    by_tenderer = (await api.gql(APPRAISE, {"input": low}, token=t.tenderer))["data"]["expertAppraise"]
    assert by_tenderer["appraisal"]["byRole"] == "tenderer", by_tenderer
    fair = {**low, "attendance": 8, "diligence": 8, "conduct": 8}
    assert (await api.gql(APPRAISE, {"input": fair}, token=t.operator))["data"]["expertAppraise"]["__typename"] == (
        "ExpertAppraised"
    )
    fee = {"lotId": t.lot["id"], "expertId": expert_gid, "amountFen": 50_000}
    assert (await api.gql(FEE, {"input": fee}, token=t.operator))["data"]["expertFeeRecord"]["fee"]["amountFen"] == (
        50_000
    )

    # then its rating falls below full marks
    record = (await api.gql(RECORD, {"id": expert_gid}, token=t.operator))["data"]["expertRecord"]
    assert record["rating"] == round((15 + 24) * 100 / 60) < 100

    # when the operator suspends it for 30 days and a second tender draws
    hold = {"expertId": expert_gid, "kind": "suspension", "days": 30, "reason": "评审态度不端正"}
    assert (await api.gql(PENALISE, {"input": hold}, token=t.operator))["data"]["expertPenalise"]["__typename"] == (
        "ExpertPenalised"
    )
    t2 = await tender(api, manual_clock, t.operator_at)
    second_lot = await draw(api, manual_clock, t2)

    # then it is not among the eligible of the next draw
    assert me not in pool_numbers(second_lot["draw"]["eligible"])
    assert newcomer in pool_numbers(second_lot["draw"]["eligible"])

    # and the statistics show the draw, the withdrawal, the appraisals, the suspension and the fee
    stats = (await api.gql(STATS, {"s": SPECIALTY}, token=t2.operator))["data"]["expertStatistics"]
    [row] = [r for r in stats["experts"] if r["poolNumber"] == me]
    assert row == {
        "poolNumber": me,
        "status": "suspended",
        "draws": 1,
        "refusals": 1,
        "conflicts": 1,
        "appraisals": 2,
        "rating": record["rating"],
        "suspensions": 1,
        "feesFen": 50_000,
    }
    [field] = stats["specialties"]
    assert (field["specialty"], field["feesFen"], field["appraisals"]) == (SPECIALTY, 50_000, 2)
    assert field["active"] == field["experts"] - 2  # the two suspended
    fees = (await api.gql(FEES, {"lotId": t.lot["id"]}, token=t2.operator))["data"]["expertFees"]
    assert fees == [{"expertId": expert_gid, "amountFen": 50_000}]
    assert (await Expert.get(id=me)).is_active


async def test_bad_input_is_refused_with_typed_errors_and_changes_nothing(api, manual_clock, tmp_path):
    # given a revealed draw of five from a pool of five, and a stranger organisation
    t = await tender(api, manual_clock)
    pool = [await add_expert(api, t.operator, f"专家{n}", [SPECIALTY]) for n in range(5)]
    await draw(api, manual_clock, t)
    _, _, stranger = await f.approved_org(api, t.operator)
    drawn = to_global_id("Expert", pool[0])

    # when a non-operator penalises, a stranger appraises, and an appraisal names an expert not drawn
    penalty = {"expertId": drawn, "kind": "removal", "reason": "……"}
    by_tenderer = (await api.gql(PENALISE, {"input": penalty}, token=t.tenderer))["data"]["expertPenalise"]
    scores = {"lotId": t.lot["id"], "expertId": drawn, "attendance": 1, "diligence": 1, "conduct": 1}
    by_stranger = (await api.gql(APPRAISE, {"input": scores}, token=stranger))["data"]["expertAppraise"]
    outsider = await add_expert(api, t.operator, "未抽中专家", [SPECIALTY])
    not_drawn = {**scores, "expertId": to_global_id("Expert", outsider)}
    undrawn = (await api.gql(APPRAISE, {"input": not_drawn}, token=t.tenderer))["data"]["expertAppraise"]
    too_high = {**scores, "conduct": 11}
    out_of_range = (await api.gql(APPRAISE, {"input": too_high}, token=t.tenderer))["data"]["expertAppraise"]
    endless = {"expertId": drawn, "kind": "suspension", "reason": "迟到"}
    no_days = (await api.gql(PENALISE, {"input": endless}, token=t.operator))["data"]["expertPenalise"]

    # then each is a typed error
    assert by_tenderer["code"] == "PERMISSION_DENIED"
    assert by_stranger["code"] == "EXPERT_APPRAISAL_NOT_PARTY"
    assert undrawn["code"] == "EXPERT_NOT_DRAWN_FOR_LOT"
    assert (out_of_range["code"], out_of_range["field"]) == ("INVALID_INPUT", "conduct")
    assert (no_days["code"], no_days["field"]) == ("INVALID_INPUT", "days")

    # and nothing changed: the expert is still in the pool, unappraised, unpenalised
    record = (await api.gql(RECORD, {"id": drawn}, token=t.operator))["data"]["expertRecord"]
    assert (record["status"], record["appraisals"], record["warnings"], record["rating"]) == ("active", 0, 0, 100)

    # when the expert leaves voluntarily, it can no longer be penalised, and an application without documents fails
    left = await api.gql(
        EXIT, {"input": {"kind": "voluntary", "reason": "年满七十周岁"}}, token=await f.expert_token(api, pool[1])
    )
    assert left["data"]["expertExit"]["exit"]["kind"] == "voluntary", left
    gone = {"expertId": to_global_id("Expert", pool[1]), "kind": "warning", "reason": "缺席"}
    after = (await api.gql(PENALISE, {"input": gone}, token=t.operator))["data"]["expertPenalise"]
    assert after["code"] == "EXPERT_NOT_IN_POOL"
    bare = {**application("RG9jdW1lbnQ6OTk5OTk5", f.new_phone(), id_number())}
    refused = (await api.gql(APPLY, {"input": bare}, token=stranger))["data"]["expertApply"]
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "documentIds")
