"""Questions (答疑), clarifications and changes (澄清、修改) and their sealed-bid confirmations, and the invitation list
of an invited tender (邀请招标): decode, call one service, map the outcome."""

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.accounts.models import Organisation as OrganisationModel
from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.documents.errors import ScanPending
from domain.publication import models
from domain.publication.models import Announcement as AnnouncementModel
from domain.registration import invitations, questions
from domain.registration.models import Invitation as InvitationModel
from domain.registration.states import QuestionStatus
from domain.tendering import clarifications
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsUser, has_role
from schema.publication.types import Announcement, Lot
from schema.relay import Node, int_id, node_resolver
from schema.tendering.types import SealedBidReceipt

CanManageProjects = has_role(Role.TENDERER, Role.AGENCY, Role.OPERATOR)
_IDEMPOTENCY = "Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."

QuestionState: TypeAlias = QuestionStatus
strawberry.enum(QuestionState, name="QuestionState", description="Open until a clarification answers it.")
describe_values(
    QuestionState,
    {"OPEN": "Asked, not answered yet.", "ANSWERED": "Answered in a clarification published to every registrant."},
)


@strawberry.type(description="A bidder's question on a lot (答疑). Who asked is shown only to those who may know.")
class Question(Node):
    text: str = strawberry.field(description="The question as asked.")
    status: QuestionState = strawberry.field(description="OPEN, or ANSWERED in a clarification.")
    asked_at: datetime = strawberry.field(description="When it was asked (server time).")
    answer: str | None = strawberry.field(description="The answer; null until a clarification gives it.")
    answered_at: datetime | None = strawberry.field(description="When it was answered; null before.")
    mine: bool = strawberry.field(description="Whether the caller's organisation asked it.")
    asker: str | None = strawberry.field(
        description="The organisation that asked: to operators and the lot's supervisors, to its tenderer and agency "
        "once the registrants are not secret, and to the asker; null to everyone else."
    )

    @classmethod
    def from_view(cls, view: questions.QuestionView, names: dict[int, str]) -> "Question":
        q = view.question
        return cls(
            _pk=q.id,
            text=q.text,
            status=QuestionState(q.status),
            asked_at=q.asked_at,
            answer=q.answer,
            answered_at=q.answered_at,
            mine=view.mine,
            asker=names.get(q.organisation_id) if view.asker_shown else None,
        )


@strawberry.type(description="A lot's questions and when they close.")
class LotQuestions:
    closes_at: datetime | None = strawberry.field(
        description="The question deadline: questionCutoffDays before the bid deadline (it moves with it)."
    )
    questions: list[Question] = strawberry.field(
        description="The questions the caller may see, oldest first: every one to the lot's managers and keepers, "
        "the answered ones and the caller's own to others."
    )


@strawberry.type(description="A clarification or change (澄清、修改) of a lot's documents, published as a notice.")
class Clarification(Node):
    _announcement: strawberry.Private[int]
    changes_documents: bool = strawberry.field(
        description="Whether it changes the documents in a way that may affect how bids are prepared."
    )
    deadline_before: datetime | None = strawberry.field(description="The bid deadline before it.")
    deadline_after: datetime | None = strawberry.field(description="The bid deadline after it.")
    deadline_moved: bool = strawberry.field(description="Whether it moved the bid deadline (and the opening).")
    legal_basis: str = strawberry.field(
        description="The rule that moved the deadline (e.g. 招标投标法 第二十三条); empty when none did."
    )
    minimum_days: int | None = strawberry.field(
        description="How long before the deadline a change of the documents must reach bidders, for this procedure."
    )
    working_days: bool = strawberry.field(description="Whether minimumDays counts working days (工作日).")
    published_at: datetime = strawberry.field(description="When it was published.")

    @fields.field(description="The change notice that publishes it, with its answers and files.")
    async def announcement(self) -> Announcement | None:
        found = await AnnouncementModel.get_or_none(id=self._announcement)
        return Announcement.from_model(found) if found else None

    @classmethod
    def from_model(cls, m: models.Clarification) -> "Clarification":
        return cls(
            _pk=m.id,
            _announcement=m.announcement_id,
            changes_documents=m.changes_documents,
            deadline_before=m.deadline_before,
            deadline_after=m.deadline_after,
            deadline_moved=m.deadline_before != m.deadline_after,
            legal_basis=m.legal_basis,
            minimum_days=m.minimum_days,
            working_days=m.working_days,
            published_at=m.published_at,
        )


