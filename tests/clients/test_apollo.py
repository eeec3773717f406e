"""Apollo Client 4 with graphql-ws under Node (tests/clients/node/apollo.mjs) against the served API: anonymous
queries, cache normalisation through fragments, pagination, the sign-in union, typed errors, persisted
queries by hash over GET, POST and the WebSocket, and a live subscription."""

from __future__ import annotations

import asyncio
import json
import os

from api.seed import DEMO_PASSWORD, seed_demo_city
from tests import factories as f
from tests.clients.support import NODE_PACKAGE, node

OPERATOR_PHONE = "13800000001"  # the demo city's operator (api/seed.py)


async def test_apollo_client_with_graphql_ws(api):
    # given the demo city, and Apollo Client running in Node against the server
    await seed_demo_city(api.services.settings.secret_key)
    await api.dispatch()
    process = await asyncio.create_subprocess_exec(
        node(),
        str(NODE_PACKAGE / "apollo.mjs"),
        cwd=NODE_PACKAGE,
        env={**os.environ, "BASE_URL": api.base_url, "PHONE": OPERATOR_PHONE, "PASSWORD": DEMO_PASSWORD},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        # when its subscription is open, organisations register until one reaches it (the socket's
        # subscribe is not acknowledged, so the first may come before the server listens)
        line = await asyncio.wait_for(process.stdout.readline(), 120)
        if line.strip() == b"SUBSCRIBED":
            for _ in range(20):
                await api.gql(f.REGISTER, {"input": f.registration()})
                await api.dispatch()
                try:
                    line = await asyncio.wait_for(process.stdout.readline(), 1)
                    break
                except TimeoutError:
                    continue
        rest, errors = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    # then every flow passed in the client
    assert process.returncode == 0, (line + rest).decode() + errors.decode()
    results = json.loads(line)
    assert results["typedErrors"] is True
    assert results["apq"] is True
    assert results["wsPersisted"] == 3
    assert results["forwardPages"] == 4
    assert results["subscription"] == "Organisation"
    assert results["signInRefused"]
