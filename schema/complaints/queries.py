"""Reading objections, complaints and reports: each party its own, supervisors their categories, anyone
a report's progress by its tracking code."""

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.complaints import complaints, objections, reports, suspension
from schema import fields
from schema.complaints.types import (
    Complaint,
    ComplaintState,
    LotSuspension,
    Objection,
    ObjectionState,
    Report,
    ReportProgress,
    ReportState,
)
from schema.permissions import IsSupervisorOrOperator, IsUser
from schema.relay import Before, Connection, Last, int_id, paginate

STATUS_CHECKS_PER_MINUTE = 30


async def within_budget(info: Info, name: str, per_minute: int) -> None:
    """A budget per address for what anyone may call without signing in; a top-level RATE_LIMITED else."""
    services, request = info.context.services, info.context.request
    if services is None or request is None or request.client is None:
        return
    allowed, _ = await services.limiter.hit(f"{name}:{request.client.host}", per_minute)
    if not allowed:
        raise GraphQLError(
            "RATE_LIMITED: too many requests, try again in a minute / 请求过于频繁",
            extensions={"code": "RATE_LIMITED"},
        )


@strawberry.type
class ComplaintQueries:
    @fields.field(
        description="A complaint: for its complainant, the respondent, the supervisors of its category and "
        "operators; null for anyone else.",
        permission_classes=[IsUser],
    )
    async def complaint(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the complaint.")]
    ) -> Complaint | None:
        try:
            return Complaint.from_model(await complaints.complaint(info.context.actor, int_id(id, "Complaint")))
        except DomainError:
            return None

    @fields.field(
        description="An objection: for its objector, the tenderer (agency), the supervisors of the category and "
        "operators; null for anyone else.",
        permission_classes=[IsUser],
    )
    async def objection(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the objection.")]
    ) -> Objection | None:
        try:
            return Objection.from_model(await objections.objection(info.context.actor, int_id(id, "Objection")))
        except DomainError:
            return None

    @fields.field(
        description="Complaints the caller's organisation filed or answers for, newest first.",
        permission_classes=[IsUser],
    )
    async def my_complaints(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many complaints to return, newest first (capped by the server)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last complaint already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Complaint]:
        return await paginate(
            info, complaints.my_complaints(info.context.actor), first, after, Complaint.from_model, last, before
        )

    @fields.field(
        description="Objections the caller's organisation raised or must answer, newest first.",
        permission_classes=[IsUser],
    )
    async def my_objections(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many objections to return, newest first (capped by the server)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last objection already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Objection]:
        return await paginate(
            info, objections.my_objections(info.context.actor), first, after, Objection.from_model, last, before
        )

    @fields.field(
        description="Every complaint of the supervisor's categories (operators: all), newest first.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def supervised_complaints(
        self,
        info: Info,
        status: Annotated[
            ComplaintState | None, strawberry.argument(description="Only complaints in this status; null: all.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many complaints to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last complaint already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Complaint]:
        query = complaints.supervised_complaints(info.context.actor, status.value if status else None)
        return await paginate(info, query, first, after, Complaint.from_model, last, before)

    @fields.field(
        description="Every objection of the supervisor's categories (operators: all), newest first.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def supervised_objections(
        self,
        info: Info,
        status: Annotated[
            ObjectionState | None, strawberry.argument(description="Only objections in this status; null: all.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many objections to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last objection already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Objection]:
        query = objections.supervised_objections(info.context.actor, status.value if status else None)
        return await paginate(info, query, first, after, Objection.from_model, last, before)

    @fields.field(
        description="Complaints of the supervisor's categories not accepted or not decided in time, still open.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def overdue_complaints(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many complaints to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last complaint already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Complaint]:
        query = complaints.overdue_complaints(info.context.actor)
        return await paginate(info, query, first, after, Complaint.from_model, last, before)

    @fields.field(
        description="Objections of the supervisor's categories the tenderer did not answer in time.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def overdue_objections(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many objections to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last objection already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Objection]:
        query = objections.overdue_objections(info.context.actor)
        return await paginate(info, query, first, after, Objection.from_model, last, before)

    @fields.field(
        description="Reports of the supervisor's categories and those about an organisation, newest first.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def supervised_reports(
        self,
        info: Info,
        status: Annotated[
            ReportState | None, strawberry.argument(description="Only reports in this status; null: all.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many reports to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last report already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Report]:
        query = reports.supervised_reports(info.context.actor, status.value if status else None)
        return await paginate(info, query, first, after, Report.from_model, last, before)

    @fields.field(
        description="Where a report stands, by the tracking code given when it was filed; no sign-in needed. "
        "Null when the code is unknown. Rate-limited per address."
    )
    async def report_status(
        self,
        info: Info,
        tracking_code: Annotated[
            str, strawberry.argument(description="The tracking code given when the report was filed.")
        ],
    ) -> ReportProgress | None:
        await within_budget(info, "report-status", STATUS_CHECKS_PER_MINUTE)
        found = await reports.report_by_code(tracking_code)
        return ReportProgress.from_model(found) if found else None

    @fields.field(description="The suspension of a lot in force (the lot cannot move), or null; public.")
    async def lot_suspension(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> LotSuspension | None:
        found = await suspension.suspension_of(int_id(lot_id, "Lot", "lotId"))
        return LotSuspension.from_model(found) if found else None
