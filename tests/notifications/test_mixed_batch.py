"""A batch of many kinds of events notifies exactly what each event would alone: the batch rules (outbid and the other
auction notices, decided for the whole batch at once) and the per-event rules side by side, and the inbox files them
all in one go."""

from __future__ import annotations

from domain.accounts.models import Organisation
from domain.auctions.services import AuctionStartingSoon, AuctionWon, Outbid
from domain.common import events
from domain.common.actors import SYSTEM
from domain.common.events import Audience
from domain.common.models import OutboxEvent
from domain.notifications.models import Notification
from domain.results import services as results
from notifications.broker import InProcessBroker
from notifications.inbox import NotificationConsumer
from notifications.rules import BATCH_RULES, RULES, notifications_for
from tests.domain import factories as df
from tests.support.results import evaluated_lot

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]


async def test_a_batch_mixing_many_event_types_notifies_as_each_event_alone(db, manual_clock):
    # given a tendered lot taken to its award, a user in every organisation (two in one bidder, one of them inactive)
    t, _ = await evaluated_lot(manual_clock, PRICES, decrypted=3)
    orgs = [t.project.tenderer_id, *(b.org.id for b in t.bidders)]
    for org_id in orgs:
        await df.user(await Organisation.get(id=org_id))
    second = await df.user(await Organisation.get(id=t.bidders[0].org.id))
    gone = await df.user(await Organisation.get(id=t.bidders[0].org.id))
    gone.is_active = False
    await gone.save()
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    await results.award(t.tenderer, t.lot.id)

    # and an auction on it: a reminder to every bidder, outbids back and forth, a win, and one outbid of a lost auction
    auction = await df.live_auction(t.lot)
    bidders = [b.org.id for b in t.bidders]
    await events.record(
        AuctionStartingSoon(
            object_id=str(auction.id), lot_id=t.lot.id, starts_at=auction.starts_at, audience=Audience(orgs=bidders)
        ),
        SYSTEM,
    )
    for seq in range(2, 12):
        loser = bidders[seq % len(bidders)]
        await events.record(
            Outbid(
                object_id=str(auction.id),
                lot_id=t.lot.id,
                seq=seq,
                price_fen=100 + 10 * seq,
                audience=Audience(orgs=(loser,)),
            ),
            SYSTEM,
        )
    await events.record(
        Outbid(object_id="999999", lot_id=t.lot.id, seq=1, price_fen=100, audience=Audience(orgs=(bidders[0],))),
        SYSTEM,
    )
    await events.record(
        AuctionWon(
            object_id=str(auction.id),
            lot_id=t.lot.id,
            price_fen=210,
            bidder_no="A003",
            audience=Audience(orgs=(bidders[1],)),
        ),
        SYSTEM,
    )
    batch = list(await OutboxEvent.all().order_by("id"))
    types = {e.type for e in batch}
    assert len(types & set(RULES)) >= 5
    assert len(types & set(BATCH_RULES)) == 3

    # when the whole outbox is one batch
    together = await notifications_for(batch)

    # then it makes what each event makes alone, in the events' order
    alone = [n for event in batch for n in await notifications_for([event])]
    assert together == alone
    outbid = [n for n in together if n.kind == "auction_outbid"]
    assert len(outbid) == 10 + 2  # the first bidder (outbid at seq 4 and 8) has two active users; no auction 999999
    assert gone.id not in {n.user_id for n in together}
    assert second.id in {n.user_id for n in outbid}
    assert {n.kind for n in together} >= {"award_notice", "result_notice", "auction_starting_soon", "auction_won"}

    # and the inbox files every one of them once, with its words, and the batch again adds nothing
    consumer = NotificationConsumer(InProcessBroker())
    await consumer.consume(batch)
    await consumer.consume(batch)
    rows = {
        str(r.message_id): (
            r.user_id,
            r.kind,
            r.title_zh,
            r.body_zh,
            r.title_en,
            r.body_en,
            r.object_type,
            r.object_id,
            str(r.event_id),
            r.time_critical,
        )
        for r in await Notification.all()
    }
    assert rows == {
        str(n.message_id): (
            n.user_id,
            n.kind.value,
            n.title_zh,
            n.body_zh,
            n.title_en,
            n.body_en,
            n.object_type,
            n.object_id,
            str(n.event_id),
            n.time_critical,
        )
        for n in alone
    }
    ids = [r.id for r in await Notification.all().order_by("id")]
    assert len(ids) == len(alone)
