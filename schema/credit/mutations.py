"""Credit records and the joint-punishment list, kept by operators and supervisors."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.credit import services as credit
from schema.accounts.types import CreditRecord, JointPunishment
from schema.errors import mutation, result_union
from schema.permissions import IsKeeperOfCredit
from schema.relay import int_id


@strawberry.input(description="Record good or bad behaviour of an organisation.")
class CreditRecordAddInput:
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the organisation.")
    kind: str = strawberry.field(description="good or bad")
    category: str = strawberry.field(
        description="What kind of behaviour it is, e.g. 违约 or 表彰 (up to 64 characters)."
    )
    description: str = strawberry.field(description="What happened, in words for people.")
    source: str = strawberry.field(
        description="Where the record comes from, e.g. the authority or the decision (up to 200 characters)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Recorded.")
class CreditRecordAdded:
    record: CreditRecord = strawberry.field(description="The credit record as added.")


CreditRecordAddResult = result_union("CreditRecordAddResult", CreditRecordAdded, [credit.add_credit_record])


@strawberry.input(description="Put an organisation on the joint-punishment list.")
class JointPunishmentAddInput:
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the organisation punished.")
    reason: str = strawberry.field(description="Why it is punished.")
    authority: str = strawberry.field(description="The authority that imposed the punishment.")
    document_no: str = strawberry.field(description="The number of the authority's decision document.")
    starts_at: datetime = strawberry.field(description="When the punishment begins.")
    ends_at: datetime | None = strawberry.field(default=None, description="When it ends; null: until lifted.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="Lift a punishment early.")
class JointPunishmentLiftInput:
    punishment_id: strawberry.ID = strawberry.field(description="Global id of the punishment.")
    reason: str = strawberry.field(description="Why it is lifted early.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The list was changed.")
class JointPunishmentChanged:
    punishment: JointPunishment = strawberry.field(description="The punishment as it now stands.")


JointPunishmentResult = result_union(
    "JointPunishmentResult", JointPunishmentChanged, [credit.list_punishment, credit.lift_punishment]
)


@strawberry.type
class CreditMutations:
    @mutation(CreditRecordAddResult, description="Add a credit record.", permission_classes=[IsKeeperOfCredit])
    async def credit_record_add(
        self,
        info: Info,
        input: Annotated[
            CreditRecordAddInput, strawberry.argument(description="The organisation and the behaviour to record.")
        ],
    ) -> CreditRecordAdded:
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
        return CreditRecordAdded(record=CreditRecord.from_model(record))

    @mutation(
        JointPunishmentResult,
        description="Put an organisation under joint punishment.",
        permission_classes=[IsKeeperOfCredit],
    )
    async def joint_punishment_add(
        self,
        info: Info,
        input: Annotated[
            JointPunishmentAddInput,
            strawberry.argument(description="The organisation, the punishment and the authority that imposed it."),
        ],
    ) -> JointPunishmentChanged:
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
        return JointPunishmentChanged(punishment=JointPunishment.from_model(entry))

    @mutation(JointPunishmentResult, description="Lift a joint punishment.", permission_classes=[IsKeeperOfCredit])
    async def joint_punishment_lift(
        self,
        info: Info,
        input: Annotated[JointPunishmentLiftInput, strawberry.argument(description="The punishment to lift, and why.")],
    ) -> JointPunishmentChanged:
        pid = int_id(input.punishment_id, "JointPunishment", "punishmentId")
        entry = await credit.lift_punishment(info.context.actor, pid, input.reason, input.idempotency_key)
        return JointPunishmentChanged(punishment=JointPunishment.from_model(entry))
