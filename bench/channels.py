"""Dispatch rate of PalmTrade's other push channels and its SMS and voice providers, each against its stub's raw
capacity in the same run (used by bench/push.py; see its docstring).

For each channel, in turn, its stub in its own process on loopback (``python -m tests.support.<stub> --port N``),
counting, with its flow control / per-number limits / quota off, and two measurements of it:

- the stub's raw capacity: requests/s from a minimal client speaking the protocol correctly, ``--in-flight``
  requests in flight (APNs: ``--apns-streams`` HTTP/2 streams on one TLS connection), ``--seconds`` in all:

  - apns: httpx over HTTP/2 + TLS with a valid ES256 provider JWT (signed once) and the channel's own payload;
  - jpush: httpx POST /v3/push with HTTP basic auth and the channel's own push object (without a cid);
  - sms_aliyun / voice_aliyun: httpx, each request ACS3-HMAC-SHA256 signed anew (fresh nonce and date) with the
    Aliyun SDK's own signing function (``alibabacloud_tea_openapi.utils.Utils.get_authorization``);
  - sms_tencent: httpx, each request TC3-HMAC-SHA256 signed anew with the stub's ``tc3_signature``;

- PalmTrade's dispatch rate through the real class, without a database (leasing and recording outcomes are left
  out here; the FCM measurement keeps them):

  - apns / jpush: ``channel.send(batch)`` by ``--senders`` concurrent loops with batches of ``--batch`` (what each
    PushSender loop leases and hands to the channel), ``--channel-pushes`` pushes in all;
  - sms_*: ``provider.send(message)`` in rounds of ``--sms-batch`` concurrent sends, as SmsDispatcher.run_once
    gathers its batch, ``--sms-messages`` messages to distinct numbers;
  - voice_aliyun: ``provider.call(call)`` in rounds of ``--voice-batch``, as VoiceDispatcher.run_once,
    ``--sms-messages`` calls to distinct numbers;

  every result must be SENT / PLACED.

After a warm-up of each, the two alternate ``--rounds`` times, each round with its share of the window and of the
messages, so that both see the same background load; a rate is the sum of the counts over the sum of the times.
The stub's counter must show every request of both (warm-ups included) accepted exactly once. CPU time of this
process (the clients) and of the stub process goes to stderr, with the stub's ceiling at one busy core (it serves
from one event loop) estimated from its CPU time per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ("apns", "jpush", "sms_aliyun", "sms_tencent", "voice_aliyun")
PREFIX = {
    "apns": "push_apns",
    "jpush": "push_jpush",
    "sms_aliyun": "sms_aliyun",
    "sms_tencent": "sms_tencent",
    "voice_aliyun": "voice_aliyun",
}
GOAL_RATIO = 0.5
WARM_UP = 0.5  # seconds of the raw clients before their window
TITLE = "订阅“道路”有新公告"
BODY = "青岛市黄岛区道路改造工程施工招标公告（Z3702112026000042001）"
SIGN_NAME = "掌上交易"
ALIYUN_SMS_TEMPLATE = "SMS_465000001"
TENCENT_SMS_TEMPLATE = "2000101"
TENCENT_SMS_TEXT = "您的登录验证码为{1}，5 分钟内有效。"
VOICE_TEMPLATE = "TTS_300000001"
VOICE_SHOW_NUMBER = "057156210001"
VOICE_PARAMS = {"lot": "青岛市黄岛区道路改造工程施工", "time": "5月12日9时", "place": "青岛市公共资源交易中心"}
JPUSH_DEVICE = "1a0018970a8c8b2e2ff"
ACS3 = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Settings:
    seconds: float  # raw capacity window, in all
    in_flight: int  # concurrent requests of the HTTP/1.1 raw clients
    apns_streams: int  # concurrent HTTP/2 streams of the APNs raw client
    senders: int  # concurrent channel.send loops (PushSender loops)
    batch: int  # pushes per channel.send (PushSender batch)
    pushes: int  # pushes per push channel
    sms_batch: int  # SmsDispatcher batch
    voice_batch: int  # VoiceDispatcher batch
    messages: int  # SMS messages / voice calls per provider
    rounds: int  # raw and dispatch alternate this many times, each with its share


@dataclass(frozen=True)
class Phase:
    """One measured phase: how many requests (or messages) in how long, and the CPU it took on each side."""

    count: int
    elapsed: float
    client_cpu: float
    stub_cpu: float

    def __add__(self, other: Phase) -> Phase:
        return Phase(
            self.count + other.count,
            self.elapsed + other.elapsed,
            self.client_cpu + other.client_cpu,
            self.stub_cpu + other.stub_cpu,
        )

    @property
    def rate(self) -> float:
        return self.count / self.elapsed

    def cpu(self) -> str:
        per = 1e6 / self.count if self.count else 0.0
        return (
            f"client {self.client_cpu / self.elapsed:.2f} cores ({self.client_cpu * per:.0f} us/msg), "
            f"stub {self.stub_cpu / self.elapsed:.2f} cores ({self.stub_cpu * per:.0f} us/msg)"
        )


Runner = Callable[[], Awaitable[None]]
Prepare = Callable[[int], Runner]  # readies n messages (not timed); the runner sends them (timed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def own_cpu() -> float:
    """CPU seconds of this process, every thread included."""
    times = os.times()
    return times.user + times.system


class Stub:
    """A stub in its own process: `python -m tests.support.<module> --port N ...`."""

    def __init__(self, module: str, *args: str) -> None:
        self.module = module
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"tests.support.{module}", "--port", str(self.port), *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(400):
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit(f"the stub {module} did not start")

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cpu(self) -> float:
        """CPU seconds the stub process has used (Linux /proc)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


