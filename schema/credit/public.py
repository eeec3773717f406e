"""Public credit records (信用信息公示), credit commitments (信用承诺书) and credit repair (信用修复)."""

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common import clock
from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.credit import models as credit_models
from domain.credit_public import commitments, publicity, repair
from schema import fields
from schema.certificates.types import SignatureInput, signed
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsUser, has_role
from schema.relay import int_id, to_global_id

IsSupervisor = has_role(Role.SUPERVISOR)


@strawberry.enum(description="How serious the misconduct is; it sets the publicity periods (PERIODS).")
class CreditSeverity(Enum):
    GENERAL = "general"
    SERIOUS = "serious"


describe_values(
    CreditSeverity,
    {
        "GENERAL": "一般失信行为: general misconduct, the shorter publicity and repair periods.",
        "SERIOUS": "严重失信行为: serious misconduct, such as a joint punishment; the longer periods.",
    },
)


@strawberry.type(description="A bad-conduct record or a joint punishment as published (personal data masked).")
class CreditPublication:
    _pk: strawberry.Private[int]
    organisation_name: str = strawberry.field(description="The market entity's registered name.")
    credit_code: str = strawberry.field(description="Its unified social credit code.")
    severity: CreditSeverity = strawberry.field(description="General or serious misconduct.")
    severity_text: str = strawberry.field(description="一般失信行为 or 严重失信行为.")
    title: str = strawberry.field(description="What kind of misconduct, masked.")
    summary: str = strawberry.field(description="What happened and who decided it; names, ID and phone numbers masked.")
    basis: str = strawberry.field(description="The rule that sets the publicity periods.")
    published_at: datetime = strawberry.field(description="When it entered public view.")
    public_until: datetime = strawberry.field(description="When it leaves public view (最长公示期).")
    repairable_from: datetime = strawberry.field(description="From when credit repair may be applied for (最短公示期).")
    announcement_id: strawberry.ID | None = strawberry.field(
        description="The 不良行为记录公告 of the lot it belongs to, if any."
    )
    withdrawn_at: datetime | None = strawberry.field(
        description="When it left public view (null while public); officials and the entity itself see it after."
    )
    withdrawn_reason: str | None = strawberry.field(
        description="expired (the period ended), repaired (credit repair approved) or lifted (punishment lifted)."
    )

    @fields.field(description="Global id, opaque to clients.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("CreditPublication", self._pk))

    @classmethod
    def of(cls, m: credit_models.CreditPublication, name: str, code: str) -> "CreditPublication":
        severity = publicity.Severity(m.severity)
        period = publicity.PERIODS[severity]
        return cls(
            _pk=m.pk,
            organisation_name=name,
            credit_code=code,
            severity=CreditSeverity(severity.value),
            severity_text=period.zh,
            title=m.title,
            summary=m.summary,
            basis=period.basis,
            published_at=m.published_at,
            public_until=m.public_until,
            repairable_from=m.repairable_from,
            announcement_id=strawberry.ID(to_global_id("Announcement", m.announcement_id))
            if m.announcement_id
            else None,
            withdrawn_at=m.withdrawn_at,
            withdrawn_reason=m.withdrawn_reason,
        )


@strawberry.type(description="A publicity period of the table (PERIODS), with its legal basis.")
class CreditPublicityPeriod:
    severity: CreditSeverity = strawberry.field(description="The severity it applies to.")
    severity_text: str = strawberry.field(description="一般失信行为 or 严重失信行为.")
    publicity_days: int = strawberry.field(description="Days in public view (最长公示期).")
    minimum_days: int = strawberry.field(description="Days before credit repair may be applied for (最短公示期).")
    basis: str = strawberry.field(description="The rule that sets them.")


@strawberry.type(description="The credit commitment text (信用承诺书) of one version.")
class CreditCommitmentText:
    version: int = strawberry.field(description="Its version; the newest is the one signed now.")
    title: str = strawberry.field(description="Its title.")
    body: str = strawberry.field(description="The text the signer commits to.")
    sha256: str = strawberry.field(
        description="SHA-256 of title, a newline and body (UTF-8): what the signature covers."
    )


@strawberry.enum(description="When a commitment is signed.")
class CreditCommitmentStage(Enum):
    REGISTRATION = "registration"
    BID = "bid"


describe_values(
    CreditCommitmentStage,
    {
        "REGISTRATION": "Signed when registering for the lot.",
        "BID": "Signed with the bid.",
    },
)


@strawberry.type(description="A credit commitment an organisation signed for a lot.")
class CreditCommitment:
    _pk: strawberry.Private[int]
    lot_id: strawberry.ID = strawberry.field(description="The lot it was signed for.")
    stage: CreditCommitmentStage = strawberry.field(description="At registration or with the bid.")
    version: int = strawberry.field(description="The version of the text signed.")
    text_sha256: str = strawberry.field(description="SHA-256 of the text signed.")
    signed_at: datetime = strawberry.field(description="When it was (last) signed.")
    certificate_signed: bool = strawberry.field(description="Signed with a bound certificate (the act credit.commit).")
    breached_at: datetime | None = strawberry.field(description="When a breach was recorded, if one was.")

    @fields.field(description="Global id, opaque to clients.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("CreditCommitment", self._pk))

    @classmethod
    def of(cls, m: credit_models.CreditCommitment) -> "CreditCommitment":
        return cls(
            _pk=m.pk,
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            stage=CreditCommitmentStage(m.stage),
            version=m.version,
            text_sha256=m.text_sha256,
            signed_at=m.signed_at,
            certificate_signed=m.signature_id is not None,
            breached_at=m.breached_at,
        )


@strawberry.type(description="An application for credit repair (信用修复) and its decision.")
class CreditRepair:
    _pk: strawberry.Private[int]
    publication_id: strawberry.ID = strawberry.field(description="The public record to repair.")
    status: str = strawberry.field(description="pending, approved or rejected.")
    statement: str = strawberry.field(description="How the organisation corrected the conduct.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Its documents (credit_repair_evidence).")
    applied_at: datetime = strawberry.field(description="When it applied.")
    decided_at: datetime | None = strawberry.field(description="When the supervisor decided.")
    decision_note: str | None = strawberry.field(description="The supervisor's reasons.")

    @fields.field(description="Global id, opaque to clients.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("CreditRepair", self._pk))

    @classmethod
    def of(cls, m: credit_models.CreditRepair) -> "CreditRepair":
        return cls(
            _pk=m.pk,
            publication_id=strawberry.ID(to_global_id("CreditPublication", m.publication_id)),
            status=m.status,
            statement=m.statement,
            document_ids=[strawberry.ID(to_global_id("Document", i)) for i in m.document_ids],
            applied_at=m.applied_at,
            decided_at=m.decided_at,
            decision_note=m.decision_note,
        )


async def _with_names(rows: list[credit_models.CreditPublication]) -> list[CreditPublication]:
    from domain.accounts.models import Organisation

    orgs = {o.id: o for o in await Organisation.filter(id__in=sorted({r.organisation_id for r in rows}))}
    return [CreditPublication.of(r, orgs[r.organisation_id].name, orgs[r.organisation_id].credit_code) for r in rows]


@strawberry.type
class CreditPublicQueries:
    @fields.field(
        description="Bad-conduct records and joint punishments in public view now, newest first (anyone, kiosks "
        "included); withdrawn when their publicity period ends or a repair is approved. Personal data masked."
    )
    async def credit_public_records(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 20,
        after: Annotated[
            strawberry.ID | None, strawberry.argument(description="The id of the last record of the previous page.")
        ] = None,
        credit_code: Annotated[str | None, strawberry.argument(description="Only this entity's.")] = None,
        name: Annotated[str | None, strawberry.argument(description="Only entities whose name contains it.")] = None,
    ) -> list[CreditPublication]:
        after_id = int_id(after, "CreditPublication", "after") if after else None
        rows = await publicity.public_records(first, after_id, credit_code, name)
        return [CreditPublication.of(r, o.name, o.credit_code) for r, o in rows]

    @fields.field(description="The publicity periods by severity, with their legal basis.")
    def credit_publicity_periods(self) -> list[CreditPublicityPeriod]:
        return [
            CreditPublicityPeriod(
                severity=CreditSeverity(s.value),
                severity_text=p.zh,
                publicity_days=p.publicity_days,
                minimum_days=p.minimum_days,
                basis=p.basis,
            )
            for s, p in publicity.PERIODS.items()
        ]

    @fields.field(
        description="Every publication of an organisation, withdrawn ones included: operators, supervisors and the "
        "organisation itself (empty for anyone else).",
        permission_classes=[IsUser],
    )
    async def credit_publications(
        self,
        info: Info,
        organisation_id: Annotated[strawberry.ID, strawberry.argument(description="The organisation.")],
    ) -> list[CreditPublication]:
        org_id = int_id(organisation_id, "Organisation", "organisationId")
        try:
            rows = await publicity.publications_of(info.context.actor, org_id)
        except DomainError:
            return []
        return await _with_names(rows)

    @fields.field(
        description="The credit commitment text in force now: the version creditCommitmentSign expects and each stage "
        "checks its commitment against."
    )
    def credit_commitment_text(self) -> CreditCommitmentText:
        text = commitments.in_force(clock.now())
        return CreditCommitmentText(version=text.version, title=text.title, body=text.body, sha256=text.sha256)

    @fields.field(
        description="The caller's organisation's commitments (of one lot when given).", permission_classes=[IsUser]
    )
    async def my_credit_commitments(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID | None, strawberry.argument(description="Only this lot's.")] = None,
    ) -> list[CreditCommitment]:
        lot = int_id(lot_id, "Lot", "lotId") if lot_id else None
        try:
            rows = await commitments.commitments_of(info.context.actor, lot)
        except DomainError:
            return []
        return [CreditCommitment.of(r) for r in rows]

    @fields.field(
        description="Every commitment signed for a lot: operators and supervisors of its category (else empty).",
        permission_classes=[IsUser],
    )
    async def lot_credit_commitments(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="The lot.")]
    ) -> list[CreditCommitment]:
        try:
            rows = await commitments.commitments_of_lot(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return []
        return [CreditCommitment.of(r) for r in rows]

    @fields.field(description="The caller's organisation's credit repair applications.", permission_classes=[IsUser])
    async def my_credit_repairs(self, info: Info) -> list[CreditRepair]:
        try:
            rows = await repair.repairs_of(info.context.actor)
        except DomainError:
            return []
        return [CreditRepair.of(r) for r in rows]

    @fields.field(
        description="Credit repair applications a supervisor decides: its categories' records and records of no lot.",
        permission_classes=[IsSupervisor],
    )
    async def supervised_credit_repairs(
        self,
        info: Info,
        pending_only: Annotated[bool, strawberry.argument(description="Only those waiting for a decision.")] = True,
    ) -> list[CreditRepair]:
        return [CreditRepair.of(r) for r in await repair.supervised_repairs(info.context.actor, pending_only)]


@strawberry.input(description="Sign the credit commitment for a lot.")
class CreditCommitmentSignInput:
    lot_id: strawberry.ID = strawberry.field(description="The lot.")
    stage: CreditCommitmentStage = strawberry.field(description="At registration or with the bid.")
    version: int = strawberry.field(description="The version of the text read (creditCommitmentText).")
    signature: SignatureInput | None = strawberry.field(
        default=None,
        description="The signature over the act credit.commit (mobile_contract/SIGNATURES.md); required when the "
        "user has a certificate bound.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Signed.")
class CreditCommitmentSigned:
    commitment: CreditCommitment = strawberry.field(description="The commitment as signed.")


CreditCommitmentSignResult = result_union("CreditCommitmentSignResult", CreditCommitmentSigned, [commitments.sign])


@strawberry.input(description="Record that a commitment was false (虚假承诺).")
class CreditCommitmentBreachInput:
    commitment_id: strawberry.ID = strawberry.field(description="The commitment.")
    description: str = strawberry.field(description="What was false, as found.")
    serious: bool = strawberry.field(default=False, description="Serious misconduct (longer publicity).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The breach is on record: a bad record linked to the commitment, published.")
class CreditCommitmentBreached:
    commitment: CreditCommitment = strawberry.field(description="The commitment, with its breach.")


CreditCommitmentBreachResult = result_union(
    "CreditCommitmentBreachResult", CreditCommitmentBreached, [commitments.report_false_statement]
)


@strawberry.input(description="Apply to repair a public credit record.")
class CreditRepairApplyInput:
    publication_id: strawberry.ID = strawberry.field(description="The public record (CreditPublication).")
    statement: str = strawberry.field(description="How the conduct was corrected.")
    document_ids: list[strawberry.ID] = strawberry.field(
        description="Documents of purpose CREDIT_REPAIR_EVIDENCE owned by the organisation (1 to 20)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="Decide a credit repair application.")
class CreditRepairDecideInput:
    repair_id: strawberry.ID = strawberry.field(description="The application.")
    approve: bool = strawberry.field(description="Approve (the record leaves public view) or reject.")
    note: str = strawberry.field(description="The reasons.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The application as it now stands.")
class CreditRepairChanged:
    repair: CreditRepair = strawberry.field(description="The application.")


CreditRepairApplyResult = result_union("CreditRepairApplyResult", CreditRepairChanged, [repair.apply])
CreditRepairDecideResult = result_union("CreditRepairDecideResult", CreditRepairChanged, [repair.decide])


@strawberry.type
class CreditPublicMutations:
    @mutation(
        CreditCommitmentSignResult,
        description="Sign the credit commitment (信用承诺书) for a lot, at registration or with a bid.",
        permission_classes=[IsUser],
    )
    async def credit_commitment_sign(
        self,
        info: Info,
        input: Annotated[CreditCommitmentSignInput, strawberry.argument(description="The lot, stage and version.")],
    ) -> CreditCommitmentSigned:
        row = await commitments.sign(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.stage.value,
            input.version,
            signed(input.signature),
            input.idempotency_key,
        )
        return CreditCommitmentSigned(commitment=CreditCommitment.of(row))

    @mutation(
        CreditCommitmentBreachResult,
        description="A supervisor of the lot's category records a false commitment (a bad record, published).",
        permission_classes=[IsSupervisor],
    )
    async def credit_commitment_breach(
        self,
        info: Info,
        input: Annotated[CreditCommitmentBreachInput, strawberry.argument(description="The commitment and finding.")],
    ) -> CreditCommitmentBreached:
        row = await commitments.report_false_statement(
            info.context.actor,
            int_id(input.commitment_id, "CreditCommitment", "commitmentId"),
            input.description,
            input.serious,
            input.idempotency_key,
        )
        return CreditCommitmentBreached(commitment=CreditCommitment.of(row))

    @mutation(
        CreditRepairApplyResult,
        description="Apply to repair one of the organisation's public credit records, after its minimum period.",
        permission_classes=[IsUser],
    )
    async def credit_repair_apply(
        self,
        info: Info,
        input: Annotated[CreditRepairApplyInput, strawberry.argument(description="The record and the documents.")],
    ) -> CreditRepairChanged:
        row = await repair.apply(
            info.context.actor,
            int_id(input.publication_id, "CreditPublication", "publicationId"),
            input.statement,
            [int_id(d, "Document", "documentIds") for d in input.document_ids],
            input.idempotency_key,
        )
        return CreditRepairChanged(repair=CreditRepair.of(row))

    @mutation(
        CreditRepairDecideResult,
        description="A supervisor of the record's category approves or rejects a credit repair.",
        permission_classes=[IsSupervisor],
    )
    async def credit_repair_decide(
        self,
        info: Info,
        input: Annotated[CreditRepairDecideInput, strawberry.argument(description="The application and decision.")],
    ) -> CreditRepairChanged:
        row = await repair.decide(
            info.context.actor,
            int_id(input.repair_id, "CreditRepair", "repairId"),
            input.approve,
            input.note,
            input.idempotency_key,
        )
        return CreditRepairChanged(repair=CreditRepair.of(row))
