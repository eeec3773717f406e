"""Results on the database: candidate publicity, the award and what pauses it, the confirmation, the
contract and its deadline, the performance record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain.common import chronograph, clock
from domain.common.actors import Role
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from domain.common.models import OutboxEvent
from domain.deposits.models import DepositAccount
from domain.guarantees.models import Guarantee
from domain.publication.models import Announcement, Lot
from domain.results import services as results
from domain.results.models import Award
from domain.tendering.models import Opening, OpeningObjection
from domain.wiring import wire
from notifications.dispatch import Dispatcher
from tests.domain.factories import organisation
from tests.support.results import evaluated_lot, issue_guarantees, pay_deposits
from tests.support.tendering import person

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]  # the second is the lowest


async def lot_status(lot_id: int) -> str:
    return (await Lot.get(id=lot_id)).status


async def publicised(manual_clock, prices=PRICES, **kw):
    t, candidates = await evaluated_lot(manual_clock, prices, **kw)
    await results.publish_candidates(t.tenderer, t.lot.id)
    return t, candidates


async def awarded(manual_clock, prices=PRICES, **kw):
    t, candidates = await publicised(manual_clock, prices, **kw)
    manual_clock.advance(days=3, seconds=1)
    return t, candidates, await results.award(t.tenderer, t.lot.id)


async def test_the_candidates_are_publicised_once_with_names_prices_scores_and_the_window(db, manual_clock):
    # given an evaluated lot with three candidates
    t, candidates = await evaluated_lot(manual_clock, PRICES, scores=[9_312, 8_805, 8_500])
    # when the tenderer publishes them, then retries
    ann = await results.publish_candidates(t.tenderer, t.lot.id, "pub-1")
    again = await results.publish_candidates(t.tenderer, t.lot.id)
    # then one publicity announcement, public for the lot's 3 days, lists each candidate
    assert again.id == ann.id
    assert ann.type == "candidate_publicity"
    assert ann.status == "published"
    assert ann.publicity_ends_at == ann.publicity_starts_at + timedelta(days=3)
    assert "955,000.00" in ann.body_text  # the lowest price, first
    assert "93.12" in ann.body_text
    assert ann.body_text.index("955,000.00") < ann.body_text.index("972,500.00")
    assert await lot_status(t.lot.id) == "publicity"
    assert [c.rank for c in candidates] == [1, 2, 3]
    [event] = await OutboxEvent.filter(type="result.candidates_published")
    assert event.payload["announcement_id"] == ann.id
    assert event.payload["candidates"] == 3
    assert await Announcement.filter(lot_id=t.lot.id, type="candidate_publicity").count() == 1


async def test_only_the_lots_manager_publishes_and_only_with_candidates(db, manual_clock):
    # given an evaluated lot without candidates yet, and a stranger
    from tests.support.tendering import evaluating_tender

    t = await evaluating_tender(manual_clock, PRICES[:3])
    stranger = person(await organisation(kinds=["tenderer"]), Role.TENDERER)
    # when / then
    with pytest.raises(NotFound):
        await results.publish_candidates(stranger, t.lot.id)
    with pytest.raises(results.CandidatesMissing):
        await results.publish_candidates(t.tenderer, t.lot.id)
    assert await lot_status(t.lot.id) == "evaluating"


async def test_an_award_before_the_publicity_ends_is_refused_and_changes_nothing(db, manual_clock):
    # given candidates publicised for 3 days
    t, _ = await publicised(manual_clock)
    manual_clock.advance(days=2, hours=23)
    # when the tenderer awards early
    with pytest.raises(results.PublicityNotOver) as refused:
        await results.award(t.tenderer, t.lot.id, "award-1")
    # then nothing changed, and the refusal is audited
    assert refused.value.code == "PUBLICITY_NOT_OVER"
    assert await Award.all().count() == 0
    assert await lot_status(t.lot.id) == "publicity"
    assert not await Announcement.exists(lot_id=t.lot.id, type="result")
    assert await OutboxEvent.filter(type="result.award", outcome="failure").count() == 1


async def test_an_unanswered_opening_objection_pauses_the_award_until_it_is_answered(db, manual_clock):
    # given an objection raised at the opening and never answered
    t, _ = await publicised(manual_clock)
    opening = await Opening.get(lot_id=t.lot.id)
    objection = await OpeningObjection.create(
        opening_id=opening.id,
        organisation_id=t.bidders[0].org.id,
        raised_by=t.bidders[0].actor.user_id,
        text="第二名报价低于成本",
        raised_at=clock.now(),
    )
    manual_clock.advance(days=3, seconds=1)
    # when the tenderer awards
    with pytest.raises(results.LotPaused) as paused:
        await results.award(t.tenderer, t.lot.id)
    # then the lot is paused with the reason, in both languages
    assert paused.value.params["reason"] == "opening_objection_unanswered"
    assert "开标异议 1 件尚未答复" in paused.value.message("zh")
    assert "not answered" in paused.value.message("en")
    assert await Award.all().count() == 0
    # and once answered the award goes through
    objection.answer, objection.answered_at = "已复核", clock.now()
    await objection.save()
    made = await results.award(t.tenderer, t.lot.id)
    assert made.status == "awarded"


async def test_a_registered_blocker_pauses_the_award(db, manual_clock):
    # given a blocker, as the complaints workflow will register one
    async def suspended(lot_id: int) -> str | None:
        return "complaint_pending"

    t, _ = await publicised(manual_clock)
    manual_clock.advance(days=4)
    results.register_award_blocker(suspended)
    try:
        # when / then
        with pytest.raises(results.LotPaused) as paused:
            await results.award(t.tenderer, t.lot.id)
        assert paused.value.params["reason"] == "complaint_pending"
    finally:
        results.unregister_award_blocker(suspended)
    assert (await results.award(t.tenderer, t.lot.id)).status == "awarded"


async def test_the_award_goes_to_the_first_candidate_with_notices_and_the_non_candidates_security_let_go(
    db, manual_clock
):
    # given four bidders, three decrypted, all with deposits and guarantees, candidates publicised
    t, candidates = await evaluated_lot(manual_clock, PRICES, decrypted=3)
    await pay_deposits(t.lot.id)
    await issue_guarantees(t.lot.id)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    # when the tenderer awards, and retries with the same key
    made = await results.award(t.tenderer, t.lot.id, "award-1")
    again = await results.award(t.tenderer, t.lot.id, "award-1")
    # then the lowest price wins, with a confirmation number derived from the trade code
    winner = candidates[0]
    assert again.id == made.id
    assert made.organisation_id == winner.organisation_id == t.bidders[1].org.id
    assert made.price_fen == 95_500_000
    assert made.confirmation_no == f"CJ{t.lot.trade_code}"
    assert made.contract_due_at == made.awarded_at + timedelta(days=30)
    assert made.next_check_at == made.contract_due_at
    assert await lot_status(t.lot.id) == "awarded"
    [ann] = await Announcement.filter(lot_id=t.lot.id, type="result")
    assert made.confirmation_no in ann.body_text
    assert "955,000.00" in ann.body_text
    # and the winner gets the award notice, each other bidder with a valid bid a result notice
    [notice] = await OutboxEvent.filter(type="result.awarded")
    assert notice.audience["orgs"] == [winner.organisation_id]
    others = await OutboxEvent.filter(type="result.not_awarded").order_by("id")
    # the fourth never decrypted: its bid is invalid and it hears nothing
    assert sorted(e.payload["organisation_id"] for e in others) == sorted([t.bidders[0].org.id, t.bidders[2].org.id])
    assert all(e.audience["orgs"] == [e.payload["organisation_id"]] for e in others)
    # and the deposit of the one bidder that is no candidate is due back, its guarantee released; the three ranked
    # candidates' (the winner's and the two that may still be awarded in turn) stay until the contract
    ranked = {c.organisation_id for c in candidates}
    assert len(ranked) == 3
    accounts = {a.organisation_id: a.status for a in await DepositAccount.filter(lot_id=t.lot.id)}
    assert accounts == {o: "paid" if o in ranked else "refund_due" for o in accounts}
    assert list(accounts.values()).count("refund_due") == 1
    kept = {g.applicant_id: g.status for g in await Guarantee.filter(lot_id=t.lot.id)}
    assert kept == {o: "issued" if o in ranked else "released" for o in kept}
    assert list(kept.values()).count("released") == 1
    # and a second award is refused
    with pytest.raises(InvalidTransition):
        await results.award(t.tenderer, t.lot.id, "award-2")


async def test_only_the_winner_confirms_and_only_once(db, manual_clock):
    # given an awarded lot
    t, _, made = await awarded(manual_clock)
    winner = next(b for b in t.bidders if b.org.id == made.organisation_id)
    loser = next(b for b in t.bidders if b.org.id != made.organisation_id)
    # when / then
    with pytest.raises(PermissionDenied):
        await results.confirm(loser.actor, t.lot.id)
    confirmed = await results.confirm(winner.actor, t.lot.id)
    assert confirmed.status == "confirmed"
    assert confirmed.confirmed_at == clock.now()
    with pytest.raises(results.AlreadyConfirmed):
        await results.confirm(winner.actor, t.lot.id)
    assert await OutboxEvent.filter(type="result.confirmed").count() == 1


async def test_the_contract_is_checked_recorded_and_lets_the_winners_security_go(db, manual_clock):
    # given an awarded lot whose winner paid a deposit and holds a guarantee
    t, _ = await publicised(manual_clock)
    await pay_deposits(t.lot.id)
    await issue_guarantees(t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    today = clock.today()
    # when the tenderer records wrong contracts
    with pytest.raises(results.ContractAmountMismatch):
        await results.record_contract(t.tenderer, t.lot.id, "HT-2026-001", made.price_fen + 1, today)
    with pytest.raises(InvalidInput) as future:
        await results.record_contract(t.tenderer, t.lot.id, "HT-2026-001", made.price_fen, today + timedelta(days=1))
    with pytest.raises(InvalidInput) as empty:
        await results.record_contract(t.tenderer, t.lot.id, " ", made.price_fen, today)
    # then nothing is recorded
    assert future.value.field == "signedOn"
    assert empty.value.field == "contractNo"
    assert await lot_status(t.lot.id) == "awarded"
    # when the right one is recorded
    manual_clock.advance(days=10)
    signed = clock.today() - timedelta(days=1)
    made = await results.record_contract(t.tenderer, t.lot.id, "HT-2026-001", made.price_fen, signed, "ht-1")
    # then the contract announcement is out, the lot contracted and no deadline is watched
    assert (made.status, made.contract_no, made.contract_signed_on) == ("contracted", "HT-2026-001", signed)
    assert made.next_check_at is None
    assert await lot_status(t.lot.id) == "contracted"
    assert await Announcement.exists(lot_id=t.lot.id, type="contract", status="published")
    # and once the lot's change is dispatched the winner's deposit and the other candidates' are due back in 5 days
    # (实施条例 第五十七条), their guarantees released
    await Dispatcher([wire().reactions]).drain()
    deposit = await DepositAccount.get(lot_id=t.lot.id, organisation_id=made.organisation_id)
    assert deposit.status == "refund_due"
    assert deposit.refund_due_at == clock.now() + timedelta(days=5)
    assert {a.status for a in await DepositAccount.filter(lot_id=t.lot.id)} == {"refund_due"}
    guarantee = await Guarantee.get(lot_id=t.lot.id, applicant_id=made.organisation_id)
    assert guarantee.status == "released"
    assert {g.status for g in await Guarantee.filter(lot_id=t.lot.id)} == {"released"}
    # and the contract is recorded once
    with pytest.raises(InvalidTransition):
        await results.record_contract(t.tenderer, t.lot.id, "HT-2026-002", made.price_fen, signed)


async def test_a_contract_not_recorded_in_30_days_is_flagged_once(db, manual_clock):
    # given an awarded lot
    t, _, made = await awarded(manual_clock)
    # when 30 days pass without a contract, and the chronograph runs twice
    manual_clock.advance(days=29, hours=23)
    await chronograph.fire_due()
    assert (await Award.get(id=made.id)).contract_overdue_at is None
    manual_clock.advance(hours=1, seconds=1)
    await chronograph.fire_due()
    await chronograph.fire_due()
    # then it is flagged once, to the tenderer and the supervisors
    flagged = await Award.get(id=made.id)
    assert flagged.contract_overdue_at == clock.now()
    assert flagged.next_check_at is None
    [event] = await OutboxEvent.filter(type="result.contract_overdue")
    assert event.audience["orgs"] == [t.project.tenderer_id]
    assert set(event.audience["roles"]) == {"operator", "supervisor"}
    assert event.payload["category"] == "engineering_construction"
    # and a late contract is still recorded, marked late
    signed = clock.today()
    await results.record_contract(t.tenderer, t.lot.id, "HT-LATE", made.price_fen, signed)
    [recorded] = await OutboxEvent.filter(type="result.contract_recorded")
    assert recorded.payload["late"] is True


async def test_a_contract_recorded_in_time_is_never_flagged(db, manual_clock):
    t, _, made = await awarded(manual_clock)
    await results.record_contract(t.tenderer, t.lot.id, "HT-1", made.price_fen, clock.today())
    manual_clock.advance(days=31)
    await chronograph.fire_due()
    assert (await Award.get(id=made.id)).contract_overdue_at is None
    assert not await OutboxEvent.exists(type="result.contract_overdue")


async def test_the_performance_record_completes_the_lot(db, manual_clock):
    # given a contracted lot
    t, _, made = await awarded(manual_clock)
    signed = clock.today()
    await results.record_contract(t.tenderer, t.lot.id, "HT-1", made.price_fen, signed)
    # when the performance is recorded with a date before the contract, then properly
    with pytest.raises(InvalidInput):
        await results.record_performance(t.tenderer, t.lot.id, "按期完工", signed - timedelta(days=1))
    manual_clock.advance(days=90)
    done = clock.today()
    made = await results.record_performance(t.tenderer, t.lot.id, "工程按期完工，验收合格。", done)
    # then
    assert made.status == "completed"
    assert await lot_status(t.lot.id) == "completed"
    [ann] = await Announcement.filter(lot_id=t.lot.id, type="performance")
    assert "验收合格" in ann.body_text
    with pytest.raises(InvalidTransition):
        await results.record_performance(t.tenderer, t.lot.id, "再次", done)


async def test_reading_candidates_award_and_confirmation_as_each_caller_may(db, manual_clock):
    # given an evaluated lot
    t, _ = await evaluated_lot(manual_clock, PRICES[:3])
    public = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    # then before the publicity only the tenderer sees the candidates
    assert (await results.lot_result(public, t.lot.id)).candidates == []
    assert len((await results.lot_result(t.tenderer, t.lot.id)).candidates) == 3
    # when they are publicised, everyone sees them; when awarded, the award; the confirmation only some
    await results.publish_candidates(t.tenderer, t.lot.id)
    assert len((await results.lot_result(public, t.lot.id)).candidates) == 3
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    winner = next(b for b in t.bidders if b.org.id == made.organisation_id)
    seen = await results.lot_result(public, t.lot.id)
    assert seen.award is not None
    assert seen.confirmation is None
    mine = await results.lot_result(winner.actor, t.lot.id)
    assert mine.confirmation is not None
    assert mine.confirmation.award.confirmation_no == made.confirmation_no
    supervisor = person(await organisation(kinds=["supervisor"]), Role.SUPERVISOR)
    assert (await results.lot_result(supervisor, t.lot.id)).confirmation is None  # not its category
    keeper = supervisor.__class__(
        user_id=supervisor.user_id,
        org_id=supervisor.org_id,
        roles=supervisor.roles,
        supervised_categories=frozenset({"engineering_construction"}),
    )
    assert (await results.lot_result(keeper, t.lot.id)).confirmation is not None
    with pytest.raises(NotFound):
        await results.lot_result(public, 10**12)


async def test_two_awards_racing_make_one(db, manual_clock):
    # given a lot whose publicity is over
    t, _ = await publicised(manual_clock)
    manual_clock.advance(days=3, seconds=1)
    # when the tenderer and its colleague award at the same moment with different keys
    colleague = t.tenderer.__class__(user_id=t.tenderer.user_id + 1, org_id=t.tenderer.org_id, roles=t.tenderer.roles)
    outcomes = await asyncio.gather(
        results.award(t.tenderer, t.lot.id, "a"), results.award(colleague, t.lot.id, "b"), return_exceptions=True
    )
    # then one award, one result announcement, one refusal
    assert sorted(type(o).__name__ for o in outcomes) == ["Award", "InvalidTransition"]
    assert await Award.all().count() == 1
    assert await Announcement.filter(lot_id=t.lot.id, type="result").count() == 1
    assert await OutboxEvent.filter(type="result.awarded").count() == 1