async def timed(stub: Stub, work: Awaitable[int]) -> Phase:
    """Awaits work (which says how many it sent), with the wall time and both sides' CPU time."""
    began, client, served = time.perf_counter(), own_cpu(), stub.cpu()
    count = await work
    return Phase(count, time.perf_counter() - began, own_cpu() - client, stub.cpu() - served)


async def measure(
    stub: Stub, cfg: Settings, one: Runner, concurrency: int, prepare: Prepare, warm: int, total: int
) -> tuple[Phase, Phase, int]:
    """The raw client (`concurrency` loops of one()) and the dispatch (`total` messages through prepare()),
    alternating `rounds` times so that both see the same background load; after a warm-up of each. Returns
    both phases and how many requests the stub should have accepted in all (warm-ups included)."""
    sent = 0

    async def loops(seconds: float) -> int:
        async def worker(until: float) -> int:
            nonlocal sent
            done = 0
            while time.perf_counter() < until:
                await one()
                done += 1
            sent += done
            return done

        until = time.perf_counter() + seconds
        return sum(await asyncio.gather(*(worker(until) for _ in range(concurrency))))

    async def counted(run: Runner, n: int) -> int:
        await run()
        return n

    await loops(WARM_UP)
    await prepare(warm)()
    raw = dispatched = Phase(0, 0.0, 0.0, 0.0)
    for r in range(cfg.rounds):
        raw += await timed(stub, loops(cfg.seconds / cfg.rounds))
        share = total * (r + 1) // cfg.rounds - total * r // cfg.rounds
        dispatched += await timed(stub, counted(prepare(share), share))
    return raw, dispatched, sent + warm + total


def numbers(first: int) -> Iterator[str]:
    """Distinct mainland mobile numbers from 139<first>."""
    n = first
    while True:
        yield f"139{n:08d}"
        n += 1


def expect(accepted: int, sent: int, name: str) -> None:
    if accepted != sent:
        raise SystemExit(f"{name}: the stub accepted {accepted}, expected {sent} (every request once)")


# --------------------------------------------------------------------------- push channels


def make_push(i: int, token: str) -> Any:
    """A push as PushSender.as_push makes it of a saved-search notification."""
    from domain.notifications.services import PUSH_TTL
    from notifications.channels.base import Push

    return Push(
        message_id=str(uuid.uuid4()),
        token=token,
        title=TITLE,
        body=BODY,
        data={
            "kind": "saved_search_matched",
            "objectType": "Announcement",
            "objectId": str(i),
            "notificationId": str(i),
        },
        ttl_seconds=int(PUSH_TTL.total_seconds()),
    )


