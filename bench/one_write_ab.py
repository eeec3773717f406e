"""One write per response (api/http_protocol.py, HTTP_ONE_WRITE) against stock uvicorn, alternated in ONE server.

bench/persisted.py measures each setting in its own run, and on a loaded 2-core machine its CPU per request moves
by more than a saved syscall between runs. Here one server process serves the same app on two ports, one with stock
uvicorn's httptools protocol and one with OneWriteProtocol; the client alternates between them in short windows
(stock, one write, one write, stock, ...), so both arms share the process, its caches, the database and whatever else
the machine is doing, and the server's CPU per request (its CPU seconds over the window's requests) is compared
round by round. Plain Starlette (`GET /bench/plain`, on the stock port, stock uvicorn) is measured in the same rounds.

1. a fresh SQLite database, migrated, seeded with the demo city and 40 generated announcements (bench/persisted.py);
2. one server process (this file with ``--serve``): ``create_app`` plus the plain route, on uvloop, two uvicorn
   servers of the one app;
3. a sign-in as the demo operator; then for each target and round, ``--requests`` requests on ``--connections``
   keep-alive connections (one request in flight on each), per arm.

    .venv/bin/python bench/one_write_ab.py                        # 6 rounds of 3,000 requests per arm and target
    .venv/bin/python bench/one_write_ab.py --rounds 2 --requests 500  # a smoke test
    .venv/bin/python bench/one_write_ab.py --strace --rounds 2 --requests 2000 --connections 1   # syscalls
    .venv/bin/python bench/one_write_ab.py --targets body_8mib --connections 1   # a request body's copies

``body_8mib`` (not in the default targets): ``--bodies`` POSTs of 8 MiB of random bytes that a route reads with
``request.stream()`` and drops, as an upload's PATCH is read: the server's CPU per MB of request body, where
OneWriteProtocol hands each chunk on as httptools made it and stock uvicorn copies it twice (issue 17).

Output, one figure a line, ``name: value unit``: every round's CPU per request of each arm, then the medians and
the medians' ratio to plain Starlette's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_baseline as hb
import persisted as pb

TARGETS = (
    "plain_starlette_json",
    "graphql_authenticated_me_persisted",
    "screen_query_persisted",
    "screen_query_persisted_executed",
    "body_8mib",
)
BODY_MIB = 8  # body_8mib: a POST of 8 MiB of random bytes that a route reads and drops (an upload's PATCH)


def serve(stock_port: int, one_port: int) -> None:
    """Child process: the app and the plain route, served by stock uvicorn on one port and one write on the other."""
    import uvicorn
    import uvloop
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from api.app import create_app
    from api.http_protocol import OneWriteProtocol
    from api.settings import Settings

    async def plain(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    async def sink(request: Request) -> JSONResponse:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return JSONResponse({"size": size})

    app = create_app(Settings.from_env())
    app.router.routes.insert(0, Route("/bench/plain", plain, methods=["GET"]))
    app.router.routes.insert(0, Route("/bench/sink", sink, methods=["POST"]))

    async def main() -> None:
        common = {"host": hb.HOST, "log_level": "warning", "access_log": False}
        stock = uvicorn.Server(uvicorn.Config(app, port=stock_port, http=HttpToolsProtocol, lifespan="on", **common))
        one = uvicorn.Server(uvicorn.Config(app, port=one_port, http=OneWriteProtocol, lifespan="off", **common))
        await asyncio.gather(stock.serve(), one.serve())

    uvloop.run(main())


async def _drive(port: int, request: bytes, connections: int, n: int) -> None:
    async def one(count: int) -> None:
        reader, writer = await asyncio.open_connection(hb.HOST, port)
        try:
            for _ in range(count):
                writer.write(request)
                status, body, keep = await hb._read_reply(reader)
                if status != 200 or not keep:
                    raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
        finally:
            writer.close()

    share = [n // connections + (1 if i < n % connections else 0) for i in range(connections)]
    await asyncio.gather(*(one(count) for count in share if count))


def cpu_ns(pid: int) -> int:
    """The process's CPU time so far in nanoseconds, all its threads (schedstat: the clock ticks of /proc/PID/stat,
    10 ms, are too coarse for a window of a few hundred milliseconds)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total


def window(pid: int, port: int, request: bytes, connections: int, n: int) -> float:
    """The server's CPU microseconds per request over n requests."""
    import uvloop

    cpu0 = cpu_ns(pid)
    uvloop.run(_drive(port, request, connections, n))
    return (cpu_ns(pid) - cpu0) / n / 1e3


def syscalls(pid: int, port: int, request: bytes, connections: int, n: int, out: Path) -> dict[str, float]:
    """The server's syscalls per request over n requests, by name (`strace -c -f -p`, attached around them)."""
    import signal

    import uvloop

    tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(pid), "-o", str(out)], stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached to every thread
    uvloop.run(_drive(port, request, connections, n))
    time.sleep(0.2)
    tracer.send_signal(signal.SIGINT)
    tracer.wait(timeout=30)
    calls: dict[str, float] = {}
    for line in out.read_text().splitlines():
        found = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if found:
            calls[found.group(2)] = int(found.group(1)) / n
    return calls


