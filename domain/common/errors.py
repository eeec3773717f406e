"""Business failures: a stable code and a message in Chinese and English.

Every business outcome that is not a success is one of these; the schema layer maps each class
to one GraphQL type implementing `Error`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from domain.common.clock import shanghai_text


class DomainError(Exception):
    code: ClassVar[str] = "DOMAIN_ERROR"
    message_zh: ClassVar[str] = "操作失败"
    message_en: ClassVar[str] = "The operation failed"
    # params shown to clients as typed fields: name -> "str" | "int" | "datetime"
    exposed: ClassVar[dict[str, str]] = {}

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh") -> str:
        template = self.message_en if locale.startswith("en") else self.message_zh
        shown = {k: shanghai_text(v) if isinstance(v, datetime) else v for k, v in self.params.items()}
        return template.format(**shown)


class NotFound(DomainError):
    code = "NOT_FOUND"
    message_zh = "对象不存在或无权访问"
    message_en = "The object does not exist or you may not see it"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    message_zh = "无权执行此操作"
    message_en = "You may not do this"


class InvalidInput(DomainError):
    """A field failed validation; `field` names it (camelCase, as the client sent it)."""

    code = "INVALID_INPUT"
    message_zh = "输入不合法：{field}"
    message_en = "Invalid input: {field}"
    exposed: ClassVar[dict[str, str]] = {"field": "str"}

    def __init__(self, field: str, **params: Any) -> None:
        super().__init__(field=field, **params)

    @property
    def field(self) -> str:
        return str(self.params["field"])


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    message_zh = "该幂等键已用于另一请求，请使用新的幂等键"
    message_en = "This idempotency key was already used for a different request"


class InvalidIdempotencyKey(InvalidInput):
    code = "INVALID_IDEMPOTENCY_KEY"
    message_zh = "幂等键须为 1 至 255 个字符"
    message_en = "An idempotency key must be 1 to 255 characters"

    def __init__(self) -> None:
        super().__init__(field="idempotencyKey")


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"
    message_zh = "当前状态“{state}”不允许此操作"
    message_en = "This is not allowed in state '{state}'"
    exposed: ClassVar[dict[str, str]] = {"state": "str"}


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    message_zh = "操作过于频繁，请于 {retry_at} 后重试"
    message_en = "Too many attempts; try again after {retry_at}"
    exposed: ClassVar[dict[str, str]] = {"retry_at": "datetime"}


F = TypeVar("F", bound=Callable[..., Any])

# Raised anywhere (input decoding, permissions, idempotency, state checks, rate limits): every caller expects them, so
# a service does not declare them.
COMMON: tuple[type[DomainError], ...] = (
    InvalidInput,
    InvalidIdempotencyKey,
    IdempotencyKeyReused,
    NotFound,
    PermissionDenied,
    InvalidTransition,
    RateLimited,
)


def raises(*errors: type[DomainError]) -> Callable[[F], F]:
    """Declare the business errors a service may raise besides COMMON: the one list the API's result union of the
    mutation is built from (schema/errors.py). tests/domain/test_raises.py reads every service's body and the services
    it calls, and fails when a raise is not declared. No wrapper: the function is returned as it is."""

    def declare(fn: F) -> F:
        fn.__raises__ = tuple(dict.fromkeys(errors))  # type: ignore[attr-defined]
        return fn

    return declare


def declared(service: Callable[..., Any]) -> tuple[type[DomainError], ...]:
    """What a service declared with @raises; a service that did not declare is a programming error."""
    try:
        errors: tuple[type[DomainError], ...] = service.__raises__  # type: ignore[attr-defined]
    except AttributeError:
        raise TypeError(f"{service.__module__}.{service.__qualname__} declares no errors (@raises)") from None
    return errors


def required_text(value: str, field: str, max_len: int) -> str:
    """The stripped text, or InvalidInput(field) when it is empty or longer than max_len."""
    text = value.strip()
    if not text or len(text) > max_len:
        raise InvalidInput(field=field)
    return text