def push_rounds(channel: Any, cfg: Settings, token: Callable[[int], str]) -> Prepare:
    """n pushes, sent by `senders` loops each handing the next batch (of `batch`, fewer when n is small) to
    channel.send, as PushSender loops lease theirs; every push must come back SENT."""
    from notifications.channels.base import Outcome

    def prepare(n: int) -> Runner:
        size = max(1, min(cfg.batch, channel.max_batch, math.ceil(n / cfg.senders)))
        pushes = [make_push(i, token(i)) for i in range(n)]
        batches = iter([pushes[i : i + size] for i in range(0, n, size)])

        async def loop() -> None:
            for batch in batches:  # shared by the loops
                results = await channel.send(batch)
                bad = [r for r in results if r.outcome is not Outcome.SENT]
                if bad:
                    raise SystemExit(f"{channel.name}: {len(bad)} pushes not sent, e.g. {bad[0]}")

        async def run() -> None:
            await asyncio.gather(*(loop() for _ in range(cfg.senders)))

        return run

    return prepare


async def bench_apns(cfg: Settings, tmp: Path) -> tuple[Phase, Phase]:
    import httpx
    from joserfc import jwt
    from joserfc.jwk import ECKey

    from notifications.channels import apns
    from tests.support.apns_stub import ApnsStub

    certs = tmp / "apns"
    stub = Stub("apns_stub", "--cert-dir", str(certs), "--no-record")
    try:
        key_pem = (certs / "key.p8").read_text()
        context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        base = f"https://{stub.host}"
        push = make_push(0, "a1" * 32)
        provider_token = jwt.encode(
            {"alg": "ES256", "kid": ApnsStub.key_id},
            {"iss": ApnsStub.team_id, "iat": int(time.time())},
            ECKey.import_key(key_pem),
        )
        body = json.dumps(apns.payload(push), ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"authorization": f"bearer {provider_token}", **apns.headers(push, ApnsStub.bundle_id, time.time())}
        path = f"/3/device/{push.token}"
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        channel = apns.ApnsChannel(
            key_pem,
            ApnsStub.key_id,
            ApnsStub.team_id,
            ApnsStub.bundle_id,
            endpoint=base,
            ca_file=certs / "ca.pem",
            timeout=30,
        )
        try:
            async with httpx.AsyncClient(
                base_url=base, http1=False, http2=True, verify=context, timeout=30, limits=limits
            ) as client:

                async def one() -> None:
                    response = await client.post(path, content=body, headers=headers)
                    if response.status_code != 200:
                        raise SystemExit(f"APNs stub answered {response.status_code} {response.text}")

                prepare = push_rounds(channel, cfg, lambda i: f"{i:064x}")
                raw, dispatch, sent = await measure(
                    stub, cfg, one, cfg.apns_streams, prepare, cfg.senders * 10, cfg.pushes
                )
                stats = (await client.get("/_stub/stats")).json()
        finally:
            await channel.close()
        expect(stats["accepted"], sent, "apns")
        return raw, dispatch
    finally:
        stub.stop()


