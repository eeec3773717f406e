"""Guided navigation (智慧导办): the caller's next steps, computed from the areas' own state."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.common import clock
from domain.tasks import services
from domain.tasks.services import TaskKind
from schema import fields
from schema.describe import describe_values
from schema.permissions import IsUserOrExpert
from schema.relay import to_global_id

strawberry.enum(TaskKind, name="TaskKind", description="What a step the caller owes asks of it.")
describe_values(
    TaskKind,
    {
        "PAY_SECURITY": "Pay the lot's deposit to its reference by bank transfer, or put up a guarantee "
        "(guaranteeApply), "
        "before the bid deadline.",
        "SEAL_BID": "Seal and submit the bid (bidSubmit) before the bid deadline.",
        "CONFIRM_BID": "A clarification changed the documents after the bid: confirm it (bidConfirm) or submit again.",
        "HAND_OVER_KEY": "Hand over the bid's key (bidDecrypt) before the opening's decryption window closes.",
        "FINAL_OFFER": "Submit the sealed final offer (finalOfferSubmit) before the negotiation's window closes.",
        "CONFIRM_RESULT": "Acknowledge the result notice (resultConfirm).",
        "SIGN_CONTRACT": "Sign the drafted contract (contractSign) before the award's 30-day contract deadline.",
        "ANSWER_OBJECTION": "Answer the objection (objectionAnswer) by its due time (3 days).",
        "ACCEPT_COMPLAINT": "Accept or refuse the complaint (complaintAccept) within 3 working days.",
        "DECIDE_COMPLAINT": "Decide the accepted complaint (complaintDecide) within 30 working days.",
        "SCORE_BIDS": "Score the bids and hand in the score sheet (evaluationSheetSubmit) by the end of the "
        "evaluation room's booking.",
        "EXTEND_GUARANTEE": "A moved deadline left the bid's guarantee short of the deadline plus the bid validity: "
        "ask its guarantor to extend it (guaranteeExtensionRequest) before the new deadline.",
        "ANSWER_EXTENSION": "An applicant asked the guarantor to extend a guarantee: answer with the amended letter "
        "(guaranteeExtend) or a refusal (guaranteeExtensionDecline) before the lot's deadline.",
    },
)


@strawberry.type(description="One step the caller owes: what, on which lot and object, in which role, by when.")
class Task:
    kind: TaskKind = strawberry.field(description="What the step is.")
    role: str = strawberry.field(description="The role in which the caller owes it (bidder, tenderer, expert ...).")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    lot_name: str = strawberry.field(description="The lot's name.")
    trade_code: str = strawberry.field(description="The lot's trade code.")
    object_type: str = strawberry.field(description="The type of the object the step is done on (e.g. SealedBid).")
    object_id: strawberry.ID = strawberry.field(description="Global id of that object.")
    deadline: datetime | None = strawberry.field(description="When it is due (UTC); null: no deadline is set.")
    deadline_text: str | None = strawberry.field(description="The deadline as shown to people (Asia/Shanghai).")
    overdue: bool = strawberry.field(description="The deadline has passed and the step is still owed.")
    operation: str = strawberry.field(description="The GraphQL operation (mutation field) that does it.")
    link: str = strawberry.field(
        description="The app's deep link to the screen that does it: palmtrade://lot/<lot>/<kind>?<objecttype>=<id>."
    )

    @classmethod
    def of(cls, task: services.Task, now: datetime) -> "Task":
        return cls(
            kind=task.kind,
            role=task.role.value,
            lot_id=strawberry.ID(to_global_id("Lot", task.lot_id)),
            lot_name=task.lot_name,
            trade_code=task.trade_code,
            object_type=task.object_type,
            object_id=strawberry.ID(to_global_id(task.object_type, task.object_id)),
            deadline=task.deadline,
            deadline_text=clock.shanghai_text(task.deadline) if task.deadline else None,
            overdue=task.overdue(now),
            operation=task.operation,
            link=task.link,
        )


@strawberry.type
class TaskQueries:
    @fields.field(
        description="Every next step the caller owes, on every lot and in every role it holds (a user's organisation "
        "as bidder, tenderer, agency or supervisor; an expert's committees), overdue first, then by deadline. "
        "A kiosk session shows the signed-in user's.",
        permission_classes=[IsUserOrExpert],
    )
    async def my_tasks(self, info: Info) -> list[Task]:
        now = clock.now()
        return [Task.of(t, now) for t in await services.my_tasks(info.context.actor, now)]
