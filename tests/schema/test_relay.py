"""node(id:) and the organisations connection: global ids, visibility and keyset pages."""

from __future__ import annotations

import base64
from typing import Any

from domain.accounts.models import Organisation, User
from domain.common.actors import Actor, Role
from schema.build import build_schema
from schema.context import Context
from tests import factories as f

NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Organisation { name status } } }"
PAGE = """
query($first: Int, $after: String) {
  organisations(first: $first, after: $after) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def global_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def page(api: Any, token: str, **variables: Any) -> dict[str, Any]:
    body = await api.gql(PAGE, variables, token=token)
    return body["data"]["organisations"]  # type: ignore[no-any-return]


async def test_node_returns_an_organisation_to_its_own_user_and_the_operator(api):
    # given an approved bidder
    operator = await f.operator_token(api)
    org_id, _, bidder = await f.approved_org(api, operator)

    # when the bidder and the operator look it up by its global id
    own = (await api.gql(NODE, {"id": org_id}, token=bidder))["data"]["node"]
    seen = (await api.gql(NODE, {"id": org_id}, token=operator))["data"]["node"]

    # then both get the organisation
    assert own["__typename"] == "Organisation"
    assert own["id"] == org_id
    assert own["status"] == "APPROVED"
    assert seen == own


async def test_node_hides_what_the_caller_may_not_see(api):
    # given two approved bidders and an organisation still pending review
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    _, other_phone, _ = await f.approved_org(api, operator)
    other = await User.get(phone=other_phone)
    pending = (await api.gql(f.REGISTER, {"input": f.registration()}))["data"]["organisationRegister"]

    # when the bidder asks for the pending organisation, and for the other bidder's user
    hidden = await api.gql(NODE, {"id": pending["organisation"]["id"]}, token=bidder)
    user = await api.gql(NODE, {"id": global_id(f"User:{other.id}")}, token=bidder)

    # then both are null, without an error
    assert hidden == {"data": {"node": None}}
    assert user == {"data": {"node": None}}


async def test_node_is_null_for_malformed_and_foreign_ids(api):
    # given an operator and an organisation that exists
    operator = await f.operator_token(api)
    org = await Organisation.all().first()
    assert org is not None

    # when ids are malformed, of an unknown type, out of range or not plain digits
    ids = [
        "not base64!",
        global_id("no-colon"),
        global_id(f"Lot:{org.id}"),
        global_id("Organisation:"),
        global_id("Organisation:abc"),
        global_id("Organisation:99999999999999999999999"),
        global_id("Organisation:²"),
        global_id("Organisation:" + "".join(chr(0x0660 + int(d)) for d in str(org.id))),  # Arabic-Indic
    ]
    answers = [await api.gql(NODE, {"id": value}, token=operator) for value in ids]

    # then each is null, never an error
    assert answers == [{"data": {"node": None}}] * len(ids)


async def test_organisation_by_id_refuses_unusual_digits_without_an_internal_error(api):
    # given an operator
    operator = await f.operator_token(api)
    query = "query($id: ID!) { organisation(id: $id) { id } }"

    # when the id's key is a superscript digit or larger than any database key
    odd = await api.gql(query, {"id": global_id("Organisation:²")}, token=operator)
    huge = await api.gql(query, {"id": global_id("Organisation:9223372036854775808")}, token=operator)

    # then there is simply no such organisation
    assert odd == {"data": {"organisation": None}}
    assert huge == {"data": {"organisation": None}}


async def test_organisations_are_paged_newest_first(api):
    # given the operator's organisation and three registered after it
    operator = await f.operator_token(api)
    for _ in range(3):
        await api.gql(f.REGISTER, {"input": f.registration()})
    newest_first = [o.id for o in await Organisation.all().order_by("-id")]
    assert len(newest_first) == 4

    # when the operator reads two, then the rest after the cursor
    first = await page(api, operator, first=2)
    rest = await page(api, operator, first=10, after=first["pageInfo"]["endCursor"])

    # then the pages split the list without overlap, and only the first says there is more
    assert [e["node"]["id"] for e in first["edges"]] == [global_id(f"Organisation:{i}") for i in newest_first[:2]]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    assert [e["node"]["id"] for e in rest["edges"]] == [global_id(f"Organisation:{i}") for i in newest_first[2:]]
    assert rest["pageInfo"]["hasNextPage"] is False

    # and without `first` a page holds all four (20 by default)
    assert len((await page(api, operator))["edges"]) == 4


async def test_a_page_is_capped_at_the_servers_page_size(db):
    # given three organisations and a server whose pages hold at most two
    schema = build_schema()
    for _ in range(3):
        registered = await schema.execute(
            f.REGISTER, variable_values={"input": f.registration()}, context_value=Context(request=None, response=None)
        )
        assert registered.data["organisationRegister"]["__typename"] == "OrganisationRegistered"
    operator = Actor(user_id=1, roles=frozenset({Role.OPERATOR}))
    context = Context(request=None, response=None, actor=operator, max_page_size=2)

    # when 50 are asked for
    result = await schema.execute(PAGE, variable_values={"first": 50}, context_value=context)

    # then two come, and the page says there is more
    assert result.errors is None
    assert len(result.data["organisations"]["edges"]) == 2
    assert result.data["organisations"]["pageInfo"]["hasNextPage"] is True


async def test_a_bad_first_or_cursor_is_the_callers_error(api):
    # given an operator
    operator = await f.operator_token(api)

    # when the page size is negative or zero, or the cursor is not one of ours
    negative = await api.gql(PAGE, {"first": -1}, token=operator, expect_errors=True)
    zero = await api.gql(PAGE, {"first": 0}, token=operator, expect_errors=True)
    forged = await api.gql(PAGE, {"after": global_id("c:99999999999999999999")}, token=operator, expect_errors=True)

    # then each is an invalid input naming the argument, not an internal error
    for body, argument in ((negative, "first"), (zero, "first"), (forged, "after")):
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": argument}
        assert body["errors"][0]["path"] == ["organisations"]
