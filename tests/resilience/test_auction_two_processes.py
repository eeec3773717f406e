"""Two server processes on PostgreSQL + Redis: a bid accepted by one reaches a kiosk watching the other."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests import factories as f
from tests.conftest import free_port
from tests.resilience.test_auction_crash import Server, needs_services, three_weeks_ago  # noqa: F401
from tests.scenarios.test_auction import BID, START_PRICE, STEP, at, auction_lot, bidders
from tests.scenarios.test_live_events import next_message, ws_connect

pytestmark = pytest.mark.postgres_redis
WATCH = "subscription($lotId: ID!) { auctionUpdates(lotId: $lotId) { kind seq priceFen leadingBidderNo } }"


@pytest.fixture
def two(db, tmp_path) -> Iterator[tuple[Server, Server]]:
    a = Server(free_port(), db.url, tmp_path / "a")
    b = Server(free_port(), db.url, tmp_path / "b")
    for s in (a, b):
        s.tmp.mkdir()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@needs_services
async def test_a_bid_on_one_process_reaches_a_kiosk_watching_another(api, manual_clock, three_weeks_ago, two):  # noqa: F811
    # given a live auction (set up 21 days back, then moved to now) and two real server processes
    a, b = two
    operator = await f.operator_token(api)
    lot_id, _, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [bidder, rival] = await bidders(api, operator, lot_id, 2)
    await at(manual_clock, three_weeks_ago)
    for server in (a, b):
        server.start()
    for server in (a, b):
        await server.healthy()
    # and a kiosk watching on A without a token
    kiosk = await ws_connect(f"ws://127.0.0.1:{a.port}/graphql", {})
    try:
        assert (await next_message(kiosk))["type"] == "connection_ack"
        watch = {"query": WATCH, "variables": {"lotId": lot_id}}
        await kiosk.send(json.dumps({"id": "1", "type": "subscribe", "payload": watch}))
        snapshot = await next_message(kiosk, within=10)
        assert snapshot["payload"]["data"]["auctionUpdates"]["kind"] == "snapshot"
        # when two bidders bid on B
        async with httpx.AsyncClient(timeout=10) as http:
            answers = []
            for person, amount in ((bidder, START_PRICE), (rival, START_PRICE + STEP)):
                login = await http.post(
                    b.url,
                    json={"query": f.LOGIN, "variables": {"input": {"phone": person.phone, "password": f.PASSWORD}}},
                )
                token = login.json()["data"]["authLogin"]["session"]["accessToken"]
                body = await http.post(
                    b.url,
                    json={"query": BID, "variables": {"input": {"lotId": lot_id, "amountFen": amount}}},
                    headers={"authorization": f"Bearer {token}"},
                )
                answers.append(body.json()["data"]["bidPlace"])
        # then the kiosk on A sees both, in order, once each
        seen = []
        while len(seen) < 2:
            message = await next_message(kiosk, within=10)
            assert message["type"] == "next", message
            seen.append(message["payload"]["data"]["auctionUpdates"])
        assert [a_["__typename"] for a_ in answers] == ["BidPlaced", "BidPlaced"]
        assert [(u["kind"], u["seq"], u["priceFen"]) for u in seen] == [
            ("bid", 1, START_PRICE),
            ("bid", 2, START_PRICE + STEP),
        ]
        assert seen[1]["leadingBidderNo"] == answers[1]["bid"]["bidderNo"]
        with pytest.raises(TimeoutError):
            await next_message(kiosk, within=1.5)  # the dispatchers' repeats are not shown again
    finally:
        await kiosk.close()
