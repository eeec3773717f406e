"""The expert pool's records as clients see them."""

from datetime import date, datetime

import strawberry

from domain.experts import models
from domain.experts.service import ConflictOnLot, ExpertStats, SpecialtyStats
from schema.relay import to_global_id


def _gid(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(to_global_id(type_name, pk))


@strawberry.type(description="An application to join the expert pool (评标专家入库申请), and how it was reviewed.")
class ExpertApplication:
    id: strawberry.ID = strawberry.field(description="Global id of the application.")
    name: str = strawberry.field(description="The applicant's name.")
    specialties: list[str] = strawberry.field(description="The specialties applied for.")
    title: str = strawberry.field(description="Professional title (职称) or qualification.")
    employer_name: str = strawberry.field(description="The applicant's employer, as the applicant wrote it.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Global ids of the qualification documents.")
    status: str = strawberry.field(description="submitted, approved or rejected.")
    reason: str | None = strawberry.field(description="The operator's reason (required for a rejection).")
    reviewed_at: datetime | None = strawberry.field(description="When it was reviewed.")
    expert_id: strawberry.ID | None = strawberry.field(description="The expert in the pool, once approved.")
    created_at: datetime = strawberry.field(description="When it was submitted.")

    @classmethod
    def from_model(cls, m: models.ExpertApplication) -> "ExpertApplication":
        return cls(
            id=strawberry.ID(to_global_id("ExpertApplication", m.id)),
            name=m.name,
            specialties=list(m.specialties),
            title=m.title,
            employer_name=m.employer_name,
            document_ids=[strawberry.ID(to_global_id("Document", d)) for d in m.document_ids],
            status=m.status,
            reason=m.reason,
            reviewed_at=m.reviewed_at,
            expert_id=_gid("Expert", m.expert_id),
            created_at=m.created_at,
        )


@strawberry.type(description="A training the expert attended (专家培训).")
class ExpertTraining:
    course: str = strawberry.field(description="The course.")
    hours: int = strawberry.field(description="Its hours.")
    completed_on: date = strawberry.field(description="The day it ended (Beijing).")
    passed: bool = strawberry.field(description="Whether the expert passed its assessment.")

    @classmethod
    def from_model(cls, m: models.ExpertTraining) -> "ExpertTraining":
        return cls(course=m.course, hours=m.hours, completed_on=m.completed_on, passed=m.passed)


@strawberry.type(description="A conflict of interest an expert declared (回避): the draw honours it.")
class ExpertConflict:
    id: strawberry.ID = strawberry.field(description="Global id of the declaration.")
    relation: str = strawberry.field(description="former_employer, relative_employer or named_entity.")
    organisation_id: strawberry.ID | None = strawberry.field(description="The registered organisation named.")
    credit_code: str | None = strawberry.field(description="The unified social credit code named.")
    entity_name: str | None = strawberry.field(description="The entity's name as declared.")
    declared_at: datetime = strawberry.field(description="When it was declared.")

    @classmethod
    def from_model(cls, m: models.ExpertConflict) -> "ExpertConflict":
        return cls(
            id=strawberry.ID(to_global_id("ExpertConflict", m.id)),
            relation=m.relation,
            organisation_id=_gid("Organisation", m.organisation_id),
            credit_code=m.credit_code,
            entity_name=m.entity_name,
            declared_at=m.declared_at,
        )


@strawberry.type(description="A conflict found after an expert was drawn for a lot, and the round that replaced it.")
class ExpertConflictReport:
    lot_id: strawberry.ID = strawberry.field(description="The lot.")
    expert_id: strawberry.ID = strawberry.field(description="The expert who had to withdraw.")
    reported_by: str = strawberry.field(description="expert (it declared it) or operator.")
    reported_at: datetime = strawberry.field(description="When.")
    conflict: ExpertConflict = strawberry.field(description="The conflict, kept for later draws.")
    replaced_in_round: int | None = strawberry.field(
        description="The replacement round (补抽) that took the expert's seat; null until it is committed."
    )

    @classmethod
    def from_domain(cls, c: ConflictOnLot) -> "ExpertConflictReport":
        return cls(
            lot_id=strawberry.ID(to_global_id("Lot", c.report.lot_id)),
            expert_id=strawberry.ID(to_global_id("Expert", c.report.expert_id)),
            reported_by=c.report.reported_by,
            reported_at=c.report.reported_at,
            conflict=ExpertConflict.from_model(c.conflict),
            replaced_in_round=c.replaced_in_round,
        )


@strawberry.type(description="An appraisal of an expert's work on one lot (专家考核评价).")
class ExpertAppraisal:
    lot_id: strawberry.ID = strawberry.field(description="The lot evaluated.")
    expert_id: strawberry.ID = strawberry.field(description="The expert appraised.")
    by_role: str = strawberry.field(description="operator or tenderer (the tenderer or its agency).")
    attendance: int = strawberry.field(description="0 to 10.")
    diligence: int = strawberry.field(description="0 to 10.")
    conduct: int = strawberry.field(description="0 to 10.")
    created_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_model(cls, m: models.ExpertAppraisal) -> "ExpertAppraisal":
        return cls(
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            expert_id=strawberry.ID(to_global_id("Expert", m.expert_id)),
            by_role=m.by_role,
            attendance=m.attendance,
            diligence=m.diligence,
            conduct=m.conduct,
            created_at=m.created_at,
        )


@strawberry.type(description="A penalty on an expert: warning, suspension from draws for a period, or removal.")
class ExpertPenalty:
    expert_id: strawberry.ID = strawberry.field(description="The expert.")
    kind: str = strawberry.field(description="warning, suspension or removal.")
    reason: str = strawberry.field(description="Why.")
    starts_at: datetime = strawberry.field(description="From when.")
    ends_at: datetime | None = strawberry.field(description="Until when (a suspension).")

    @classmethod
    def from_model(cls, m: models.ExpertPenalty) -> "ExpertPenalty":
        return cls(
            expert_id=strawberry.ID(to_global_id("Expert", m.expert_id)),
            kind=m.kind,
            reason=m.reason,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
        )


@strawberry.type(description="An expert's exit from the pool.")
class ExpertExit:
    expert_id: strawberry.ID = strawberry.field(description="The expert.")
    kind: str = strawberry.field(description="voluntary, age or rule.")
    reason: str = strawberry.field(description="Why.")
    exited_at: datetime = strawberry.field(description="When.")

    @classmethod
    def from_model(cls, m: models.ExpertExit) -> "ExpertExit":
        return cls(
            expert_id=strawberry.ID(to_global_id("Expert", m.expert_id)),
            kind=m.kind,
            reason=m.reason,
            exited_at=m.exited_at,
        )


@strawberry.type(description="The fee paid to an expert for one lot's evaluation (评审劳务报酬).")
class ExpertFee:
    lot_id: strawberry.ID = strawberry.field(description="The lot.")
    expert_id: strawberry.ID = strawberry.field(description="The expert.")
    amount_fen: int = strawberry.field(description="Amount in fen (1/100 yuan).")
    recorded_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_model(cls, m: models.ExpertFee) -> "ExpertFee":
        return cls(
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            expert_id=strawberry.ID(to_global_id("Expert", m.expert_id)),
            amount_fen=m.amount_fen,
            recorded_at=m.recorded_at,
        )


@strawberry.type(description="One expert's record in the pool: standing, draws, answers, appraisals, fees.")
class ExpertRecord:
    expert_id: strawberry.ID = strawberry.field(description="The expert.")
    pool_number: int = strawberry.field(description="The expert's number in the pool.")
    name: str = strawberry.field(description="The expert's name.")
    specialties: list[str] = strawberry.field(description="Its specialties.")
    status: str = strawberry.field(description="active, suspended, removed or exited.")
    draws: int = strawberry.field(description="Times selected in a revealed draw round.")
    attendances: int = strawberry.field(description="Draw notices confirmed.")
    refusals: int = strawberry.field(description="Draw notices declined, unanswered or withdrawn for a conflict.")
    conflicts: int = strawberry.field(description="Conflicts found after a draw.")
    appraisals: int = strawberry.field(description="Appraisals received.")
    rating: int = strawberry.field(description="0..100: the mean of its appraisals (100 with none).")
    warnings: int = strawberry.field(description="Warnings received.")
    suspensions: int = strawberry.field(description="Suspensions received.")
    fees_fen: int = strawberry.field(description="Fees recorded, fen.")

    @classmethod
    def from_domain(cls, s: ExpertStats) -> "ExpertRecord":
        return cls(
            expert_id=strawberry.ID(to_global_id("Expert", s.expert.id)),
            pool_number=s.expert.id,
            name=s.expert.name,
            specialties=s.specialties,
            status=s.status,
            draws=s.draws,
            attendances=s.attendances,
            refusals=s.refusals,
            conflicts=s.conflicts,
            appraisals=s.appraisals,
            rating=s.rating,
            warnings=s.warnings,
            suspensions=s.suspensions,
            fees_fen=s.fees_fen,
        )


@strawberry.type(description="The pool's figures for one specialty.")
class SpecialtyStatistics:
    specialty: str = strawberry.field(description="The specialty.")
    experts: int = strawberry.field(description="Experts listing it.")
    active: int = strawberry.field(description="Of them, active now (not suspended, removed or exited).")
    draws: int = strawberry.field(description="Times its experts were selected.")
    attendances: int = strawberry.field(description="Notices confirmed.")
    refusals: int = strawberry.field(description="Notices declined, unanswered or withdrawn for a conflict.")
    appraisals: int = strawberry.field(description="Appraisals received.")
    fees_fen: int = strawberry.field(description="Fees recorded, fen.")

    @classmethod
    def from_domain(cls, s: SpecialtyStats) -> "SpecialtyStatistics":
        return cls(
            specialty=s.specialty,
            experts=s.experts,
            active=s.active,
            draws=s.draws,
            attendances=s.attendances,
            refusals=s.refusals,
            appraisals=s.appraisals,
            fees_fen=s.fees_fen,
        )


@strawberry.type(description="The expert pool's statistics, per expert and per specialty.")
class ExpertStatistics:
    experts: list[ExpertRecord] = strawberry.field(description="One row per expert.")
    specialties: list[SpecialtyStatistics] = strawberry.field(description="One row per specialty.")
