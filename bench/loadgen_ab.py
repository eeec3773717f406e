"""The load generator's HTTP client: httpx.AsyncClient against aiohttp.ClientSession, client CPU per request.

Not a bench of the served stack: what a phone of tests/support/load.py costs the process that plays it. A plain
Starlette route (`POST /graphql`, a fixed JSON answer of about the size of a persisted screen's) is served by uvicorn
in a child process; this process plays `--clients` phones, each posting a persisted-query body (`extensions.
persistedQuery`, `operationName`, `variables`, a bearer token) and reading the JSON answer one request after the
other, over one client per pool of 25 phones (as load.py pools them), on the plain asyncio loop pytest runs the
bidding day on. Rounds alternate the two clients (httpx first, then aiohttp first), so both see the same machine;
each round's figure is this process's CPU (`time.process_time`: user + system, every thread) over its requests.

Prints `name: value unit` lines: per client its best and median round in microseconds of CPU per request, the
server's CPU per request in the same rounds (the same for both clients, or the comparison is not like for like),
and `ratio_httpx_over_aiohttp` of the best rounds.

    .venv/bin/python bench/loadgen_ab.py                      # 50 phones, 4000 requests a round, 3 rounds each
    .venv/bin/python bench/loadgen_ab.py --scale tiny         # a smoke test of a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_baseline as hb  # cpu_seconds; puts the repository on sys.path

from tests.support.load import wait_port

POOL = 25  # phones per client, as tests/support/load.py pools them
BODY = {
    "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}},
    "operationName": "AnnouncementList",
    "variables": {"first": 20},
}
HEADERS = {"authorization": "Bearer " + "t" * 300}

SERVER = """
import json, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

ANSWER = json.dumps({"data": {"announcements": {"edges": [
    {"node": {"id": f"QW5ub3VuY2VtZW50OjE{i}", "title": "某某道路维修工程招标公告",
              "publishedAt": "2026-12-07T08:00:00Z"}}
    for i in range(10)
]}}}, ensure_ascii=False).encode()

async def graphql(request):
    await request.body()
    return Response(ANSWER, media_type="application/json")

app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Post = Callable[[int], Awaitable[None]]


async def with_httpx(url: str, pools: int, run: Callable[[list[Post]], Awaitable[None]]) -> None:
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    clients = [httpx.AsyncClient(timeout=httpx.Timeout(30), limits=limits) for _ in range(pools)]
    try:

        def poster(client: httpx.AsyncClient) -> Post:
            async def post(_: int) -> None:
                response = await client.post(url, json=BODY, headers=HEADERS)
                assert response.status_code == 200
                response.json()

            return post

        await run([poster(c) for c in clients])
    finally:
        for client in clients:
            await client.aclose()


async def with_aiohttp(url: str, pools: int, run: Callable[[list[Post]], Awaitable[None]]) -> None:
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=POOL), timeout=aiohttp.ClientTimeout(total=30), trust_env=False
        )
        for _ in range(pools)
    ]
    try:

        def poster(session: aiohttp.ClientSession) -> Post:
            async def post(_: int) -> None:
                async with session.post(url, json=BODY, headers=HEADERS) as response:
                    assert response.status == 200
                    json.loads(await response.read())

            return post

        await run([poster(s) for s in sessions])
    finally:
        for session in sessions:
            await session.close()


async def round_of(client: str, url: str, clients: int, requests: int, server_pid: int) -> tuple[float, float, float]:
    """(client CPU s, server CPU s, wall s) over `requests` requests from `clients` phones."""
    pools = max(1, -(-clients // POOL))
    figures: list[float] = []

    async def run(posts: list[Post]) -> None:
        # a warm-up request per phone opens the connections outside the measured window
        await asyncio.gather(*(posts[i % len(posts)](0) for i in range(clients)))
        left = iter(range(requests))

        async def phone(post: Post) -> None:
            for n in left:
                await post(n)

        cpu, server, wall = time.process_time(), hb.cpu_seconds(server_pid), time.monotonic()
        await asyncio.gather(*(phone(posts[i % len(posts)]) for i in range(clients)))
        figures.extend([time.process_time() - cpu, hb.cpu_seconds(server_pid) - server, time.monotonic() - wall])

    await (with_httpx if client == "httpx" else with_aiohttp)(url, pools, run)
    return figures[0], figures[1], figures[2]


async def main_async(args: argparse.Namespace, port: int, server: subprocess.Popen[bytes]) -> None:
    try:
        await wait_port(port)
        url = f"http://127.0.0.1:{port}/graphql"
        cpu: dict[str, list[float]] = {"httpx": [], "aiohttp": []}
        served: dict[str, list[float]] = {"httpx": [], "aiohttp": []}
        rates: dict[str, list[float]] = {"httpx": [], "aiohttp": []}
        for i in range(args.rounds):
            order = ["httpx", "aiohttp"] if i % 2 == 0 else ["aiohttp", "httpx"]
            for client in order:
                used, server_used, wall = await round_of(client, url, args.clients, args.requests, server.pid)
                cpu[client].append(used / args.requests)
                served[client].append(server_used / args.requests)
                rates[client].append(args.requests / wall)
                print(
                    f"# round {i + 1} {client}: {1e6 * used / args.requests:.0f} us client CPU/request, "
                    f"{1e6 * server_used / args.requests:.0f} us server, {args.requests / wall:.0f} req/s",
                    file=sys.stderr,
                )
        print(f"clients: {args.clients} count")
        print(f"requests_per_round: {args.requests} count")
        print(f"rounds: {args.rounds} count")
        for client in ("httpx", "aiohttp"):
            print(f"{client}_client_cpu_per_request_best: {1e6 * min(cpu[client]):.0f} us")
            print(f"{client}_client_cpu_per_request_median: {1e6 * statistics.median(cpu[client]):.0f} us")
            print(f"{client}_server_cpu_per_request_median: {1e6 * statistics.median(served[client]):.0f} us")
            print(f"{client}_request_rate_median: {statistics.median(rates[client]):.0f} req/s")
        print(f"ratio_httpx_over_aiohttp: {min(cpu['httpx']) / min(cpu['aiohttp']):.2f} x")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="concurrent phones (default 50: two pools)")
    parser.add_argument("--requests", type=int, default=4000, help="requests a round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per client, alternated")
    parser.add_argument("--scale", choices=["tiny", "full"], default="full")
    args = parser.parse_args(argv)
    if args.scale == "tiny":
        args.requests, args.rounds = 300, 1
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.DEVNULL)
    asyncio.run(main_async(args, port, server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
