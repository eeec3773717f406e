"""Password sign-ins against everything else: the latency of ``query Me`` while sign-ins run, with the CPU pool
(``CPU_POOL_SIZE``, by default 2, 1 on two cores: argon2 off the event loop) and with hashing inline on the loop
(``CPU_POOL_SIZE=0``, the behaviour before the pool), in one run.

One run, on the embedded default (a fresh SQLite file, in-process broker, workers in the server):

1. the database migrated and seeded with the demo city (``bench/http_baseline.py``'s setup);
2. for each mode (``inline``, then ``pool``), one uvicorn server process exactly as http_baseline serves it,
   with that ``CPU_POOL_SIZE``; a sign-in as the demo operator for the token ``query Me`` sends;
3. three windows per server, each after a short warm-up: ``query Me`` alone (``--me`` requests in flight,
   closed loop); ``query Me`` while ``--signins`` sign-ins of the demo operator run back to back (right
   password: argon2 verify, a session, its event through the outbox); the sign-ins alone, for the server's CPU
   per sign-in (its CPU seconds over the sign-ins completed; the dispatcher's share included).

Output, one figure a line, ``name: value unit``, per mode (``inline_`` / ``pool_``): ``me_p50`` and
``me_p99`` alone and during sign-ins, ``signins_per_s`` and ``signin_p99`` during them, ``cpu_per_signin``;
then ``me_p99_during_signins_inline_vs_pool`` (how many times longer the slowest Me waits without the pool)
and ``argon2_verify_cpu`` (one verification in this process, for scale). The load comes from this process
(httpx, about 0.7 ms of CPU per request) on the same machine: compare modes within one run, not across runs.

    .venv/bin/python bench/signin.py                  # 5 s windows, 8 Me in flight, 4 sign-ins in flight
    .venv/bin/python bench/signin.py --scale tiny     # smoke test for CI (a few seconds per mode)

Exits non-zero if a request fails or setup fails.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_baseline as hb  # the server, setup helpers and percentile

from domain.common import cpu

MODES = (("inline", "0"), ("pool", ""))  # "" keeps the default CPU_POOL_SIZE


@dataclass
class Window:
    me: list[float] = field(default_factory=list)
    signins: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0


async def _loop(
    client: httpx.AsyncClient,
    body: dict[str, object],
    headers: dict[str, str],
    expect: str,
    sink: list[float],
    errors: list[str],
    until: float,
) -> None:
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            reply = await client.post("/graphql", json=body, headers=headers)
            data = reply.json()
            ok = reply.status_code == 200 and "errors" not in data and expect in reply.text
        except (httpx.HTTPError, ValueError) as err:
            ok, data = False, {"error": repr(err)}
        if not ok:
            errors.append(str(data)[:300])
            continue
        sink.append((time.perf_counter() - started) * 1000)


async def _window(base: str, token: str, me: int, signins: int, seconds: float, pid: int) -> Window:
    from api.seed import DEMO_PASSWORD

    window = Window()
    me_body = {"query": hb.ME_QUERY}
    signin_body = {"query": hb.LOGIN, "variables": {"phone": hb.OPERATOR_PHONE, "password": DEMO_PASSWORD}}
    auth = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=me + signins + 2, max_keepalive_connections=me + signins + 2)
    async with httpx.AsyncClient(base_url=base, timeout=hb.REQUEST_TIMEOUT * 3, limits=limits) as client:
        cpu0, t0 = hb.cpu_seconds(pid), time.perf_counter()
        until = t0 + seconds
        loops = [_loop(client, me_body, auth, "organisation", window.me, window.errors, until) for _ in range(me)]
        loops += [
            _loop(client, signin_body, {}, "SignedIn", window.signins, window.errors, until) for _ in range(signins)
        ]
        await asyncio.gather(*loops)
        window.seconds, window.cpu = time.perf_counter() - t0, hb.cpu_seconds(pid) - cpu0
    return window


def _p(values: list[float], q: float) -> float:
    return hb.percentile(sorted(values), q)


def run_mode(
    label: str, pool_size: str, database_url: str, secret: str, tmp: Path, args: argparse.Namespace
) -> tuple[dict[str, float], int]:
    """Serves with this CPU_POOL_SIZE and measures its three windows; prints its figures."""
    from api.seed import DEMO_PASSWORD

    port = hb.free_port()
    base = f"http://{hb.HOST}:{port}"
    env = hb.server_env(database_url, secret, tmp, label)
    if pool_size:
        env["CPU_POOL_SIZE"] = pool_size
    else:
        env.pop("CPU_POOL_SIZE", None)
    with hb.serving(port, env, tmp, label) as proc:
        token = hb.sign_in(base, DEMO_PASSWORD)

        def measured(me: int, signins: int) -> Window:
            asyncio.run(_window(base, token, me, signins, args.warmup, proc.pid))
            return asyncio.run(_window(base, token, me, signins, args.duration, proc.pid))

        alone = measured(args.me, 0)
        during = measured(args.me, args.signins)
        signing = measured(0, args.signins)

    figures = {
        "me_p50_alone": _p(alone.me, 0.50),
        "me_p99_alone": _p(alone.me, 0.99),
        "me_p50_during_signins": _p(during.me, 0.50),
        "me_p99_during_signins": _p(during.me, 0.99),
        "me_max_during_signins": max(during.me, default=math.nan),
        "signin_p99": _p(during.signins, 0.99),
    }
    units = dict.fromkeys(figures, "ms")
    figures["me_per_s_during_signins"] = len(during.me) / during.seconds
    units["me_per_s_during_signins"] = "req/s"
    figures["signins_per_s"] = len(signing.signins) / signing.seconds
    units["signins_per_s"] = "req/s"
    figures["cpu_per_signin"] = signing.cpu / len(signing.signins) * 1000 if signing.signins else math.nan
    units["cpu_per_signin"] = "ms"
    for name, value in figures.items():
        print(f"{label}_{name}: {value:.1f} {units[name]}")
    errors = alone.errors + during.errors + signing.errors
    print(f"{label}_errors: {len(errors)} count")
    for sample in errors[: hb.MAX_ERROR_SAMPLES]:
        print(f"# {label} error: {sample}", file=sys.stderr)
    if not (alone.me and during.me and during.signins and signing.signins):
        print(f"error: a {label} window completed no request", file=sys.stderr)
        return figures, len(errors) + 1
    return figures, len(errors)


def argon2_verify_cpu() -> float:
    """CPU milliseconds of one argon2 verification with the platform's parameters, in this process."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    digest = hasher.hash("bench-password-1")
    started = time.process_time()
    hasher.verify(digest, "bench-password-1")
    return (time.process_time() - started) * 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["default", "tiny"], default="default")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per window (default 5)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per window (default 1)")
    parser.add_argument("--me", type=int, default=None, help="query Me requests in flight (default 8)")
    parser.add_argument("--signins", type=int, default=None, help="sign-ins in flight (default 4)")
    parser.add_argument("--sizes", default="", help="more CPU_POOL_SIZE values to measure, e.g. 1,4 (poolN_ lines)")
    args = parser.parse_args(argv)
    tiny = args.scale == "tiny"
    args.duration = args.duration if args.duration is not None else (1.0 if tiny else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if tiny else 1.0)
    args.me = args.me if args.me is not None else (2 if tiny else 8)
    args.signins = args.signins if args.signins is not None else (2 if tiny else 4)
    if args.duration <= 0 or args.warmup < 0 or args.me < 1 or args.signins < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --me and --signins >= 1")
    return args


