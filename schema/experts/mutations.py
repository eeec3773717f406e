"""The expert pool's lifecycle: apply, review, train, availability, conflicts, appraisal, penalties, exit, fees.
Decode, call one service, map the outcome."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.experts import pool, service
from domain.experts.pool import Entity
from schema.errors import mutation, result_union
from schema.experts.types import (
    ExpertApplication,
    ExpertAppraisal,
    ExpertConflict,
    ExpertConflictReport,
    ExpertExit,
    ExpertFee,
    ExpertPenalty,
    ExpertTraining,
)
from schema.permissions import IsExpert, IsOperator, IsUser, IsUserOrExpert
from schema.relay import int_id

_KEY = "Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."


def _opt(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return None if value is None else int_id(value, type_name, field)


@strawberry.input(description="Apply to join the expert pool (评标专家入库申请).")
class ExpertApplyInput:
    name: str = strawberry.field(description="The applicant's name.")
    id_number: str = strawberry.field(description="Resident identity number (kept only as a keyed hash).")
    phone: str = strawberry.field(description="Mainland mobile number: sign-in codes and draw notices go there.")
    specialties: list[str] = strawberry.field(description="The specialties to be drawn for.")
    title: str = strawberry.field(description="Professional title (职称) or practising qualification.")
    employer_name: str = strawberry.field(description="The applicant's employer.")
    employer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of the employer, if registered: its lots are avoided."
    )
    document_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of the applicant's EXPERT_QUALIFICATION documents (certificates), uploaded first."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The application is submitted for review.")
class ExpertApplied:
    application: ExpertApplication = strawberry.field(description="The application as recorded.")


ExpertApplyResult = result_union("ExpertApplyResult", ExpertApplied, [pool.apply])


@strawberry.input(description="Approve or reject an application (operator).")
class ExpertApplicationReviewInput:
    application_id: strawberry.ID = strawberry.field(description="Global id of the application.")
    approve: bool = strawberry.field(description="true: the applicant joins the pool; false: rejected.")
    reason: str | None = strawberry.field(default=None, description="Why; required for a rejection.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The application is reviewed.")
class ExpertApplicationReviewed:
    application: ExpertApplication = strawberry.field(description="The application with its decision.")


ExpertApplicationReviewResult = result_union("ExpertApplicationReviewResult", ExpertApplicationReviewed, [pool.review])


@strawberry.input(description="Record a training an expert attended (operator).")
class ExpertTrainingRecordInput:
    expert_id: strawberry.ID = strawberry.field(description="Global id of the expert.")
    course: str = strawberry.field(description="The course.")
    hours: int = strawberry.field(description="Its hours (1..1000).")
    completed_on: date = strawberry.field(description="The day it ended (Beijing).")
    passed: bool = strawberry.field(description="Whether the expert passed its assessment.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The training is recorded.")
class ExpertTrainingRecorded:
    training: ExpertTraining = strawberry.field(description="The training as recorded.")


ExpertTrainingRecordResult = result_union("ExpertTrainingRecordResult", ExpertTrainingRecorded, [pool.record_training])


@strawberry.input(description="Mark days busy (no draw selects the expert for a lot sitting then) or free again.")
class ExpertAvailabilitySetInput:
    days: list[date] = strawberry.field(description="Days (Beijing), today or later, at most 62.")
    busy: bool = strawberry.field(description="true: busy; false: free again.")


@strawberry.type(description="The expert's busy days from today.")
class ExpertAvailabilitySet:
    busy_days: list[date] = strawberry.field(description="The busy days, ascending.")


ExpertAvailabilitySetResult = result_union("ExpertAvailabilitySetResult", ExpertAvailabilitySet, [pool.set_busy_days])


@strawberry.input(description="An entity an expert has a conflict with: a registered organisation, a code or a name.")
class ExpertConflictEntityInput:
    relation: str = strawberry.field(description="former_employer, relative_employer or named_entity.")
    organisation_id: strawberry.ID | None = strawberry.field(default=None, description="A registered organisation.")
    credit_code: str | None = strawberry.field(default=None, description="Its unified social credit code.")
    entity_name: str | None = strawberry.field(default=None, description="Its name, exactly as registered.")
    note: str | None = strawberry.field(default=None, description="Anything to add (≤ 500 chars).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="expertConflictDeclare: retry safely, a repeat with the same key returns the first outcome "
        "(≤ 255 chars); inside expertConflictReport the report's own key counts.",
    )


def _entity(e: ExpertConflictEntityInput) -> Entity:
    return Entity(_opt(e.organisation_id, "Organisation", "organisationId"), e.credit_code, e.entity_name)


@strawberry.type(description="The conflict is declared; the draw honours it from now on.")
class ExpertConflictDeclared:
    conflict: ExpertConflict = strawberry.field(description="The declaration.")


ExpertConflictDeclareResult = result_union(
    "ExpertConflictDeclareResult", ExpertConflictDeclared, [pool.declare_conflict]
)


@strawberry.input(description="Report a conflict found after the draw: the expert withdraws and is replaced (补抽).")
class ExpertConflictReportInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot the expert was drawn for.")
    conflict: ExpertConflictEntityInput = strawberry.field(description="The conflict.")
    expert_id: strawberry.ID | None = strawberry.field(
        default=None, description="The expert (operators); an expert reports its own."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The conflict is recorded and the operators asked for a replacement draw.")
class ExpertConflictReported:
    report: ExpertConflictReport = strawberry.field(description="The report.")


ExpertConflictReportResult = result_union(
    "ExpertConflictReportResult", ExpertConflictReported, [service.report_conflict]
)


@strawberry.input(description="Appraise an expert drawn for a lot (operator, or the project's tenderer or agency).")
class ExpertAppraiseInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    expert_id: strawberry.ID = strawberry.field(description="Global id of the expert.")
    attendance: int = strawberry.field(description="0 to 10.")
    diligence: int = strawberry.field(description="0 to 10.")
    conduct: int = strawberry.field(description="0 to 10.")
    note: str | None = strawberry.field(default=None, description="Remarks (≤ 500 chars).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The appraisal is recorded; the expert's rating follows.")
class ExpertAppraised:
    appraisal: ExpertAppraisal = strawberry.field(description="The appraisal.")


ExpertAppraiseResult = result_union("ExpertAppraiseResult", ExpertAppraised, [service.appraise])


@strawberry.input(description="Penalise an expert (operator): a warning, a suspension for some days, or removal.")
class ExpertPenaliseInput:
    expert_id: strawberry.ID = strawberry.field(description="Global id of the expert.")
    kind: str = strawberry.field(description="warning, suspension or removal.")
    reason: str = strawberry.field(description="Why (≤ 500 chars).")
    days: int | None = strawberry.field(default=None, description="A suspension's length in days.")
    lot_id: strawberry.ID | None = strawberry.field(default=None, description="The lot it arose from, if any.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The penalty is recorded.")
class ExpertPenalised:
    penalty: ExpertPenalty = strawberry.field(description="The penalty.")


ExpertPenaliseResult = result_union("ExpertPenaliseResult", ExpertPenalised, [pool.penalise])


@strawberry.input(description="Leave the pool: an expert at its own request, or the operator under a rule.")
class ExpertExitInput:
    kind: str = strawberry.field(description="voluntary (the expert), age or rule (the operator).")
    reason: str = strawberry.field(description="Why (≤ 500 chars).")
    expert_id: strawberry.ID | None = strawberry.field(default=None, description="The expert (operators).")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The expert has left the pool.")
class ExpertExited:
    exit: ExpertExit = strawberry.field(description="The exit.")


ExpertExitResult = result_union("ExpertExitResult", ExpertExited, [pool.leave])


@strawberry.input(description="Record the fee paid to an expert for a lot (operator).")
class ExpertFeeRecordInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    expert_id: strawberry.ID = strawberry.field(description="Global id of the expert.")
    amount_fen: int = strawberry.field(description="Amount in fen.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The fee is recorded.")
class ExpertFeeRecorded:
    fee: ExpertFee = strawberry.field(description="The fee.")


ExpertFeeRecordResult = result_union("ExpertFeeRecordResult", ExpertFeeRecorded, [service.record_fee])


@strawberry.type
class ExpertPoolMutations:
    @mutation(ExpertApplyResult, description="Apply to join the expert pool.", permission_classes=[IsUser])
    async def expert_apply(
        self, info: Info, input: Annotated[ExpertApplyInput, strawberry.argument(description="The application.")]
    ) -> ExpertApplied:
        application = await pool.apply(
            info.context.actor,
            input.name,
            input.id_number,
            input.phone,
            input.specialties,
            input.title,
            input.employer_name,
            _opt(input.employer_id, "Organisation", "employerId"),
            [int_id(d, "Document", f"documentIds.{i}") for i, d in enumerate(input.document_ids)],
            input.idempotency_key,
        )
        return ExpertApplied(application=ExpertApplication.from_model(application))

    @mutation(
        ExpertApplicationReviewResult,
        description="Approve (the applicant joins the pool) or reject an application (operator).",
        permission_classes=[IsOperator],
    )
    async def expert_application_review(
        self,
        info: Info,
        input: Annotated[ExpertApplicationReviewInput, strawberry.argument(description="The decision.")],
    ) -> ExpertApplicationReviewed:
        application = await pool.review(
            info.context.actor,
            int_id(input.application_id, "ExpertApplication", "applicationId"),
            input.approve,
            input.reason,
            input.idempotency_key,
        )
        return ExpertApplicationReviewed(application=ExpertApplication.from_model(application))

    @mutation(
        ExpertTrainingRecordResult,
        description="Record a training an expert attended (operator).",
        permission_classes=[IsOperator],
    )
    async def expert_training_record(
        self, info: Info, input: Annotated[ExpertTrainingRecordInput, strawberry.argument(description="The training.")]
    ) -> ExpertTrainingRecorded:
        row = await pool.record_training(
            info.context.actor,
            int_id(input.expert_id, "Expert", "expertId"),
            input.course,
            input.hours,
            input.completed_on,
            input.passed,
            input.idempotency_key,
        )
        return ExpertTrainingRecorded(training=ExpertTraining.from_model(row))

    @mutation(
        ExpertAvailabilitySetResult,
        description="The signed-in expert marks days busy (left out of draws for lots sitting then) or free.",
        permission_classes=[IsExpert],
    )
    async def expert_availability_set(
        self, info: Info, input: Annotated[ExpertAvailabilitySetInput, strawberry.argument(description="The days.")]
    ) -> ExpertAvailabilitySet:
        days = await pool.set_busy_days(info.context.actor, input.days, input.busy)
        return ExpertAvailabilitySet(busy_days=days)

    @mutation(
        ExpertConflictDeclareResult,
        description="The signed-in expert declares a conflict of interest; the draw honours it (回避).",
        permission_classes=[IsExpert],
    )
    async def expert_conflict_declare(
        self,
        info: Info,
        input: Annotated[ExpertConflictEntityInput, strawberry.argument(description="The conflict.")],
    ) -> ExpertConflictDeclared:
        row = await pool.declare_conflict(
            info.context.actor, input.relation, _entity(input), input.note, input.idempotency_key
        )
        return ExpertConflictDeclared(conflict=ExpertConflict.from_model(row))

    @mutation(
        ExpertConflictReportResult,
        description="A conflict found after the draw (the drawn expert, or an operator): recorded, and a "
        "replacement draw asked for.",
        permission_classes=[IsUserOrExpert],
    )
    async def expert_conflict_report(
        self, info: Info, input: Annotated[ExpertConflictReportInput, strawberry.argument(description="The report.")]
    ) -> ExpertConflictReported:
        report = await service.report_conflict(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.conflict.relation,
            _entity(input.conflict),
            input.conflict.note,
            _opt(input.expert_id, "Expert", "expertId"),
            input.idempotency_key,
        )
        return ExpertConflictReported(report=ExpertConflictReport.from_domain(await service.describe(report)))

    @mutation(
        ExpertAppraiseResult,
        description="Appraise an expert drawn for a lot: attendance, diligence, conduct (operator, tenderer, agency).",
        permission_classes=[IsUser],
    )
    async def expert_appraise(
        self, info: Info, input: Annotated[ExpertAppraiseInput, strawberry.argument(description="The appraisal.")]
    ) -> ExpertAppraised:
        row = await service.appraise(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            int_id(input.expert_id, "Expert", "expertId"),
            input.attendance,
            input.diligence,
            input.conduct,
            input.note,
            input.idempotency_key,
        )
        return ExpertAppraised(appraisal=ExpertAppraisal.from_model(row))

    @mutation(
        ExpertPenaliseResult,
        description="Warn, suspend (for some days) or remove an expert (operators; others are refused).",
        permission_classes=[IsUser],
    )
    async def expert_penalise(
        self, info: Info, input: Annotated[ExpertPenaliseInput, strawberry.argument(description="The penalty.")]
    ) -> ExpertPenalised:
        row = await pool.penalise(
            info.context.actor,
            int_id(input.expert_id, "Expert", "expertId"),
            input.kind,
            input.reason,
            input.days,
            _opt(input.lot_id, "Lot", "lotId"),
            input.idempotency_key,
        )
        return ExpertPenalised(penalty=ExpertPenalty.from_model(row))

    @mutation(
        ExpertExitResult,
        description="Leave the pool: the signed-in expert (voluntary), or an operator under a rule (age, rule).",
        permission_classes=[IsUserOrExpert],
    )
    async def expert_exit(
        self, info: Info, input: Annotated[ExpertExitInput, strawberry.argument(description="The exit.")]
    ) -> ExpertExited:
        row = await pool.leave(
            info.context.actor,
            _opt(input.expert_id, "Expert", "expertId"),
            input.kind,
            input.reason,
            input.idempotency_key,
        )
        return ExpertExited(exit=ExpertExit.from_model(row))

    @mutation(
        ExpertFeeRecordResult,
        description="Record the fee paid to an expert for a lot, in fen (operator).",
        permission_classes=[IsOperator],
    )
    async def expert_fee_record(
        self, info: Info, input: Annotated[ExpertFeeRecordInput, strawberry.argument(description="The fee.")]
    ) -> ExpertFeeRecorded:
        row = await service.record_fee(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            int_id(input.expert_id, "Expert", "expertId"),
            input.amount_fen,
            input.idempotency_key,
        )
        return ExpertFeeRecorded(fee=ExpertFee.from_model(row))