async def bench_jpush(cfg: Settings, tmp: Path) -> tuple[Phase, Phase]:
    import base64

    import httpx

    from notifications.channels import jpush
    from tests.support.jpush_stub import JPushStub

    key, secret = JPushStub.app_key, JPushStub.master_secret
    stub = Stub("jpush_stub", "--device", f"{JPUSH_DEVICE}=huawei", "--quota", "1000000000", "--no-record")
    try:
        base = f"http://{stub.host}"
        push = make_push(0, JPUSH_DEVICE)
        push_object = jpush.payload(
            push, cid=None, production=False, distribution="secondary_push", classification=jpush.ORDINARY
        )
        body = json.dumps(push_object).encode()
        auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        headers = {"authorization": auth, "content-type": "application/json"}
        limits = httpx.Limits(max_connections=cfg.in_flight, max_keepalive_connections=cfg.in_flight)
        channel = jpush.JPushChannel(key, secret, endpoint=base, timeout=30)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

                async def one() -> None:
                    response = await client.post("/v3/push", content=body, headers=headers)
                    if response.status_code != 200:
                        raise SystemExit(f"JPush stub answered {response.status_code} {response.text}")

                prepare = push_rounds(channel, cfg, lambda i: JPUSH_DEVICE)
                raw, dispatch, sent = await measure(
                    stub, cfg, one, cfg.in_flight, prepare, cfg.senders * 10, cfg.pushes
                )
                stats = (await client.get("/_stub/stats")).json()
        finally:
            await channel.close()
        expect(stats["accepted"], sent, "jpush")
        if stats["replayed"]:
            raise SystemExit(f"jpush: the stub replayed {stats['replayed']} pushes (a cid used twice)")
        print(f"# push_jpush: {stats['cidRequests']} cid requests besides {stats['requests']} pushes", file=sys.stderr)
        return raw, dispatch
    finally:
        stub.stop()


# --------------------------------------------------------------------------- SMS and voice


def acs3(
    host: str, action: str, version: str, key_id: str, secret: str, query: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """The URL and headers of one Aliyun RPC call (POST, empty body), signed with the SDK's own signing function."""
    from alibabacloud_tea_openapi.utils import Utils, get_canonical_query_string

    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": EMPTY_SHA256,
    }
    request = SimpleNamespace(method="POST", pathname="/", query=query, headers=headers)
    headers["authorization"] = Utils.get_authorization(request, ACS3, EMPTY_SHA256, key_id, secret)
    return f"http://{host}/?{get_canonical_query_string(query)}", headers


def message_rounds(send: Callable[[int, str], Awaitable[None]], batch: int) -> Prepare:
    """n sends to distinct numbers in rounds of `batch` concurrent ones, as a dispatcher's run_once gathers its
    batch and then leases the next."""
    phones = numbers(50_000_000)
    ids = iter(range(10**9))

    def prepare(n: int) -> Runner:
        items = [(next(ids), next(phones)) for _ in range(n)]

        async def run() -> None:
            for start in range(0, n, batch):
                await asyncio.gather(*(send(i, phone) for i, phone in items[start : start + batch]))

        return run

    return prepare


async def http_stats(stub: Stub) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(timeout=10) as client:
        return dict((await client.get(f"http://{stub.host}/_stub/stats")).json())


async def bench_sms_aliyun(cfg: Settings, tmp: Path) -> tuple[Phase, Phase]:
    import httpx

    from notifications.sms.aliyun import AliyunSms
    from notifications.sms.base import SmsMessage, SmsOutcome
    from tests.support.aliyun_sms_stub import AliyunSmsStub

    key_id, secret = AliyunSmsStub.access_key_id, AliyunSmsStub.access_key_secret
    stub = Stub("aliyun_sms_stub", "--no-flow-control", "--template", f"{ALIYUN_SMS_TEMPLATE}:code")
    provider = AliyunSms(
        key_id, secret, SIGN_NAME, {"login_code": ALIYUN_SMS_TEMPLATE}, endpoint=stub.host, protocol="http"
    )
    try:
        phones = numbers(0)
        limits = httpx.Limits(max_connections=cfg.in_flight, max_keepalive_connections=cfg.in_flight)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def one() -> None:
                query = {
                    "PhoneNumbers": next(phones),
                    "SignName": SIGN_NAME,
                    "TemplateCode": ALIYUN_SMS_TEMPLATE,
                    "TemplateParam": '{"code":"123456"}',
                    "OutId": uuid.uuid4().hex,
                }
                url, headers = acs3(stub.host, "SendSms", "2017-05-25", key_id, secret, query)
                response = await client.post(url, headers=headers)
                if response.status_code != 200 or b'"Code": "OK"' not in response.content:
                    raise SystemExit(f"Aliyun SMS stub answered {response.status_code} {response.text}")

            async def send(i: int, phone: str) -> None:
                message = SmsMessage(message_id=str(i), phone=phone, template="login_code", params={"code": "123456"})
                result = await provider.send(message)
                if result.outcome is not SmsOutcome.SENT:
                    raise SystemExit(f"sms_aliyun: {result}")

            prepare = message_rounds(send, cfg.sms_batch)
            raw, dispatch, sent = await measure(stub, cfg, one, cfg.in_flight, prepare, 10, cfg.messages)
        expect((await http_stats(stub))["accepted"], sent, "sms_aliyun")
        return raw, dispatch
    finally:
        await provider.close()
        stub.stop()


