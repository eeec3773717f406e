"""What a process wires once and shares between requests (the server and the worker alike): settings in,
Services out; start and stop connect the database, the broker and the keys and run the worker loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from tortoise import Tortoise

from api import faceid, metrics, pool_layout, provincial, tracing
from api.lifecycle import Lifecycle
from api.persisted import PersistedStore
from api.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from api.response_cache import ResponseCache
from api.settings import Settings
from domain import wiring
from domain.accounts import adapters as account_adapters
from domain.accounts import attempts, passwords
from domain.accounts.tokens import KeyRing, TokenPolicy
from domain.common import chronograph, cpu
from domain.common.actors import Role
from domain.credit import exchange as credit_exchange
from domain.db import tortoise_config
from domain.documents import adapters as document_adapters
from domain.documents.blobs import BlobStore
from domain.documents.scanning import scanner_from_address
from domain.evaluation import face
from domain.evaluation import notices as expert_notices
from domain.provincial import exchange as provincial_exchange
from domain.publication import search
from domain.settlement import adapters as settlement_adapters
from domain.settlement import treasury as settlement_treasury
from domain.sms.services import LogOutbox
from domain.supervision.consumer import SupervisionConsumer
from notifications.broker import InProcessBroker, RedisBroker
from notifications.channels.apns import ApnsChannel
from notifications.channels.base import Channel
from notifications.channels.fcm import channel_from_settings
from notifications.channels.jpush import channel_from_settings as jpush_channel
from notifications.dispatch import (
    AuditConsumer,
    Consumer,
    Dispatcher,
    FeedConsumer,
    SavedSearchConsumer,
    run_forever,
)
from notifications.inbox import NotificationConsumer
from notifications.keyspace import Keyspace
from notifications.live import LiveConsumer
from notifications.push import PushSender
from notifications.sms.config import providers as sms_providers
from notifications.sms.dispatch import SmsDispatcher
from notifications.voice.dispatch import VoiceDispatcher
from notifications.voice.dispatch import provider_from_settings as voice_provider

log = logging.getLogger("palmtrade.api")


@dataclass
class Services:
    """Everything the process wires once and shares between requests."""

    settings: Settings
    keyring: KeyRing
    bus: InProcessBroker
    limiter: RateLimiter
    dispatcher: Dispatcher
    push: PushSender
    periodic: list[chronograph.PeriodicJob] = field(default_factory=list)
    persisted: PersistedStore = field(default_factory=PersistedStore)
    response_cache: ResponseCache = field(default_factory=lambda: ResponseCache(0, 0))
    shared_ages: dict[str, int] = field(default_factory=dict)  # persisted hash -> seconds its answer is shared
    lean: Any = None  # the contract queries' plans (schema/lean.py LeanPlans), set when the GraphQL endpoint is built
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    owns_database: bool = False
    lifecycle: Lifecycle = field(default_factory=Lifecycle)  # draining, open WebSockets, worker loops' beats
    store: BlobStore | None = None  # files (domain/documents), configured from STORAGE_URL
    sms: LogOutbox | SmsDispatcher = field(default_factory=LogOutbox)  # the SMS outbox (SMS_PROVIDERS)
    voice: VoiceDispatcher | None = None  # calls to drawn experts (ALIYUN_VOICE_*)

    @property
    def audit_export_path(self) -> Path | None:
        return self.settings.audit_export_path


def token_policy(settings: Settings) -> TokenPolicy:
    return TokenPolicy(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=timedelta(minutes=settings.access_token_minutes),
        refresh_ttl=timedelta(days=settings.refresh_token_days),
        rotate_every=timedelta(days=settings.key_rotation_days),
    )


def outbox_consumers(bus: InProcessBroker) -> list[Consumer]:
    """Everything a committed event feeds, in order: the audit trail first, the domain's workflows
    (domain/wiring.py), live subscribers last."""
    return [
        AuditConsumer(),
        FeedConsumer(),
        SavedSearchConsumer(),
        wiring.wire().reactions,
        SupervisionConsumer(),
        NotificationConsumer(bus),
        LiveConsumer(bus),
    ]


def broker_and_limiter(settings: Settings) -> tuple[InProcessBroker, RateLimiter]:
    """In this process without REDIS_URL; else both in the deployment's Keyspace of the Redis server."""
    if not settings.redis_url:
        return InProcessBroker(), MemoryRateLimiter()
    space = Keyspace(settings.redis_url, settings.redis_namespace)
    return RedisBroker(space), RedisRateLimiter(space)


