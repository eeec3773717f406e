"""A change of the documents moves the deadline and every time that follows it, in one transaction with its notice;
a closed registration stays closed; a clarification after the deadline or by a stranger changes nothing; a termination
returns the sealed bids unopened, flagged ones included."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.common.actors import Role
from domain.common.errors import NotFound
from domain.common.models import OutboxEvent
from domain.common.reactions import decode
from domain.publication.events import LotStatusChanged
from domain.publication.models import Announcement, Clarification, Lot
from domain.publication.projects import move_lot
from domain.publication.states import LotStatus
from domain.registration import services as registration
from domain.tendering import clarifications
from domain.tendering import services as tendering
from domain.tendering import workflows as tendering_workflows
from domain.tendering.clarifications import ClarificationForm
from domain.tendering.errors import ClarificationClosed
from domain.tendering.models import Opening, SealedBid
from mobile_contract.sealed_bid import new_key, seal
from notifications.rules import RULES
from tests.domain.factories import organisation, user
from tests.support.commitments import commit
from tests.support.tendering import person, published_tender


def _at(lot: Lot, name: str) -> datetime:
    return datetime.fromisoformat(lot.config[name])


async def test_the_deadline_the_opening_and_an_open_registration_move_together(db, manual_clock):
    # given a tender due in 21 days whose registration closes 2 days before, opened an hour after the deadline
    now = manual_clock.now()
    deadline = now + timedelta(days=21)
    t = await published_tender(
        {"registration_closes_at": deadline - timedelta(days=2), "opening_at": deadline + timedelta(hours=1)}
    )
    # when a change of the documents comes 10 days before the deadline
    manual_clock.advance(timedelta(days=11))
    changed = await clarifications.publish(
        t.tenderer,
        ClarificationForm(lot_id=t.lot.id, changes_documents=True, title="修改（第1号）", body_html="<p>改</p>"),
    )
    # then the deadline is 15 days out and the registration close, the opening and its due time keep their distance
    lot = await Lot.get(id=t.lot.id)
    moved = manual_clock.now() + timedelta(days=15)
    assert _at(lot, "bid_deadline") == moved
    assert _at(lot, "registration_closes_at") == moved - timedelta(days=2)
    assert _at(lot, "opening_at") == moved + timedelta(hours=1)
    opening = await Opening.get(lot_id=lot.id)
    assert (opening.deadline, opening.next_check_at) == (moved, moved)
    assert (changed.deadline_before, changed.deadline_after, changed.minimum_days) == (deadline, moved, 15)
    assert (await Announcement.get(id=changed.announcement_id)).status == "published"


async def test_a_closed_registration_stays_closed(db, manual_clock):
    # given a tender whose registration closed before a late change
    deadline = manual_clock.now() + timedelta(days=21)
    t = await published_tender({"registration_closes_at": deadline - timedelta(days=12)})
    manual_clock.advance(timedelta(days=12))
    # when the change moves the deadline
    await clarifications.publish(t.tenderer, ClarificationForm(lot_id=t.lot.id, changes_documents=True, title="修改"))
    # then registration closed when it did
    lot = await Lot.get(id=t.lot.id)
    assert _at(lot, "registration_closes_at") == deadline - timedelta(days=12)
    assert _at(lot, "bid_deadline") == deadline + timedelta(days=6)


async def test_after_the_deadline_or_by_a_stranger_nothing_changes(db, manual_clock):
    # given a tender
    t = await published_tender()
    stranger = person(await organisation(kinds=["tenderer"]), Role.TENDERER)
    form = ClarificationForm(lot_id=t.lot.id, changes_documents=True, title="修改")
    # when a stranger clarifies, then it finds no such lot
    with pytest.raises(NotFound):
        await clarifications.publish(stranger, form)
    # when its own tenderer clarifies after the deadline, then it is refused
    manual_clock.set(_at(t.lot, "bid_deadline"))
    with pytest.raises(ClarificationClosed):
        await clarifications.publish(t.tenderer, form)
    assert await Clarification.filter(lot_id=t.lot.id).count() == 0
    assert await Announcement.filter(lot_id=t.lot.id, type="change").count() == 0


async def test_a_termination_returns_standing_and_flagged_bids_unopened_and_tells_their_bidders(db, manual_clock):
    # given a tender with two sealed bids, both flagged by a change, one confirmed since
    t = await published_tender()
    bidders = []
    for price in (1_000_000, 2_000_000):
        org = await organisation(kinds=["bidder"])
        bidder = person(org, Role.BIDDER)
        await commit(bidder, t.lot.id, "registration")  # an open tender: 信用承诺制 by default
        await registration.register(bidder, t.lot.id)
        await commit(bidder, t.lot.id, "bid")
        await tendering.submit(bidder, t.lot.id, seal(new_key(), t.lot.trade_code, price, {"商务标.pdf": b"x"}))
        await user(org)
        bidders.append(bidder)
    manual_clock.advance(timedelta(days=11))
    await clarifications.publish(t.tenderer, ClarificationForm(lot_id=t.lot.id, changes_documents=True, title="修改"))
    await clarifications.confirm(bidders[0], t.lot.id)
    # when the lot is terminated before its deadline and the dispatcher delivers its status change twice
    await move_lot(t.tenderer, t.lot.id, {LotStatus.OPEN}, LotStatus.TERMINATED)
    changed = await OutboxEvent.filter(type="lot.status_changed", object_id=str(t.lot.id))
    [ended] = [e for e in changed if e.payload["after"] == "terminated"]
    for _ in range(2):
        await tendering_workflows.return_bids_when_terminated(decode(LotStatusChanged, ended))
    # then both bids are returned unopened, the flagged one no longer waits for a confirmation; each bidder told once
    bids = {b.organisation_id: b for b in await SealedBid.filter(lot_id=t.lot.id)}
    assert [bids[b.org_id].status for b in bidders] == ["returned", "returned"]
    returned = await OutboxEvent.filter(type="sealed_bid.returned").order_by("id")
    assert [(e.payload["was_flagged"], e.audience["orgs"]) for e in returned] == [
        (False, [bidders[0].org_id]),
        (True, [bidders[1].org_id]),
    ]
    [notice] = await RULES["sealed_bid.returned"](returned[1])
    assert (notice.title_zh, notice.title_en) == ("投标文件已退回", "Bid returned")
