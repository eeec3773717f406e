"""Objections, complaints, suspensions and reports: decode, call one service, map the outcome."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.actors import Role
from domain.complaints import complaints, objections, reports, suspension
from schema.certificates.types import SignatureInput, signed
from schema.complaints.queries import within_budget
from schema.complaints.types import (
    Complaint,
    ComplaintDecisionKind,
    ComplaintSubjectKind,
    EvidenceInput,
    LotSuspension,
    Objection,
    ObjectionStageKind,
    Report,
    evidence_of,
)
from schema.errors import mutation, result_union
from schema.permissions import IsUser, has_role
from schema.relay import int_id

IsSupervisor = has_role(Role.SUPERVISOR)
REPORTS_PER_MINUTE = 10


# ---------------------------------------------------------------- objections


@strawberry.input(description="Object to the tenderer (异议) on a lot, within the stage's window.")
class ObjectionRaiseInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    stage: ObjectionStageKind = strawberry.field(description="The stage objected to; it must be open now.")
    reasons: str = strawberry.field(description="The objection and its grounds, up to 4000 characters.")
    evidence: list[EvidenceInput] | None = strawberry.field(
        default=None,
        description="Files given as evidence (name, size, SHA-256).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over the act (mobile_contract/SIGNATURES.md)."
    )


@strawberry.type(description="The objection is with the tenderer, to be answered by answerDueAt.")
class ObjectionRaised:
    objection: Objection = strawberry.field(description="The objection as raised.")


ObjectionRaiseResult = result_union("ObjectionRaiseResult", ObjectionRaised, [objections.raise_objection])


@strawberry.input(description="The tenderer (or its agency) answers an objection.")
class ObjectionAnswerInput:
    objection_id: strawberry.ID = strawberry.field(description="Global id of the objection.")
    answer: str = strawberry.field(description="The answer, up to 4000 characters.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Answered; the objector is told.")
class ObjectionAnswered:
    objection: Objection = strawberry.field(description="The objection with its answer.")


ObjectionAnswerResult = result_union("ObjectionAnswerResult", ObjectionAnswered, [objections.answer_objection])


@strawberry.input(description="The objector withdraws its unanswered objection.")
class ObjectionWithdrawInput:
    objection_id: strawberry.ID = strawberry.field(description="Global id of the caller's unanswered objection.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Withdrawn.")
class ObjectionWithdrawn:
    objection: Objection = strawberry.field(description="The objection as withdrawn.")


ObjectionWithdrawResult = result_union("ObjectionWithdrawResult", ObjectionWithdrawn, [objections.withdraw_objection])


# ---------------------------------------------------------------- complaints


@strawberry.input(description="Complain (投诉) to the supervisor of the lot's category.")
class ComplaintFileInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot complained about.")
    subject: ComplaintSubjectKind = strawberry.field(
        description="What the complaint is about; all but OTHER need an objection first."
    )
    knew_on: date = strawberry.field(
        description="The day the complainant knew or should have known (Beijing); not in the future, not before "
        "the tender was published. The complaint is due within the lot's complaintWindowDays of it."
    )
    reasons: str = strawberry.field(description="Facts and grounds, up to 4000 characters.")
    requests: str = strawberry.field(description="What the complainant asks for, up to 4000 characters.")
    evidence: list[EvidenceInput] | None = strawberry.field(
        default=None,
        description="Files given as evidence (name, size, SHA-256).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )
    signature: SignatureInput | None = strawberry.field(
        default=None, description="The actor's certificate signature over the act (mobile_contract/SIGNATURES.md)."
    )


@strawberry.type(description="Filed: the supervisor accepts or refuses it by acceptDueAt.")
class ComplaintFiled:
    complaint: Complaint = strawberry.field(description="The complaint as filed.")


ComplaintFileResult = result_union("ComplaintFileResult", ComplaintFiled, [complaints.file_complaint])


@strawberry.input(description="A supervisor acts on a complaint of its category.")
class ComplaintActInput:
    complaint_id: strawberry.ID = strawberry.field(description="Global id of the complaint.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="The supervisor refuses (不予受理) a submitted complaint, with the reason.")
class ComplaintRefuseInput:
    complaint_id: strawberry.ID = strawberry.field(description="Global id of the submitted complaint.")
    reason: str = strawberry.field(description="Why it is refused; the complainant reads it.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="The supervisor suspends the lot of an accepted complaint, with the reason.")
class ComplaintSuspendLotInput:
    complaint_id: strawberry.ID = strawberry.field(description="Global id of the accepted complaint.")
    reason: str = strawberry.field(description="Why, up to 500 characters; shown to anyone with the lot.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="The supervisor decides an accepted complaint; the decision is published.")
class ComplaintDecideInput:
    complaint_id: strawberry.ID = strawberry.field(description="Global id of the accepted complaint.")
    decision: ComplaintDecisionKind = strawberry.field(description="Upheld, partly upheld or dismissed.")
    reasons: str = strawberry.field(description="The grounds of the decision, up to 4000 characters; published.")
    malicious: bool = strawberry.field(
        default=False,
        description="Only with DISMISSED: the complaint was malicious or false; adds a bad credit record.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The complaint after the step.")
class ComplaintUpdated:
    complaint: Complaint = strawberry.field(description="The complaint as it now stands.")


@strawberry.type(description="The lot is suspended (or the suspension lifted).")
class LotSuspensionChanged:
    suspension: LotSuspension = strawberry.field(description="The suspension as it now stands.")
    complaint: Complaint = strawberry.field(description="The complaint it was made for.")


ComplaintActResult = result_union(
    "ComplaintActResult",
    ComplaintUpdated,
    [
        complaints.withdraw_complaint,
        complaints.accept_complaint,
        complaints.refuse_complaint,
        complaints.decide_complaint,
    ],
)
ComplaintSuspendResult = result_union("ComplaintSuspendResult", LotSuspensionChanged, [suspension.suspend_lot])
ComplaintLiftResult = result_union("ComplaintLiftResult", LotSuspensionChanged, [suspension.lift_suspension])


# ---------------------------------------------------------------- reports


@strawberry.input(description="Report (举报) about a lot or an organisation; no sign-in needed.")
class ReportFileInput:
    lot_id: strawberry.ID | None = strawberry.field(default=None, description="The lot; or organisationId.")
    organisation_id: strawberry.ID | None = strawberry.field(default=None, description="The organisation.")
    text: str = strawberry.field(description="What happened, up to 4000 characters.")
    evidence: list[EvidenceInput] | None = strawberry.field(
        default=None,
        description="Files given as evidence (name, size, SHA-256).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Received. Keep the tracking code: it is shown only now and is the only way to follow it.")
class ReportFiled:
    tracking_code: str | None = strawberry.field(
        description="The code for reportStatus; null on the replay of an idempotency key (only its hash is kept)."
    )
    status: str = strawberry.field(description="The report's status: received.")


@strawberry.input(description="A supervisor moves a report of its category on.")
class ReportActInput:
    report_id: strawberry.ID = strawberry.field(description="Global id of the report.")
    outcome: str | None = strawberry.field(default=None, description="Required to close: the outcome.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The report after the step.")
class ReportUpdated:
    report: Report = strawberry.field(description="The report as it now stands.")


ReportFileResult = result_union("ReportFileResult", ReportFiled, [reports.file_report])
ReportActResult = result_union("ReportActResult", ReportUpdated, [reports.investigate_report, reports.close_report])


def _cid(value: strawberry.ID) -> int:
    return int_id(value, "Complaint", "complaintId")


@strawberry.type
class ComplaintMutations:
    @mutation(
        ObjectionRaiseResult,
        description="Object to the tenderer on the documents, the opening or the candidates (bidders and other "
        "interested parties).",
        permission_classes=[IsUser],
    )
    async def objection_raise(
        self,
        info: Info,
        input: Annotated[
            ObjectionRaiseInput, strawberry.argument(description="The lot, the stage and the grounds of the objection.")
        ],
    ) -> ObjectionRaised:
        made = await objections.raise_objection(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.stage.value,
            input.reasons,
            evidence_of(input.evidence),
            input.idempotency_key,
            signed(input.signature),
        )
        return ObjectionRaised(objection=Objection.from_model(made))

    @mutation(
        ObjectionAnswerResult,
        description="Answer an objection (the tenderer or its agency).",
        permission_classes=[IsUser],
    )
    async def objection_answer(
        self,
        info: Info,
        input: Annotated[
            ObjectionAnswerInput, strawberry.argument(description="The objection and the tenderer's answer.")
        ],
    ) -> ObjectionAnswered:
        made = await objections.answer_objection(
            info.context.actor,
            int_id(input.objection_id, "Objection", "objectionId"),
            input.answer,
            input.idempotency_key,
        )
        return ObjectionAnswered(objection=Objection.from_model(made))

    @mutation(ObjectionWithdrawResult, description="Withdraw one's unanswered objection.", permission_classes=[IsUser])
    async def objection_withdraw(
        self,
        info: Info,
        input: Annotated[ObjectionWithdrawInput, strawberry.argument(description="The objection to withdraw.")],
    ) -> ObjectionWithdrawn:
        made = await objections.withdraw_objection(
            info.context.actor, int_id(input.objection_id, "Objection", "objectionId"), input.idempotency_key
        )
        return ObjectionWithdrawn(objection=Objection.from_model(made))

    @mutation(
        ComplaintFileResult,
        description="Complain to the supervisor of the lot's category (bidders and other interested parties).",
        permission_classes=[IsUser],
    )
    async def complaint_file(
        self,
        info: Info,
        input: Annotated[
            ComplaintFileInput,
            strawberry.argument(description="The lot, the subject, the facts and the requests of the complaint."),
        ],
    ) -> ComplaintFiled:
        made = await complaints.file_complaint(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId"),
            input.subject.value,
            input.knew_on,
            input.reasons,
            input.requests,
            evidence_of(input.evidence),
            input.idempotency_key,
            signed(input.signature),
        )
        return ComplaintFiled(complaint=Complaint.from_model(made))

    @mutation(
        ComplaintActResult, description="Withdraw one's complaint before the decision.", permission_classes=[IsUser]
    )
    async def complaint_withdraw(
        self,
        info: Info,
        input: Annotated[
            ComplaintActInput, strawberry.argument(description="The complaint to withdraw (the complainant).")
        ],
    ) -> ComplaintUpdated:
        made = await complaints.withdraw_complaint(info.context.actor, _cid(input.complaint_id), input.idempotency_key)
        return ComplaintUpdated(complaint=Complaint.from_model(made))

    @mutation(
        ComplaintActResult,
        description="Accept a submitted complaint (a supervisor of its category); due in 3 working days.",
        permission_classes=[IsSupervisor],
    )
    async def complaint_accept(
        self,
        info: Info,
        input: Annotated[ComplaintActInput, strawberry.argument(description="The submitted complaint to accept.")],
    ) -> ComplaintUpdated:
        made = await complaints.accept_complaint(info.context.actor, _cid(input.complaint_id), input.idempotency_key)
        return ComplaintUpdated(complaint=Complaint.from_model(made))

    @mutation(
        ComplaintActResult,
        description="Refuse a submitted complaint with the reason (a supervisor of its category).",
        permission_classes=[IsSupervisor],
    )
    async def complaint_refuse(
        self,
        info: Info,
        input: Annotated[
            ComplaintRefuseInput, strawberry.argument(description="The submitted complaint to refuse, and why.")
        ],
    ) -> ComplaintUpdated:
        made = await complaints.refuse_complaint(
            info.context.actor, _cid(input.complaint_id), input.reason, input.idempotency_key
        )
        return ComplaintUpdated(complaint=Complaint.from_model(made))

    @mutation(
        ComplaintSuspendResult,
        description="Suspend the lot of an accepted complaint: no transition of the lot until lifted.",
        permission_classes=[IsSupervisor],
    )
    async def complaint_suspend_lot(
        self,
        info: Info,
        input: Annotated[
            ComplaintSuspendLotInput,
            strawberry.argument(description="The accepted complaint whose lot to suspend, and why."),
        ],
    ) -> LotSuspensionChanged:
        cid = _cid(input.complaint_id)
        made = await suspension.suspend_lot(info.context.actor, cid, input.reason, input.idempotency_key)
        found = await complaints.complaint(info.context.actor, cid)
        return LotSuspensionChanged(suspension=LotSuspension.from_model(made), complaint=Complaint.from_model(found))

    @mutation(
        ComplaintLiftResult,
        description="Lift the suspension made for a complaint; the lot may move again.",
        permission_classes=[IsSupervisor],
    )
    async def complaint_lift_suspension(
        self,
        info: Info,
        input: Annotated[
            ComplaintActInput, strawberry.argument(description="The complaint whose lot suspension to lift.")
        ],
    ) -> LotSuspensionChanged:
        cid = _cid(input.complaint_id)
        made = await suspension.lift_suspension(info.context.actor, cid, input.idempotency_key)
        found = await complaints.complaint(info.context.actor, cid)
        return LotSuspensionChanged(suspension=LotSuspension.from_model(made), complaint=Complaint.from_model(found))

    @mutation(
        ComplaintActResult,
        description="Decide an accepted complaint; the decision is published as an announcement of the lot.",
        permission_classes=[IsSupervisor],
    )
    async def complaint_decide(
        self,
        info: Info,
        input: Annotated[
            ComplaintDecideInput, strawberry.argument(description="The accepted complaint and the decision.")
        ],
    ) -> ComplaintUpdated:
        made = await complaints.decide_complaint(
            info.context.actor,
            _cid(input.complaint_id),
            input.decision.value,
            input.reasons,
            input.malicious,
            input.idempotency_key,
        )
        return ComplaintUpdated(complaint=Complaint.from_model(made))

    @mutation(
        ReportFileResult,
        description="Report about a lot or an organisation, with evidence; anyone, no sign-in needed. Returns the "
        "tracking code once. Rate-limited per address.",
    )
    async def report_file(
        self,
        info: Info,
        input: Annotated[
            ReportFileInput, strawberry.argument(description="What the report is about and what happened.")
        ],
    ) -> ReportFiled:
        await within_budget(info, "report-file", REPORTS_PER_MINUTE)
        filed = await reports.file_report(
            info.context.actor,
            input.text,
            evidence_of(input.evidence),
            int_id(input.lot_id, "Lot", "lotId") if input.lot_id is not None else None,
            int_id(input.organisation_id, "Organisation", "organisationId")
            if input.organisation_id is not None
            else None,
            input.idempotency_key,
        )
        return ReportFiled(tracking_code=filed.tracking_code, status=filed.report.status)

    @mutation(
        ReportActResult,
        description="Start investigating a received report (a supervisor of its category).",
        permission_classes=[IsSupervisor],
    )
    async def report_investigate(
        self, info: Info, input: Annotated[ReportActInput, strawberry.argument(description="The report to take up.")]
    ) -> ReportUpdated:
        made = await reports.investigate_report(
            info.context.actor, int_id(input.report_id, "Report", "reportId"), input.idempotency_key
        )
        return ReportUpdated(report=Report.from_model(made))

    @mutation(
        ReportActResult,
        description="Close a report with its outcome, which the reporter reads with the code.",
        permission_classes=[IsSupervisor],
    )
    async def report_close(
        self,
        info: Info,
        input: Annotated[ReportActInput, strawberry.argument(description="The report to close and its outcome.")],
    ) -> ReportUpdated:
        made = await reports.close_report(
            info.context.actor,
            int_id(input.report_id, "Report", "reportId"),
            input.outcome or "",
            input.idempotency_key,
        )
        return ReportUpdated(report=Report.from_model(made))
