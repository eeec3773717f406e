"""Business failures as data: one GraphQL type per domain error class, all implementing Error."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Union

import strawberry
from strawberry.types import Info

from domain.common.errors import (
    DomainError,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from schema.scalars import Fen


@strawberry.interface(
    description="A business failure: a stable code and a message in the caller's language "
    "(zh-CN by default, English with Accept-Language: en)."
)
class Error:
    code: str = strawberry.field(description="Stable machine-readable code, e.g. BID_TOO_LOW.")
    message: str = strawberry.field(description="Human-readable explanation.")


@strawberry.interface(description="A failure caused by one input field, named as the client sent it.")
class FieldError(Error):
    field: str = strawberry.field(description="The input field at fault, e.g. creditCode.")


_KINDS: dict[str, Any] = {"str": str, "int": int, "datetime": datetime, "fen": Fen}
_types: dict[type[DomainError], type] = {}

# Every mutation result may carry these.
COMMON: tuple[type[DomainError], ...] = (
    InvalidInput,
    InvalidIdempotencyKey,
    IdempotencyKeyReused,
    NotFound,
    PermissionDenied,
    InvalidTransition,
    RateLimited,
)


def error_type(cls: type[DomainError]) -> type:
    """The GraphQL type of a domain error class, made once."""
    if cls in _types:
        return _types[cls]
    annotations: dict[str, Any] = {"code": str, "message": str}
    for name, kind in cls.exposed.items():
        annotations[name] = _KINDS[kind]
    base = FieldError if "field" in cls.exposed else Error
    namespace = {"__annotations__": annotations, "__module__": __name__}
    made = strawberry.type(
        type(cls.__name__, (base,), namespace),
        description=f"{cls.code}: {cls.message_en}.",
    )
    _types[cls] = made
    return made


def result_union(name: str, success: type, errors: Sequence[type[DomainError]]) -> Any:
    members = [success, *(error_type(e) for e in dict.fromkeys([*errors, *COMMON]))]
    return Annotated[Union[tuple(members)], strawberry.union(name)]  # noqa: UP007


def as_error(err: DomainError, info: Info, allowed: Sequence[type[DomainError]]) -> Any:
    """The error as a member of a result union: its own type, else its nearest listed base."""
    permitted = set(allowed) | set(COMMON)
    for cls in type(err).__mro__:
        if cls in permitted:
            gql = error_type(cls)
            extra = {k: err.params.get(k) for k in cls.exposed}
            return gql(code=err.code, message=err.message(info.context.locale), **extra)
    raise err