def run(args: argparse.Namespace) -> int:
    from api.seed import DEMO_PASSWORD

    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-onewrite-"))
    proc = None
    try:
        database_url, secret = f"sqlite://{tmp}/bench.sqlite3", secrets.token_urlsafe(48)
        pb.prepare(database_url, secret, 40)
        stock_port, one_port = hb.free_port(), hb.free_port()
        env = {**hb.server_env(database_url, secret, tmp, "ab"), "RUN_WORKERS": "0"}
        log = (tmp / "server.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(stock_port), str(one_port)],
            cwd=tmp,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        hb.wait_for_server(proc, f"http://{hb.HOST}:{stock_port}", tmp / "server.log")
        hb.wait_for_server(proc, f"http://{hb.HOST}:{one_port}", tmp / "server.log")
        token = hb.sign_in(f"http://{hb.HOST}:{stock_port}", DEMO_PASSWORD)
        targets = {t.name: t for t in pb.targets(token)}
        figures: dict[tuple[str, str], list[float]] = {}
        body = os.urandom(BODY_MIB * 1024 * 1024)
        for name in args.targets:
            if name == "body_8mib":
                head = f"POST /bench/sink HTTP/1.1\r\nhost: {hb.HOST}\r\ncontent-length: {len(body)}\r\n\r\n"
                request = head.encode() + body
            else:
                request = hb._raw_request(hb.Job(hb.HOST, stock_port, targets[name], 1, "raw", 0, 0, 0))
            arms = (
                [("stock", stock_port)]
                if name == "plain_starlette_json"
                else [("stock", stock_port), ("one_write", one_port)]
            )
            n = args.requests // 3 if name.endswith("_executed") else args.requests  # windows of a similar length
            if name == "body_8mib":
                n = args.bodies
            for _, port in arms:  # warm-up
                window(proc.pid, port, request, args.connections, 200)
            for r in range(args.rounds):
                order = arms if r % 2 == 0 else arms[::-1]
                for arm, port in order:
                    if args.strace:
                        calls = syscalls(proc.pid, port, request, args.connections, n, tmp / "strace.txt")
                        writes = sum(calls.get(name, 0.0) for name in ("write", "writev", "sendmsg", "sendto"))
                        print(
                            f"{name}_{arm}_round{r + 1}_syscalls_per_request: {calls.get('total', 0.0):.2f} count "
                            f"(writes {writes:.3f}: write {calls.get('write', 0.0):.3f}, writev "
                            f"{calls.get('writev', 0.0):.3f})",
                            flush=True,
                        )
                        continue
                    us = window(proc.pid, port, request, args.connections, n)
                    figures.setdefault((name, arm), []).append(us)
                    print(f"{name}_{arm}_round{r + 1}_server_cpu_per_request: {us:.0f} us", flush=True)
        if args.strace:
            return 0
        plain = statistics.median(figures[("plain_starlette_json", "stock")])
        print(f"plain_starlette_json_server_cpu_per_request_median: {plain:.0f} us")
        for name in args.targets[1:]:
            stock, one = (statistics.median(figures[(name, arm)]) for arm in ("stock", "one_write"))
            if name == "body_8mib":
                print(f"{name}_stock_median: {stock / BODY_MIB / 1e3:.3f} ms/MB")
                print(f"{name}_one_write_median: {one / BODY_MIB / 1e3:.3f} ms/MB")
                print(f"{name}_one_write_saves: {(stock - one) / BODY_MIB / 1e3:.3f} ms/MB")
                continue
            print(f"{name}_stock_median: {stock:.0f} us ({stock / plain:.2f} x plain)")
            print(f"{name}_one_write_median: {one:.0f} us ({one / plain:.2f} x plain)")
            print(f"{name}_one_write_saves: {stock - one:.0f} us per request")
        print(
            f"# rounds={args.rounds} requests={args.requests} connections={args.connections} cores={os.cpu_count()}",
            file=sys.stderr,
        )
        return 0
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int, nargs=2, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--requests",
        type=int,
        default=3000,
        help="requests per arm, target and round (a third for the executed screen)",
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--bodies", type=int, default=25, help=f"body_8mib: {BODY_MIB} MiB requests per arm and round (25: 200 MiB)"
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS[1:-1]),
        help=f"comma-separated, of {', '.join(TARGETS[1:])} (plain always; body_8mib only when named)",
    )
    parser.add_argument(
        "--strace", action="store_true", help="count the server's syscalls per request (strace -c) instead of its CPU"
    )
    args = parser.parse_args(argv)
    args.targets = [TARGETS[0], *(t for t in args.targets.split(",") if t and t != TARGETS[0])]
    if not set(args.targets) <= set(TARGETS):
        parser.error(f"--targets: of {', '.join(TARGETS[1:])}")
    if args.serve:
        serve(*args.serve)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
