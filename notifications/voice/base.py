"""The voice provider interface: a provider places one templated call and, later, reports what the callee did.

Placing a call (VoiceProvider.call) and its result (a CallReport from the provider's receipts) are separate: a
PLACED call has only been accepted, the callee's answer arrives minutes later through the provider's receipt push.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class VoiceCall:
    """One call to place: which number, which announcement, with which parameters."""

    call_id: str  # ours, unique per call (the provider echoes it, or a digest of it, in its receipts)
    phone: str  # mainland mobile number, 11 digits, e.g. "13800000001"
    template: str  # our template key, e.g. "expert_drawn"
    params: Mapping[str, str] = field(default_factory=dict)  # announcement parameters, e.g. {"project": "..."}


class VoiceOutcome(StrEnum):
    PLACED = "placed"  # accepted by the provider: the call will be made, its result comes as a CallReport
    RETRY = "retry"  # temporary: 5xx, timeout, connection refused, throttling of the whole account
    INVALID_NUMBER = "invalid_number"  # the number is not a valid mobile number
    RATE_LIMITED = "rate_limited"  # the provider's per-number limit (minute/hour/day) for this number
    FAILED = "failed"  # permanent (template, caller number, account, parameters): never retried on this provider


@dataclass(frozen=True, slots=True)
class VoiceResult:
    outcome: VoiceOutcome
    provider: str
    provider_id: str | None = None  # Aliyun CallId
    code: str | None = None  # the provider's own code, e.g. "isv.MOBILE_NUMBER_ILLEGAL"
    message: str | None = None


class Answer(StrEnum):
    """What the callee did."""

    CONFIRMED = "confirmed"  # answered and pressed the confirm key
    DECLINED = "declined"  # answered and pressed the decline key
    NO_ANSWER = "no_answer"  # not answered, busy, unreachable for now, or no valid key within the timeout
    FAILED = "failed"  # the call could not be made (no such number, suspended number, carrier or system fault)


@dataclass(frozen=True, slots=True)
class CallReport:
    """One call result from the provider's receipt push."""

    provider: str
    provider_id: str | None  # the CallId VoiceResult.provider_id had
    out_id: str | None  # what the provider echoes of our call_id
    phone: str  # the called number, "" when the receipt does not carry it
    answer: Answer
    key: str | None  # the key that decided the answer, or what was pressed when no key decided it
    ended_at: str | None  # as the provider wrote it (Asia/Shanghai, "YYYY-MM-DD HH:MM:SS")
    code: str | None  # the provider's call status code, e.g. "200003"


class VoiceProvider(Protocol):
    name: str

    async def call(self, call: VoiceCall) -> VoiceResult: ...

    async def close(self) -> None: ...