def build_services(settings: Settings) -> Services:
    wiring.wire()  # every timed transition and award blocker, for the server and the worker alike
    tracing.configure(settings)  # OpenTelemetry, when an OTLP endpoint is set
    bus, limiter = broker_and_limiter(settings)
    keyring = KeyRing(token_policy(settings), settings.kek_ring())
    services = Services(
        settings=settings,
        keyring=keyring,
        bus=bus,
        limiter=limiter,
        dispatcher=Dispatcher(outbox_consumers(bus)),
        push=PushSender({}, owner="", batch_size=settings.push_batch),
    )
    services.push.owner = services.holder
    services.persisted = PersistedStore.from_contract(automatic=settings.persisted_automatic)
    services.response_cache = ResponseCache(
        settings.response_cache_entries, settings.response_cache_seconds, max_bytes=settings.response_cache_bytes
    )
    services.push.channels = push_channels(settings)
    services.sms = (
        SmsDispatcher(sms_providers(settings.sms_providers, settings.sms), settings.secret_key, services.holder)
        if settings.sms_providers
        else LogOutbox(settings.secret_key)
    )
    voice = voice_provider(settings.sms)
    services.voice = VoiceDispatcher(voice, services.holder) if voice is not None else None
    services.store = BlobStore.from_url(
        settings.storage_url, settings.storage_access_key_id, settings.storage_secret_access_key
    )
    services.periodic = wiring.periodic_jobs(
        keyring=keyring,
        audit_export_path=settings.audit_export_path,
        audit_export_every=timedelta(minutes=settings.audit_export_minutes),
        fetch_crl=fetch_crl,
        keep=settings.retention(),
    )
    return services


async def fetch_crl(url: str) -> bytes:
    """Fetches a CA's CRL from its configured URL (certificate_authority.refresh_crls)."""
    async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content


def push_channels(settings: Settings) -> dict[str, Channel]:
    """The push channels configured; a device of a provider without one gets no push (README)."""
    channels: dict[str, Channel] = {}
    fcm = channel_from_settings(
        project_id=settings.fcm_project_id,
        credentials_path=settings.fcm_credentials,
        access_token=settings.fcm_access_token,
        endpoint=settings.fcm_endpoint,
    )
    if fcm is not None:
        channels[fcm.name] = fcm
    if settings.apns_key_file and settings.apns_key_id and settings.apns_team_id and settings.apns_topic:
        channels["apns"] = ApnsChannel(
            Path(settings.apns_key_file).read_text(),
            settings.apns_key_id,
            settings.apns_team_id,
            settings.apns_topic,
            endpoint=settings.apns_endpoint,
        )
    jpush = jpush_channel(
        settings.jpush_app_key,
        settings.jpush_master_secret,
        endpoint=settings.jpush_endpoint,
        production=settings.jpush_production,
    )
    if jpush is not None:
        channels[jpush.name] = jpush
    return channels


def credit_sm2_key(env: dict[str, str] | None = None) -> bytes | None:
    """The platform's SM2 key (PKCS#8 PEM) that signs SM2SM3 credit-exchange packages, from CREDIT_SM2_KEY_FILE."""
    path = (os.environ if env is None else env).get("CREDIT_SM2_KEY_FILE")
    return Path(path).read_bytes() if path else None


def plug_adapters(services: Services) -> None:
    """Points the domain's adapters (key ring, SMS outbox, failure counter, CPU pool, blob store, scanner) at this
    process's. They are process-wide: a second app started in the same process (tests) takes them over until they
    are plugged back."""
    settings = services.settings
    account_adapters.configure(services.keyring, services.sms, settings.secret_key)
    expert_notices.configure(calls=services.voice is not None)
    face.configure(faceid.from_env())  # 刷脸签章 (FACEID_*), none by default
    # PROVINCIAL_*: none by default, messages kept queued
    media, public_url, examiner = provincial.publicity_items()
    provincial_exchange.configure(
        *provincial.from_env(), notice_media=media, public_url=public_url, examiner_name=examiner
    )
    credit_exchange.configure_sm2(credit_sm2_key())  # CREDIT_SM2_KEY_FILE: SM2SM3 credit exports, none by default
    settlement_adapters.configure(settings.settlement)  # TREASURY_*, INVOICE_*: none by default, requests queued
    account_adapters.deps.two_factor_roles = frozenset(Role(r) for r in settings.two_factor_roles)
    account_adapters.deps.failures = services.limiter
    account_adapters.deps.signin_failures_per_address = settings.signin_failures_per_address
    account_adapters.deps.signin_failures_per_number = settings.signin_failures_per_number
    attempts.clients.per_address = settings.client_signin_failures_per_address
    attempts.clients.per_id = settings.client_signin_failures_per_id
    passwords.configure(*settings.password_hash_cost)
    if (cpu.size(), cpu.queue()) != (settings.cpu_pool_size, settings.cpu_pool_queue):
        cpu.configure(settings.cpu_pool_size, settings.cpu_pool_queue)
    if services.store is not None:
        document_adapters.configure(
            services.store,
            scanner_from_address(settings.clamd_address),
            settings.secret_key,
            presigned_downloads=settings.presigned_downloads,
            upload_ttl=timedelta(hours=settings.upload_hours),
        )


