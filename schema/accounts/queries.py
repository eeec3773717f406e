"""Reading market entities, the signed-in user and the expert pool."""

from typing import Any

import strawberry
from strawberry.types import Info
from tortoise.backends.base.client import BaseDBAsyncClient

from domain.accounts import models, services
from domain.accounts.states import OrgStatus
from domain.common.errors import DomainError
from schema.accounts.types import Expert, Organisation, OrganisationStatus, User
from schema.permissions import IsAuthenticated, IsOperator, IsSupervisorOrOperator
from schema.relay import Connection, int_id, paginate

_UNBOUND_ID = -0x5EED_C0DE  # no real user has it: marks where the user id is bound in the SQL


class _UserWithOrganisation:
    """`services.user_of`'s query (the user and their organisation, one query), as SQL compiled
    once per kind of connection and run with each request's user id.

    Tortoise rebuilds the SQL of `User.filter(id=...).select_related("organisation").first()`
    on every await: ~250 us of CPU per `me` (pypika copies the query for each column it adds
    and formats all 26 again), more than executing and hydrating it. Rows are still turned
    into models by tortoise's own executor, select_related included, on the connection the
    ORM would choose at that moment (so inside a transaction, the transaction's). Where the
    compiled query does not have the expected shape (another tortoise version), the ORM
    runs the query as before.
    """

    def __init__(self) -> None:
        self._compiled: dict[tuple[Any, ...], tuple[str, list[Any], int, list[Any]] | None] = {}

    @staticmethod
    def query(user_id: int) -> Any:
        return models.User.filter(id=user_id).select_related("organisation").first()

    def _compile(self, db: BaseDBAsyncClient) -> tuple[str, list[Any], int, list[Any]] | None:
        template = self.query(_UNBOUND_ID)
        template._db = db
        template._make_query()
        sql, values = template.query.get_parameterized_sql()
        if values.count(_UNBOUND_ID) != 1 or template._annotations or template._prefetch_map:
            return None
        return sql, list(values), values.index(_UNBOUND_ID), list(template._select_related_idx)

    async def __call__(self, user_id: int) -> models.User | None:
        db = models.User._choose_db()
        kind = (type(db), db.connection_name, db.capabilities.dialect)
        if kind not in self._compiled:
            self._compiled[kind] = self._compile(db)
        compiled = self._compiled[kind]
        if compiled is None:
            user: models.User | None = await self.query(user_id)
            return user
        sql, values, at, select_related_idx = compiled
        bound = list(values)
        bound[at] = int(user_id)
        executor = db.executor_class(model=models.User, db=db, select_related_idx=select_related_idx)
        rows = await executor.execute_select(sql, bound)
        return rows[0] if rows else None


_user_with_organisation = _UserWithOrganisation()


@strawberry.type(description="The signed-in caller.")
class Me:
    user: User
    organisation: Organisation
    roles: list[str] = strawberry.field(description="Roles in the access token.")


@strawberry.type
class AccountQueries:
    @strawberry.field(description="Who is signed in.", permission_classes=[IsAuthenticated])
    async def me(self, info: Info) -> Me | None:
        actor = info.context.actor
        if actor.user_id is None:
            return None
        user = await _user_with_organisation(actor.user_id)
        if user is None:
            return None
        return Me(
            user=User.from_model(user),
            organisation=Organisation.from_model(user.organisation),
            roles=sorted(r.value for r in actor.roles),
        )

    @strawberry.field(
        description="Market entities, newest first (operators and supervisors).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def organisations(
        self,
        info: Info,
        status: OrganisationStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Organisation]:
        query = models.Organisation.all()
        if status is not None:
            query = query.filter(status=OrgStatus(status.value).value)
        return await paginate(info, query, first, after, Organisation.from_model)

    @strawberry.field(description="One organisation, if the caller may see it.")
    async def organisation(self, info: Info, id: strawberry.ID) -> Organisation | None:
        try:
            org = await services.visible_organisation(info.context.actor, int_id(id, "Organisation"))
        except DomainError:
            return None
        return Organisation.from_model(org)

    @strawberry.field(description="The expert pool (operators).", permission_classes=[IsOperator])
    async def experts(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Expert]:
        return await paginate(info, models.Expert.all(), first, after, Expert.from_model)
