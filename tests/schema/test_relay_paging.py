"""Every connection pages both ways: forward then backward give the same items in order, with the boundary flags."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.auctions.models import AuctionBid
from domain.audit import services as audit
from domain.common import clock
from domain.common.actors import ANONYMOUS, Actor, Role
from domain.notifications.models import Notification, PushDelivery
from domain.publication.models import Announcement
from domain.registration.models import Registration
from schema.relay import to_global_id
from tests.domain.factories import live_auction, organisation, outbox, user
from tests.domain.publication import test_search as search_tests
from tests.support.schema import run
from tests.support.tendering import OPERATOR, published_tender

CONNECTION_FIELDS = """
{ __schema { queryType { fields { name args { name description } type { name ofType { name } } } } } }
"""
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def document(field: str, arguments: str = "", declared: str = "", key: str = "id") -> str:
    return (
        f"query($first: Int, $after: String, $last: Int, $before: String{declared}) {{"
        f" {field}(first: $first, after: $after, last: $last, before: $before{arguments})"
        f" {{ edges {{ cursor node {{ key: {key} }} }} {PAGE_INFO} }} }}"
    )


async def walk(doc: str, field: str, actor: Actor, size: int = 2, **variables: Any) -> tuple[list[Any], list[Any]]:
    """Reads a connection `size` at a time forward to its end and backward to its start; checks the flags and
    cursors of every page, and returns the ids of both walks in list order."""
    forward: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await run(doc, actor, first=size, after=after, **variables))[field]
        forward.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward: list[dict[str, Any]] = []
    before = None
    while True:
        page = (await run(doc, actor, last=size, before=before, **variables))[field]
        backward.append(page)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    for pages in (forward, list(reversed(backward))):
        flags = [(p["pageInfo"]["hasPreviousPage"], p["pageInfo"]["hasNextPage"]) for p in pages]
        assert flags == [(i > 0, i < len(pages) - 1) for i in range(len(pages))], (field, flags)
        for p in pages:
            assert p["pageInfo"]["startCursor"] == p["edges"][0]["cursor"], field
            assert p["pageInfo"]["endCursor"] == p["edges"][-1]["cursor"], field
            assert 0 < len(p["edges"]) <= size, field
    ids = [e["node"]["key"] for p in forward for e in p["edges"]]
    back = [e["node"]["key"] for p in reversed(backward) for e in p["edges"]]
    return ids, back


async def test_every_connection_can_be_paged_backwards(db):
    # given the query fields of the served schema that answer with a connection
    fields = (await run(CONNECTION_FIELDS, ANONYMOUS))["__schema"]["queryType"]["fields"]
    connections = {
        f["name"]: {a["name"]: a["description"] for a in f["args"]}
        for f in fields
        if (f["type"]["name"] or f["type"]["ofType"]["name"] or "").endswith("Connection")
    }
    assert len(connections) > 20

    # when their arguments are looked at
    lacking = {name: sorted({"first", "after", "last", "before"} - set(args)) for name, args in connections.items()}

    # then each takes first/after and last/before, each described
    assert {name: missing for name, missing in lacking.items() if missing} == {}
    assert all(args[a] for args in connections.values() for a in ("last", "before"))


async def test_announcements_page_both_ways_in_either_order(db):
    # given five published announcements, two of them published at the same instant
    t = await published_tender()
    base = clock.now() - timedelta(days=1)
    for minutes in (10, 20, 20, 30):
        await Announcement.create(
            project=t.project,
            lot=t.lot,
            trade_code=t.lot.trade_code,
            type="tender",
            status="published",
            title="补充公告",
            body_html="<p>-</p>",
            body_text="-",
            search_text="-",
            category="engineering_construction",
            region_code="370200",
            published_at=base + timedelta(minutes=minutes),
            created_at=base,
        )
    doc = document("announcements", ", sort: $sort", ", $sort: AnnouncementSort")

    for sort in ("NEWEST", "OLDEST"):
        # when anyone reads them two at a time forward, then backward
        ids, back = await walk(doc, "announcements", ANONYMOUS, sort=sort)

        # then both walks give the same five in the same order
        assert len(set(ids)) == 5, sort
        assert back == ids, sort
    newest, _ = await walk(doc, "announcements", ANONYMOUS, sort="NEWEST")
    oldest, _ = await walk(doc, "announcements", ANONYMOUS, sort="OLDEST")
    assert oldest == list(reversed(newest))


async def test_the_inbox_pages_both_ways(db):
    # given a user with five notifications and another user's one
    org = await organisation()
    me, other = await user(org), await user(org)
    for owner in (me, me, me, other, me, me):
        await Notification.create(
            message_id=uuid.uuid4(),
            user=owner,
            kind="saved_search_matched",
            title_zh="标题",
            body_zh="正文",
            title_en="Title",
            body_en="Body",
            object_type="Lot",
            object_id="1",
            event_id=uuid.uuid4(),
            created_at=clock.now(),
        )
    actor = Actor(user_id=me.id, org_id=org.id, roles=frozenset({Role.BIDDER}))

    # when the user reads the inbox two at a time forward, then backward
    ids, back = await walk(document("myNotifications"), "myNotifications", actor)

    # then both walks give the user's five, newest first
    assert len(set(ids)) == 5
    assert back == ids


async def test_the_audit_trail_pages_both_ways(db):
    # given five audit entries
    events = await outbox(5)
    async with in_transaction():
        await audit.append(events)

    # when an operator reads them two at a time forward, then backward
    ids, back = await walk(document("auditTrail", key="seq"), "auditTrail", OPERATOR)

    # then both walks give the same entries in order
    assert len(set(ids)) >= 5
    assert back == ids


async def notification(owner: Any, object_id: str = "1", title: str = "标题") -> Notification:
    return await Notification.create(
        message_id=uuid.uuid4(),
        user=owner,
        kind="saved_search_matched",
        title_zh=title,
        body_zh="正文",
        title_en="Title",
        body_en="Body",
        object_type="Lot",
        object_id=object_id,
        event_id=uuid.uuid4(),
        created_at=clock.now(),
    )


async def test_a_lots_notices_page_both_ways_with_their_pushes(db):
    # given five notices about a lot, one of them pushed, and one notice about another lot
    t = await published_tender()
    me = await user(await organisation())
    notes = [await notification(me, str(t.lot.id), f"通知{i}") for i in range(5)]
    await notification(me, str(t.lot.id + 1))
    now = clock.now()
    await PushDelivery.create(
        notification=notes[0], status="sent", attempts=1, due_at=now, expires_at=now, created_at=now
    )
    doc = (
        "query($first: Int, $after: String, $last: Int, $before: String, $lotId: ID!) {"
        " lotNoticesConnection(lotId: $lotId, first: $first, after: $after, last: $last, before: $before)"
        f" {{ edges {{ cursor node {{ key: title pushes {{ status }} }} }} {PAGE_INFO} }} }}"
    )
    lot_id = to_global_id("Lot", t.lot.id)

    # when an operator reads them two at a time forward, then backward, and all at once
    ids, back = await walk(doc, "lotNoticesConnection", OPERATOR, lotId=lot_id)
    everything = (await run(doc, OPERATOR, lotId=lot_id, first=10))["lotNoticesConnection"]["edges"]

    # then both walks give the five, newest first, the oldest with its push
    assert ids == [f"通知{i}" for i in reversed(range(5))]
    assert back == ids
    assert [len(e["node"]["pushes"]) for e in everything] == [0, 0, 0, 0, 1]


async def test_a_lots_registrations_page_both_ways(db):
    # given a lot with five registered bidders
    t = await published_tender()
    for _ in range(5):
        org = await organisation()
        await Registration.create(
            lot=t.lot,
            organisation=org,
            user_id=1,
            status="registered",
            registered_at=clock.now(),
            updated_at=clock.now(),
        )
    doc = document("lotRegistrations", ", lotId: $lotId", ", $lotId: ID!")

    # when an operator reads them two at a time forward, then backward
    ids, back = await walk(doc, "lotRegistrations", OPERATOR, lotId=to_global_id("Lot", t.lot.id))

    # then both walks give the five in order
    assert len(set(ids)) == 5
    assert back == ids


SEARCH = """
query($q: String!, $first: Int, $after: String, $last: Int, $before: String) {
  searchAnnouncementsConnection(query: $q, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { key: id } score titleHtml }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount totalIsEstimate
  }
}"""
OLD_SEARCH = "query($q: String!) { searchAnnouncements(query: $q, first: 100) { hits { announcement { id } } total } }"


async def test_search_results_page_as_a_connection_both_ways_in_rank_order(db, manual_clock):
    # given seven matching announcements, one of them a title match that ranks first, and one that does not match
    actor = await search_tests.tenderer()
    same = [await search_tests.published(actor, manual_clock, f"第{i}号公告", "本段为道路施工说明。") for i in range(6)]
    best = await search_tests.published(actor, manual_clock, "道路施工招标公告", "本段为说明。")
    await search_tests.published(actor, manual_clock, "桥梁施工招标公告", "本段为说明。")

    # when anyone reads the hits two at a time forward, then backward, and through the deprecated field
    ids, back = await walk(SEARCH, "searchAnnouncementsConnection", ANONYMOUS, q="道路")
    first = (await run(SEARCH, ANONYMOUS, q="道路", first=2))["searchAnnouncementsConnection"]
    old = (await run(OLD_SEARCH, ANONYMOUS, q="道路"))["searchAnnouncements"]

    # then both walks give the seven in rank order, as the old field ranks them, with the total
    expected = [to_global_id("Announcement", a.id) for a in [best, *reversed(same)]]
    assert ids == expected
    assert back == expected
    assert [h["announcement"]["id"] for h in old["hits"]] == expected
    assert (first["totalCount"], first["totalIsEstimate"], old["total"]) == (7, False, 7)
    assert "<em>" in first["edges"][0]["titleHtml"]


BATCH = """
query($lotId: ID!, $afterSeq: Int!, $first: Int) {
  auctionBidBatch(lotId: $lotId, afterSeq: $afterSeq, first: $first) { bids { seq } hasMore lastSeq }
}"""
OLD_BIDS = "query($lotId: ID!) { auctionBids(lotId: $lotId, afterSeq: 0) { seq } }"


async def test_a_client_catching_up_on_bids_is_told_to_ask_again_past_the_cap(db):
    # given an auction with 501 accepted bids, more than one answer carries
    t = await published_tender()
    now = clock.now()
    auction = await live_auction(t.lot, seq=501)
    await AuctionBid.bulk_create(
        [
            AuctionBid(
                auction=auction,
                entry_id=1,
                bidder_no="0001",
                seq=n,
                amount_fen=100 + 10 * n,
                placed_at=now,
                phase="free",
            )
            for n in range(1, 502)
        ]
    )
    lot_id = to_global_id("Lot", t.lot.id)

    # when a client catches up from the start, asking again while told there is more
    batches, after = [], 0
    while True:
        batch = (await run(BATCH, ANONYMOUS, lotId=lot_id, afterSeq=after))["auctionBidBatch"]
        batches.append(batch)
        if not batch["hasMore"]:
            break
        after = batch["lastSeq"]
    small = (await run(BATCH, ANONYMOUS, lotId=lot_id, afterSeq=499, first=1))["auctionBidBatch"]
    old = (await run(OLD_BIDS, ANONYMOUS, lotId=lot_id))["auctionBids"]

    # then it gets every bid once, in order: 500, then the last one; the deprecated list stops at 500
    assert [(len(b["bids"]), b["hasMore"], b["lastSeq"]) for b in batches] == [(500, True, 500), (1, False, 501)]
    assert [bid["seq"] for b in batches for bid in b["bids"]] == list(range(1, 502))
    assert small == {"bids": [{"seq": 500}], "hasMore": True, "lastSeq": 500}
    assert len(old) == 500