async def start(services: Services, with_workers: bool) -> None:
    """Connects the database and the broker, loads keys and starts the background workers."""
    settings = services.settings
    if not Tortoise.is_inited():
        await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
        services.owns_database = True
        await pool_layout.check(settings.database_url, settings.database_processes)
    await services.keyring.load()
    # jieba's dictionary before the first request: loaded by the first search, it held that server's loop for a
    # second or more in the bidding day's opening burst and after every restart
    search.warm()
    plug_adapters(services)
    await services.bus.start()
    if with_workers:
        # tasks named loop:* are the workers: stop() lets each finish the step in hand
        loops: list[tuple[str, Any, float]] = [
            ("dispatcher", services.dispatcher.run_once, settings.dispatch_interval),
            ("scheduler", lambda: scheduler_tick(services), settings.scheduler_interval),
            ("sms", services.sms.run_once, settings.push_interval),
            ("provincial", lambda: provincial_exchange.send_due(services.holder), settings.scheduler_interval),
            ("treasury", settlement_treasury.step, settings.scheduler_interval),
        ]
        if services.voice is not None:
            loops.append(("voice", services.voice.run_once, settings.push_interval))
        # without channels the senders still run: they mark pushes to unsupported providers skipped
        loops += [
            (f"push-{i}", services.push.run_once, settings.push_interval) for i in range(max(1, settings.push_senders))
        ]
        services.tasks = [
            asyncio.create_task(
                run_forever(services.lifecycle.beating(name, step), idle, name, services.stop), name=f"loop:{name}"
            )
            for name, step, idle in loops
        ]
    # every process: how late its event loop runs (api/metrics.py LOOP_LAG), on /metrics
    services.tasks.append(asyncio.create_task(metrics.watch_loop(services.stop), name="loop-lag"))
    if services.response_cache.enabled:
        # every server process, workers or not: a published announcement clears the shared answers
        services.tasks.append(
            asyncio.create_task(services.response_cache.watch(services.bus, services.stop), name="cache-watch")
        )


async def scheduler_tick(services: Services) -> int:
    """Fires due transitions; runs periodic jobs whose lease this process wins."""
    fired = 0
    try:
        fired = await chronograph.fire_due()
    except Exception:
        log.exception("firing due transitions failed")
    try:
        await chronograph.run_periodic(services.periodic, services.holder)
    except Exception:
        log.exception("periodic jobs failed")
    # the key ring is per process: reload it here as well, whoever holds the lease
    await services.keyring.refresh_if_older_than_seconds(60)
    return fired


async def _deliver_the_last(services: Services, ends: float) -> None:
    """Once every loop has finished its step, what those last steps recorded (a periodic job's event, an event the
    dispatcher's last batch left due) is delivered before the process exits, within what is left of the grace
    period: the next dispatcher to start would deliver it anyway, but a worker stopped for good (the last one of a
    deployment, a test's cluster) should leave nothing behind."""
    loop = asyncio.get_running_loop()
    try:
        while (left := ends - loop.time()) > 0:
            if not await asyncio.wait_for(services.dispatcher.run_once(), left):
                return
    except TimeoutError:
        log.warning("the last outbox batch did not finish within the grace period; the next dispatcher delivers it")
    except Exception:
        log.exception("delivering the last outbox events failed; the next dispatcher delivers them")


async def stop(services: Services) -> None:
    """Stops the workers after the step in hand (a claimed outbox batch is delivered and committed, leased
    pushes are recorded), cancelling what is still running after SHUTDOWN_GRACE_SECONDS (an outbox batch
    then rolls back for the next dispatcher, pushes leased here are given back), then disconnects."""
    services.stop.set()
    loops = [t for t in services.tasks if t.get_name().startswith("loop:")]
    if loops:
        grace = services.settings.shutdown_grace_seconds
        ends = asyncio.get_running_loop().time() + grace
        _, late = await asyncio.wait(loops, timeout=grace)
        if late:
            log.warning("cancelling %s after the grace period", ", ".join(sorted(t.get_name() for t in late)))
        else:
            await _deliver_the_last(services, ends)
    for task in services.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if loops:
        try:
            await services.push.release()
        except Exception:
            log.exception("could not give back the push leases of %s; they expire", services.holder)
    await services.bus.close()
    for channel in services.push.channels.values():
        await channel.close()
    if isinstance(services.sms, SmsDispatcher):
        await services.sms.close()
    if services.voice is not None:
        await services.voice.close()
    cpu.shutdown()
    if services.owns_database:
        await Tortoise.close_connections()
