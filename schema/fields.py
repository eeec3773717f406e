"""Typed forms of strawberry's field and subscription decorators when they take arguments (mutations:
schema/errors.mutation).

strawberry 0.341 types `strawberry.field(description=...)` (no resolver yet) as returning Any, so under
`mypy --strict` every method it decorates becomes untyped (strawberry issue #1929; its mypy plugin only
handles the pydantic class decorators). These call strawberry's own with the same keyword arguments and
are typed as what the decorated name is at run time: the method itself, since `strawberry.type` puts
the resolver function back on the class once it has read the StrawberryField that stood there.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission

Resolver = TypeVar("Resolver", bound=Callable[..., object])


def _decorator(make: Callable[..., object], **options: Any) -> Callable[[Resolver], Resolver]:
    def decorate(resolver: Resolver) -> Resolver:
        # the StrawberryField stands in the class body until strawberry.type reads it and restores `resolver`
        return cast("Resolver", make(resolver, **options))

    return decorate


def field(
    *,
    description: str,
    name: str | None = None,
    permission_classes: list[type[BasePermission]] | None = None,
    deprecation_reason: str | None = None,
    directives: Sequence[object] = (),
    extensions: list[FieldExtension] | None = None,
    graphql_type: Any | None = None,
) -> Callable[[Resolver], Resolver]:
    """`@strawberry.field(...)` on a resolver method, typed as that method."""
    return _decorator(
        strawberry.field,
        name=name,
        description=description,
        permission_classes=permission_classes,
        deprecation_reason=deprecation_reason,
        directives=directives,
        extensions=extensions,
        graphql_type=graphql_type,
    )


def subscription(
    *,
    description: str,
    name: str | None = None,
    permission_classes: list[type[BasePermission]] | None = None,
    deprecation_reason: str | None = None,
    directives: Sequence[object] = (),
    extensions: list[FieldExtension] | None = None,
    graphql_type: Any | None = None,
) -> Callable[[Resolver], Resolver]:
    """`@strawberry.subscription(...)` on an async generator method, typed as that method."""
    return _decorator(
        strawberry.subscription,
        name=name,
        description=description,
        permission_classes=permission_classes,
        deprecation_reason=deprecation_reason,
        directives=directives,
        extensions=extensions,
        graphql_type=graphql_type,
    )
