"""The opening at the deadline of a lot that is no longer bidding: nothing to open, nothing to fail."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.common import chronograph
from domain.common.actors import SYSTEM, Role
from domain.common.models import OutboxEvent
from domain.publication import announcements
from domain.publication.models import Announcement, Lot
from domain.registration import services as registration
from domain.tendering import opening
from domain.tendering.models import Opening, OpeningObjection
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.factories import organisation
from tests.support import commitments as committed
from tests.support.tendering import Bidder, person, published_tender


async def test_a_lot_terminated_before_its_deadline_voids_its_opening(db, manual_clock):
    # given a tender terminated before its bid deadline
    t = await published_tender()
    await announcements.announce(SYSTEM, t.lot, "termination", "终止公告", "<p>采购需求变化，终止。</p>")
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


async def test_a_resent_key_or_objection_acts_once(db, manual_clock):
    # given a tender in its decryption window with three sealed bids (fewer fail the lot)
    t = await published_tender()
    bidders = []
    for price in (1_000_000_00, 1_100_000_00, 1_200_000_00):
        org = await organisation(kinds=["bidder"])
        bidder = Bidder(org, person(org, Role.BIDDER), price, new_key())
        await committed.register(bidder.actor, t.lot.id)
        await committed.submit(bidder.actor, t.lot.id, seal(bidder.key, t.lot.trade_code, price, {"a.pdf": b"x"}))
        bidders.append(bidder)
    deadline = registration.bid_deadline(t.lot)
    assert deadline is not None
    manual_clock.set(deadline + timedelta(seconds=1))
    await chronograph.fire_due()
    first, other, _ = bidders

    # when a phone hands over its key twice (its first answer lost), then another's key
    opened = await opening.submit_key(first.actor, t.lot.id, first.key)
    again = await opening.submit_key(first.actor, t.lot.id, first.key)
    with pytest.raises(opening.NoBidToDecrypt):
        await opening.submit_key(first.actor, t.lot.id, other.key)
    # and objects twice with one idempotency key, then once more with another
    objection = await opening.raise_objection(first.actor, t.lot.id, "工期不合理", "obj-1")
    resent = await opening.raise_objection(first.actor, t.lot.id, "工期不合理", "obj-1")
    second = await opening.raise_objection(first.actor, t.lot.id, "工期不合理", "obj-2")

    # then the key opened the bid once (one event), the resend answered the same; one objection per key
    assert (again.id, again.price_fen) == (opened.id, first.price_fen)
    decrypted = await OutboxEvent.filter(type="opening.bid_decrypted").count()
    assert decrypted == 1
    assert resent.id == objection.id
    assert second.id != objection.id
    assert await OpeningObjection.filter(opening__lot_id=t.lot.id).count() == 2
