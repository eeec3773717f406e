"""Every Node type resolves through node(id:) and nodes(ids:) for a caller allowed to see it, and only then."""

from __future__ import annotations

from typing import Any

from domain.accounts.states import OrgStatus
from domain.common.actors import ANONYMOUS, Actor, Role
from domain.deposits import services as deposits
from domain.evaluation.models import ExpertDraw as ExpertDrawModel
from domain.publication.models import Lot
from domain.registration.models import Registration
from domain.tendering.models import Opening
from schema import relay
from schema.build import build_schema
from schema.context import Context
from schema.relay import to_global_id
from tests.domain.factories import organisation
from tests.support.tendering import OPERATOR, evaluating_tender, expert_actor, person, published_tender

NODE_TYPES = """
{ __type(name: "Node") { kind possibleTypes { name } } }
"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def run(document: str, actor: Actor, **variables: Any) -> dict[str, Any]:
    result = await build_schema().execute(
        document, variable_values=variables, context_value=Context(request=None, response=None, actor=actor)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


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
    result = await build_schema().execute(NODES, variable_values={"ids": ids}, context_value=context)

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
    both = await build_schema().execute(PAGE, variable_values={"first": 1, "last": 1}, context_value=context)
    forged = await build_schema().execute(PAGE, variable_values={"before": "bm9wZQ"}, context_value=context)

    # then each names the argument
    assert both.errors is not None
    assert both.errors[0].extensions == {"code": "INVALID_INPUT", "field": "last"}
    assert forged.errors is not None
    assert forged.errors[0].extensions == {"code": "INVALID_INPUT", "field": "before"}
