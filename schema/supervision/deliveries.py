"""Delivery records of a lot's notices, for operators and the supervisors of its category."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.supervision import deliveries
from schema import fields
from schema.permissions import IsSupervisorOrOperator
from schema.relay import Before, Connection, Edge, Last, int_id, paginate, to_global_id


@strawberry.type(description="One push of a notice to one device, as the vendor answered it.")
class PushRecord:
    provider: str = strawberry.field(description="fcm, apns, jpush, ...")
    platform: str = strawberry.field(description="android, ios, harmony.")
    status: str = strawberry.field(description="pending, sent (the vendor accepted it), failed, invalid_token, ...")
    attempts: int = strawberry.field(description="Tries so far.")
    sent_at: datetime | None = strawberry.field(description="When the vendor accepted it.")
    last_error: str | None = strawberry.field(description="The vendor's last error code, if any.")


@strawberry.type(description="A notice about the lot to one user, with its pushes.")
class NoticeRecord:
    kind: str = strawberry.field(description="The notification kind, e.g. decryption_window.")
    title: str = strawberry.field(description="Its title (Chinese).")
    user_name: str = strawberry.field(description="Who was told.")
    expert_pool_number: int | None = strawberry.field(
        default=None, description="The drawn expert told (pool number), for a notice to an expert's own app."
    )
    organisation_id: strawberry.ID | None = strawberry.field(description="Their organisation's global id.")
    time_critical: bool = strawberry.field(description="Sent on every channel, quiet hours or not.")
    created_at: datetime = strawberry.field(description="When it reached the inbox.")
    read_at: datetime | None = strawberry.field(description="When it was read in the app.")
    pushes: list[PushRecord] = strawberry.field(description="Each push and the vendor's answer.")


@strawberry.type(description="A drawn expert's notice: the call and the answer.")
class ExpertNoticeRecord:
    pool_number: int = strawberry.field(description="The expert's pool number.")
    status: str = strawberry.field(description="pending, confirmed, declined, no_answer.")
    answered_by: str | None = strawberry.field(description="voice (keypad), app, or timeout.")
    answered_at: datetime | None = strawberry.field(description="When the expert answered; null before.")
    call_status: str = strawberry.field(description="due, placed, failed, none (no voice provider).")
    call_attempts: int = strawberry.field(description="How many voice calls were placed.")
    answer_due_at: datetime = strawberry.field(description="No answer by then asks for a replacement.")


def _record(r: deliveries.NoticeRecord) -> NoticeRecord:
    return NoticeRecord(
        kind=r.kind,
        title=r.title,
        user_name=r.user_name,
        expert_pool_number=r.expert_id,
        organisation_id=strawberry.ID(to_global_id("Organisation", r.organisation_id)) if r.organisation_id else None,
        time_critical=r.time_critical,
        created_at=r.created_at,
        read_at=r.read_at,
        pushes=[
            PushRecord(
                provider=p.provider,
                platform=p.platform,
                status=p.status,
                attempts=p.attempts,
                sent_at=p.sent_at,
                last_error=p.last_error,
            )
            for p in r.pushes
        ],
    )


@strawberry.type
class DeliveryQueries:
    @fields.field(
        description="Every notice about a lot with the delivery record of each push (was the bidder told the window "
        "opened, and when did the vendor accept it); null for a lot the caller may not supervise.",
        permission_classes=[IsSupervisorOrOperator],
        deprecation_reason="Use lotNoticesConnection: this list stops at the first 2000 notices without saying so; "
        "the connection pages through all of them.",
    )
    async def lot_notices(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        kind: Annotated[
            str | None, strawberry.argument(description="Only notices of this kind, e.g. decryption_window; null: all.")
        ] = None,
    ) -> list[NoticeRecord] | None:
        try:
            records = await deliveries.lot_notices(info.context.actor, int_id(lot_id, "Lot", "lotId"), kind)
        except DomainError:
            return None
        return [_record(r) for r in records]

    @fields.field(
        description="Every notice about a lot with the delivery record of each push, newest first, paged; null for "
        "a lot the caller may not supervise.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def lot_notices_connection(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        kind: Annotated[
            str | None, strawberry.argument(description="Only notices of this kind, e.g. decryption_window; null: all.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many notices to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="The cursor of the last notice already read: the page continues after it."),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[NoticeRecord] | None:
        try:
            query = await deliveries.lot_notice_query(info.context.actor, int_id(lot_id, "Lot", "lotId"), kind)
        except DomainError:
            return None
        page = await paginate(info, query, first, after, lambda n: n, last, before)
        records = await deliveries.notice_records([e.node for e in page.edges])
        return Connection(
            edges=[Edge(cursor=e.cursor, node=_record(r)) for e, r in zip(page.edges, records, strict=True)],
            page_info=page.page_info,
        )

    @fields.field(
        description="The drawn experts' notices of a lot: calls and answers; null for a lot the caller may not "
        "supervise.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def expert_notices(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[ExpertNoticeRecord] | None:
        try:
            rows = await deliveries.expert_notices(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return [
            ExpertNoticeRecord(
                pool_number=n.expert_id,
                status=n.status,
                answered_by=n.answered_by,
                answered_at=n.answered_at,
                call_status=n.call_status,
                call_attempts=n.call_attempts,
                answer_due_at=n.answer_due_at,
            )
            for n in rows
        ]
