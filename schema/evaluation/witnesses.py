"""Witnesses (见证): operators assign them to lots; they record observations and anomalies and sign the record."""

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.certificates.signatures import Signed
from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.evaluation import witnesses
from domain.evaluation.records import WitnessRecord as RecordModel
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, has_role
from schema.relay import int_id, to_global_id

IsWitness = has_role(Role.WITNESS)

WitnessStage: TypeAlias = witnesses.WitnessStage
strawberry.enum(WitnessStage, name="WitnessStage", description="The stage an entry of a witness record is about.")
describe_values(
    WitnessStage,
    {"OPENING": "The remote opening (开标).", "EVALUATION": "The evaluation (评标).", "OTHER": "Anything else."},
)
WitnessEntryKind: TypeAlias = witnesses.EntryKind
strawberry.enum(WitnessEntryKind, name="WitnessEntryKind", description="An observation or an anomaly.")
describe_values(
    WitnessEntryKind,
    {"OBSERVATION": "What the witness saw happen.", "ANOMALY": "Something irregular the witness noted (异常情况)."},
)
WitnessRecordStatus: TypeAlias = witnesses.RecordStatus
strawberry.enum(WitnessRecordStatus, name="WitnessRecordStatus", description="OPEN while entries come in; SIGNED.")
describe_values(
    WitnessRecordStatus,
    {"OPEN": "Entries may be added.", "SIGNED": "Signed with the witness's certificate and closed."},
)


@strawberry.type(description="One entry of a witness record.")
class WitnessEntry:
    seq: int = strawberry.field(description="Its number in the record, from 1.")
    stage: WitnessStage = strawberry.field(description="The stage it is about.")
    kind: WitnessEntryKind = strawberry.field(description="Observation or anomaly.")
    text: str = strawberry.field(description="What the witness wrote.")
    at: datetime = strawberry.field(description="When the platform received it.")


@strawberry.type(description="A witness's record of a lot (见证记录).")
class WitnessRecord:
    id: strawberry.ID = strawberry.field(description="Global id of the record.")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    witness_id: strawberry.ID = strawberry.field(description="The witness (a User's global id).")
    organisation_id: strawberry.ID = strawberry.field(description="The witness's organisation.")
    status: WitnessRecordStatus = strawberry.field(description="Open or signed.")
    entries: list[WitnessEntry] = strawberry.field(description="Every entry, in order.")
    content_sha256: str | None = strawberry.field(description="SHA-256 of the signed content, once signed.")
    signature_id: strawberry.ID | None = strawberry.field(
        description="The signature (signatureVerify checks it), once signed."
    )
    signed_at: datetime | None = strawberry.field(description="When it was signed.")

    @classmethod
    def from_model(cls, m: RecordModel) -> "WitnessRecord":
        return cls(
            id=strawberry.ID(to_global_id("WitnessRecord", m.id)),
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            witness_id=strawberry.ID(to_global_id("User", m.user_id)),
            organisation_id=strawberry.ID(to_global_id("Organisation", m.organisation_id)),
            status=witnesses.RecordStatus(m.status),
            entries=[
                WitnessEntry(
                    seq=int(e["seq"]),
                    stage=witnesses.WitnessStage(e["stage"]),
                    kind=witnesses.EntryKind(e["kind"]),
                    text=str(e["text"]),
                    at=datetime.fromisoformat(str(e["at"])),
                )
                for e in m.entries or []
            ],
            content_sha256=m.content_sha256,
            signature_id=strawberry.ID(to_global_id("ActSignature", m.signature_id)) if m.signature_id else None,
            signed_at=m.signed_at,
        )


@strawberry.input(description="Assign a user of a witness organisation to a lot.")
class WitnessAssignInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    user_id: strawberry.ID = strawberry.field(description="Global id of the witness (a User).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Assigned: the witness attends the lot's opening and evaluation read-only.")
class WitnessAssigned:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    witness_id: strawberry.ID = strawberry.field(description="Global id of the witness.")
    assigned_at: datetime = strawberry.field(description="When.")


