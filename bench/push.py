"""Push dispatch: PalmTrade's push senders against the FCM stub's raw capacity, in one run.

One run:

1. the FCM v1 stub (``tests/support/fcm_stub.py``) in its own process on loopback, counting only;
2. its raw capacity: requests/s of the same FCM v1 send (same JSON, bearer token) from plain async
   clients, each for ``--seconds`` after a warm-up:
   - ``httpx``: one ``httpx.AsyncClient`` with ``--in-flight`` requests in flight, the HTTP client
     firebase-admin itself uses (so the ceiling of any sender built on the SDK), and
   - ``raw``: a minimal HTTP/1.1 keep-alive client on asyncio streams (what the stub can take);
3. a fresh database (PostgreSQL when DATABASE_URL names a loopback server, else a SQLite file),
   migrated, with N notifications (default 100,000) for D users with one device each (default
   20,000), each with its pending push, written in bulk as ``notifications.services.store`` leaves
   them;
4. PalmTrade's dispatch rate: ``--processes`` worker processes, each running ``--senders``
   concurrent ``PushSender`` loops (lease a batch, send through ``FcmChannel`` = the real
   firebase-admin ``send_each_async``, record outcomes), timed from the start signal until no push
   is pending; checked against the stub's counter (every push accepted exactly once).

Output, one figure a line, ``name: value unit``, then the ratios. Goal (issue 4): dispatch at least
50 % of the stub's raw capacity (stated on stderr against both clients).

5. then every other channel in turn (``bench/channels.py``): APNs, JPush, Aliyun SMS, Tencent SMS and Aliyun
   voice, each with its stub in its own process (limits and quotas off), its raw capacity from a minimal client
   that speaks the protocol correctly (httpx; HTTP/2 + TLS + provider JWT for APNs, basic auth for JPush, each
   request signed anew for the SMS and voice APIs), and PalmTrade's dispatch rate through the real channel or
   provider class without a database (``channel.send`` of PushSender-sized batches by ``--senders`` loops;
   ``provider.send`` / ``provider.call`` in rounds of the SmsDispatcher's / VoiceDispatcher's batch). For each:
   ``push_apns_raw``, ``push_apns_dispatch`` (/s), ``push_apns_ratio`` (x) and ``push_apns_goal`` (met or not met,
   >= 0.5); likewise ``push_jpush_*``, ``sms_aliyun_*``, ``sms_tencent_*`` and ``voice_aliyun_*``. CPU of the
   clients and of each stub goes to stderr. ``--channels`` picks some (fcm is steps 1-4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/palmtrade .venv/bin/python bench/push.py
    .venv/bin/python bench/push.py --scale tiny            # SQLite smoke test for CI
    .venv/bin/python bench/push.py --channels apns,jpush   # only those channels (no database)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import channels  # noqa: E402
from bench.publication import BenchDatabase, create_database, drop_database  # noqa: E402

SCALES = {"default": (100_000, 20_000), "tiny": (1_000, 200)}
# pushes per push channel, and SMS messages / voice calls per provider, through the other channels
CHANNEL_SCALES = {"default": (10_000, 5_000), "tiny": (400, 200)}
ALL_CHANNELS = ("fcm", *channels.CHANNELS)
PROJECT = "palmtrade-bench"
ACCESS_TOKEN = "bench-access-token"
GOAL_RATIO = 0.5
BODY = json.dumps(
    {
        "message": {
            "token": "bench-device-token-0000000000",
            "notification": {"title": "订阅“道路”有新公告", "body": "青岛市黄岛区道路改造工程施工招标公告"},
            "data": {"messageId": "00000000-0000-0000-0000-000000000000", "kind": "saved_search_matched"},
            "android": {"collapse_key": "00000000-0000-0000-0000-000000000000", "priority": "normal"},
        },
        "validate_only": False,
    },
    ensure_ascii=False,
).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- the stub


def start_stub(port: int) -> subprocess.Popen[bytes]:
    stub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fcm_stub",
            "--port",
            str(port),
            "--project",
            PROJECT,
            "--access-token",
            ACCESS_TOKEN,
            "--no-record",
        ],
        cwd=ROOT,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return stub
        except OSError:
            time.sleep(0.05)
    stub.kill()
    raise SystemExit("the FCM stub did not start")


async def stub_stats(port: int) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/_stub/stats")
        return dict(response.json())


# --------------------------------------------------------------------------- raw capacity


async def capacity_httpx(port: int, seconds: float, in_flight: int) -> float:
    import httpx

    url = f"http://127.0.0.1:{port}/v1/projects/{PROJECT}/messages:send"
    headers = {"authorization": f"Bearer {ACCESS_TOKEN}", "content-type": "application/json"}
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(until: float) -> int:
            done = 0
            while time.perf_counter() < until:
                response = await client.post(url, content=BODY, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"stub answered {response.status_code}")
                done += 1
            return done

        await asyncio.gather(*(worker(time.perf_counter() + 0.5) for _ in range(in_flight)))
        began = time.perf_counter()
        counts = await asyncio.gather(*(worker(began + seconds) for _ in range(in_flight)))
        return sum(counts) / (time.perf_counter() - began)


async def capacity_raw(port: int, seconds: float, connections: int) -> float:
    request = (
        f"POST /v1/projects/{PROJECT}/messages:send HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"authorization: Bearer {ACCESS_TOKEN}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY

    async def worker(until: float) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        try:
            while time.perf_counter() < until:
                writer.write(request)
                status = await reader.readline()
                if b" 200 " not in status:
                    raise SystemExit(f"stub answered {status!r}")
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                done += 1
        finally:
            writer.close()
        return done

    await asyncio.gather(*(worker(time.perf_counter() + 0.5) for _ in range(connections)))
    began = time.perf_counter()
    counts = await asyncio.gather(*(worker(began + seconds) for _ in range(connections)))
    return sum(counts) / (time.perf_counter() - began)


# --------------------------------------------------------------------------- seeding


async def seed(notifications: int, devices: int) -> float:
    """D users with one device each and N notifications spread over them, each with a pending push."""
    from tortoise.transactions import in_transaction

    from domain.accounts.models import Organisation, User
    from domain.common import clock
    from domain.notifications.models import Device, Notification, PushDelivery
    from domain.notifications.services import PUSH_TTL, DeliveryStatus, Kind

    began = time.perf_counter()
    now = clock.now()
    org = await Organisation.create(
        credit_code="91370200MA3C000000",
        name="压测建设有限公司",
        region_code="370202",
        kinds=["bidder"],
        contact_name="压测",
        contact_phone="13900000000",
        status="approved",
        created_at=now,
        updated_at=now,
    )
    chunk = 5000
    for start in range(0, devices, chunk):
        async with in_transaction():
            await User.bulk_create(
                [
                    User(
                        organisation_id=org.id,
                        phone=f"139{i:08d}",
                        name="压测用户",
                        password_hash="-",
                        created_at=now,
                    )
                    for i in range(start, min(devices, start + chunk))
                ]
            )
    users = [int(i) for i in await User.filter(organisation_id=org.id).order_by("id").values_list("id", flat=True)]
    for start in range(0, len(users), chunk):
        async with in_transaction():
            await Device.bulk_create(
                [
                    Device(
                        user_id=user_id,
                        provider="fcm",
                        token=f"bench-token-{user_id:012d}-{'x' * 140}",
                        platform="android",
                        app_version="3.2.0",
                        locale="zh-CN",
                        created_at=now,
                        last_seen_at=now,
                    )
                    for user_id in users[start : start + chunk]
                ]
            )
    device_of = dict(await Device.all().values_list("user_id", "id"))
    for start in range(0, notifications, chunk):
        async with in_transaction():
            await Notification.bulk_create(
                [
                    Notification(
                        message_id=uuid.uuid4(),
                        user_id=users[i % len(users)],
                        kind=Kind.SAVED_SEARCH_MATCHED.value,
                        title_zh="订阅“道路”有新公告",
                        body_zh="青岛市黄岛区道路改造工程施工招标公告（Z3702112026000042001）",
                        title_en="New announcement for “道路”",
                        body_en="Road works tender (Z3702112026000042001)",
                        object_type="Announcement",
                        object_id=str(i),
                        event_id=uuid.uuid4(),
                        created_at=now,
                    )
                    for i in range(start, min(notifications, start + chunk))
                ]
            )
    made = await Notification.all().order_by("id").values_list("id", "user_id")
    for start in range(0, len(made), chunk):
        async with in_transaction():
            await PushDelivery.bulk_create(
                [
                    PushDelivery(
                        notification_id=nid,
                        device_id=device_of[uid],
                        status=DeliveryStatus.PENDING.value,
                        attempts=0,
                        due_at=now,
                        expires_at=now + PUSH_TTL,
                        created_at=now,
                    )
                    for nid, uid in made[start : start + chunk]
                ]
            )
    return time.perf_counter() - began


# --------------------------------------------------------------------------- the sender processes


async def send_worker(database_url: str, port: int, senders: int, batch: int, name: str, in_flight: int) -> None:
    """One sender process: waits for "go" on stdin, sends until nothing is pending, prints its count."""
    from tortoise import Tortoise

    from domain.db import tortoise_config
    from domain.notifications.models import PushDelivery
    from domain.notifications.services import DeliveryStatus
    from domain.wiring import wire
    from notifications.channels.fcm import FcmChannel
    from notifications.push import PushSender

    await Tortoise.init(config=tortoise_config(database_url))
    wire()  # the domain's composition root: timed transitions, award blockers, security
    channel = FcmChannel(
        PROJECT, access_token=ACCESS_TOKEN, endpoint=f"http://127.0.0.1:{port}", timeout=30, in_flight=in_flight
    )
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        handled = 0

        async def loop(i: int) -> None:
            nonlocal handled
            sender = PushSender({"fcm": channel}, owner=f"{name}-{i}", batch_size=batch)
            while True:
                n = await sender.run_once()
                handled += n
                if n == 0:
                    if not await PushDelivery.filter(status=DeliveryStatus.PENDING.value).exists():
                        return
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(loop(i) for i in range(senders)))
        print(f"handled {handled}", flush=True)
    finally:
        await channel.close()
        await Tortoise.close_connections()


def spawn_senders(args: argparse.Namespace, url: str, port: int) -> list[subprocess.Popen[str]]:
    workers = []
    for p in range(args.processes):
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--send-worker",
                    url,
                    "--port",
                    str(port),
                    "--senders",
                    str(args.senders),
                    "--batch",
                    str(args.batch),
                    "--name",
                    f"p{p}",
                    "--fcm-in-flight",
                    str(args.fcm_in_flight),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit("a sender process did not start")
    return workers


# --------------------------------------------------------------------------- main


async def measure_dispatch(args: argparse.Namespace, port: int, lines: list[str]) -> tuple[float, BenchDatabase]:
    from tortoise import Tortoise

    from api.manage import migrate
    from api.settings import Settings
    from domain.db import tortoise_config
    from domain.notifications.models import PushDelivery
    from domain.notifications.services import DeliveryStatus
    from domain.wiring import wire

    db = await create_database(os.environ.get("DATABASE_URL"))
    await migrate(Settings(database_url=db.url))
    await Tortoise.init(config=tortoise_config(db.url))
    wire()  # the domain's composition root: timed transitions, award blockers, security
    try:
        seeded = await seed(args.notifications, args.devices)
        lines.append(f"seed_time: {seeded:.1f} s")
        before = (await stub_stats(port))["accepted"]
        workers = spawn_senders(args, db.url, port)
        began = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            worker.communicate(timeout=3600)
            if worker.returncode != 0:
                raise SystemExit(f"a sender process failed ({worker.returncode})")
        elapsed = time.perf_counter() - began
        accepted = (await stub_stats(port))["accepted"] - before
        sent = await PushDelivery.filter(status=DeliveryStatus.SENT.value).count()
        if accepted != args.notifications or sent != args.notifications:
            raise SystemExit(f"expected {args.notifications} pushes: stub accepted {accepted}, recorded sent {sent}")
        lines.append(f"push_dispatch_time: {elapsed:.2f} s")
        return args.notifications / elapsed, db
    finally:
        await Tortoise.close_connections()


async def run(args: argparse.Namespace) -> int:
    if "fcm" in args.channels:
        await run_fcm(args)
    others = [name for name in args.channels if name != "fcm"]
    if others:
        settings = channels.Settings(
            seconds=args.seconds,
            in_flight=args.in_flight,
            apns_streams=args.apns_streams,
            senders=args.senders,
            batch=args.batch,
            pushes=args.channel_pushes,
            sms_batch=args.sms_batch,
            voice_batch=args.voice_batch,
            messages=args.sms_messages,
            rounds=args.rounds,
        )
        for line in await channels.run(others, settings):
            print(line, flush=True)
    return 0


async def run_fcm(args: argparse.Namespace) -> None:
    port = free_port()
    stub = start_stub(port)
    db: BenchDatabase | None = None
    try:
        httpx_rate = await capacity_httpx(port, args.seconds, args.in_flight)
        raw_rate = await capacity_raw(port, args.seconds, args.in_flight)
        lines: list[str] = []
        rate, db = await measure_dispatch(args, port, lines)
    finally:
        stub.terminate()
        stub.wait(10)
        if db is not None:
            await drop_database(db)
    print(f"notifications: {args.notifications} count")
    print(f"devices: {args.devices} count")
    for line in lines:
        print(line)
    print(f"stub_capacity_httpx: {httpx_rate:.0f} requests/s")
    print(f"stub_capacity_raw: {raw_rate:.0f} requests/s")
    print(f"push_dispatch_rate: {rate:.0f} pushes/s")
    print(f"push_dispatch_vs_stub_httpx: {rate / httpx_rate:.2f} x")
    print(f"push_dispatch_vs_stub_raw: {rate / raw_rate:.2f} x")
    for client, capacity in (("httpx", httpx_rate), ("raw", raw_rate)):
        met = rate >= GOAL_RATIO * capacity
        print(f"# goal dispatch >= 50% of the stub via {client}: {'met' if met else 'NOT met'}", file=sys.stderr)
    print(
        f"# database={'postgresql' if db and db.postgres else 'sqlite'} processes={args.processes} "
        f"senders={args.senders} batch={args.batch} in_flight={args.in_flight} cores={os.cpu_count()}",
        file=sys.stderr,
    )
    sys.stdout.flush()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default", help="default 100,000/20,000; tiny")
    parser.add_argument("--notifications", type=int, default=None)
    parser.add_argument("--devices", type=int, default=None)
    parser.add_argument("--processes", type=int, default=1, help="sender processes")
    parser.add_argument("--senders", type=int, default=4, help="concurrent sender loops per process")
    parser.add_argument("--batch", type=int, default=500, help="pushes leased per loop")
    parser.add_argument("--in-flight", type=int, default=4, help="concurrent requests of the capacity clients")
    parser.add_argument("--fcm-in-flight", type=int, default=4, help="FcmChannel in_flight (FCM_IN_FLIGHT)")
    parser.add_argument("--seconds", type=float, default=None, help="capacity window (default 5; tiny 1)")
    parser.add_argument(
        "--channels",
        default=",".join(ALL_CHANNELS),
        help=f"comma-separated, of {', '.join(ALL_CHANNELS)} (default all)",
    )
    parser.add_argument("--channel-pushes", type=int, default=None, help="pushes per APNs/JPush (10,000; tiny 400)")
    parser.add_argument(
        "--sms-messages", type=int, default=None, help="SMS per provider and voice calls (5,000; tiny 200)"
    )
    parser.add_argument("--apns-streams", type=int, default=16, help="HTTP/2 streams of the APNs capacity client")
    parser.add_argument("--rounds", type=int, default=None, help="alternations of raw and dispatch (5; tiny 2)")
    parser.add_argument("--sms-batch", type=int, default=50, help="concurrent sends a round (SmsDispatcher batch)")
    parser.add_argument("--voice-batch", type=int, default=20, help="concurrent calls a round (VoiceDispatcher batch)")
    parser.add_argument("--send-worker", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--name", default="p0", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    notifications, devices = SCALES[args.scale]
    args.notifications = args.notifications or notifications
    args.devices = args.devices or devices
    args.seconds = args.seconds or (1.0 if args.scale == "tiny" else 5.0)
    pushes, messages = CHANNEL_SCALES[args.scale]
    args.channel_pushes = args.channel_pushes or pushes
    args.sms_messages = args.sms_messages or messages
    args.rounds = args.rounds or (2 if args.scale == "tiny" else 5)
    chosen = [name.strip() for name in args.channels.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ALL_CHANNELS))
    if unknown or not chosen:
        parser.error(f"--channels takes some of {', '.join(ALL_CHANNELS)}, not {', '.join(unknown) or 'nothing'}")
    args.channels = [name for name in ALL_CHANNELS if name in chosen]
    if (
        min(
            args.notifications,
            args.devices,
            args.processes,
            args.senders,
            args.batch,
            args.in_flight,
            args.fcm_in_flight,
            args.channel_pushes,
            args.sms_messages,
            args.apns_streams,
            args.sms_batch,
            args.voice_batch,
            args.rounds,
        )
        < 1
    ):
        parser.error("counts must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.send_worker:
        asyncio.run(send_worker(args.send_worker, args.port, args.senders, args.batch, args.name, args.fcm_in_flight))
        return 0
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
