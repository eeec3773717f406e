"""The push channel interface: one module per vendor (FCM, and later Huawei, Honor, Xiaomi, OPPO, vivo).

A channel sends a batch of pushes and reports, per push and in the same order, what happened.
It never raises for one message's failure: a dead token, a quota or an outage is an outcome, so
the delivery worker can prune, retry with backoff or give up per message. It raises only when
it is misconfigured or closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Push:
    """One notification to one device."""

    message_id: str  # the notification's message id: data["messageId"], Android tag + collapse key, apns-collapse-id
    token: str  # the device's registration token at this channel
    title: str
    body: str
    data: Mapping[str, str] = field(default_factory=dict)  # string values only (FCM's data payload)
    time_critical: bool = False  # high priority on Android, apns-priority 10 / interruption-level time-sensitive
    ttl_seconds: int | None = None  # how long the vendor may hold it for an offline device


class Outcome(StrEnum):
    SENT = "sent"  # accepted by the vendor
    RETRY = "retry"  # temporary: 5xx, 429, timeout, connection refused; try again later
    INVALID_TOKEN = "invalid_token"  # the token is dead or not a token: unregister the device
    FAILED = "failed"  # permanent for this message (e.g. a payload the vendor rejects); never retried


@dataclass(frozen=True, slots=True)
class PushResult:
    outcome: Outcome
    provider_id: str | None = None  # the vendor's message id (FCM: projects/<p>/messages/<n>)
    retry_after: float | None = None  # seconds the vendor asked us to wait (Retry-After), when it did
    error: str | None = None  # the vendor's error code, for logs and the delivery record


class Channel(Protocol):
    name: str  # the provider a device is registered with: "fcm", "huawei", ...
    max_batch: int  # the most pushes one send() call takes

    async def send(self, pushes: Sequence[Push]) -> list[PushResult]:
        """Sends up to max_batch pushes; one result per push, in order; per-message errors are outcomes."""
        ...

    async def close(self) -> None: ...
