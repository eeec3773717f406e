"""SMS providers: one module per provider; a provider sends one templated message and says what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SmsMessage:
    message_id: str  # ours, unique per message (idempotency / out_id at the provider)
    phone: str  # mainland mobile number, 11 digits, e.g. "13800000001"
    template: str  # our template key, e.g. "login_code"
    params: Mapping[str, str] = field(default_factory=dict)  # template parameters, e.g. {"code": "123456"}


class SmsOutcome(StrEnum):
    SENT = "sent"  # accepted by the provider
    RETRY = "retry"  # temporary: 5xx, timeout, connection refused, throttling of the whole account
    INVALID_NUMBER = "invalid_number"  # the number is not a valid mobile number
    RATE_LIMITED = "rate_limited"  # the provider's per-number limit (minute/hour/day) for this number
    FAILED = "failed"  # permanent (template, signature, account, content): never retried on this provider


@dataclass(frozen=True, slots=True)
class SmsResult:
    outcome: SmsOutcome
    provider: str
    provider_id: str | None = None  # Aliyun BizId / Tencent SerialNo
    code: str | None = None  # the provider's own code, e.g. "isv.MOBILE_NUMBER_ILLEGAL"
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery report from the provider's status callback."""

    provider: str
    provider_id: str | None
    phone: str
    delivered: bool
    code: str | None
    reported_at: str | None  # as the provider wrote it (ISO 8601 or its own format, Asia/Shanghai)
    out_id: str | None = None  # our message_id when the provider echoes it


class SmsProvider(Protocol):
    name: str

    async def send(self, message: SmsMessage) -> SmsResult: ...

    async def close(self) -> None: ...