async def bench_sms_tencent(cfg: Settings, tmp: Path) -> tuple[Phase, Phase]:
    import httpx

    from notifications.sms.base import SmsMessage, SmsOutcome
    from notifications.sms.tencent import TencentSms
    from tests.support.tencent_sms_stub import SERVICE, TencentSmsStub
    from tests.support.tencent_tc3 import tc3_signature

    secret_id, secret_key, app_id = TencentSmsStub.secret_id, TencentSmsStub.secret_key, TencentSmsStub.sdk_app_id
    no_limit = ("--limit-30s", "0", "--limit-hour", "0", "--limit-day", "0")
    stub = Stub("tencent_sms_stub", "--template", f"{TENCENT_SMS_TEMPLATE}={TENCENT_SMS_TEXT}", *no_limit)
    provider = TencentSms(
        secret_id,
        secret_key,
        app_id,
        SIGN_NAME,
        {"login_code": TENCENT_SMS_TEMPLATE},
        {"login_code": ("code",)},
        endpoint=stub.host,
        scheme="http",
    )
    try:
        phones = numbers(0)
        limits = httpx.Limits(max_connections=cfg.in_flight, max_keepalive_connections=cfg.in_flight)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def one() -> None:
                body = json.dumps(
                    {
                        "PhoneNumberSet": ["+86" + next(phones)],
                        "SmsSdkAppId": app_id,
                        "SignName": SIGN_NAME,
                        "TemplateId": TENCENT_SMS_TEMPLATE,
                        "TemplateParamSet": ["123456"],
                        "SessionContext": uuid.uuid4().hex,
                    },
                    ensure_ascii=False,
                ).encode()
                now = int(time.time())
                headers = {
                    "content-type": "application/json",
                    "host": stub.host,
                    "x-tc-action": "SendSms",
                    "x-tc-version": "2021-01-11",
                    "x-tc-timestamp": str(now),
                    "x-tc-region": "ap-guangzhou",
                }
                signature = tc3_signature(secret_key, SERVICE, headers, ["content-type", "host"], "", body, now)
                day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
                headers["authorization"] = (
                    f"TC3-HMAC-SHA256 Credential={secret_id}/{day}/sms/tc3_request, "
                    f"SignedHeaders=content-type;host, Signature={signature}"
                )
                response = await client.post(f"http://{stub.host}/", content=body, headers=headers)
                if response.status_code != 200 or b'"Code": "Ok"' not in response.content:
                    raise SystemExit(f"Tencent SMS stub answered {response.status_code} {response.text}")

            async def send(i: int, phone: str) -> None:
                message = SmsMessage(message_id=str(i), phone=phone, template="login_code", params={"code": "123456"})
                result = await provider.send(message)
                if result.outcome is not SmsOutcome.SENT:
                    raise SystemExit(f"sms_tencent: {result}")

            prepare = message_rounds(send, cfg.sms_batch)
            raw, dispatch, sent = await measure(stub, cfg, one, cfg.in_flight, prepare, 10, cfg.messages)
        expect((await http_stats(stub))["accepted"], sent, "sms_tencent")
        return raw, dispatch
    finally:
        await provider.close()
        stub.stop()


