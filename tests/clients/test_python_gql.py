"""gql (the Python GraphQL client) with its aiohttp and websockets transports against the served API: an
anonymous query, the sign-in union, a typed error, a persisted operation by hash over HTTP and the socket,
and a live subscription."""

from __future__ import annotations

import asyncio

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from graphql import DocumentNode

from api.seed import DEMO_PASSWORD, seed_demo_city
from mobile_contract import gate
from tests import factories as f

OPERATIONS = {op.name: op for op in gate.load_operations()}


def request(name: str, variables: dict[str, object]) -> GraphQLRequest:
    return GraphQLRequest(OPERATIONS[name].text, variable_values=variables)


def persisted(name: str, variables: dict[str, object]) -> GraphQLRequest:
    """The manifest's hash with the query left empty, as a client of persisted operations sends it."""
    sha = OPERATIONS[name].sha256
    empty = DocumentNode(definitions=())  # gql prints it as "": no text is sent
    return GraphQLRequest(
        empty, variable_values=variables, extensions={"persistedQuery": {"version": 1, "sha256Hash": sha}}
    )


async def test_gql_over_http(api):
    # given the demo city
    await seed_demo_city(api.services.settings.secret_key)
    transport = AIOHTTPTransport(url=f"{api.base_url}/graphql")
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        # when it lists, signs in wrongly then rightly, and sends a bad document
        listed = await session.execute(request("AnnouncementList", {"first": 2}))
        wrong = await session.execute(
            request("SignIn", {"input": {"phone": "13800000001", "password": "wrong-password"}})
        )
        right = await session.execute(request("SignIn", {"input": {"phone": "13800000001", "password": DEMO_PASSWORD}}))
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql("{ noSuchField }"))
        by_hash = await session.execute(persisted("AnnouncementList", {"first": 1}))

    # then each answers as the contract says
    assert len(listed["announcements"]["edges"]) == 2
    assert wrong["authLogin"]["code"] == "INVALID_CREDENTIALS"
    assert right["authLogin"]["__typename"] == "SignedIn"
    assert refused.value.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert len(by_hash["announcements"]["edges"]) == 1


async def test_gql_over_the_websocket(api):
    # given the demo city and the operator's token in connection_init
    await seed_demo_city(api.services.settings.secret_key)
    await api.dispatch()
    token = await f.login(api, "13800000001", DEMO_PASSWORD)
    transport = WebsocketsTransport(
        url=api.ws_url, init_payload={"authorization": f"Bearer {token}"}, subprotocols=["graphql-transport-ws"]
    )
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        # when it runs a persisted operation by hash, then subscribes and an organisation registers
        by_hash = await session.execute(persisted("AnnouncementList", {"first": 1}))
        events = session.subscribe(gql('subscription { events(types: ["organisation.registered"]) { type } }'))
        first = asyncio.ensure_future(anext(events))
        for _ in range(20):
            await api.gql(f.REGISTER, {"input": f.registration()})
            await api.dispatch()
            done, _ = await asyncio.wait([first], timeout=1)
            if done:
                break
        event = await asyncio.wait_for(first, 10)
        await events.aclose()

    # then both arrive
    assert len(by_hash["announcements"]["edges"]) == 1
    assert event["events"]["type"] == "organisation.registered"
