"""A drawn expert answers its notice in the app (the voice call's keypad is the other way)."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.evaluation import notices
from schema.errors import mutation, result_union
from schema.permissions import IsExpert
from schema.relay import int_id


@strawberry.input(description="Confirm or decline being on the lot's evaluation committee.")
class ExpertNoticeAnswerInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot the notice is about.")
    confirm: bool = strawberry.field(description="true: I will attend; false: I decline (a replacement is drawn).")


@strawberry.type(description="The expert's answer, as recorded.")
class ExpertNoticeAnswered:
    answer: str = strawberry.field(description="confirmed or declined.")
    answered_at: datetime = strawberry.field(description="When.")


ANSWER_ERRORS = [notices.NoticeAnswered]
ExpertNoticeAnswerResult = result_union("ExpertNoticeAnswerResult", ExpertNoticeAnswered, ANSWER_ERRORS)


@strawberry.type
class ExpertNoticeMutations:
    @mutation(
        ExpertNoticeAnswerResult,
        description="A drawn expert confirms or declines (once); a decline asks the operators for a replacement.",
        permission_classes=[IsExpert],
    )
    async def expert_notice_answer(
        self,
        info: Info,
        input: Annotated[
            ExpertNoticeAnswerInput, strawberry.argument(description="The lot and whether the expert confirms.")
        ],
    ) -> ExpertNoticeAnswered:
        notice = await notices.answer_in_app(info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.confirm)
        return ExpertNoticeAnswered(answer=notice.status, answered_at=notice.answered_at or notice.created_at)
