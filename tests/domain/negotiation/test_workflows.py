"""A supervisor's suspension holds a negotiation's windows; its lift gives the running window back the held time
(domain/negotiation/workflows.py), as the opening's decryption window is (domain/tendering/opening.resume)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput
from domain.complaints.events import LotSuspensionLifted
from domain.complaints.models import LotSuspension
from domain.negotiation import services, workflows
from domain.negotiation.errors import RoundClosed
from domain.negotiation.models import Negotiation, NegotiationMessage
from domain.publication.models import Lot, Project

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)


async def a_negotiation(status: str, n: int = 1) -> Negotiation:
    """A negotiation lot under evaluation whose final-offer window opened at T0 (and, when decrypting, closed an
    hour later with its key window of an hour)."""
    project = await Project.create(
        trade_code=f"P-N{n}",
        name="办公设备采购",
        category="government_procurement",
        region_code="370211",
        tenderer_id=1,
        created_at=T0,
    )
    lot = await Lot.create(
        project=project,
        lot_no=1,
        trade_code=f"L-N{n}",
        name="办公设备",
        procedure="competitive_negotiation",
        estimated_price_fen=100_000_000,
        config={"min_bids": 3, "final_offer_window_minutes": 60, "decryption_window_minutes": 60},
        status="evaluating",
        created_at=T0,
        updated_at=T0,
    )
    decrypting = status == "decrypting"
    return await Negotiation.create(
        lot_id=lot.id,
        procedure="competitive_negotiation",
        status=status,
        method="lowest_price",
        weights={"price": 30, "technical": 50, "commercial": 20},
        committee=[1, 2],
        representatives=[1],
        suppliers=[10, 11, 12],
        rounds_min=1,
        rounds_max=3,
        offers_open_at=T0,
        offers_close_at=T0 + WINDOW,
        decryption_ends_at=T0 + 2 * WINDOW if decrypting else None,
        next_check_at=T0 + (2 * WINDOW if decrypting else WINDOW),
        started_at=T0 - timedelta(days=1),
        updated_at=T0,
    )


async def suspended(lot_id: int, at: datetime, lifted: datetime | None = None) -> LotSuspension:
    return await LotSuspension.create(
        lot_id=lot_id, complaint_id=7, reason="投诉处理期间暂停", suspended_by=1, suspended_at=at, lifted_at=lifted
    )


def lifted(lot_id: int) -> LotSuspensionLifted:
    return LotSuspensionLifted(object_id=str(lot_id), lot_id=lot_id, complaint_id=7, trade_code="L-N1")


async def test_a_suspension_holds_the_final_offer_window_and_its_lift_extends_it_by_the_time_held(db, manual_clock):
    # given a final-offer window of an hour from T0, the lot suspended 20 minutes in
    negotiation = await a_negotiation("final_offers")
    suspension = await suspended(negotiation.lot_id, T0 + timedelta(minutes=20))

    # when the window's end comes while the lot is suspended
    manual_clock.set(T0 + WINDOW + timedelta(minutes=1))
    await services.fire_due(negotiation, manual_clock.now())

    # then nothing closes: the window waits for the lift
    held = await Negotiation.get(id=negotiation.id)
    assert (held.status, held.next_check_at) == ("final_offers", None)

    # when the supervisor lifts it 80 minutes after T0 (held an hour)
    suspension.lifted_at = T0 + timedelta(minutes=80)
    await suspension.save()
    await workflows.extend_windows_when_lifted(lifted(negotiation.lot_id))

    # then the window closes an hour later than planned, and the chronograph is due then
    extended = await Negotiation.get(id=negotiation.id)
    assert extended.offers_close_at == T0 + WINDOW + timedelta(minutes=60)
    assert extended.next_check_at == extended.offers_close_at
    assert extended.status == "final_offers"


async def test_a_lift_extends_the_key_window_it_held_and_nothing_that_had_ended(db, manual_clock):
    # given a negotiation in its key window (T0+60 to T0+120), suspended at T0+100 and lifted at T0+110
    decrypting = await a_negotiation("decrypting", n=1)
    await suspended(decrypting.lot_id, T0 + timedelta(minutes=100), T0 + timedelta(minutes=110))
    # and one whose final-offer window had ended before its suspension began
    ended = await a_negotiation("final_offers", n=2)
    await suspended(ended.lot_id, T0 + timedelta(minutes=70), T0 + timedelta(minutes=90))

    # when both suspensions are lifted
    await workflows.extend_windows_when_lifted(lifted(decrypting.lot_id))
    await workflows.extend_windows_when_lifted(lifted(ended.lot_id))

    # then the key window gains the ten minutes held; the window that had ended does not move
    assert (await Negotiation.get(id=decrypting.id)).decryption_ends_at == T0 + 2 * WINDOW + timedelta(minutes=10)
    assert (await Negotiation.get(id=ended.id)).offers_close_at == T0 + WINDOW


async def test_a_round_with_its_own_deadline_refuses_late_responses_and_a_suspension_holds_it(db, manual_clock):
    # given a negotiation in its first round, the purchaser's representative on the panel and a supplier
    negotiation = await a_negotiation("negotiating", n=3)
    negotiation.offers_open_at = negotiation.offers_close_at = negotiation.next_check_at = None
    await negotiation.save()
    panel = Actor(user_id=1, org_id=1, roles=frozenset({Role.TENDERER}))
    supplier = Actor(user_id=900, org_id=10, roles=frozenset({Role.BIDDER}))
    manual_clock.set(T0)
    # when the panel opens round 2 closing in the past, then in a day
    with pytest.raises(InvalidInput):
        await services.open_round(panel, negotiation.lot_id, closes_at=T0 - timedelta(minutes=1))
    opened = await services.open_round(panel, negotiation.lot_id, closes_at=T0 + timedelta(days=1))
    # and the supplier responds in time, then after the deadline
    manual_clock.set(T0 + timedelta(hours=23))
    in_time = await services.post(supplier, negotiation.lot_id, "第二轮响应", price_fen=99_000_000)
    manual_clock.set(T0 + timedelta(days=1))
    with pytest.raises(RoundClosed) as late:
        await services.post(supplier, negotiation.lot_id, "迟到的响应", price_fen=98_000_000)
    # then round 2 has its deadline, the response in time is kept and the late one refused with the round's deadline
    assert (opened.round, opened.round_closes_at) == (2, T0 + timedelta(days=1))
    assert in_time.round == 2
    assert late.value.params == {"round": 2, "closes_at": T0 + timedelta(days=1)}
    assert await NegotiationMessage.filter(negotiation_id=negotiation.id).count() == 1
    # and the panel may still write to the supplier after it
    await services.post(panel, negotiation.lot_id, "请澄清", organisation_id=10)

    # when round 3 closing at T0+2d is held by a suspension from T0+1d12h, lifted 6 hours later
    await services.open_round(panel, negotiation.lot_id, closes_at=T0 + timedelta(days=2))
    await suspended(negotiation.lot_id, T0 + timedelta(days=1, hours=12), T0 + timedelta(days=1, hours=18))
    await workflows.extend_windows_when_lifted(lifted(negotiation.lot_id))
    # then the round closes 6 hours later than planned
    assert (await Negotiation.get(id=negotiation.id)).round_closes_at == T0 + timedelta(days=2, hours=6)