def prepare(database_url: str, secret: str) -> None:
    asyncio.run(hb.prepare_database(database_url, secret.encode()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-signin-"))
    try:
        database_url = f"sqlite://{tmp}/bench.sqlite3"
        secret = secrets.token_urlsafe(48)
        # in a process of its own: the ORM and the storage dialect are chosen once per process
        setup = multiprocessing.get_context("spawn").Process(target=prepare, args=(database_url, secret))
        setup.start()
        setup.join()
        if setup.exitcode != 0:
            raise RuntimeError(f"preparing the database failed ({setup.exitcode})")
        failed, by_mode = 0, {}
        extra = [(f"pool{n}", str(int(n))) for n in args.sizes.split(",") if n.strip()]
        for label, size in [*MODES, *extra]:
            by_mode[label], errors = run_mode(label, size, database_url, secret, tmp, args)
            failed += errors
        inline, pool = by_mode["inline"]["me_p99_during_signins"], by_mode["pool"]["me_p99_during_signins"]
        print(f"me_p99_during_signins_inline_vs_pool: {inline / pool if pool > 0 else math.nan:.2f} x")
        print(f"argon2_verify_cpu: {argon2_verify_cpu():.1f} ms")
        print(
            f"# me={args.me} signins={args.signins} warmup={args.warmup}s duration={args.duration}s "
            f"cores={os.cpu_count()} pool=CPU_POOL_SIZE default ({cpu.default_size()})",
            file=sys.stderr,
        )
        return 1 if failed else 0
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
