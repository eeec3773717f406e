"""GraphiQL with the network to the outside closed: Debian's Chromium driven by playwright-core loads the page
from the server, every request off loopback aborted (and recorded), runs a query and sees the answer."""

from __future__ import annotations

import asyncio
import json
import os

from api import graphiql
from tests.clients.support import NODE_PACKAGE, chromium, node, require


async def test_graphiql_runs_a_query_with_no_request_outside_loopback(api):
    # given the server's GraphiQL with its assets installed, and Chromium
    require(not graphiql.missing_assets(), "GraphiQL's assets are not installed: make graphiql")
    process = await asyncio.create_subprocess_exec(
        node(),
        str(NODE_PACKAGE / "graphiql.mjs"),
        cwd=NODE_PACKAGE,
        env={**os.environ, "BASE_URL": api.base_url, "CHROMIUM": chromium()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    # when it loads the page and runs { serverTime }
    out, err = await asyncio.wait_for(process.communicate(), 180)

    # then the answer shows, and nothing outside loopback was asked for
    assert process.returncode == 0, out.decode() + err.decode()
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert report["outside"] == []
    assert "serverTime" in report["answer"]


async def test_the_graphiql_page_names_no_cdn(api):
    page = await api.http.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 200
    assert "/graphiql/assets/graphiql.js" in page.text
    assert "https://" not in page.text
    assert "http://" not in page.text
