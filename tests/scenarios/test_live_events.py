"""An operator's phone watches the review queue live over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from schema.relay import from_global_id
from tests import factories as f

SUBSCRIBE = 'subscription { events(types: ["organisation.registered"]) { eventId type objectType objectId payload } }'


async def ws_connect(url: str, payload: dict[str, Any] | None) -> Any:
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    return ws


async def next_message(ws: Any, within: float = 5) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), within))
        if message["type"] not in ("ping", "pong"):
            return message  # type: ignore[no-any-return]


async def all_messages(ws: Any, quiet_for: float) -> list[dict[str, Any]]:
    """Every message until none has arrived for `quiet_for` seconds."""
    received = []
    while True:
        try:
            received.append(await next_message(ws, within=quiet_for))
        except TimeoutError:
            return received


async def test_operator_sees_a_registration_live_once(api):
    # given an operator subscribed with the token in connection_init
    operator = await f.operator_token(api)
    await api.dispatch()
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {operator}"})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.2)

        # when a contractor registers and the outbox is dispatched twice (at-least-once delivery)
        form = f.registration()
        await api.gql(f.REGISTER, {"input": form})
        await api.dispatch()
        await api.services.bus.publish(await _replay_last_event())

        # then the operator receives the event exactly once
        message = await next_message(ws)
        assert message["type"] == "next", message
        event = message["payload"]["data"]["events"]
        assert event["type"] == "organisation.registered"
        assert event["payload"]["credit_code"] == form["creditCode"]
        with pytest.raises(TimeoutError):
            await next_message(ws, within=0.5)
    finally:
        await ws.close()


async def test_a_bidder_does_not_see_other_organisations_events(api):
    # given a bidder subscribed to every event type
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    await api.dispatch()
    ws = await ws_connect(api.ws_url, {"token": bidder})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "subscription { events { type objectId } }"}}
            )
        )
        await asyncio.sleep(0.2)

        # when someone else registers
        other = (await api.gql(f.REGISTER, {"input": f.registration()}))["data"]["organisationRegister"]
        await api.dispatch()

        # then nothing about it reaches the bidder (only, possibly, late news of the bidder's own sign-in)
        received = await all_messages(ws, quiet_for=0.7)
        other_id = str(from_global_id(other["organisation"]["id"])[1])
        assert [m for m in received if m["payload"]["data"]["events"]["objectId"] == other_id] == []
        assert all(m["payload"]["data"]["events"]["type"] == "user.signed_in" for m in received)
    finally:
        await ws.close()


async def test_a_bad_token_in_connection_init_is_rejected(api):
    # when the app connects with a forged token
    ws = await ws_connect(api.ws_url, {"authorization": "Bearer not-a-token"})

    # then the server closes the connection without acknowledging it
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await next_message(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_an_anonymous_subscription_is_refused(api):
    # given a connection without a token
    ws = await ws_connect(api.ws_url, None)
    try:
        assert (await next_message(ws))["type"] == "connection_ack"

        # when it subscribes to events
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))

        # then it gets an error, not a stream
        message = await next_message(ws)
        assert message["type"] == "error"
        assert "sign in" in json.dumps(message, ensure_ascii=False)
    finally:
        await ws.close()


async def _replay_last_event() -> dict[str, Any]:
    from domain.common.events import live_message
    from domain.common.models import OutboxEvent

    event = await OutboxEvent.filter(type="organisation.registered").order_by("-id").first()
    assert event is not None
    return live_message(event)
