"""Sequential award against the record: a credit block and an upheld complaint disqualify the winner only when the
record bears them out, a stranger cannot withdraw an award, and each withdrawal is an event on the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.common import chronograph, clock
from domain.common.actors import Role
from domain.common.errors import NotFound
from domain.common.models import OutboxEvent
from domain.complaints.models import Complaint
from domain.credit import services as credit
from domain.results import contracts, sequence
from domain.results import services as results
from domain.results.errors import WithdrawalUnfounded
from domain.results.models import Award, AwardWithdrawal, Contract
from domain.results.states import AwardStatus
from tests.domain.factories import OPERATOR, organisation
from tests.domain.results.test_contracts import contract_file
from tests.support.results import evaluated_lot
from tests.support.tendering import person

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]  # the second is the lowest


async def awarded(manual_clock):  # type: ignore[no-untyped-def]
    t, candidates = await evaluated_lot(manual_clock, PRICES)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    return t, candidates, await results.award(t.tenderer, t.lot.id)


async def complaint(lot_id: int, category: str, decision: str) -> Complaint:
    now = clock.now()
    return await Complaint.create(
        lot_id=lot_id,
        category=category,
        organisation_id=(await organisation()).id,
        filed_by=1,
        subject="other",
        knew_on=now.date(),
        reasons="中标人弄虚作假",
        requests="取消其中标资格",
        evidence=[],
        status="decided",
        filed_at=now,
        accept_due_at=now + timedelta(days=3),
        decision=decision,
        decided_at=now,
    )


async def test_a_credit_block_disqualifies_the_winner_only_while_it_is_in_force(db, manual_clock):
    # given an awarded lot whose winner is not punished
    t, candidates, made = await awarded(manual_clock)
    # when the tenderer cites a credit block
    with pytest.raises(WithdrawalUnfounded):
        await sequence.withdraw(t.tenderer, t.lot.id, "credit_blocked", "失信")
    # and once the winner is on the joint-punishment list
    now = clock.now()
    await credit.list_punishment(OPERATOR, made.organisation_id, "串通投标", "发改委", "发改〔2026〕1号", now, None)
    withdrawn = await sequence.withdraw(t.tenderer, t.lot.id, "credit_blocked", "列入失信联合惩戒名单")
    # then the award is withdrawn, on the record and in the outbox
    assert withdrawn.status == AwardStatus.WITHDRAWN.value
    [row] = await AwardWithdrawal.filter(lot_id=t.lot.id)
    assert (row.rank, row.organisation_id, row.reason) == (1, candidates[0].organisation_id, "credit_blocked")
    assert await OutboxEvent.filter(type="result.award_withdrawn", object_id=str(made.id)).count() == 1
    # and the next candidate is awarded
    nxt = await sequence.award_next(t.tenderer, t.lot.id)
    assert (nxt.organisation_id, nxt.price_fen) == (candidates[1].organisation_id, candidates[1].price_fen)


async def test_an_upheld_complaint_disqualifies_and_a_dismissed_one_does_not(db, manual_clock):
    # given an awarded lot with a dismissed and an upheld complaint
    t, _, _ = await awarded(manual_clock)
    dismissed = await complaint(t.lot.id, t.project.category, "dismissed")
    upheld = await complaint(t.lot.id, t.project.category, "upheld")
    # when the tenderer cites the dismissed one, then the upheld one
    with pytest.raises(WithdrawalUnfounded):
        await sequence.withdraw(t.tenderer, t.lot.id, "complaint_upheld", "投诉成立", complaint_id=dismissed.id)
    made = await sequence.withdraw(t.tenderer, t.lot.id, "complaint_upheld", "投诉成立", complaint_id=upheld.id)
    # then only the upheld one withdraws the award, and the row names it
    assert made.status == AwardStatus.WITHDRAWN.value
    assert (await AwardWithdrawal.get(lot_id=t.lot.id)).complaint_id == upheld.id


async def test_a_stranger_cannot_withdraw_an_award(db, manual_clock):
    # given an awarded lot and an organisation that neither won nor manages it
    t, _, _ = await awarded(manual_clock)
    stranger = person(await organisation(), Role.BIDDER)
    # when / then
    with pytest.raises(NotFound):
        await sequence.withdraw(stranger, t.lot.id, "declined", "放弃")
    assert (await Award.get(lot_id=t.lot.id)).status == AwardStatus.AWARDED.value


async def test_past_the_lots_grace_after_the_overdue_flag_the_system_withdraws_the_award(db, manual_clock):
    # given a lot awarded with a grace of 5 days after the contract-overdue flag
    t, candidates = await evaluated_lot(manual_clock, PRICES, config={"contract_grace_days": 5})
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    # when 30 days pass without a contract, then 5 days less a second, then the rest, the chronograph running each time
    manual_clock.advance(days=30, seconds=1)
    await chronograph.fire_due()
    manual_clock.advance(days=5, seconds=-2)
    await chronograph.fire_due()
    still = await Award.get(id=made.id)
    manual_clock.advance(seconds=2)
    await chronograph.fire_due()
    await chronograph.fire_due()
    # then it was flagged, kept during the grace, then withdrawn once by the system on the ground contract_not_signed
    assert (still.status, still.contract_overdue_at is not None) == (AwardStatus.AWARDED.value, True)
    assert (await Award.get(id=made.id)).status == AwardStatus.WITHDRAWN.value
    [row] = await AwardWithdrawal.filter(lot_id=t.lot.id)
    assert (row.rank, row.reason, row.withdrawn_by) == (1, "contract_not_signed", None)
    [event] = await OutboxEvent.filter(type="result.award_withdrawn", object_id=str(made.id))
    assert (event.actor_label, event.payload["failed"]) == ("client:system", False)
    assert t.project.tenderer_id in event.audience["orgs"]
    # and the tenderer awards the next candidate, with a new 30-day deadline
    nxt = await sequence.award_next(t.tenderer, t.lot.id)
    assert nxt.organisation_id == candidates[1].organisation_id
    assert nxt.contract_due_at == clock.now() + timedelta(days=30)


async def test_past_the_grace_an_award_whose_contract_one_party_signed_is_not_withdrawn(db, manual_clock):
    # given a lot awarded with a grace of 5 days, whose contract the tenderer drafted and the winner signed
    t, _ = await evaluated_lot(manual_clock, PRICES, config={"contract_grace_days": 5})
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    made = await results.award(t.tenderer, t.lot.id)
    doc = await contract_file(t.lot.id, "合同.pdf")
    drafted = await contracts.draft(t.tenderer, t.lot.id, "HT-9", made.price_fen, [doc.id])
    await Contract.filter(id=drafted.id).update(supplier_signed_at=clock.now())  # as contracts.sign leaves it
    # when 30 days pass without the tenderer's signature, then the grace, the chronograph running each time
    manual_clock.advance(days=30, seconds=1)
    await chronograph.fire_due()
    manual_clock.advance(days=5, seconds=1)
    await chronograph.fire_due()
    await chronograph.fire_due()
    # then the award is flagged but stands: no withdrawal, and the chronograph leaves it alone
    waiting = await Award.get(id=made.id)
    assert (waiting.status, waiting.contract_overdue_at is not None) == (AwardStatus.AWARDED.value, True)
    assert not await AwardWithdrawal.exists(lot_id=t.lot.id)
    assert waiting.next_check_at is None
