"""The push sender: leases due pushes, sends them through their provider's channel, records outcomes.

At least once: a push is marked sent only after the provider accepted it; a sender that dies
mid-send leaves a lease that expires, and the push goes again with the same message id (the
phone replaces rather than repeats it: collapse key, tag, apns-collapse-id). Temporary failures
(5xx, 429, timeouts, FCM down) are retried with exponential backoff, honouring Retry-After,
until the push expires; permanent ones are not retried; a dead token removes the device.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta

from domain.notifications import services
from domain.notifications.services import DeliveryStatus, DuePush
from notifications import metrics
from notifications.channels.base import Channel, Outcome, Push, PushResult

log = logging.getLogger("palmtrade.push")
BASE_BACKOFF = 2.0
MAX_BACKOFF = 600.0
MAX_RETRY_AFTER = 3600.0


def backoff(attempts: int, jitter: float) -> float:
    """Seconds before attempt `attempts + 1`: 2, 4, 8 ... up to 10 minutes, times `jitter` (0.8 to 1.2)."""
    return min(BASE_BACKOFF * 2.0**attempts, MAX_BACKOFF) * jitter


def as_push(due: DuePush) -> Push:
    return Push(
        message_id=due.message_id,
        token=due.token,
        title=due.title,
        body=due.body,
        data={
            "kind": due.kind,
            "objectType": due.object_type,
            "objectId": due.object_id,
            "notificationId": str(due.notification_id),
        },
        time_critical=due.time_critical,
        ttl_seconds=int(services.TIME_CRITICAL_PUSH_TTL.total_seconds())
        if due.time_critical
        else int(services.PUSH_TTL.total_seconds()),
    )


class PushSender:
    def __init__(
        self,
        channels: Mapping[str, Channel],
        owner: str,
        batch_size: int = 500,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self.channels = dict(channels)
        self.owner = owner
        self.batch_size = batch_size
        self.lease = lease

    async def run_once(self) -> int:
        """Sends one leased batch; returns how many pushes it handled."""
        leased = await services.lease_due(self.owner, self.batch_size, self.lease)
        if not leased:
            return 0
        pushes = await services.expire_overdue(self.owner, leased)
        kept = {p.delivery_id for p in pushes}
        metrics.count(metrics.PUSHES, ((d.provider, "expired") for d in leased if d.delivery_id not in kept))
        by_provider: dict[str, list[DuePush]] = defaultdict(list)
        for due in pushes:
            by_provider[due.provider].append(due)
        sends = []
        for provider, group in by_provider.items():
            channel = self.channels.get(provider)
            if channel is None:
                await services.finish(
                    self.owner, [d.delivery_id for d in group], DeliveryStatus.SKIPPED, f"no channel for {provider}"
                )
                metrics.PUSHES.labels(provider, "skipped").inc(len(group))
                continue
            for i in range(0, len(group), channel.max_batch):
                sends.append(self._send(channel, group[i : i + channel.max_batch]))
        await asyncio.gather(*sends)
        return len(leased)

    async def release(self) -> int:
        """Gives back what this sender still holds leased (after a batch was cut short by a shutdown)."""
        return await services.release_leases(self.owner)

    async def _send(self, channel: Channel, group: Sequence[DuePush]) -> None:
        try:
            results = await channel.send([as_push(d) for d in group])
        except Exception as err:  # a channel bug or misconfiguration: retry the batch later
            log.exception("channel %s failed a whole batch", channel.name)
            results = [PushResult(Outcome.RETRY, error=type(err).__name__)] * len(group)
        await self.record(list(zip(group, results, strict=True)))

    async def record(self, outcomes: Sequence[tuple[DuePush, PushResult]]) -> None:
        metrics.count(metrics.PUSHES, ((d.provider, r.outcome.value) for d, r in outcomes))
        sent = [d.delivery_id for d, r in outcomes if r.outcome is Outcome.SENT]
        await services.finish(self.owner, sent, DeliveryStatus.SENT)
        failed: dict[str, list[int]] = defaultdict(list)
        for d, r in outcomes:
            if r.outcome is Outcome.FAILED:
                failed[r.error or "failed"].append(d.delivery_id)
        for error, ids in failed.items():
            await services.finish(self.owner, ids, DeliveryStatus.FAILED, error[:200])
        invalid = [(d, r) for d, r in outcomes if r.outcome is Outcome.INVALID_TOKEN]
        if invalid:
            await services.finish(
                self.owner, [d.delivery_id for d, _ in invalid], DeliveryStatus.INVALID_TOKEN, invalid[0][1].error
            )
            log.info("removing %d devices whose tokens the provider refused", len(invalid))
            await services.remove_devices(sorted({d.device_id for d, _ in invalid}))
        retry: dict[tuple[int, int, str], list[DuePush]] = defaultdict(list)
        jitter = 0.8 + 0.4 * random.random()  # one draw per batch keeps a batch's retries in one update
        for d, r in outcomes:
            if r.outcome is Outcome.RETRY:
                wait = max(backoff(d.attempts, jitter), min(r.retry_after or 0.0, MAX_RETRY_AFTER))
                retry[(d.attempts, round(wait), r.error or "retry")].append(d)
        for (_, wait, error), group in retry.items():
            await services.retry_later(self.owner, group, timedelta(seconds=wait), error)
