"""The audit trail for supervisors and operators: browse it and verify its chain."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.access import scope
from domain.audit import services as audit
from domain.audit.models import AuditEntry as AuditEntryModel
from domain.certificates import signatures
from schema import fields
from schema.certificates.types import ActSignature
from schema.permissions import IsSupervisorOrOperator
from schema.relay import Before, Connection, Last, paginate, to_global_id


@strawberry.type(description="One audited state change or refused attempt.")
class AuditEntry:
    seq: int = strawberry.field(description="Position in the chain.")
    at: datetime = strawberry.field(description="When it happened.")
    actor: str = strawberry.field(description="user:<id>, client:<id> or anonymous.")
    actor_organisation_id: strawberry.ID | None = strawberry.field(
        description="The organisation the actor acted for: a user's own, or the tenderer an accredited third-party "
        "system (client:<id>) acted for; null for none."
    )
    action: str = strawberry.field(description="What was done, e.g. organisation.approved.")
    object_type: str = strawberry.field(description="The type of object acted on, e.g. Lot or Announcement.")
    object_id: str = strawberry.field(description="The database id of the object acted on.")
    outcome: str = strawberry.field(description="success or failure.")
    digest: str = strawberry.field(description="SHA-256 of the change's content.")
    hash: str = strawberry.field(description="SHA-256 over this entry and the previous hash.")

    @fields.field(
        description="For an entry of object type ActSignature (action signature.recorded): the electronic signature "
        "a trading act carried, with its content and certificate, to verify (see also signatureVerify)."
    )
    async def signature(self) -> ActSignature | None:
        row = await signatures.signature_of_entry(self.object_type, self.object_id)
        return ActSignature.from_model(row) if row else None

    @classmethod
    def from_model(cls, m: AuditEntryModel) -> "AuditEntry":
        return cls(
            seq=m.seq,
            at=m.at,
            actor=m.actor,
            actor_organisation_id=(
                None if m.actor_org_id is None else strawberry.ID(to_global_id("Organisation", m.actor_org_id))
            ),
            action=m.action,
            object_type=m.object_type,
            object_id=m.object_id,
            outcome=m.outcome,
            digest=m.digest,
            hash=m.hash,
        )


@strawberry.type(description="The result of walking the whole chain.")
class AuditVerification:
    ok: bool = strawberry.field(description="True when every entry read is intact and chained to the one before.")
    checked: int = strawberry.field(description="Entries read.")
    head_seq: int = strawberry.field(description="The sequence number of the newest entry.")
    head_hash: str = strawberry.field(
        description="The hash of the newest entry, which seals the whole chain: keep it to compare later."
    )
    first_broken_seq: int | None = strawberry.field(description="The first entry that fails.")
    reason: str | None = strawberry.field(description="Why the chain is broken at firstBrokenSeq; null when ok.")


@strawberry.type
class AuditQueries:
    @fields.field(
        description="Audit entries, newest first; filter by object.", permission_classes=[IsSupervisorOrOperator]
    )
    async def audit_trail(
        self,
        info: Info,
        object_type: Annotated[
            str | None,
            strawberry.argument(description="Only entries about objects of this type, e.g. Lot; null: all types."),
        ] = None,
        object_id: Annotated[
            str | None,
            strawberry.argument(description="With objectType: only entries about the object with this database id."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many entries to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last entry already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        query = scope.audit_entries(info.context.actor, object_type, object_id)
        return await paginate(info, query, first, after, AuditEntry.from_model, last, before)

    @fields.field(
        description="Verify the hash chain and the exported heads.", permission_classes=[IsSupervisorOrOperator]
    )
    async def audit_verify(self, info: Info) -> AuditVerification:
        path = getattr(info.context.services, "audit_export_path", None)
        result = await audit.verify(audit.read_export_file(path))
        return AuditVerification(
            ok=result.ok,
            checked=result.checked,
            head_seq=result.head_seq,
            head_hash=result.head_hash,
            first_broken_seq=result.first_broken_seq,
            reason=result.reason,
        )
