"""Reading the expert pool: applications, an expert's record, statistics, conflicts found after draws, fees."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError, InvalidInput
from domain.experts import pool, service
from schema import fields
from schema.experts.types import (
    ExpertApplication,
    ExpertConflictReport,
    ExpertFee,
    ExpertRecord,
    ExpertStatistics,
    SpecialtyStatistics,
)
from schema.permissions import IsSupervisorOrOperator, IsUser, IsUserOrExpert
from schema.relay import int_id


@strawberry.type
class ExpertPoolQueries:
    @fields.field(
        description="Applications to the expert pool, newest first: every one for operators, the caller's own else.",
        permission_classes=[IsUser],
    )
    async def expert_applications(
        self,
        info: Info,
        status: Annotated[
            str | None, strawberry.argument(description="submitted, approved or rejected; all when omitted.")
        ] = None,
    ) -> list[ExpertApplication]:
        rows = await pool.applications(info.context.actor, status)
        return [ExpertApplication.from_model(r) for r in rows]

    @fields.field(
        description="One expert's record (standing, draws, answers, rating, penalties, fees): operators and "
        "supervisors (counting their categories' lots), and the expert itself. Null if unknown or not the caller's.",
        permission_classes=[IsUserOrExpert],
    )
    async def expert_record(
        self, info: Info, expert_id: Annotated[strawberry.ID, strawberry.argument(description="The expert.")]
    ) -> ExpertRecord | None:
        try:
            return ExpertRecord.from_domain(await service.profile(info.context.actor, int_id(expert_id, "Expert")))
        except DomainError:
            return None

    @fields.field(
        description="The expert pool's statistics per expert and per specialty: draws, attendances, refusals, "
        "appraisals and rating, fees (a supervisor counts its categories' lots only).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def expert_statistics(
        self,
        info: Info,
        specialty: Annotated[str | None, strawberry.argument(description="One specialty; all when omitted.")] = None,
    ) -> ExpertStatistics:
        rows, fields_ = await service.statistics(info.context.actor, specialty)
        return ExpertStatistics(
            experts=[ExpertRecord.from_domain(r) for r in rows],
            specialties=[SpecialtyStatistics.from_domain(s) for s in fields_],
        )

    @fields.field(
        description="Conflicts found after a lot's draw and the rounds that replaced the experts: operators and the "
        "lot's supervisors (empty for others).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def expert_conflict_reports(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="The lot.")]
    ) -> list[ExpertConflictReport]:
        try:
            lot = int_id(lot_id, "Lot", "lotId")
        except InvalidInput:
            return []
        return [ExpertConflictReport.from_domain(c) for c in await service.conflicts_of_lot(info.context.actor, lot)]

    @fields.field(
        description="Experts' fees recorded (评审费), of one lot or all: operators, and supervisors for their "
        "categories' lots.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def expert_fees(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID | None, strawberry.argument(description="One lot; all when omitted.")] = None,
    ) -> list[ExpertFee]:
        try:
            lot = int_id(lot_id, "Lot", "lotId") if lot_id is not None else None
        except InvalidInput:
            return []
        return [ExpertFee.from_model(f) for f in await service.fees_report(info.context.actor, lot)]
