"""The opening at the deadline of a lot that is no longer bidding: nothing to open, nothing to fail."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.common import chronograph
from domain.common.actors import SYSTEM
from domain.common.models import OutboxEvent
from domain.publication import services as pub
from domain.publication.models import Announcement, Lot
from domain.tendering.models import Opening
from tests.support.tendering import published_tender


async def test_a_lot_terminated_before_its_deadline_voids_its_opening(db, manual_clock):
    # given a tender terminated before its bid deadline
    t = await published_tender()
    await pub.announce(SYSTEM, t.lot, "termination", "终止公告", "<p>采购需求变化，终止。</p>")
    # when the deadline passes
    manual_clock.set(datetime.fromisoformat(t.lot.config["bid_deadline"]) + timedelta(seconds=1))
    await chronograph.fire_due()
    # then the opening is void: no failure recorded, no second termination, the lot stays terminated
    opening = await Opening.get(lot_id=t.lot.id)
    assert opening.status == "void"
    assert opening.next_check_at is None
    assert not await OutboxEvent.filter(type="opening.failed").exists()
    assert await Announcement.filter(lot_id=t.lot.id, type="termination").count() == 1
    assert (await Lot.get(id=t.lot.id)).status == "terminated"
