"""What the outbound channels did, for Prometheus (`/metrics`, api/metrics.py): pushes, texts and voice calls by
provider and outcome, and the events the outbox dispatcher delivered. Counters only: they add up across processes
(prometheus_client's multiprocess mode, README: Operations)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter

PUSHES = Counter(
    "palmtrade_push_deliveries",
    "Pushes handed to a provider, by provider (fcm, apns, jpush, ...) and outcome (sent, failed, invalid_token, "
    "retry, skipped, expired).",
    ["provider", "outcome"],
)
TEXTS = Counter(
    "palmtrade_sms_attempts",
    "Tries to send a text, by provider (aliyun, tencent, log) and outcome (sent, retry, failed, invalid_number, "
    "rate_limited).",
    ["provider", "outcome"],
)
CALLS = Counter(
    "palmtrade_voice_calls",
    "Voice calls to drawn experts asked of a provider, by provider and outcome (placed, retry, failed).",
    ["provider", "outcome"],
)
EVENTS = Counter(
    "palmtrade_outbox_events_dispatched",
    "Domain events the outbox dispatcher delivered to every consumer, by outcome (dispatched, failed).",
    ["outcome"],
)


def count(counter: Counter, pairs: Iterable[tuple[str, str]]) -> None:
    """Adds one per (provider, outcome) pair, one call per distinct pair (a batch of 500 pushes is a few calls)."""
    for (provider, outcome), n in Tally(pairs).items():
        counter.labels(provider, outcome).inc(n)
