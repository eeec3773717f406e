"""What an accredited third-party system acting for a tenderer may run: the app's own mutations its scopes open
(domain/accounts/third_party.py), checked once per operation on its root fields before anything executes, after
checking that the system's accreditation and the tenderer's authorisation still hold (so a revocation refuses
tokens already issued at once). Anything else is a top-level FORBIDDEN error; a revoked or suspended system or
authorisation is a top-level SYSTEM_NOT_ACCREDITED or SYSTEM_NOT_AUTHORISED error (a token no longer good for
what it was issued for), in the caller's language.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from graphql import GraphQLError, OperationType
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from domain.accounts import third_party
from domain.common.actors import Actor
from domain.common.errors import DomainError
from schema.kiosk_guard import root_fields

# the same mutations the app uses, by the scope that opens them
SCOPE_FIELDS: Final[dict[str, frozenset[str]]] = {
    "projects:write": frozenset({"projectCreate", "projectIndustrySet"}),
    "lots:write": frozenset({"lotConfigure"}),
    "announcements:write": frozenset({"announcementDraft", "announcementPublish"}),
    "results:write": frozenset({"candidatesPublish", "resultAward", "contractRecord", "performanceRecord"}),
}
assert set(SCOPE_FIELDS) == third_party.WRITE_SCOPES
# reading back what it wrote, and public reading
QUERIES: Final = frozenset({"__typename", "node", "nodes", "announcement", "announcements", "lotResult"})


def allowed(actor: Actor, operation: OperationType) -> frozenset[str]:
    if operation is OperationType.QUERY:
        return QUERIES
    if operation is OperationType.MUTATION:
        return frozenset({"__typename"}).union(*(SCOPE_FIELDS.get(s, frozenset()) for s in actor.scopes))
    return frozenset()


class DelegationGuard(SchemaExtension):
    """Refuses, before execution, an operation of a delegated system outside its scopes or no longer authorised."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        actor = getattr(ctx.context, "actor", None)
        if isinstance(actor, Actor) and actor.delegation_id is not None:
            locale = getattr(ctx.context, "locale", "zh")
            try:
                await third_party.check_delegation(actor)
            except DomainError as err:
                raise GraphQLError(f"{err.code}: {err.message(locale)}", extensions={"code": err.code}) from None
            document = ctx.graphql_document
            operation = get_operation_ast(document, ctx.operation_name) if document is not None else None
            if document is None or operation is None:
                refused = ["?"]
            else:
                permitted = allowed(actor, operation.operation)
                refused = sorted({n for n in root_fields(document, operation) if n not in permitted})
            if refused:
                raise GraphQLError(
                    f"FORBIDDEN: the authorisation does not cover {', '.join(refused)} / 授权范围不包括此操作",
                    extensions={"code": "FORBIDDEN", "fields": refused},
                )
        yield
