"""Accredited third-party e-trading systems and the authorisations tenderers give them (domain/accounts/third_party)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.accounts import third_party
from domain.accounts.states import SystemStatus
from domain.accounts.third_party_models import AccreditedSystem, SystemAuthorisation
from domain.common.actors import Role
from schema import fields
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsUser, has_role
from schema.relay import int_id, to_global_id

IsOperatorOrTenderer = has_role(Role.OPERATOR, Role.TENDERER)
IsTenderer = has_role(Role.TENDERER)


@strawberry.enum(description="Where an accreditation stands.")
class ThirdPartySystemStatus(Enum):
    ACCREDITED = strawberry.enum_value("accredited", description="May act for tenderers that authorised it.")
    SUSPENDED = strawberry.enum_value("suspended", description="Refused until the operator reinstates it.")
    REVOKED = strawberry.enum_value("revoked", description="Refused for good.")


@strawberry.type(description="A market-run e-trading system accredited by the operator (市场化电子交易系统).")
class ThirdPartySystem:
    id: strawberry.ID = strawberry.field(description="Global id.")
    client_id: str = strawberry.field(description="The integrator client it signs in with.")
    name: str = strawberry.field(description="The system's name.")
    operator_company: str = strawberry.field(description="The company that runs it.")
    accreditation_no: str = strawberry.field(description="The accreditation number.")
    valid_until: datetime = strawberry.field(description="End of the accreditation's validity.")
    status: ThirdPartySystemStatus = strawberry.field(description="Accredited, suspended or revoked.")
    reason: str | None = strawberry.field(description="Why it was last suspended, reinstated or revoked.")

    @classmethod
    def from_model(cls, s: AccreditedSystem) -> ThirdPartySystem:
        return cls(
            id=strawberry.ID(to_global_id("ThirdPartySystem", s.id)),
            client_id=s.client_id,
            name=s.name,
            operator_company=s.operator_company,
            accreditation_no=s.accreditation_no,
            valid_until=s.valid_until,
            status=ThirdPartySystemStatus(s.status),
            reason=s.reason,
        )


@strawberry.type(description="A tenderer's authorisation of an accredited system to act for it.")
class ThirdPartyAuthorisation:
    id: strawberry.ID = strawberry.field(description="Global id.")
    system_id: strawberry.ID = strawberry.field(description="The authorised system's global id.")
    scopes: list[str] = strawberry.field(description="What the system may do for the tenderer.")
    expires_at: datetime = strawberry.field(description="When the authorisation ends by itself.")
    granted_at: datetime = strawberry.field(description="When it was given.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked or replaced, if it was.")

    @classmethod
    def from_model(cls, a: SystemAuthorisation) -> ThirdPartyAuthorisation:
        return cls(
            id=strawberry.ID(to_global_id("ThirdPartyAuthorisation", a.id)),
            system_id=strawberry.ID(to_global_id("ThirdPartySystem", a.system_id)),
            scopes=list(a.scopes),
            expires_at=a.expires_at,
            granted_at=a.granted_at,
            revoked_at=a.revoked_at,
        )


@strawberry.input(description="Accredit the system behind an integrator client.")
class ThirdPartySystemAccreditInput:
    client_id: str = strawberry.field(description="The integrator client (with at least one write scope).")
    name: str = strawberry.field(description="The system's name.")
    operator_company: str = strawberry.field(description="The company that runs it.")
    accreditation_no: str = strawberry.field(description="The accreditation number (unique).")
    valid_until: datetime = strawberry.field(description="End of validity, with its offset.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="Accredited.")
class ThirdPartySystemAccredited:
    system: ThirdPartySystem = strawberry.field(description="The accredited system.")


ThirdPartySystemAccreditResult = result_union(
    "ThirdPartySystemAccreditResult", ThirdPartySystemAccredited, [third_party.accredit_system]
)


@strawberry.enum(description="What the operator does to an accreditation.")
class ThirdPartySystemAction(Enum):
    SUSPEND = strawberry.enum_value("suspended", description="Refuse it until reinstated.")
    REINSTATE = strawberry.enum_value("accredited", description="Lift a suspension.")
    REVOKE = strawberry.enum_value("revoked", description="Refuse it for good.")


_TARGETS = {
    ThirdPartySystemAction.SUSPEND: SystemStatus.SUSPENDED,
    ThirdPartySystemAction.REINSTATE: SystemStatus.ACCREDITED,
    ThirdPartySystemAction.REVOKE: SystemStatus.REVOKED,
}


@strawberry.input(description="Suspend, reinstate or revoke an accreditation.")
class ThirdPartySystemDecideInput:
    system_id: strawberry.ID = strawberry.field(description="The system's global id.")
    action: ThirdPartySystemAction = strawberry.field(description="Suspend, reinstate or revoke.")
    reason: str = strawberry.field(description="Why (kept in the audit trail).")


@strawberry.type(description="The accreditation's status changed; tokens already issued follow at once.")
class ThirdPartySystemDecided:
    system: ThirdPartySystem = strawberry.field(description="The system as it stands now.")


ThirdPartySystemDecideResult = result_union(
    "ThirdPartySystemDecideResult", ThirdPartySystemDecided, [third_party.change_system_status]
)


@strawberry.input(description="Authorise an accredited system to act for the caller's organisation.")
class ThirdPartyAuthoriseInput:
    system_id: strawberry.ID = strawberry.field(description="The accredited system's global id.")
    scopes: list[str] = strawberry.field(description="A subset of its write scopes, e.g. announcements:write.")
    expires_at: datetime = strawberry.field(description="When the authorisation ends (at most the accreditation's).")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="Authorised; an earlier authorisation of the same system is replaced.")
class ThirdPartyAuthorised:
    authorisation: ThirdPartyAuthorisation = strawberry.field(description="The authorisation.")


ThirdPartyAuthoriseResult = result_union(
    "ThirdPartyAuthoriseResult", ThirdPartyAuthorised, [third_party.authorise_system]
)


@strawberry.input(description="Revoke an authorisation at once.")
class ThirdPartyAuthorisationRevokeInput:
    authorisation_id: strawberry.ID = strawberry.field(description="The authorisation's global id.")
    reason: str = strawberry.field(description="Why (kept in the audit trail).")


@strawberry.type(description="Revoked; the system's tokens for this organisation are refused from now on.")
class ThirdPartyAuthorisationRevoked:
    authorisation: ThirdPartyAuthorisation = strawberry.field(description="The revoked authorisation.")


ThirdPartyAuthorisationRevokeResult = result_union(
    "ThirdPartyAuthorisationRevokeResult", ThirdPartyAuthorisationRevoked, [third_party.revoke_authorisation]
)


@strawberry.type
class ThirdPartyQueries:
    @fields.field(
        description="Accredited third-party systems: all for an operator, the valid ones for a tenderer.",
        permission_classes=[IsOperatorOrTenderer],
    )
    async def third_party_systems(self, info: Info) -> list[ThirdPartySystem]:
        return [ThirdPartySystem.from_model(s) for s in await third_party.systems(info.context.actor)]

    @fields.field(
        description="The authorisations the caller's organisation gave to third-party systems, newest first.",
        permission_classes=[IsUser, IsTenderer],
    )
    async def my_third_party_authorisations(self, info: Info) -> list[ThirdPartyAuthorisation]:
        return [ThirdPartyAuthorisation.from_model(a) for a in await third_party.my_authorisations(info.context.actor)]


@strawberry.type
class ThirdPartyMutations:
    @mutation(
        ThirdPartySystemAccreditResult,
        description="Accredit a third-party e-trading system (operator).",
        permission_classes=[IsOperator],
    )
    async def third_party_system_accredit(
        self,
        info: Info,
        input: Annotated[ThirdPartySystemAccreditInput, strawberry.argument(description="The accreditation.")],
    ) -> ThirdPartySystemAccredited:
        system = await third_party.accredit_system(
            info.context.actor,
            input.client_id,
            input.name,
            input.operator_company,
            input.accreditation_no,
            input.valid_until,
            input.idempotency_key,
        )
        return ThirdPartySystemAccredited(system=ThirdPartySystem.from_model(system))

    @mutation(
        ThirdPartySystemDecideResult,
        description="Suspend, reinstate or revoke an accreditation, with a reason (operator).",
        permission_classes=[IsOperator],
    )
    async def third_party_system_decide(
        self,
        info: Info,
        input: Annotated[ThirdPartySystemDecideInput, strawberry.argument(description="The decision.")],
    ) -> ThirdPartySystemDecided:
        system = await third_party.change_system_status(
            info.context.actor,
            int_id(input.system_id, "ThirdPartySystem", "systemId"),
            _TARGETS[input.action],
            input.reason,
        )
        return ThirdPartySystemDecided(system=ThirdPartySystem.from_model(system))

    @mutation(
        ThirdPartyAuthoriseResult,
        description="Authorise an accredited system to act for the caller's organisation (a tenderer's user).",
        permission_classes=[IsUser, IsTenderer],
    )
    async def third_party_authorise(
        self,
        info: Info,
        input: Annotated[ThirdPartyAuthoriseInput, strawberry.argument(description="The authorisation.")],
    ) -> ThirdPartyAuthorised:
        grant = await third_party.authorise_system(
            info.context.actor,
            int_id(input.system_id, "ThirdPartySystem", "systemId"),
            input.scopes,
            input.expires_at,
            input.idempotency_key,
        )
        return ThirdPartyAuthorised(authorisation=ThirdPartyAuthorisation.from_model(grant))

    @mutation(
        ThirdPartyAuthorisationRevokeResult,
        description="Revoke an authorisation the caller's organisation gave (a tenderer's user).",
        permission_classes=[IsUser, IsTenderer],
    )
    async def third_party_authorisation_revoke(
        self,
        info: Info,
        input: Annotated[
            ThirdPartyAuthorisationRevokeInput, strawberry.argument(description="The authorisation and why.")
        ],
    ) -> ThirdPartyAuthorisationRevoked:
        grant = await third_party.revoke_authorisation(
            info.context.actor,
            int_id(input.authorisation_id, "ThirdPartyAuthorisation", "authorisationId"),
            input.reason,
        )
        return ThirdPartyAuthorisationRevoked(authorisation=ThirdPartyAuthorisation.from_model(grant))