@strawberry.type(description="An organisation invited to an invited tender (投标邀请书).")
class Invitation(Node):
    _lot: strawberry.Private[int]
    organisation_name: str = strawberry.field(description="The invited organisation.")
    invited_at: datetime = strawberry.field(description="When it was put on the list.")
    sent_at: datetime | None = strawberry.field(
        description="When the invitation reached it: at once on an open lot, else when the lot opened."
    )
    method: str = strawberry.field(
        description="How it was invited: letter (邀请招标), announcement, pool_draw or recommendation (谈判/磋商, "
        "财政部令第74号 第十二条)."
    )
    recommended_by: str | None = strawberry.field(description="A recommendation: purchaser or expert; null otherwise.")

    @fields.field(description="The invited tender's lot.")
    async def lot(self) -> Lot | None:
        found = await models.Lot.get_or_none(id=self._lot)
        return Lot.from_model(found) if found else None

    @classmethod
    def from_model(cls, m: InvitationModel, names: dict[int, str]) -> "Invitation":
        return cls(
            _pk=m.id,
            _lot=m.lot_id,
            organisation_name=names.get(m.organisation_id, ""),
            invited_at=m.invited_at,
            sent_at=m.sent_at,
            method=m.method,
            recommended_by=m.recommended_by,
        )