async def bench_voice_aliyun(cfg: Settings, tmp: Path) -> tuple[Phase, Phase]:
    import httpx

    from notifications.voice.aliyun import AliyunVoice, out_id_for
    from notifications.voice.base import VoiceCall, VoiceOutcome
    from tests.support.aliyun_voice_stub import AliyunVoiceStub

    key_id, secret = AliyunVoiceStub.access_key_id, AliyunVoiceStub.access_key_secret
    stub = Stub("aliyun_voice_stub", "--no-flow-control", "--template", f"{VOICE_TEMPLATE}:lot,time,place")
    provider = AliyunVoice(
        key_id, secret, VOICE_SHOW_NUMBER, {"expert_drawn": VOICE_TEMPLATE}, endpoint=stub.host, protocol="http"
    )
    params = json.dumps(VOICE_PARAMS, ensure_ascii=False, separators=(",", ":"))
    try:
        phones = numbers(0)
        ids = iter(range(10**9))
        limits = httpx.Limits(max_connections=cfg.in_flight, max_keepalive_connections=cfg.in_flight)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:

            async def one() -> None:
                query = {
                    "CalledNumber": next(phones),
                    "CalledShowNumber": VOICE_SHOW_NUMBER,
                    "StartCode": VOICE_TEMPLATE,
                    "StartTtsParams": params,
                    "MenuKeyMap.1.Key": "1",
                    "MenuKeyMap.2.Key": "2",
                    "OutId": out_id_for(f"raw{next(ids)}"),
                    "PlayTimes": "2",
                    "Timeout": "10000",
                }
                url, headers = acs3(stub.host, "IvrCall", "2017-05-25", key_id, secret, query)
                response = await client.post(url, headers=headers)
                if response.status_code != 200 or b'"Code": "OK"' not in response.content:
                    raise SystemExit(f"Aliyun voice stub answered {response.status_code} {response.text}")

            async def call(i: int, phone: str) -> None:
                placed = VoiceCall(call_id=f"en{i}", phone=phone, template="expert_drawn", params=VOICE_PARAMS)
                result = await provider.call(placed)
                if result.outcome is not VoiceOutcome.PLACED:
                    raise SystemExit(f"voice_aliyun: {result}")

            prepare = message_rounds(call, cfg.voice_batch)
            raw, dispatch, sent = await measure(stub, cfg, one, cfg.in_flight, prepare, 10, cfg.messages)
        expect((await http_stats(stub))["accepted"], sent, "voice_aliyun")
        return raw, dispatch
    finally:
        await provider.close()
        stub.stop()


BENCHES: dict[str, Callable[[Settings, Path], Awaitable[tuple[Phase, Phase]]]] = {
    "apns": bench_apns,
    "jpush": bench_jpush,
    "sms_aliyun": bench_sms_aliyun,
    "sms_tencent": bench_sms_tencent,
    "voice_aliyun": bench_voice_aliyun,
}


async def run(channels: Sequence[str], cfg: Settings) -> list[str]:
    """The output lines of the chosen channels, in order; CPU figures on stderr."""
    lines: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-push-bench-"))
    try:
        for name in channels:
            raw, dispatch = await BENCHES[name](cfg, tmp)
            prefix = PREFIX[name]
            ratio = dispatch.rate / raw.rate
            lines += [
                f"{prefix}_raw: {raw.rate:.0f} /s",
                f"{prefix}_dispatch: {dispatch.rate:.0f} /s",
                f"{prefix}_ratio: {ratio:.2f} x",
                f"{prefix}_goal: {'met' if ratio >= GOAL_RATIO else 'not met'} (>= {GOAL_RATIO})",
            ]
            print(f"# {prefix} raw: {raw.count} in {raw.elapsed:.2f} s, {raw.cpu()}", file=sys.stderr)
            print(
                f"# {prefix} dispatch: {dispatch.count} in {dispatch.elapsed:.2f} s, {dispatch.cpu()}", file=sys.stderr
            )
            if raw.stub_cpu > 0:
                # the stub serves from one event loop: one busy core is its ceiling, whatever the client
                ceiling = raw.count / raw.stub_cpu
                print(
                    f"# {prefix} stub ceiling at one busy core: {ceiling:.0f} /s "
                    f"(raw client reached {raw.rate / ceiling:.2f} of it, dispatch {dispatch.rate / ceiling:.2f})",
                    file=sys.stderr,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return lines
