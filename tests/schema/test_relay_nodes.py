"""Every Node type resolves through node(id:) and nodes(ids:) for a caller allowed to see it, and only then."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.accounts.models import PartnerKey
from domain.accounts.states import OrgStatus
from domain.auctions.models import AuctionBid
from domain.common import chronograph, clock
from domain.common.actors import ANONYMOUS, Actor, Role
from domain.complaints import reports
from domain.credit.models import CreditRecord, JointPunishment
from domain.deposits import services as deposits
from domain.evaluation import scoring
from domain.evaluation.models import ExpertDraw as ExpertDrawModel
from domain.notifications.models import Device, Notification
from domain.publication.models import Lot, SavedSearch
from domain.registration import services as registration
from domain.registration.models import Registration
from domain.supervision.models import CollusionAlert
from domain.tendering import opening
from domain.tendering.models import Opening
from mobile_contract.sealed_bid import new_key, seal
from schema import relay
from schema.context import Context
from schema.relay import to_global_id
from tests.domain.factories import live_auction, organisation, user
from tests.domain.results import test_services as results_tests
from tests.support import commitments as committed
from tests.support.complaints import evidence, supervisor
from tests.support.schema import run, served
from tests.support.tendering import OPERATOR, evaluating_tender, expert_actor, person, published_tender

NODE_TYPES = """
{ __type(name: "Node") { kind possibleTypes { name } } }
"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def node_types() -> list[str]:
    data = await run(NODE_TYPES, ANONYMOUS)
    assert data["__type"]["kind"] == "INTERFACE"
    return sorted(t["name"] for t in data["__type"]["possibleTypes"])


async def test_every_node_type_has_a_resolver(db):
    # given the Node types of the served schema, found by introspection
    types = await node_types()
    assert len(types) > 20

    # when each is looked for among the registered node resolvers
    missing = [name for name in types if name not in relay._node_resolvers]

    # then none lacks one, and no resolver is registered for a type the schema does not serve
    assert missing == []
    assert sorted(set(relay._node_resolvers) - set(types)) == []


async def test_an_id_of_every_node_type_that_does_not_exist_is_null(db):
    # given an operator and an id of each Node type that names no row
    ids = [to_global_id(name, 2**62) for name in await node_types()]

    # when they are looked up one by one and all at once
    one_by_one = [(await run(NODE, OPERATOR, id=value))["node"] for value in ids]
    together = (await run(NODES, OPERATOR, ids=ids))["nodes"]

    # then each is null, never an error
    assert one_by_one == [None] * len(ids)
    assert together == [None] * len(ids)


async def test_a_tenders_objects_resolve_for_who_may_see_them_and_no_one_else(db, manual_clock):
    # given a tender whose opening closed and whose committee is drawn, a second tender still before
    # its deadline, a deposit account of one bidder, and a bidder of neither
    t = await evaluating_tender(manual_clock, [90_000_000, 95_000_000, 99_000_000])
    later = await published_tender()
    bidder, other = t.bidders[:2]
    assert bidder.bid is not None
    assert other.bid is not None
    stranger = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    pending = await organisation(status=OrgStatus.PENDING, kinds=["bidder"])
    reg = await Registration.get(lot_id=t.lot.id, organisation_id=bidder.org.id)
    other_reg = await Registration.get(lot_id=t.lot.id, organisation_id=other.org.id)
    lot = await Lot.get(id=t.lot.id)
    account = await deposits.open_account(reg, lot)
    other_account = await deposits.open_account(other_reg, lot)
    closed = await Opening.get(lot_id=t.lot.id)
    scheduled = await Opening.get(lot_id=later.lot.id)
    drawn = await ExpertDrawModel.filter(lot_id=t.lot.id).first()
    assert drawn is not None
    member, outsider_expert = t.committee[0], next(e for e in t.pool if e not in t.committee)

    cases: list[tuple[str, int, Actor, int, Actor]] = [
        # (type, a pk the viewer may see, the viewer, a pk the outsider may not see, the outsider)
        ("Lot", t.lot.id, ANONYMOUS, 2**62, ANONYMOUS),
        ("Project", t.project.id, stranger, 2**62, stranger),
        ("Organisation", bidder.org.id, bidder.actor, pending.id, bidder.actor),
        ("Registration", reg.id, bidder.actor, other_reg.id, bidder.actor),
        ("Registration", other_reg.id, OPERATOR, reg.id, stranger),
        ("DepositAccount", account.id, bidder.actor, other_account.id, bidder.actor),
        ("SealedBidReceipt", bidder.bid.id, bidder.actor, other.bid.id, bidder.actor),
        ("OpeningRecord", closed.id, stranger, scheduled.id, stranger),
        ("Expert", member, expert_actor(member), outsider_expert, expert_actor(member)),
        ("ExpertDraw", drawn.id, stranger, 2**62, stranger),
    ]

    for type_name, visible, viewer, invisible, outsider in cases:
        # when the viewer and the outsider look an object up
        gid = to_global_id(type_name, visible)
        seen = (await run(NODE, viewer, id=gid))["node"]
        seen_in_list = (await run(NODES, viewer, ids=[gid, to_global_id(type_name, invisible)]))["nodes"]
        refused = (await run(NODE, outsider, id=to_global_id(type_name, invisible)))["node"]

        # then the viewer gets it by the same id, and the outsider gets null
        assert seen == {"__typename": type_name, "id": gid}, type_name
        assert seen_in_list[0] == seen, type_name
        assert refused is None, type_name


