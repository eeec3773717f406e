"""Post-qualification (资格后审): the outcome as a pure function of the members' judgements, the criteria a draft
lot's managers set (local protection refused), then the committee's review on the real database: the judgement that
completes it decides, rejected bids are neither scored nor ranked, and refusals change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from domain.common import clock
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from domain.common.models import OutboxEvent
from domain.documents import access, reviewing
from domain.documents.models import Document
from domain.evaluation import qualification, scoring
from domain.evaluation.errors import QualificationPending
from domain.evaluation.models import QualificationCriterion, QualificationJudgement, QualificationOutcome
from domain.evaluation.qualification import CriterionFacts, CriterionForm, Entry
from domain.evaluation.scoring import Judgement
from domain.publication import announcements
from domain.publication.models import Lot
from domain.publication.procedures import LocalProtectionBanned
from domain.results.models import Candidate
from domain.tendering.services import NotSealedTender
from tests.support.tendering import OPERATOR, Tender, evaluating_tender, expert_actor, person, published_tender

MEMBERS = [11, 12, 13, 14, 15]
LICENCE = CriterionFacts(1, 1, "qualification", "具备市政公用工程施工总承包二级及以上资质", True)
PERFORMANCE = CriterionFacts(2, 2, "performance", "近三年具有类似工程业绩", False)


def votes(bid: int, criterion: CriterionFacts, fails: int) -> dict[tuple[int, int, int], Entry]:
    """Every member's judgement of the bid on the criterion, the first `fails` of them failing it."""
    return {
        (m, bid, criterion.id): Entry(bid, criterion.id, n >= fails, None if n >= fails else f"理由{n}")
        for n, m in enumerate(MEMBERS)
    }


def test_a_majority_failing_a_mandatory_criterion_rejects_the_bid_with_its_reasons():
    # given bid 1 failed on the licence by 3 of 5, bid 2 by 2 of 5
    judged = {**votes(1, LICENCE, 3), **votes(2, LICENCE, 2), **votes(1, PERFORMANCE, 0), **votes(2, PERFORMANCE, 0)}
    # when
    outcomes = qualification.decide([(1, 101), (2, 102)], [LICENCE, PERFORMANCE], MEMBERS, judged)
    # then only bid 1 is rejected, with the criterion, the votes and the reasons of those who failed it
    first, second = outcomes
    assert (first["qualified"], second["qualified"]) == (False, True)
    assert first["failures"] == [
        {
            "criterion_id": 1,
            "position": 1,
            "kind": "qualification",
            "description": LICENCE.description,
            "mandatory": True,
            "pass_votes": 2,
            "fail_votes": 3,
            "reasons": ["理由0", "理由1", "理由2"],
        }
    ]
    assert second["failures"] == []


def test_failing_a_criterion_that_is_not_mandatory_is_recorded_but_does_not_reject():
    judged = {**votes(1, LICENCE, 0), **votes(1, PERFORMANCE, 5)}
    [outcome] = qualification.decide([(1, 101)], [LICENCE, PERFORMANCE], MEMBERS, judged)
    assert outcome["qualified"] is True
    assert [(f["criterion_id"], f["fail_votes"]) for f in outcome["failures"]] == [(2, 5)]


@pytest.mark.parametrize(
    ("form", "error", "field"),
    [
        (CriterionForm("qualification", "须在青岛市内注册登记的企业"), LocalProtectionBanned, None),
        (CriterionForm("performance", "具有本地类似项目业绩"), LocalProtectionBanned, None),
        (CriterionForm("licence_grade", "二级资质"), InvalidInput, "criteria.0.kind"),
        (CriterionForm("finance", "   "), InvalidInput, "criteria.0.description"),
        (CriterionForm("finance", "x" * 1001), InvalidInput, "criteria.0.description"),
    ],
)
def test_unlawful_or_malformed_criteria_are_refused(form, error, field):
    with pytest.raises(error) as raised:
        qualification.check_criteria([form])
    if field is not None:
        assert raised.value.params["field"] == field


def test_judgements_name_a_criterion_and_a_bid_of_the_lot_and_reasons_go_with_failures():
    with pytest.raises(qualification.CriterionUnknown) as unknown:
        qualification.check_entries([Entry(1, 1, True), Entry(1, 99, True)], {1}, {1})
    assert unknown.value.params["field"] == "entries.1.criterionId"
    with pytest.raises(InvalidInput) as bid:
        qualification.check_entries([Entry(7, 1, True)], {1}, {1})
    assert bid.value.params["field"] == "entries.0.sealedBidId"
    with pytest.raises(qualification.ReasonRequired):
        qualification.check_entries([Entry(1, 1, False, "  ")], {1}, {1})
    assert qualification.check_entries([Entry(1, 1, False, " 资质过期 ")], {1}, {1}) == {
        (1, 1): Entry(1, 1, False, "资质过期")
    }


