"""What Aliyun's OpenAPI clients (SMS, voice) share: one client configuration without the SDK's own retries (the
dispatchers retry), and reading the SDK's answers and errors without leaking a number into a log."""

from __future__ import annotations

import re
from typing import Any

from alibabacloud_tea_openapi.utils_models import Config
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

_SERVER_STRINGS = re.compile(r"\s*server (?:string to sign|StringToSign|CanonicalRequest).*", re.IGNORECASE | re.DOTALL)
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def config(
    access_key_id: str, access_key_secret: str, endpoint: str, region: str, protocol: str, timeout_ms: int
) -> Config:
    """A client configuration with the SDK's retries off."""
    return Config(
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        endpoint=endpoint,
        region_id=region,
        protocol=protocol,
        connect_timeout=timeout_ms,
        read_timeout=timeout_ms,
        retry_options=RetryOptions({"retryable": False}),
    )


def runtime(timeout_ms: int) -> RuntimeOptions:
    """Per-call options: no retry, the same timeouts."""
    return RuntimeOptions(autoretry=False, max_attempts=0, connect_timeout=timeout_ms, read_timeout=timeout_ms)


def mask_phone(phone: str) -> str:
    """A number as it may be logged: 138****0001 (nothing of a number shorter than 11 characters)."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 11 else "****"


def scrub(text: str | None) -> str | None:
    """Aliyun's message without the server's string to sign (which echoes the query) and with numbers masked."""
    if text is None:
        return None
    return _MOBILE_IN_TEXT.sub(r"\1****\2", _SERVER_STRINGS.sub("", text)) or None


def text_of(value: object) -> str | None:
    """A non-empty string, else None (the SDK formats a missing code as the string "None")."""
    if value is None or value == "" or value == "None":
        return None
    return str(value)


def status_of(response: Any) -> int | None:
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def cause_of(err: BaseException) -> BaseException:
    """The transport error behind the SDK's wrappers (UnretryableException, then RetryError)."""
    inner = getattr(err, "inner_exception", None)
    if not isinstance(inner, BaseException):
        return err
    return inner.__context__ or inner