async def test_nodes_refuses_more_ids_than_a_page_holds(db):
    # given more ids than the server's page size
    context = Context(request=None, response=None, actor=OPERATOR, max_page_size=2)
    ids = [to_global_id("Lot", n) for n in range(3)]

    # when they are asked for at once
    result = await served().execute(NODES, variable_values={"ids": ids}, context_value=context)

    # then the caller is told which argument is too long
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "INVALID_INPUT", "field": "ids"}


PAGE = """
query($first: Int, $after: String, $last: Int, $before: String) {
  organisations(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_pages_forward_then_backward_return_the_same_items_in_order(db):
    # given five organisations
    for _ in range(5):
        await organisation()

    # when an operator reads them two at a time forward, then backward from the end
    forward, after = [], None
    while True:
        page = (await run(PAGE, OPERATOR, first=2, after=after))["organisations"]
        forward.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward, before = [], None
    while True:
        page = (await run(PAGE, OPERATOR, last=2, before=before))["organisations"]
        backward.append(page)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]

    # then both walks give the same items in the same order
    ids = [e["node"]["id"] for p in forward for e in p["edges"]]
    assert len(ids) == 5
    assert [e["node"]["id"] for p in reversed(backward) for e in p["edges"]] == ids
    # and the flags and cursors mark the boundaries
    assert [(p["pageInfo"]["hasPreviousPage"], p["pageInfo"]["hasNextPage"]) for p in forward] == [
        (False, True),
        (True, True),
        (True, False),
    ]
    assert [(p["pageInfo"]["hasPreviousPage"], p["pageInfo"]["hasNextPage"]) for p in backward] == [
        (True, False),
        (True, True),
        (False, True),
    ]
    for p in forward + backward:
        assert p["pageInfo"]["startCursor"] == p["edges"][0]["cursor"]
        assert p["pageInfo"]["endCursor"] == p["edges"][-1]["cursor"]


async def test_first_with_last_and_a_bad_before_are_the_callers_errors(db):
    # when both directions are asked at once, or `before` is not one of ours
    context = Context(request=None, response=None, actor=OPERATOR)
    both = await served().execute(PAGE, variable_values={"first": 1, "last": 1}, context_value=context)
    forged = await served().execute(PAGE, variable_values={"before": "bm9wZQ"}, context_value=context)

    # then each names the argument
    assert both.errors is not None
    assert both.errors[0].extensions == {"code": "INVALID_INPUT", "field": "last"}
    assert forged.errors is not None
    assert forged.errors[0].extensions == {"code": "INVALID_INPUT", "field": "before"}


async def test_own_public_and_supervised_objects_resolve_for_who_may_see_them_and_no_one_else(db, manual_clock):
    # given two bidder organisations with a user each, the first's inbox, device, saved search, partner key,
    # credit record and punishment; an auction with a bid; an evaluation; an engineering lot's collusion alert
    # and the supervisors of engineering and of government procurement
    now = clock.now()
    org, other_org = await organisation(), await organisation()
    me, other = await user(org), await user(other_org)
    mine = Actor(user_id=me.id, org_id=org.id, roles=frozenset({Role.BIDDER}))
    theirs = Actor(user_id=other.id, org_id=other_org.id, roles=frozenset({Role.BIDDER}))
    note = await Notification.create(
        message_id=uuid.uuid4(),
        user=me,
        kind="saved_search_matched",
        title_zh="标题",
        body_zh="正文",
        title_en="Title",
        body_en="Body",
        object_type="Lot",
        object_id="1",
        event_id=uuid.uuid4(),
        created_at=now,
    )
    device = await Device.create(
        user=me,
        provider="jpush",
        token="t" * 20,
        platform="android",
        app_version="1.0",
        locale="zh-CN",
        created_at=now,
        last_seen_at=now,
    )
    saved = await SavedSearch.create(
        user_id=me.id,
        org_id=org.id,
        name="道路",
        keywords="道路",
        terms=["道路"],
        categories=[],
        regions=[],
        created_at=now,
    )
    key = await PartnerKey.create(
        organisation=org,
        purpose="bank_callback",
        kid=f"kid-{uuid.uuid4()}",
        public_jwk={"kty": "EC"},
        created_by=me.id,
        created_at=now,
    )
    record = await CreditRecord.create(
        organisation=org,
        kind="bad",
        category="违约",
        description="-",
        source="-",
        recorded_by=1,
        recorded_at=now,
    )
    punishment = await JointPunishment.create(
        organisation=org,
        reason="-",
        authority="-",
        document_no="-",
        starts_at=now,
        recorded_by=1,
        recorded_at=now,
    )
    t = await evaluating_tender(manual_clock, [90_000_000, 95_000_000, 99_000_000])
    auction = await live_auction((await published_tender()).lot, seq=1)
    bid = await AuctionBid.create(
        auction=auction, entry_id=1, bidder_no="0001", seq=1, amount_fen=100, placed_at=now, phase="free"
    )
    evaluation = await scoring.start(OPERATOR, t.lot.id)
    alert = await CollusionAlert.create(
        lot_id=t.lot.id,
        signal="same_device",
        category="engineering_construction",
        region_code="370200",
        organisations=[],
        evidence={},
        status="new",
        raised_at=now,
        updated_at=now,
    )
    engineering = await supervisor("engineering_construction")
    procurement = await supervisor("government_procurement")
    stranger = person(await organisation(kinds=["bidder"]), Role.BIDDER)

    cases: list[tuple[str, int, Actor, Actor]] = [
        # (type, a pk, who may see it, who may not)
        ("Notification", note.id, mine, theirs),
        ("Device", device.id, mine, theirs),
        ("SavedSearch", saved.id, mine, theirs),
        ("PartnerKey", key.id, mine, theirs),
        ("CreditRecord", record.id, mine, theirs),
        ("JointPunishment", punishment.id, mine, theirs),
        ("CreditRecord", record.id, procurement, theirs),
        ("Evaluation", evaluation.id, OPERATOR, stranger),
        ("Evaluation", evaluation.id, engineering, procurement),
        ("CollusionAlert", alert.id, engineering, procurement),
        ("CollusionAlert", alert.id, engineering, stranger),  # alerts are the supervisors' queue
    ]
    for type_name, pk, viewer, outsider in cases:
        # when the viewer and the outsider look the object up by its global id
        gid = to_global_id(type_name, pk)
        seen = (await run(NODE, viewer, id=gid))["node"]
        refused = (await run(NODE, outsider, id=gid))["node"]

        # then the viewer gets it, and the outsider gets null
        assert seen == {"__typename": type_name, "id": gid}, type_name
        assert refused is None, (type_name, outsider)

    # and the auction and its bids are public, like the auction itself
    for type_name, pk in (("Auction", auction.id), ("AuctionBid", bid.id)):
        gid = to_global_id(type_name, pk)
        assert (await run(NODE, ANONYMOUS, id=gid))["node"] == {"__typename": type_name, "id": gid}


async def test_an_award_is_public_and_a_report_is_for_the_supervisors_of_its_lots_category(db, manual_clock):
    # given an awarded lot of engineering construction, a report about it, and two supervisors
    t, _, award = await results_tests.awarded(manual_clock)
    filed = await reports.file_report(ANONYMOUS, "围标串标线索", evidence(), lot_id=t.lot.id)
    engineering = await supervisor("engineering_construction")
    procurement = await supervisor("government_procurement")
    report_id = to_global_id("Report", filed.report.id)

    # when anyone asks for the award, and each supervisor and a bidder for the report
    seen_award = (await run(NODE, ANONYMOUS, id=to_global_id("Award", award.id)))["node"]
    seen = (await run(NODE, engineering, id=report_id))["node"]
    refused = [(await run(NODE, actor, id=report_id))["node"] for actor in (procurement, t.bidders[0].actor)]

    # then the award is public, and the report only the engineering supervisor's
    assert seen_award == {"__typename": "Award", "id": to_global_id("Award", award.id)}
    assert seen == {"__typename": "Report", "id": report_id}
    assert refused == [None, None]


async def test_an_opening_objection_is_seen_during_the_window_by_the_lots_bidders_and_not_by_strangers(
    db, manual_clock
):
    # given a tender in its decryption window with three sealed bids (the least that opens), and one objection
    t = await published_tender()
    bidders = []
    for price in (90_000_000, 95_000_000, 99_000_000):
        org = await organisation(kinds=["bidder"])
        actor = person(org, Role.BIDDER)
        await committed.register(actor, t.lot.id)
        await committed.submit(actor, t.lot.id, seal(new_key(), t.lot.trade_code, price, {"商务标.pdf": b"-"}))
        bidders.append(actor)
    deadline = registration.bid_deadline(t.lot)
    assert deadline is not None
    manual_clock.set(deadline + timedelta(seconds=1))
    await chronograph.fire_due()
    objection = await opening.raise_objection(bidders[0], t.lot.id, "开标时间与公告不符")
    stranger = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    gid = to_global_id("OpeningObjection", objection.id)

    # when the other bidder, the operator and a stranger look it up
    seen = [(await run(NODE, actor, id=gid))["node"] for actor in (bidders[1], OPERATOR)]
    refused = (await run(NODE, stranger, id=gid))["node"]

    # then the lot's bidder and the operator get it, the stranger null
    assert seen == [{"__typename": "OpeningObjection", "id": gid}] * 2
    assert refused is None