# ---------------------------------------------------------------- services on the database


async def test_a_draft_lots_managers_set_its_criteria_and_anyone_reads_them_once_published(db, manual_clock):
    # given a draft tender (the helper publishes it; this lot is made again as a draft)
    t = await published_tender()
    draft = await Lot.create(
        project=t.project,
        lot_no=2,
        trade_code=t.lot.trade_code[:-3] + "002",
        name="第2标段",
        procedure="open_tender",
        estimated_price_fen=100_000_000,
        status="draft",
        config=t.lot.config,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    forms = [CriterionForm("qualification", " 具备二级及以上资质 "), CriterionForm("credit", "未被列入失信名单", False)]
    stranger = person(await _org(), Role.TENDERER)
    # when the tenderer sets them (twice: the second replaces the first)
    await qualification.set_criteria(t.tenderer, draft.id, forms[:1])
    made = await qualification.set_criteria(t.tenderer, draft.id, forms, idempotency_key="criteria-1")
    # then
    assert [(c.position, c.kind, c.description, c.mandatory) for c in made] == [
        (1, "qualification", "具备二级及以上资质", True),
        (2, "credit", "未被列入失信名单", False),
    ]
    assert await OutboxEvent.filter(type="qualification.criteria_set").count() == 2
    with pytest.raises(NotFound):
        await qualification.criteria_of(stranger, draft.id)  # a draft is its managers' alone
    with pytest.raises(NotFound):
        await qualification.set_criteria(stranger, draft.id, forms)
    with pytest.raises(LocalProtectionBanned):
        await qualification.set_criteria(t.tenderer, draft.id, [CriterionForm("performance", "须在本市设立分公司")])
    assert await QualificationCriterion.filter(lot_id=draft.id).count() == 2
    # and once the tender is published, they are public and fixed
    tender = announcements.AnnouncementForm(
        project_id=t.project.id, type="tender", title="招标公告", body_html="<p>招标</p>", lot_id=draft.id
    )
    await announcements.publish_announcement(
        t.tenderer, (await announcements.draft_announcement(t.tenderer, tender)).id
    )
    assert len(await qualification.criteria_of(Actor(), draft.id)) == 2
    with pytest.raises(InvalidTransition):
        await qualification.set_criteria(t.tenderer, draft.id, forms[:1])


async def _org() -> Any:
    from tests.domain.factories import organisation

    return await organisation(kinds=["tenderer"])


async def reviewed_tender(manual_clock: Any, prices: list[int], **config: Any) -> tuple[Tender, list[Any]]:
    """An evaluating tender with two criteria (a mandatory licence, an optional performance) and its evaluation."""
    t = await evaluating_tender(manual_clock, prices, config=config or None)
    now = clock.now()
    criteria = [
        await QualificationCriterion.create(
            lot_id=t.lot.id,
            position=1,
            kind="qualification",
            description=LICENCE.description,
            mandatory=True,
            created_at=now,
        ),
        await QualificationCriterion.create(
            lot_id=t.lot.id,
            position=2,
            kind="performance",
            description=PERFORMANCE.description,
            mandatory=False,
            created_at=now,
        ),
    ]
    await scoring.start(OPERATOR, t.lot.id)
    return t, criteria


def all_pass(t: Tender, criteria: list[Any], **fail: str) -> list[Entry]:
    """A member's judgements of every valid bid on every criterion, failing `b<bid>c<criterion>` with its reason."""
    return [
        Entry(b.id, c.id, f"b{b.id}c{c.id}" not in fail, fail.get(f"b{b.id}c{c.id}"))
        for b in t.valid_bids
        for c in criteria
    ]


async def test_the_committee_rejects_a_bid_failing_a_mandatory_criterion_and_ranks_the_others(db, manual_clock):
    # given a lowest-price tender of three bids under post-qualification; the cheapest lacks the licence
    t, (licence, performance) = await reviewed_tender(
        manual_clock, [800_000_00, 700_000_00, 750_000_00], evaluation_method="lowest_price"
    )
    cheapest = t.valid_bids[1]
    failing = {f"b{cheapest.id}c{licence.id}": "资质证书已过有效期"}
    first, second, third, fourth, last = t.committee
    # when a member scores before the review is decided
    with pytest.raises(QualificationPending):
        await scoring.submit_sheet(expert_actor(first), t.lot.id, [Judgement(b.id, True) for b in t.valid_bids])
    # and three members fail the cheapest bid on the licence, two pass it; one judges in two steps
    entries = all_pass(t, [licence, performance], **failing)
    await qualification.judge(expert_actor(first), t.lot.id, entries[:3])
    await qualification.judge(expert_actor(first), t.lot.id, entries[3:], idempotency_key="q-1")
    for member in (second, third):
        await qualification.judge(expert_actor(member), t.lot.id, entries)
    await qualification.judge(expert_actor(fourth), t.lot.id, all_pass(t, [licence, performance]))
    before = await qualification.review(OPERATOR, t.lot.id)
    await qualification.judge(expert_actor(last), t.lot.id, all_pass(t, [licence, performance]))
    decided = await qualification.review(OPERATOR, t.lot.id)

    # then the last judgement decided: the cheapest is rejected with its reason on the record
    assert (before.decided, before.complete_members) == (False, 4)
    assert (decided.decided, decided.complete_members) == (True, 5)
    assert len(decided.judgements) == 5 * 3 * 2
    outcomes = {o.sealed_bid_id: o for o in await QualificationOutcome.all()}
    assert {b: o.qualified for b, o in outcomes.items()} == {b.id: b.id != cheapest.id for b in t.valid_bids}
    [failure] = outcomes[cheapest.id].failures
    assert (failure["criterion_id"], failure["fail_votes"], failure["pass_votes"]) == (licence.id, 3, 2)
    assert failure["reasons"] == ["资质证书已过有效期"] * 3
    event = await OutboxEvent.get(type="qualification.decided")
    assert (event.payload["qualified"], event.payload["rejected"]) == (2, 1)
    assert all("理由" not in str(e.payload) for e in await OutboxEvent.filter(type="qualification.judged"))
    # and the committee now reads and scores only the two qualified bids
    shown = await scoring.bids_for(expert_actor(first), t.lot.id)
    assert sorted(b.price_fen for b in shown) == [750_000_00, 800_000_00]
    with pytest.raises(scoring.ScoreSheetMismatch):
        await scoring.submit_sheet(expert_actor(first), t.lot.id, [Judgement(b.id, True) for b in t.valid_bids])
    # and a member cannot change its judgement any more
    with pytest.raises(qualification.QualificationDecided):
        await qualification.judge(expert_actor(first), t.lot.id, entries)

    # when every member scores the two qualified bids
    for member in t.committee:
        done = await scoring.submit_sheet(
            expert_actor(member), t.lot.id, [Judgement(b.sealed_bid_id, True) for b in shown]
        )

    # then the candidates are the other two, and the report keeps the rejection
    assert done.status == "reported"
    assert [c.price_fen for c in await Candidate.filter(lot_id=t.lot.id).order_by("rank")] == [750_000_00, 800_000_00]
    [rejected] = done.report["rejected_at_qualification"]
    [told] = await OutboxEvent.filter(type="qualification.bid_rejected")
    assert (told.payload["sealed_bid_id"], told.audience["orgs"], told.audience["roles"]) == (
        cheapest.id,
        [cheapest.organisation_id],
        [],
    )
    assert (rejected["sealed_bid_id"], rejected["failures"][0]["description"]) == (cheapest.id, LICENCE.description)
    # and the rejected bidder sees its own outcome, another bidder its own, nobody the members
    loser = next(b for b in t.bidders if b.bid is not None and b.bid.id == cheapest.id)
    other = next(b for b in t.bidders if b is not loser)
    mine = await qualification.my_outcome(loser.actor, t.lot.id)
    assert mine is not None
    assert (mine.qualified, mine.failures[0]["reasons"]) == (False, ["资质证书已过有效期"] * 3)
    theirs = await qualification.my_outcome(other.actor, t.lot.id)
    assert theirs is not None
    assert theirs.qualified
    # and judging after the evaluation is done is refused
    with pytest.raises(scoring.EvaluationFinished):
        await qualification.judge(expert_actor(first), t.lot.id, entries)


async def test_refused_judgements_change_nothing(db, manual_clock):
    # given a review under way
    t, criteria = await reviewed_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    member = t.committee[0]
    outsider = expert_actor(max(t.pool) + 1000)
    bidder = t.bidders[0]
    # when: a criterion of no lot, an expert off the committee, a bidder, a failure without its reason
    with pytest.raises(qualification.CriterionUnknown):
        await qualification.judge(expert_actor(member), t.lot.id, [Entry(t.valid_bids[0].id, 999_999, True)])
    with pytest.raises(qualification.NotCommitteeMember):
        await qualification.judge(outsider, t.lot.id, all_pass(t, criteria))
    with pytest.raises(PermissionDenied):
        await qualification.judge(bidder.actor, t.lot.id, all_pass(t, criteria))
    with pytest.raises(qualification.ReasonRequired):
        await qualification.judge(expert_actor(member), t.lot.id, [Entry(t.valid_bids[0].id, criteria[0].id, False)])
    # then nothing was recorded, and the bidder sees nothing of the review before the evaluation ends
    assert await QualificationJudgement.all().count() == 0
    assert await qualification.my_outcome(bidder.actor, t.lot.id) is None
    with pytest.raises(NotFound):
        await qualification.review(bidder.actor, t.lot.id)


async def test_a_lot_without_criteria_is_scored_as_before_and_refuses_judgements(db, manual_clock):
    t = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    await scoring.start(OPERATOR, t.lot.id)
    with pytest.raises(qualification.NoQualificationCriteria):
        await qualification.judge(expert_actor(t.committee[0]), t.lot.id, [Entry(t.valid_bids[0].id, 1, True)])
    done = await scoring.submit_sheet(
        expert_actor(t.committee[0]), t.lot.id, [Judgement(b.id, True, None, 4000, 1500) for b in t.valid_bids]
    )
    assert done.status == "scoring"


async def test_with_every_bid_rejected_the_lot_fails_at_once(db, manual_clock):
    t, (licence, performance) = await reviewed_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    failing = {f"b{b.id}c{licence.id}": "无相应资质" for b in t.valid_bids}
    for member in t.committee:
        await qualification.judge(expert_actor(member), t.lot.id, all_pass(t, [licence, performance], **failing))
    view = await scoring.view(OPERATOR, t.lot.id)
    assert view.evaluation is not None
    assert view.evaluation.status == "failed"
    assert len(view.evaluation.report["rejected_at_qualification"]) == 3
    assert (await Lot.get(id=t.lot.id)).status == "terminated"


async def test_the_committee_reads_a_bidders_licences_while_it_evaluates(db, manual_clock):
    # given a licence of a bidder whose bid is under review
    t, _ = await reviewed_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    bidder = t.bidders[0]
    licence = await Document.create(
        sha256="0" * 64,
        size=1,
        name="资质证书.pdf",
        media_type="application/pdf",
        kind="pdf",
        purpose="organisation_licence",
        owner_type="Organisation",
        owner_id=bidder.org.id,
        organisation_id=bidder.org.id,
        scan_status="clean",
        created_at=clock.now(),
    )
    # then a member may read it, and it is listed for the member's review; an expert off the committee may not
    await access.may_download(expert_actor(t.committee[0]), licence)
    with pytest.raises(NotFound):
        await access.may_download(expert_actor(max(t.pool) + 1000), licence)
    listed = await reviewing.bidder_documents(expert_actor(t.committee[0]), t.lot.id, [bidder.org.id])
    assert [d.id for d in listed[bidder.org.id].licences] == [licence.id]
    assert listed[bidder.org.id].opened_files == []  # the helper seals no bid file, only the price
    unlisted = await reviewing.bidder_documents(expert_actor(max(t.pool) + 1000), t.lot.id, [bidder.org.id])
    assert unlisted[bidder.org.id].licences == []


@pytest.mark.parametrize(
    ("procedure", "allowed"),
    [
        ("inquiry", True),
        ("invited_tender", True),
        ("competitive_negotiation", False),
        ("competitive_consultation", False),
        ("listing", False),
    ],
)
async def test_criteria_are_for_the_procedures_a_drawn_committee_evaluates(db, manual_clock, procedure, allowed):
    # given a draft lot of the procedure beside a published tender
    t = await published_tender()
    draft = await Lot.create(
        project=t.project,
        lot_no=2,
        trade_code=t.lot.trade_code[:-3] + "002",
        name="第2包",
        procedure=procedure,
        estimated_price_fen=100_000_000,
        status="draft",
        config=t.lot.config,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    form = [CriterionForm("qualification", "具有相应经营许可证")]
    # when its tenderer sets a criterion
    if allowed:
        made = await qualification.set_criteria(t.tenderer, draft.id, form)
        # then a tender or an inquiry keeps it
        assert [c.description for c in made] == ["具有相应经营许可证"]
    else:
        # then a negotiation, a consultation (rounds and final offers) or a sale refuses it, and keeps nothing
        with pytest.raises(NotSealedTender):
            await qualification.set_criteria(t.tenderer, draft.id, form)
        assert not await QualificationCriterion.exists(lot_id=draft.id)