async def _names(org_ids: set[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    return {int(i): str(n) for i, n in await OrganisationModel.filter(id__in=org_ids).values_list("id", "name")}


async def _invitations(rows: list[InvitationModel]) -> list[Invitation]:
    names = await _names({r.organisation_id for r in rows})
    return [Invitation.from_model(r, names) for r in rows]


# ---------------------------------------------------------------- mutations


@strawberry.input(description="A registered bidder's question on a lot.")
class QuestionAskInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    text: str = strawberry.field(description="The question (at most 2,000 characters).")
    idempotency_key: str | None = strawberry.field(default=None, description=_IDEMPOTENCY)


@strawberry.type(description="Asked; the tenderer answers it in a clarification to every registrant.")
class QuestionAsked:
    question: Question = strawberry.field(description="The question as recorded.")


QuestionAskResult = result_union("QuestionAskResult", QuestionAsked, [questions.ask])


@strawberry.input(description="The answer to one question.")
class ClarificationAnswerInput:
    question_id: strawberry.ID = strawberry.field(description="Global id of an open question of the lot.")
    text: str = strawberry.field(description="The answer (at most 5,000 characters).")


@strawberry.input(description="Publish a clarification or change of a lot's documents as a change notice.")
class ClarificationPublishInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an open lot before its bid deadline.")
    changes_documents: bool = strawberry.field(
        description="Whether it changes the documents in a way that may affect how bids are prepared: the deadline "
        "then moves as the law requires, and every sealed bid standing must be confirmed or replaced."
    )
    answers: list[ClarificationAnswerInput] = strawberry.field(
        default_factory=list, description="Answers to open questions, published in the notice without the askers."
    )
    announcement_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A draft change notice of the lot (with its files uploaded onto it); else title and bodyHtml.",
    )
    title: str | None = strawberry.field(default=None, description="The notice's title, when drafted here.")
    body_html: str | None = strawberry.field(default=None, description="The notice's text, when drafted here.")
    bid_deadline: datetime | None = strawberry.field(
        default=None,
        description="A later bid deadline than the current one or the legal minimum (with a time zone); "
        "earlier than the legal minimum is DEADLINE_TOO_EARLY.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_IDEMPOTENCY)


@strawberry.type(description="Published; registrants are told, with the deadline when it moved.")
class ClarificationPublished:
    clarification: Clarification = strawberry.field(description="The clarification as published.")


# ScanPending: the notice's files wait for their malware scan (documents' hold, which publication asks through
# publication/holds without importing documents)
ClarificationPublishResult = result_union(
    "ClarificationPublishResult", ClarificationPublished, [clarifications.publish, ScanPending]
)


@strawberry.input(description="Confirm a sealed bid flagged by a change of the documents.")
class BidConfirmInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    idempotency_key: str | None = strawberry.field(default=None, description=_IDEMPOTENCY)


@strawberry.type(description="Confirmed: the bid stands under the changed documents and will be opened.")
class BidConfirmed:
    receipt: SealedBidReceipt = strawberry.field(description="The bid's receipt, SUBMITTED again.")


BidConfirmResult = result_union("BidConfirmResult", BidConfirmed, [clarifications.confirm])


@strawberry.input(description="Invite organisations to an invited tender.")
class LotInviteInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an invited-tender lot.")
    organisation_ids: list[strawberry.ID] = strawberry.field(
        description="Global ids of approved bidder organisations (at least three in all before publication)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_IDEMPOTENCY)
    method: str | None = strawberry.field(
        default=None,
        description="How they were invited: null or letter for an invited tender; for a competitive negotiation or "
        "consultation announcement, pool_draw (供应商库随机抽取) or recommendation (书面推荐).",
    )
    recommended_by: str | None = strawberry.field(
        default=None, description="A recommendation: purchaser or expert (the purchaser's at most half)."
    )


@strawberry.type(description="Invited; those on an open lot are told at once, the others when it opens.")
class LotInvited:
    invitations: list[Invitation] = strawberry.field(description="The lot's whole invitation list.")


LotInviteResult = result_union("LotInviteResult", LotInvited, [invitations.invite])


@strawberry.type
class ClarificationMutations:
    @mutation(QuestionAskResult, description="Ask a question on a lot (答疑).", permission_classes=[IsUser])
    async def question_ask(
        self, info: Info, input: Annotated[QuestionAskInput, strawberry.argument(description="The question.")]
    ) -> QuestionAsked:
        found = await questions.ask(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.text, input.idempotency_key
        )
        view = questions.QuestionView(question=found, asker_shown=True, mine=True)
        return QuestionAsked(question=Question.from_view(view, await _names({found.organisation_id})))

    @mutation(
        ClarificationPublishResult,
        description="Publish a clarification or change (澄清、修改) of a lot's documents, moving its deadline by law.",
        permission_classes=[CanManageProjects],
    )
    async def clarification_publish(
        self,
        info: Info,
        input: Annotated[ClarificationPublishInput, strawberry.argument(description="The clarification.")],
    ) -> ClarificationPublished:
        form = clarifications.ClarificationForm(
            lot_id=int_id(input.lot_id, "Lot", "lotId"),
            changes_documents=input.changes_documents,
            answers=[
                clarifications.AnswerForm(int_id(a.question_id, "Question", f"answers.{i}.questionId"), a.text)
                for i, a in enumerate(input.answers)
            ],
            announcement_id=int_id(input.announcement_id, "Announcement", "announcementId")
            if input.announcement_id
            else None,
            title=input.title,
            body_html=input.body_html,
            bid_deadline=input.bid_deadline,
        )
        made = await clarifications.publish(info.context.actor, form, input.idempotency_key)
        return ClarificationPublished(clarification=Clarification.from_model(made))

    @mutation(
        BidConfirmResult,
        description="Confirm a sealed bid that a change of the documents flagged, before the deadline.",
        permission_classes=[IsUser],
    )
    async def bid_confirm(
        self, info: Info, input: Annotated[BidConfirmInput, strawberry.argument(description="The lot.")]
    ) -> BidConfirmed:
        bid = await clarifications.confirm(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.idempotency_key
        )
        return BidConfirmed(receipt=SealedBidReceipt.from_model(bid))

    @mutation(
        LotInviteResult,
        description="Invite organisations to an invited tender (邀请招标), a competitive negotiation or consultation.",
        permission_classes=[CanManageProjects],
    )
    async def lot_invite(
        self, info: Info, input: Annotated[LotInviteInput, strawberry.argument(description="The invitees.")]
    ) -> LotInvited:
        orgs = [int_id(o, "Organisation", f"organisationIds.{i}") for i, o in enumerate(input.organisation_ids)]
        rows = await invitations.invite(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            orgs,
            input.idempotency_key,
            input.method,
            input.recommended_by,
        )
        return LotInvited(invitations=await _invitations(rows))


# ---------------------------------------------------------------- queries


@strawberry.type
class ClarificationQueries:
    @fields.field(description="A lot's questions (答疑) the caller may see, and when questions close.")
    async def lot_questions(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> LotQuestions | None:
        try:
            lot_pk = int_id(lot_id, "Lot", "lotId")
            views = await questions.lot_questions(info.context.actor, lot_pk)
            lot = await models.Lot.get(id=lot_pk)
        except DomainError:
            return None
        names = await _names({v.question.organisation_id for v in views if v.asker_shown})
        return LotQuestions(
            closes_at=questions.question_deadline(lot), questions=[Question.from_view(v, names) for v in views]
        )

    @fields.field(description="A lot's clarifications and changes, oldest first: public, as their notices are.")
    async def lot_clarifications(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[Clarification] | None:
        try:
            rows = await clarifications.lot_clarifications(int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return [Clarification.from_model(r) for r in rows]

    @fields.field(
        description="An invited tender's invitation list: its tenderer and agency, operators and the supervisors "
        "of its category.",
        permission_classes=[IsUser],
    )
    async def lot_invitations(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[Invitation] | None:
        try:
            rows = await invitations.lot_invitations(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await _invitations(rows)

    @fields.field(description="The invitations the caller's organisation received.", permission_classes=[IsUser])
    async def my_invitations(self, info: Info) -> list[Invitation]:
        return await _invitations(await invitations.mine(info.context.actor))


@node_resolver("Question")
async def _question_node(info: Info, pk: str) -> Question | None:
    if not pk.isdigit():
        return None
    found = await models.Question.get_or_none(id=int(pk))
    if found is None:
        return None
    try:
        views = await questions.lot_questions(info.context.actor, found.lot_id)
    except DomainError:
        return None
    view = next((v for v in views if v.question.id == found.id), None)
    if view is None:
        return None
    return Question.from_view(view, await _names({found.organisation_id} if view.asker_shown else set()))


@node_resolver("Clarification")
async def _clarification_node(info: Info, pk: str) -> Clarification | None:
    found = await models.Clarification.get_or_none(id=int(pk)) if pk.isdigit() else None
    return Clarification.from_model(found) if found else None


@node_resolver("Invitation")
async def _invitation_node(info: Info, pk: str) -> Invitation | None:
    found = await InvitationModel.get_or_none(id=int(pk)) if pk.isdigit() else None
    if found is None:
        return None
    actor = info.context.actor
    if found.organisation_id != actor.org_id or found.sent_at is None:
        try:
            await invitations.lot_invitations(actor, found.lot_id)
        except DomainError:
            return None
    return (await _invitations([found]))[0]
