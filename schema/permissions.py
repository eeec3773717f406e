"""Role gates: a caller whose role may never use a field gets a top-level error."""

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from domain.certificates.errors import TwoFactorRequired
from domain.common.actors import Role


class IsAuthenticated(BasePermission):
    message = "UNAUTHENTICATED: sign in first / 请先登录"
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return not info.context.actor.is_anonymous


def has_role(*roles: Role) -> type[BasePermission]:
    names = "/".join(r.value for r in roles)

    class HasRole(BasePermission):
        message = f"FORBIDDEN: only {names} may do this / 无权访问"
        error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            actor = info.context.actor
            if actor.has(*roles):
                return True
            if any(r in actor.withheld_roles for r in roles):
                # the role is the caller's, but the platform grants it to two-factor sessions only
                raise TwoFactorRequired()
            return False

    HasRole.__name__ = f"HasRole_{'_'.join(r.value for r in roles)}"
    return HasRole


IsOperator = has_role(Role.OPERATOR)
IsKeeperOfCredit = has_role(Role.OPERATOR, Role.SUPERVISOR)
IsSupervisorOrOperator = has_role(Role.OPERATOR, Role.SUPERVISOR)


class IsUser(BasePermission):
    """A signed-in person (not an integrator client): inboxes, devices and preferences are theirs."""

    message = "UNAUTHENTICATED: sign in as a user / 请以用户身份登录"
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.actor.user_id is not None


class IsUserOrExpert(BasePermission):
    """A signed-in person with an inbox and devices of its own: a user, or an expert in an expert session."""

    message = "UNAUTHENTICATED: sign in as a user or an expert / 请以用户或评标专家身份登录"
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        return actor.user_id is not None or (actor.expert_id is not None and actor.has(Role.EXPERT))


class IsExpert(BasePermission):
    """An evaluation expert signed in by SMS code (an `expert:<id>` token), not a user or a client."""

    message = "FORBIDDEN: only a signed-in evaluation expert may do this / 仅限已登录的评标专家"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        return actor.expert_id is not None and actor.has(Role.EXPERT)
