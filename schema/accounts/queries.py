"""Reading market entities, the signed-in user and the expert pool."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.accounts import experts, models, organisations
from domain.accounts.states import OrgStatus
from domain.common.errors import DomainError, NotFound
from domain.credit import services as credit
from domain.evaluation import draw
from schema import fields
from schema.accounts.types import Expert, Organisation, OrganisationStatus, User
from schema.permissions import IsAuthenticated, IsExpert, IsOperator, IsSupervisorOrOperator
from schema.publication.types import Lot
from schema.relay import Before, Connection, Last, int_id, paginate


@strawberry.type(description="The signed-in caller.")
class Me:
    user: User = strawberry.field(description="The signed-in user.")
    organisation: Organisation = strawberry.field(description="The organisation the user acts for.")
    roles: list[str] = strawberry.field(description="Roles in the access token.")


@strawberry.type(description="The signed-in evaluation expert and what they are to evaluate.")
class ExpertMe:
    expert: Expert = strawberry.field(description="The expert (name and specialties).")
    lots: list[Lot] = strawberry.field(
        description="The lots whose standing evaluation committee has the expert, newest first."
    )


@strawberry.type
class AccountQueries:
    @fields.field(description="Who is signed in.", permission_classes=[IsAuthenticated])
    async def me(self, info: Info) -> Me | None:
        actor = info.context.actor
        if actor.user_id is None:
            return None
        try:
            # the organisation's underPunishment read with it, in one statement (issue 21)
            user, punished = await credit.user_of_and_punished(actor)
        except NotFound:
            return None
        return Me(
            user=User.from_model(user),
            organisation=Organisation.from_model(user.organisation, punished),
            roles=sorted(r.value for r in actor.roles),
        )

    @fields.field(
        description="The signed-in evaluation expert and the lots whose committee they sit on (expert token).",
        permission_classes=[IsExpert],
    )
    async def expert_me(self, info: Info) -> ExpertMe | None:
        try:
            expert = await experts.expert_of(info.context.actor)
            lots = await draw.committee_lots(expert.id)
        except NotFound:
            return None
        return ExpertMe(expert=Expert.from_model(expert), lots=[Lot.from_model(m) for m in lots])

    @fields.field(
        description="Market entities, newest first (operators and supervisors).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def organisations(
        self,
        info: Info,
        status: Annotated[
            OrganisationStatus | None,
            strawberry.argument(description="Only organisations in this review status; null: all."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many organisations to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last organisation already read: the page continues after it."
            ),
        ] = None,
        last: Annotated[
            int | None, strawberry.argument(description="How many to read back before `before` (capped by the server).")
        ] = None,
        before: Annotated[
            str | None, strawberry.argument(description="The cursor of the first item already read: page backwards.")
        ] = None,
    ) -> Connection[Organisation]:
        query = models.Organisation.all()
        if status is not None:
            query = query.filter(status=OrgStatus(status.value).value)
        return await paginate(info, query, first, after, Organisation.from_model, last, before)

    @fields.field(description="One organisation, if the caller may see it.")
    async def organisation(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the organisation.")],
    ) -> Organisation | None:
        try:
            org = await organisations.visible_organisation(info.context.actor, int_id(id, "Organisation"))
        except DomainError:
            return None
        return Organisation.from_model(org)

    @fields.field(description="The expert pool (operators).", permission_classes=[IsOperator])
    async def experts(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many experts to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last expert already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Expert]:
        return await paginate(info, models.Expert.all(), first, after, Expert.from_model, last, before)
