"""A lot's audit trail and its signed evidence package, for operators and the supervisors of its category."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.supervision import evidence
from schema import fields
from schema.audit.queries import AuditEntry
from schema.permissions import IsSupervisorOrOperator
from schema.relay import Before, Connection, Last, int_id, paginate, to_global_id


@strawberry.type(description="A lot's evidence as a compact JWS (ES256, the platform's signing key); see README.")
class EvidencePackage:
    jws: str = strawberry.field(description="The signed package: header.payload.signature (base64url).")
    sha256: str = strawberry.field(description="SHA-256 of the JWS text, as recorded in the audit trail.")
    kid: str = strawberry.field(description="The signing key's id in /.well-known/jwks.json.")
    generated_at: datetime = strawberry.field(description="When the package was made and signed.")
    audit_entries: int = strawberry.field(description="Audit entries the package carries.")


@strawberry.type(description="Whether a package's signature and every audit entry's hash hold.")
class EvidenceVerification:
    ok: bool = strawberry.field(description="True when the signature and every carried audit entry's hash hold.")
    reason: str | None = strawberry.field(description="The first failure, when not ok.")
    lot_id: strawberry.ID | None = strawberry.field(
        description="Global id of the lot the package is about; null when it cannot be read."
    )
    audit_entries: int = strawberry.field(description="How many audit entries the package carries.")
    first_entry_off_chain: int | None = strawberry.field(
        description="The first carried entry that differs from the live audit chain (seq), if any."
    )


@strawberry.type
class EvidenceQueries:
    @fields.field(
        description="The audit trail of a lot and everything that belongs to it, newest first.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def lot_audit_trail(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        first: Annotated[
            int | None, strawberry.argument(description="How many entries to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last entry already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry] | None:
        try:
            lot, _ = await evidence.visible_lot(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await paginate(info, await evidence.lot_audit(lot.id), first, after, AuditEntry.from_model, last, before)

    @fields.field(
        description="A lot's evidence package (audit entries with hashes, announcements, opening record, draw "
        "inputs, bid receipts), signed; the export is audited. Null for a lot the caller may not supervise.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def evidence_package(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> EvidencePackage | None:
        try:
            made = await evidence.package(
                info.context.actor, int_id(lot_id, "Lot", "lotId"), info.context.services.keyring
            )
        except DomainError:
            return None
        return EvidencePackage(
            jws=made.jws,
            sha256=made.sha256,
            kid=made.kid,
            generated_at=made.generated_at,
            audit_entries=made.audit_entries,
        )

    @fields.field(
        description="Verify an evidence package against the platform's published keys and the audit chain.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def evidence_package_verify(
        self,
        info: Info,
        jws: Annotated[str, strawberry.argument(description="The evidence package as received: its compact JWS text.")],
    ) -> EvidenceVerification:
        try:
            content = evidence.verify_package(jws, info.context.services.keyring.jwks())
        except evidence.EvidenceInvalid as err:
            return EvidenceVerification(
                ok=False, reason=str(err.params.get("reason")), lot_id=None, audit_entries=0, first_entry_off_chain=None
            )
        off = await evidence.matches_chain(content)
        return EvidenceVerification(
            ok=off is None,
            reason=None if off is None else "an audit entry differs from the chain",
            lot_id=strawberry.ID(to_global_id("Lot", content["lot"]["id"])),
            audit_entries=len(content["auditTrail"]),
            first_entry_off_chain=off,
        )
