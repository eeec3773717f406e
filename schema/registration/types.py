"""Registrations for lots, with their deposit account when the lot asks for security."""

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from domain.access import scope
from domain.accounts.models import Organisation as OrganisationModel
from domain.common.errors import DomainError
from domain.deposits.models import DepositAccount as DepositAccountModel
from domain.deposits.states import DepositStatus
from domain.publication.models import Lot as LotModel
from domain.registration import models
from domain.registration import services as registration
from schema import fields
from schema.accounts.types import Organisation
from schema.describe import describe_values
from schema.publication.types import Lot
from schema.relay import Node, node_resolver
from schema.results.holds import CandidateSecurityHold
from schema.scalars import Fen

RegistrationState: TypeAlias = registration.RegistrationStatus
strawberry.enum(RegistrationState, name="RegistrationState", description="Registered, or withdrawn by the bidder.")
describe_values(
    RegistrationState,
    {
        "REGISTERED": "Registered for the lot: may give security and bid.",
        "WITHDRAWN": "Withdrawn by the bidder before the deadline; it may register again.",
    },
)


@strawberry.type(description="The virtual sub-account a bidder pays the lot's deposit into.")
class DepositAccount(Node):
    _lot: strawberry.Private[int]
    _org: strawberry.Private[int]
    reference: str = strawberry.field(description="The 19-digit virtual sub-account number (收款子账号).")
    amount_due_fen: Fen = strawberry.field(description="The deposit the lot asks of this bidder, in fen.")
    paid_fen: Fen = strawberry.field(description="What the bank has reported paid in, in fen.")
    status: str = strawberry.field(description="awaiting, paid, refund_due, refunded or kept.")
    paid_at: datetime | None = strawberry.field(description="When the bank reported the payment; null before.")
    refund_due_at: datetime | None = strawberry.field(
        description="By when the deposit must be refunded (5 days after it fell due); null until the result is in."
    )
    refunded_at: datetime | None = strawberry.field(description="When it was refunded; null before.")

    @fields.field(
        description="Set while the paid deposit is held after the award because the bidder is a ranked candidate: "
        "kept until the contract, due back within 5 days after it; null otherwise."
    )
    async def held_as_candidate(self, info: Info) -> CandidateSecurityHold | None:
        if self.status != DepositStatus.PAID.value:
            return None
        return await CandidateSecurityHold.of(info, self._lot, self._org)

    @classmethod
    def from_model(cls, m: DepositAccountModel) -> "DepositAccount":
        return cls(
            _pk=m.id,
            _lot=m.lot_id,
            _org=m.organisation_id,
            reference=m.reference,
            amount_due_fen=m.amount_due_fen,
            paid_fen=m.paid_fen,
            status=m.status,
            paid_at=m.paid_at,
            refund_due_at=m.refund_due_at,
            refunded_at=m.refunded_at,
        )


@strawberry.type(description="An organisation registered for a lot (报名).")
class Registration(Node):
    _lot: strawberry.Private[int]
    _org: strawberry.Private[int]
    status: RegistrationState = strawberry.field(description="Registered, or withdrawn by the bidder.")
    registered_at: datetime = strawberry.field(description="When the organisation (last) registered.")
    withdrawn_at: datetime | None = strawberry.field(description="When it withdrew; null while registered.")
    _lot_row: strawberry.Private[LotModel | None] = None  # the lot when the caller holds it (lotRegister)

    @fields.field(description="The lot.")
    async def lot(self) -> Lot:
        return Lot.from_model(await LotModel.get(id=self._lot))

    @fields.field(description="The registered organisation.")
    async def organisation(self) -> Organisation:
        return Organisation.from_model(await OrganisationModel.get(id=self._org))

    @fields.field(
        description="The deposit account; only the bidder, operators and the supervisors of its lot's category see it."
    )
    async def deposit(self, info: Info) -> DepositAccount | None:
        actor = info.context.actor
        if actor.org_id != self._org and not await scope.keeps_lot(actor, self._lot):
            return None
        account = await DepositAccountModel.get_or_none(registration_id=self._pk)
        return DepositAccount.from_model(account) if account else None

    @fields.field(description="Whether a paid deposit or an issued guarantee is in place now.")
    async def security_in_place(self) -> bool:
        return await registration.security_in_place(self._lot, self._org, lot=self._lot_row)

    @classmethod
    def from_model(cls, m: models.Registration, lot: LotModel | None = None) -> "Registration":
        return cls(
            _pk=m.id,
            _lot=m.lot_id,
            _org=m.organisation_id,
            status=RegistrationState(m.status),
            registered_at=m.registered_at,
            withdrawn_at=m.withdrawn_at,
            _lot_row=lot,
        )


async def visible_registration(info: Info, registration_id: int) -> models.Registration | None:
    """The registration if the caller's organisation made it or the caller may list the lot's registrants."""
    found = await models.Registration.get_or_none(id=registration_id)
    if found is None or found.organisation_id == info.context.actor.org_id:
        return found
    try:
        listed = await registration.registrants(info.context.actor, found.lot_id)
    except DomainError:
        return None
    return found if await listed.filter(id=found.id).exists() else None


@node_resolver("Registration")
async def _registration_node(info: Info, pk: str) -> Registration | None:
    found = await visible_registration(info, int(pk)) if pk.isdigit() else None
    return Registration.from_model(found) if found else None


@node_resolver("DepositAccount")
async def _deposit_account_node(info: Info, pk: str) -> DepositAccount | None:
    if not pk.isdigit():
        return None
    account = await DepositAccountModel.get_or_none(id=int(pk))
    found = await visible_registration(info, account.registration_id) if account else None
    return await Registration.from_model(found).deposit(info) if found else None
