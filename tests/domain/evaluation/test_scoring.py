"""Evaluation by the committee: the ranking as a pure function (majorities, rounding, ties), then the
services on the real database: start, sheets, the report with its candidates, the failed lot, and
refusals that change nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.common import events
from domain.common.actors import Actor, Role
from domain.common.errors import IdempotencyKeyReused, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from domain.common.models import OutboxEvent
from domain.evaluation import draw, scoring
from domain.evaluation.models import Evaluation, Score
from domain.evaluation.scoring import BidFacts, Judgement
from domain.publication.models import Announcement, Lot
from domain.results.models import Candidate
from tests.support.tendering import OPERATOR, Tender, evaluating_tender, expert_actor, published_tender

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
WEIGHTS = {"price": 30, "technical": 50, "commercial": 20}
MEMBERS = [11, 12, 13, 14, 15]


def bid(bid_id: int, price: int, minutes: int = 0, org: int | None = None) -> BidFacts:
    return BidFacts(bid_id, org or 100 + bid_id, price, T0 + timedelta(minutes=minutes))


def sheet(*judgements: tuple[int, bool, int | None, int | None]) -> list[Judgement]:
    return [Judgement(b, ok, None if ok else "资格不符", t, c) for b, ok, t, c in judgements]


def same_sheets(*judgements: tuple[int, bool, int | None, int | None]) -> dict[int, list[Judgement]]:
    return {m: sheet(*judgements) for m in MEMBERS}


def test_lowest_price_ranks_compliant_bids_by_price_and_ties_by_earlier_submission():
    # given four bids, two at the same price, one found non-compliant by everyone
    bids = [bid(1, 900, minutes=5), bid(2, 800), bid(3, 900, minutes=1), bid(4, 700)]
    sheets = same_sheets((1, True, None, None), (2, True, None, None), (3, True, None, None), (4, False, None, None))
    # when
    report = scoring.rank(bids, MEMBERS, sheets, "lowest_price", WEIGHTS)
    # then the cheapest compliant first; of the two at 900 the earlier submission (bid 3) first
    assert report["ranking"] == [2, 3, 1]
    assert report["lowest_compliant_price_fen"] == 800
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    assert lines[4]["compliant"] is False
    assert lines[4]["rank"] is None
    assert lines[4]["non_compliant_votes"] == 5
    assert all(line["total_centi"] is None for line in report["bids"])


def test_a_credit_tie_break_priority_orders_bids_whose_score_and_price_tie_before_the_submission_time():
    # given three bids at one price and a cheaper one; the lot's tie-break favours organisation 103, then 101
    bids = [bid(1, 900, minutes=1), bid(2, 900, minutes=2), bid(3, 900, minutes=3), bid(4, 800, minutes=9)]
    sheets = same_sheets(*((b, True, None, None) for b in (1, 2, 3, 4)))
    # when ranked with and without the priority
    favoured = scoring.rank(bids, MEMBERS, sheets, "lowest_price", WEIGHTS, priority=[103, 101, 102, 104])
    plain = scoring.rank(bids, MEMBERS, sheets, "lowest_price", WEIGHTS)
    # then the price still comes first, the priority orders the tie, and the report names the priority it applied
    assert favoured["ranking"] == [4, 3, 1, 2]
    assert favoured["tie_break_priority"] == [103, 101, 102, 104]
    assert plain["ranking"] == [4, 1, 2, 3]
    assert "tie_break_priority" not in plain


def test_a_bare_majority_of_the_committee_decides_compliance():
    # given bid 1 found compliant by 3 of 5, bid 2 by 2 of 5
    bids = [bid(1, 1000), bid(2, 900)]
    sheets = {m: sheet((1, m in (11, 12, 13), None, None), (2, m in (14, 15), None, None)) for m in MEMBERS}
    # when
    report = scoring.rank(bids, MEMBERS, sheets, "lowest_price", WEIGHTS)
    # then
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    assert (lines[1]["compliant"], lines[1]["compliant_votes"]) == (True, 3)
    assert (lines[2]["compliant"], lines[2]["compliant_votes"]) == (False, 2)
    assert report["ranking"] == [1]
    assert [m["reason"] for m in lines[2]["members"]] == ["资格不符"] * 3 + [None] * 2


def test_comprehensive_scores_floor_each_part_to_hundredths():
    # given the lowest compliant price 1000 and another at 3000; members' points that do not divide evenly
    bids = [bid(1, 1000), bid(2, 3000)]
    sheets = {
        11: sheet((1, True, 4000, 1500), (2, True, 4999, 2000)),
        12: sheet((1, True, 4001, 1500), (2, True, 5000, 2000)),
        13: sheet((1, True, 4001, 1501), (2, True, 5000, 2000)),
        14: sheet((1, True, 4000, 1500), (2, True, 5000, 2000)),
        15: sheet((1, True, 4000, 1500), (2, True, 5000, 2000)),
    }
    # when
    report = scoring.rank(bids, MEMBERS, sheets, "comprehensive", WEIGHTS)
    # then price score = 3000 * 1000 / price, floored; means floored
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    assert lines[1]["price_score_centi"] == 3000
    assert lines[2]["price_score_centi"] == 1000
    assert lines[1]["technical_centi"] == 20002 // 5  # 4000.4 -> 4000
    assert lines[1]["commercial_centi"] == 7501 // 5  # 1500.2 -> 1500
    assert lines[2]["technical_centi"] == 24999 // 5  # 4999.8 -> 4999
    assert lines[1]["total_centi"] == 3000 + 4000 + 1500
    assert lines[2]["total_centi"] == 1000 + 4999 + 2000
    assert report["ranking"] == [1, 2]


def test_a_price_score_that_does_not_divide_evenly_is_floored():
    bids = [bid(1, 300), bid(2, 700)]
    sheets = same_sheets((1, True, 0, 0), (2, True, 0, 0))
    report = scoring.rank(bids, MEMBERS, sheets, "comprehensive", WEIGHTS)
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    assert lines[2]["price_score_centi"] == 1285  # 3000 * 300 / 700 = 1285.71
    assert lines[1]["price_score_centi"] == 3000


def test_comprehensive_ties_go_to_the_lower_price_then_the_earlier_submission():
    # given four equal totals (9700): bid 2 is the cheapest; 1, 4 and 3 share a price and came in that order
    bids = [bid(1, 1000), bid(2, 900, minutes=30), bid(3, 1000, minutes=9), bid(4, 1000, minutes=1)]
    sheets = same_sheets((1, True, 5000, 2000), (2, True, 5000, 1700), (3, True, 5000, 2000), (4, True, 5000, 2000))
    # when
    report = scoring.rank(bids, MEMBERS, sheets, "comprehensive", WEIGHTS)
    # then
    totals = {line["sealed_bid_id"]: line["total_centi"] for line in report["bids"]}
    assert totals == {1: 2700 + 7000, 2: 3000 + 6700, 3: 2700 + 7000, 4: 2700 + 7000}
    assert report["ranking"] == [2, 1, 4, 3]


def test_non_compliant_bids_set_no_price_score_and_do_not_count_as_the_lowest():
    bids = [bid(1, 500), bid(2, 1000), bid(3, 2000)]
    sheets = same_sheets((1, False, 0, 0), (2, True, 4000, 1000), (3, True, 5000, 2000))
    report = scoring.rank(bids, MEMBERS, sheets, "comprehensive", WEIGHTS)
    lines = {line["sealed_bid_id"]: line for line in report["bids"]}
    assert report["lowest_compliant_price_fen"] == 1000
    assert lines[1]["price_score_centi"] is None
    assert lines[1]["total_centi"] is None
    assert lines[2]["total_centi"] == 3000 + 4000 + 1000
    assert lines[3]["total_centi"] == 1500 + 5000 + 2000
    assert report["ranking"] == [3, 2]


def test_the_report_is_deterministic_and_its_digest_is_the_canonical_json():
    bids = [bid(1, 1000), bid(2, 900)]
    sheets = same_sheets((1, True, 100, 200), (2, True, 300, 400))
    one = scoring.rank(bids, MEMBERS, sheets, "comprehensive", WEIGHTS)
    two = scoring.rank(list(reversed(bids)), MEMBERS, sheets, "comprehensive", WEIGHTS)
    assert one == two
    expected = json.dumps(one, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert events.canonical_json(one) == expected
    assert events.digest(one) == hashlib.sha256(expected).hexdigest()


def test_no_compliant_bid_ranks_nobody():
    bids = [bid(1, 1000), bid(2, 900)]
    sheets = same_sheets((1, False, 0, 0), (2, False, 0, 0))
    report = scoring.rank(bids, MEMBERS, sheets, "comprehensive", WEIGHTS)
    assert report["ranking"] == []
    assert report["lowest_compliant_price_fen"] is None


# ---------------------------------------------------------------- the sheet's form


def test_a_sheet_must_judge_every_valid_bid_once():
    entries = [Judgement(1, True, None, 100, 100), Judgement(1, True, None, 100, 100), Judgement(9, True, None, 1, 1)]
    with pytest.raises(scoring.ScoreSheetMismatch) as refused:
        scoring.check_sheet(entries, [1, 2, 3], "comprehensive", WEIGHTS)
    assert refused.value.params == {"missing": 2, "unexpected": 2}


@pytest.mark.parametrize(
    ("entry", "error", "field"),
    [
        (Judgement(1, True, None, 5001, 0), scoring.PointsOutOfRange, "entries.0.technicalCenti"),
        (Judgement(1, True, None, -1, 0), scoring.PointsOutOfRange, "entries.0.technicalCenti"),
        (Judgement(1, True, None, 0, 2001), scoring.PointsOutOfRange, "entries.0.commercialCenti"),
        (Judgement(1, True, None, None, 0), scoring.PointsOutOfRange, "entries.0.technicalCenti"),
        (Judgement(1, False, "  ", 0, 0), scoring.ReasonRequired, "entries.0.reason"),
        (Judgement(1, False, "x" * 501, 0, 0), InvalidInput, "entries.0.reason"),
    ],
)
def test_points_out_of_range_and_missing_reasons_are_refused(entry, error, field):
    with pytest.raises(error) as refused:
        scoring.check_sheet([entry], [1], "comprehensive", WEIGHTS)
    assert refused.value.params["field"] == field


def test_lowest_price_sheets_carry_no_points():
    with pytest.raises(InvalidInput) as refused:
        scoring.check_sheet([Judgement(1, True, None, 10, None)], [1], "lowest_price", WEIGHTS)
    assert refused.value.params["field"] == "entries.0.technicalCenti"
    ok = scoring.check_sheet([Judgement(1, False, " 报价低于成本 ", None, None)], [1], "lowest_price", WEIGHTS)
    assert ok == [Judgement(1, False, "报价低于成本", None, None)]


def test_the_full_weight_is_allowed():
    ok = scoring.check_sheet([Judgement(1, True, None, 5000, 2000)], [1], "comprehensive", WEIGHTS)
    assert ok[0].technical_centi == 5000


# ---------------------------------------------------------------- services on the database


async def _state(lot_id: int) -> tuple[Any, ...]:
    """Everything an error must leave as it was."""
    evaluation = await Evaluation.get_or_none(lot_id=lot_id)
    scores = sorted(
        await Score.all().values_list("expert_id", "sealed_bid_id", "compliant", "technical_centi", "commercial_centi")
    )
    lot = await Lot.get(id=lot_id)
    return (
        evaluation and (evaluation.status, evaluation.report_sha256),
        scores,
        await Candidate.filter(lot_id=lot_id).count(),
        lot.status,
        await OutboxEvent.filter(type__startswith="evaluation.", outcome="success").count(),
    )


def full_sheet(t: Tender, technical: int = 4000, commercial: int = 1500, **per_bid: Any) -> list[Judgement]:
    """A sheet judging every valid bid compliant with the same points, except where `per_bid` says."""
    entries = []
    for b in t.valid_bids:
        override = per_bid.get(f"b{b.id}")
        entries.append(override or Judgement(b.id, True, None, technical, commercial))
    return entries


async def test_the_committee_scores_and_the_last_sheet_makes_the_report_and_three_candidates(db, manual_clock):
    # given a closed opening with four valid bids of five (one never decrypted) and a drawn committee
    prices = [1_000_000_00, 950_000_00, 990_000_00, 1_020_000_00, 900_000_00]
    t = await evaluating_tender(manual_clock, prices, decrypted=4)
    assert t.lot.status == "evaluating"
    assert len(t.valid_bids) == 4
    # when the operator starts it (twice), and four members hand in sheets, one of them twice
    evaluation = await scoring.start(OPERATOR, t.lot.id)
    again = await scoring.start(OPERATOR, t.lot.id, idempotency_key="start-2")
    first, *others, last = t.committee
    best = t.valid_bids[1]  # 950,000.00: the lowest compliant price
    await scoring.submit_sheet(expert_actor(first), t.lot.id, full_sheet(t, 3000, 1000), "s-1")
    await scoring.submit_sheet(expert_actor(first), t.lot.id, full_sheet(t), "s-1b")  # replaces its sheet
    for member in others:
        await scoring.submit_sheet(expert_actor(member), t.lot.id, full_sheet(t))
    midway = await scoring.view(OPERATOR, t.lot.id)
    # and the last member's arrives (it found the cheapest bid better than the rest)
    better = Judgement(best.id, True, None, 5000, 2000)
    done = await scoring.submit_sheet(expert_actor(last), t.lot.id, full_sheet(t, **{f"b{best.id}": better}))

    # then
    assert again.id == evaluation.id
    assert (evaluation.method, evaluation.weights) == (
        "comprehensive",
        {"price": 30, "technical": 50, "commercial": 20},
    )
    assert evaluation.committee == t.committee
    assert (midway.members, midway.submitted, midway.evaluation.status) == (5, 4, "scoring")
    assert done.status == "reported"
    assert done.report_sha256 == events.digest(done.report)
    candidates = await Candidate.filter(lot_id=t.lot.id).order_by("rank")
    assert [c.rank for c in candidates] == [1, 2, 3]
    # price scores: 3000 * 950,000 / price; technical 4000 (+200 for the best: 1000/5), commercial 1500 (+100)
    assert candidates[0].sealed_bid_id == best.id
    assert candidates[0].score_centi == 3000 + 4200 + 1600
    assert [c.price_fen for c in candidates] == [950_000_00, 990_000_00, 1_000_000_00]
    assert candidates[1].score_centi == 3000 * 950_000_00 // 990_000_00 + 4000 + 1500
    report = done.report
    assert len(report["bids"]) == 4
    assert all(len(line["members"]) == 5 for line in report["bids"])
    assert report["ranking"][:3] == [c.sealed_bid_id for c in candidates]
    assert await Score.filter(evaluation_id=done.id).count() == 5 * 4
    started = await OutboxEvent.filter(type="evaluation.started")
    sheets = await OutboxEvent.filter(type="evaluation.sheet_submitted").order_by("id")
    reported = await OutboxEvent.get(type="evaluation.reported")
    assert len(started) == 1
    assert [e.payload["submitted"] for e in sheets] == [1, 1, 2, 3, 4, 5]
    assert all("centi" not in str(e.payload) and "compliant" not in str(e.payload) for e in sheets)
    assert all(e.audience["orgs"] == [] and e.audience["public"] is False for e in sheets)
    assert reported.payload == {
        "lot_id": t.lot.id,
        "candidates": 3,
        "failed": False,
        "report_sha256": done.report_sha256,
    }
    assert reported.audience["orgs"] == [t.project.tenderer_id]
    assert "supervisor" in reported.audience["roles"]


async def test_lowest_price_ranks_the_compliant_bids_by_price(db, manual_clock):
    # given a lowest-price tender, and a committee that rejects the cheapest bid by 3 votes to 2
    t = await evaluating_tender(
        manual_clock, [800_000_00, 700_000_00, 750_000_00], config={"evaluation_method": "lowest_price"}
    )
    await scoring.start(OPERATOR, t.lot.id)
    cheapest = t.valid_bids[1]
    for n, member in enumerate(t.committee):
        reject = Judgement(cheapest.id, False, "报价明显低于成本且不能合理说明", None, None)
        entries = [
            reject if b.id == cheapest.id and n < 3 else Judgement(b.id, True, None, None, None) for b in t.valid_bids
        ]
        done = await scoring.submit_sheet(expert_actor(member), t.lot.id, entries)
    # then
    candidates = await Candidate.filter(lot_id=t.lot.id).order_by("rank")
    assert [c.price_fen for c in candidates] == [750_000_00, 800_000_00]
    assert all(c.score_centi is None for c in candidates)
    rejected = next(line for line in done.report["bids"] if line["sealed_bid_id"] == cheapest.id)
    assert (rejected["compliant"], rejected["compliant_votes"]) == (False, 2)


async def test_no_compliant_bid_fails_the_lot_and_announces_its_termination(db, manual_clock):
    # given
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    await scoring.start(OPERATOR, t.lot.id)
    # when every member rejects every bid
    for member in t.committee:
        entries = [Judgement(b.id, False, "未实质性响应招标文件", 0, 0) for b in t.valid_bids]
        done = await scoring.submit_sheet(expert_actor(member), t.lot.id, entries)
    # then the lot failed (流标) and a termination announcement ended it
    assert done.status == "failed"
    assert await Candidate.filter(lot_id=t.lot.id).count() == 0
    assert (await Lot.get(id=t.lot.id)).status == "terminated"
    termination = await Announcement.get(lot_id=t.lot.id, type="termination")
    assert termination.status == "published"
    assert "流标" in termination.title
    reported = await OutboxEvent.get(type="evaluation.reported")
    assert (reported.payload["candidates"], reported.payload["failed"]) == (0, True)
    changes = await OutboxEvent.filter(type="lot.status_changed", object_id=str(t.lot.id)).order_by("id")
    assert [c.payload["after"] for c in changes][-2:] == ["failed", "terminated"]


async def test_the_evaluation_starts_only_after_the_opening_closed_with_a_complete_committee(db, manual_clock):
    # given a tender still open for bids
    t = await published_tender()
    # when / then
    with pytest.raises(InvalidTransition):
        await scoring.start(OPERATOR, t.lot.id)
    with pytest.raises(PermissionDenied):
        await scoring.start(t.tenderer, t.lot.id)
    assert await Evaluation.filter(lot_id=t.lot.id).count() == 0


async def test_a_pending_replacement_round_keeps_the_committee_incomplete(db, manual_clock):
    # given a closed opening whose committee has a replacement round committed but not revealed
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00], pool=8)
    await draw.replace(OPERATOR, t.lot.id, [t.committee[0]], "回避", draw.commitment_of("s" * 64))
    before = await _state(t.lot.id)
    # when
    with pytest.raises(scoring.CommitteeIncomplete):
        await scoring.start(OPERATOR, t.lot.id)
    # then
    assert await _state(t.lot.id) == before
    # and once revealed, the replacement is on the committee
    round2 = await draw.find(t.lot.id, 2)
    await draw.reveal(OPERATOR, round2, "s" * 64)
    evaluation = await scoring.start(OPERATOR, t.lot.id)
    assert t.committee[0] not in evaluation.committee
    assert len(evaluation.committee) == 5


async def test_refused_sheets_change_nothing(db, manual_clock):
    # given a started evaluation with one sheet in
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00], pool=9)
    outsider = next(e for e in t.pool if e not in t.committee)
    member = expert_actor(t.committee[0])
    with pytest.raises(scoring.EvaluationNotStarted):
        await scoring.submit_sheet(member, t.lot.id, full_sheet(t))
    await scoring.start(OPERATOR, t.lot.id)
    await scoring.submit_sheet(member, t.lot.id, full_sheet(t), "k-1")
    before = await _state(t.lot.id)
    b0, _, b2 = t.valid_bids
    cases = [
        (expert_actor(outsider), full_sheet(t), scoring.NotCommitteeMember),
        (member, full_sheet(t)[:2], scoring.ScoreSheetMismatch),
        (member, [*full_sheet(t), Judgement(b0.id, True, None, 1, 1)], scoring.ScoreSheetMismatch),
        (member, full_sheet(t, technical=5001), scoring.PointsOutOfRange),
        (member, full_sheet(t, commercial=-5), scoring.PointsOutOfRange),
        (member, full_sheet(t, **{f"b{b2.id}": Judgement(b2.id, False, None, 0, 0)}), scoring.ReasonRequired),
        (t.tenderer, full_sheet(t), PermissionDenied),
    ]
    # when / then
    for actor, entries, error in cases:
        with pytest.raises(error):
            await scoring.submit_sheet(actor, t.lot.id, entries)
    with pytest.raises(IdempotencyKeyReused):
        await scoring.submit_sheet(member, t.lot.id, full_sheet(t, technical=1), "k-1")
    replayed = await scoring.submit_sheet(member, t.lot.id, full_sheet(t), "k-1")
    assert replayed.status == "scoring"
    assert await _state(t.lot.id) == before
    refusals = await OutboxEvent.filter(type="evaluation.submit_sheet", outcome="failure").count()
    assert refusals == len(cases) + 2


async def test_after_the_report_no_sheet_is_taken(db, manual_clock):
    # given a reported evaluation
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    await scoring.start(OPERATOR, t.lot.id)
    for member in t.committee:
        await scoring.submit_sheet(expert_actor(member), t.lot.id, full_sheet(t))
    before = await _state(t.lot.id)
    # when / then
    with pytest.raises(scoring.EvaluationFinished):
        await scoring.submit_sheet(expert_actor(t.committee[0]), t.lot.id, full_sheet(t, technical=1))
    assert await _state(t.lot.id) == before
    assert (await scoring.start(OPERATOR, t.lot.id)).status == "reported"


async def test_bids_are_read_by_the_committee_the_tenderer_and_keepers_of_the_category_only(db, manual_clock):
    # given
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00], pool=9)
    outsider = next(e for e in t.pool if e not in t.committee)
    bidder = t.bidders[0].actor
    supervisor = Actor(
        user_id=9,
        org_id=9,
        roles=frozenset({Role.SUPERVISOR}),
        supervised_categories=frozenset({"engineering_construction"}),
    )
    other_supervisor = Actor(
        user_id=8, org_id=8, roles=frozenset({Role.SUPERVISOR}), supervised_categories=frozenset({"land_use_rights"})
    )
    # when
    seen = await scoring.bids_for(expert_actor(t.committee[0]), t.lot.id)
    # then
    assert [b.price_fen for b in seen] == [800_000_00, 700_000_00, 750_000_00]
    assert all(len(b.documents) == 2 and len(b.documents[0]["sha256"]) == 64 for b in seen)
    assert seen[0].organisation_id == t.bidders[0].org.id
    for allowed in (OPERATOR, supervisor, t.tenderer):
        assert len(await scoring.bids_for(allowed, t.lot.id)) == 3
    for refused in (expert_actor(outsider), bidder, other_supervisor, Actor()):
        with pytest.raises(NotFound):
            await scoring.bids_for(refused, t.lot.id)


async def test_the_committee_cannot_be_replaced_once_the_evaluation_started(db, manual_clock):
    # given an evaluation scoring with the committee it started with
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00], pool=8)
    await scoring.start(OPERATOR, t.lot.id)
    # when a member would be replaced, then it is refused and no round is added
    with pytest.raises(draw.CommitteeSitting):
        await draw.replace(OPERATOR, t.lot.id, [t.committee[0]], "回避", draw.commitment_of("s" * 64))
    assert await draw.committee_lots(t.committee[0]) == [await Lot.get(id=t.lot.id)]
    assert len(await draw.ExpertDraw.filter(lot_id=t.lot.id)) == 1
