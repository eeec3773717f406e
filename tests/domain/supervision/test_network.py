"""Device and network facts: one per act, and on the hot path of bidding one per process and device."""

from __future__ import annotations

from dataclasses import replace

from domain.access import network
from domain.access.models import NetworkFact
from domain.common.actors import Actor, Role

BIDDER = Actor(user_id=1, org_id=41, roles=frozenset({Role.BIDDER}), ip="10.1.2.3", device_id="phone-1")


async def test_a_bid_keeps_its_fact_once_per_auction_address_and_device_after_the_commit(db):
    # given an auction scope
    scope = (7, "2026-05-01T00:00:00+00:00")
    # when a bid keeps a fact, and another keeps one before the first was remembered (not yet committed)
    lost = await network.record_first(BIDDER, 3, "auction.bid", scope)
    retried = await network.record_first(BIDDER, 3, "auction.bid", scope)
    network.kept(retried)
    # then once remembered, later bids from that phone keep nothing more
    later = await network.record_first(BIDDER, 3, "auction.bid", scope)
    # but another phone, another address or another auction (a reused id) does
    other_phone = await network.record_first(replace(BIDDER, device_id="phone-2"), 3, "auction.bid", scope)
    other_auction = await network.record_first(BIDDER, 3, "auction.bid", (7, "2026-06-01T00:00:00+00:00"))
    # and a caller without an organisation keeps nothing
    anonymous = await network.record_first(Actor(ip="10.1.2.3"), 3, "auction.bid", scope)
    assert lost == retried is not None
    assert later is None
    assert other_phone is not None
    assert other_auction is not None
    assert anonymous is None
    rows = await NetworkFact.filter(lot_id=3).order_by("id")
    assert [(r.organisation_id, r.action, r.ip, r.device_id) for r in rows] == [
        (41, "auction.bid", "10.1.2.3", "phone-1"),
        (41, "auction.bid", "10.1.2.3", "phone-1"),
        (41, "auction.bid", "10.1.2.3", "phone-2"),
        (41, "auction.bid", "10.1.2.3", "phone-1"),
    ]


def test_the_process_forgets_the_oldest_facts_beyond_its_bound(monkeypatch):
    monkeypatch.setattr(network, "SEEN_MAX", 2)
    monkeypatch.setattr(network, "_seen", type(network._seen)())
    for n in range(3):
        network.kept(("auction.bid", n))
    assert list(network._seen) == [("auction.bid", 1), ("auction.bid", 2)]
