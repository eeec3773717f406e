"""Credit records and the joint-punishment list, kept by operators and supervisors."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.credit import services as credit
from schema.accounts.types import CreditRecord, JointPunishment
from schema.errors import as_error, result_union
from schema.permissions import IsKeeperOfCredit
from schema.relay import int_id


@strawberry.input(description="Record good or bad behaviour of an organisation.")
class CreditRecordAddInput:
    organisation_id: strawberry.ID
    kind: str = strawberry.field(description="good or bad")
    category: str
    description: str
    source: str
    idempotency_key: str | None = None


@strawberry.type(description="Recorded.")
class CreditRecordAdded:
    record: CreditRecord


CreditRecordAddResult = result_union("CreditRecordAddResult", CreditRecordAdded, [])


@strawberry.input(description="Put an organisation on the joint-punishment list.")
class JointPunishmentAddInput:
    organisation_id: strawberry.ID
    reason: str
    authority: str
    document_no: str
    starts_at: datetime
    ends_at: datetime | None = None
    idempotency_key: str | None = None


@strawberry.input(description="Lift a punishment early.")
class JointPunishmentLiftInput:
    punishment_id: strawberry.ID
    reason: str
    idempotency_key: str | None = None


@strawberry.type(description="The list was changed.")
class JointPunishmentChanged:
    punishment: JointPunishment


JointPunishmentResult = result_union("JointPunishmentResult", JointPunishmentChanged, [credit.PunishmentAlreadyLifted])


@strawberry.type
class CreditMutations:
    @strawberry.mutation(description="Add a credit record.", permission_classes=[IsKeeperOfCredit])
    async def credit_record_add(self, info: Info, input: CreditRecordAddInput) -> CreditRecordAddResult:
        try:
            org_id = int_id(input.organisation_id, "Organisation", "organisationId")
            record = await credit.add_credit_record(
                info.context.actor,
                org_id,
                input.kind,
                input.category,
                input.description,
                input.source,
                input.idempotency_key,
            )
        except DomainError as err:
            return as_error(err, info, [])
        return CreditRecordAdded(record=CreditRecord.from_model(record))

    @strawberry.mutation(
        description="Put an organisation under joint punishment.", permission_classes=[IsKeeperOfCredit]
    )
    async def joint_punishment_add(self, info: Info, input: JointPunishmentAddInput) -> JointPunishmentResult:
        try:
            org_id = int_id(input.organisation_id, "Organisation", "organisationId")
            entry = await credit.list_punishment(
                info.context.actor,
                org_id,
                input.reason,
                input.authority,
                input.document_no,
                input.starts_at,
                input.ends_at,
                input.idempotency_key,
            )
        except DomainError as err:
            return as_error(err, info, [])
        return JointPunishmentChanged(punishment=JointPunishment.from_model(entry))

    @strawberry.mutation(description="Lift a joint punishment.", permission_classes=[IsKeeperOfCredit])
    async def joint_punishment_lift(self, info: Info, input: JointPunishmentLiftInput) -> JointPunishmentResult:
        try:
            pid = int_id(input.punishment_id, "JointPunishment", "punishmentId")
            entry = await credit.lift_punishment(info.context.actor, pid, input.reason, input.idempotency_key)
        except DomainError as err:
            return as_error(err, info, [credit.PunishmentAlreadyLifted])
        return JointPunishmentChanged(punishment=JointPunishment.from_model(entry))