WitnessAssignResult = result_union("WitnessAssignResult", WitnessAssigned, [witnesses.assign])


@strawberry.input(description="Add an observation or an anomaly to the witness's record of a lot.")
class WitnessObserveInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    stage: WitnessStage = strawberry.field(description="The stage it is about.")
    kind: WitnessEntryKind = strawberry.field(description="Observation or anomaly.")
    text: str = strawberry.field(description="What the witness saw (≤ 2,000 characters).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Recorded.")
class WitnessObserved:
    record: WitnessRecord = strawberry.field(description="The record with the new entry.")


WitnessObserveResult = result_union("WitnessObserveResult", WitnessObserved, [witnesses.observe])


@strawberry.input(description="Sign and close the witness's record of a lot with a bound certificate.")
class WitnessRecordSignInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    certificate: str = strawberry.field(description="A certificate bound to the witness, PEM or base64 DER.")
    signature: str = strawberry.field(description="Base64 signature over witnessRecordToSign.")


@strawberry.type(description="Signed and closed: on the audit chain and in the lot's evidence and archive.")
class WitnessRecordSigned:
    record: WitnessRecord = strawberry.field(description="The signed record.")


WitnessRecordSignResult = result_union("WitnessRecordSignResult", WitnessRecordSigned, [witnesses.sign])


@strawberry.type
class WitnessQueries:
    @fields.field(
        description="A lot's witness records: all for operators and supervisors of its category, its own for an "
        "assigned witness; empty for anyone else."
    )
    async def witness_records(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[WitnessRecord]:
        try:
            found = await witnesses.records(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return [WitnessRecord.from_model(r) for r in found]

    @fields.field(
        description="The exact text the signed-in witness signs for its record of a lot; null if it has none.",
        permission_classes=[IsWitness],
    )
    async def witness_record_to_sign(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> str | None:
        try:
            return await witnesses.to_sign(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None

    @fields.field(
        description="The lots the signed-in witness is assigned to (global ids).", permission_classes=[IsWitness]
    )
    async def my_witness_lots(self, info: Info) -> list[strawberry.ID]:
        return [strawberry.ID(to_global_id("Lot", a.lot_id)) for a in await witnesses.my_lots(info.context.actor)]


@strawberry.type
class WitnessMutations:
    @mutation(WitnessAssignResult, description="Assign a witness to a lot (operator).", permission_classes=[IsOperator])
    async def witness_assign(
        self, info: Info, input: Annotated[WitnessAssignInput, strawberry.argument(description="Lot and witness.")]
    ) -> WitnessAssigned:
        made = await witnesses.assign(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            int_id(input.user_id, "User", "userId"),
            input.idempotency_key,
        )
        return WitnessAssigned(
            lot_id=strawberry.ID(to_global_id("Lot", made.lot_id)),
            witness_id=strawberry.ID(to_global_id("User", made.user_id)),
            assigned_at=made.assigned_at,
        )

    @mutation(
        WitnessObserveResult,
        description="Add an observation or anomaly to the witness's record of a lot (assigned witness).",
        permission_classes=[IsWitness],
    )
    async def witness_observe(
        self, info: Info, input: Annotated[WitnessObserveInput, strawberry.argument(description="The entry.")]
    ) -> WitnessObserved:
        record = await witnesses.observe(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.stage,
            input.kind,
            input.text,
            input.idempotency_key,
        )
        return WitnessObserved(record=WitnessRecord.from_model(record))

    @mutation(
        WitnessRecordSignResult,
        description="Sign and close the witness's record of a lot with its certificate (assigned witness).",
        permission_classes=[IsWitness],
    )
    async def witness_record_sign(
        self, info: Info, input: Annotated[WitnessRecordSignInput, strawberry.argument(description="The proof.")]
    ) -> WitnessRecordSigned:
        record = await witnesses.sign(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            Signed(certificate=input.certificate, signature=input.signature),
        )
        return WitnessRecordSigned(record=WitnessRecord.from_model(record))
