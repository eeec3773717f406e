"""Clarifications and changes (答疑、澄清、修改) of a lot's documents, and what a material one does to its bids.

The tenderer (or its agency) publishes a clarification as a change notice correcting the lot's tender notice, with the
answers to bidders' questions appended and its files uploaded onto the draft notice (documents, purpose
`announcement_attachment`). A clarification that changes the documents in a way that may affect how bids are prepared
must reach the bidders a minimum time before the bid deadline, set by law per procedure (domain/publication/procedures
`clarification_minimum`: 15 days for tenders, 5 days for 竞争性磋商, 3 working days for 竞争性谈判 and 询价); when
less remains, the deadline is moved (顺延) to the first day that leaves enough, at the same time of day, or to a later
one the tenderer names. The opening, its decryption window and every step scheduled from the deadline move with it (the
opening's due time here; the expert draw, deposits, the question deadline and reminders read the deadline itself).

A material change flags every sealed bid standing at that moment (SUBMITTED -> UNCONFIRMED): its bidder confirms it
(`confirm`) or replaces it before the deadline, as Prozorro invalidates bids on a change of conditions until each bidder
re-activates its own. A bid still unconfirmed at the deadline lapses (treated as withdrawn before the deadline, see
domain/tendering/states): it is not opened and does not count towards min_bids.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.certificates.errors import TwoFactorRequired
from domain.common import calendar, clock, events
from domain.common.actors import SYSTEM, Actor
from domain.common.errors import InvalidInput, NotFound, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.publication import announcements
from domain.publication.announcements import AnnouncementForm, plain_text, sanitize
from domain.publication.errors import AnnouncementImmutable, TenderNotPublished
from domain.publication.events import LotDeadlineMoved
from domain.publication.models import Announcement, Clarification, Lot, Project, Question
from domain.publication.procedures import ClarificationMinimum, Procedure, clarification_minimum
from domain.publication.projects import managed_project
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus
from domain.registration import security as registration_security
from domain.registration import services as registration
from domain.registration.errors import NotRegistered
from domain.registration.security import GuaranteeValidityShortfall
from domain.registration.states import QUESTION, QuestionStatus
from domain.tendering.errors import (
    BidDeadlinePassed,
    ClarificationClosed,
    DeadlineTooEarly,
    NoBidToConfirm,
    NotSealedTender,
    QuestionAlreadyAnswered,
    SecurityMissing,
)
from domain.tendering.models import Opening, SealedBid
from domain.tendering.services import _open_lot, check_bidder_authentication
from domain.tendering.states import BID, BidStatus, OpeningStatus

MAX_ANSWER = 5000
# the time settings that keep their distance to the bid deadline when it moves: registration, while still open, closes
# as long before it as it did (a closed registration stays closed: its registrants are the documents' recipients, all
# told of the change); the opening follows it as it did
FOLLOW_DEADLINE = ("registration_closes_at", "opening_at")


@dataclass(frozen=True, kw_only=True)
class ClarificationPublished(DomainEvent):
    """Public: a lot's documents were clarified or changed, and where its deadline now is. Never a bidder."""

    type = "clarification.published"
    object_type = "Clarification"
    lot_id: int
    announcement_id: int
    changes_documents: bool
    deadline_before: datetime | None
    deadline_after: datetime | None
    moved: bool
    legal_basis: str
    answered: int


@dataclass(frozen=True, kw_only=True)
class SealedBidFlagged(DomainEvent):
    """To its bidder only: a material change came after its bid, which must be confirmed or replaced."""

    type = "sealed_bid.flagged"
    object_type = "SealedBid"
    lot_id: int
    clarification_id: int
    deadline: datetime | None


@dataclass(frozen=True, kw_only=True)
class SealedBidConfirmed(DomainEvent):
    type = "sealed_bid.confirmed"
    object_type = "SealedBid"
    lot_id: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class SealedBidLapsed(DomainEvent):
    """Still unconfirmed at the deadline: treated as withdrawn, not opened."""

    type = "sealed_bid.lapsed"
    object_type = "SealedBid"
    lot_id: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class SealedBidReturned(DomainEvent):
    """To its bidder only: the lot was terminated before the opening, and its sealed bid is returned unopened."""

    type = "sealed_bid.returned"
    object_type = "SealedBid"
    lot_id: int
    sha256: str
    was_flagged: bool


@dataclass(frozen=True, slots=True)
class AnswerForm:
    question_id: int
    text: str


@dataclass(frozen=True, slots=True)
class ClarificationForm:
    lot_id: int
    changes_documents: bool
    answers: list[AnswerForm] = field(default_factory=list)
    announcement_id: int | None = None  # a draft change notice of the lot, with its files uploaded onto it
    title: str | None = None  # or the notice's title and text, drafted here
    body_html: str | None = None
    bid_deadline: datetime | None = None  # a later deadline than the current (or the legal minimum), if wanted


def _at(config: dict[str, Any], name: str) -> datetime | None:
    value = config.get(name)
    return datetime.fromisoformat(value) if value else None


def reaches_in_time(
    now: datetime, deadline: datetime, minimum: ClarificationMinimum, days: calendar.WorkingCalendar
) -> bool:
    """Whether a change made at `now` reaches bidders at least the minimum before `deadline`."""
    if minimum.working_days:
        # 财政部令第74号: 在提交响应文件截止之日3个工作日前 (the day of the change is not counted, the deadline's is)
        return days.working_days_between(now, deadline) >= minimum.days
    return deadline - now >= timedelta(days=minimum.days)


def earliest_deadline(
    now: datetime, deadline: datetime, minimum: ClarificationMinimum, days: calendar.WorkingCalendar
) -> datetime:
    """The deadline, moved on by whole days (keeping its time of day) until a change made now reaches bidders the
    minimum before it; the deadline itself when it already does."""
    moved = deadline
    while not reaches_in_time(now, moved, minimum, days):
        moved += timedelta(days=1)
    return moved


def _qa_html(answered: list[tuple[Question, str]]) -> str:
    """The questions and answers as the notice publishes them: numbered, nobody named (答疑不指明问题来源)."""
    if not answered:
        return ""
    items = "".join(
        f"<li><p><strong>问：</strong>{html.escape(q.text)}</p><p><strong>答：</strong>{html.escape(a)}</p></li>"
        for q, a in answered
    )
    return f"<h3>答疑</h3><ol>{items}</ol>"


async def _draft_notice(actor: Actor, lot: Lot, form: ClarificationForm) -> Announcement:
    """The clarification's change notice: the draft named (a change notice of this lot), or one drafted here."""
    tender = (
        await Announcement.filter(
            lot_id=lot.id, type=AnnouncementType.TENDER.value, status=AnnouncementStatus.PUBLISHED.value
        )
        .order_by("published_at")
        .first()
    )
    if tender is None:
        raise TenderNotPublished(state=lot.status)
    if form.announcement_id is not None:
        draft = await lock(Announcement.filter(id=form.announcement_id)).first()
        if draft is None or draft.lot_id != lot.id or draft.project_id != lot.project_id:
            raise NotFound()
        if draft.status != AnnouncementStatus.DRAFT.value:
            raise AnnouncementImmutable(state=draft.status)
        if draft.type != AnnouncementType.CHANGE.value:
            raise InvalidInput(field="announcementId")
        return draft
    title = required_text(form.title or "", "title", 300)
    return await announcements.draft_announcement(
        actor,
        AnnouncementForm(
            project_id=lot.project_id,
            lot_id=lot.id,
            type=AnnouncementType.CHANGE.value,
            title=title,
            body_html=form.body_html or "<p></p>",
            corrects_id=tender.id,
        ),
    )


async def _answer(actor: Actor, lot: Lot, answers: list[AnswerForm], now: datetime) -> list[tuple[Question, str]]:
    ids = [a.question_id for a in answers]
    if len(set(ids)) != len(ids):
        raise InvalidInput(field="answers")
    found = {q.id: q for q in await lock(Question.filter(lot_id=lot.id, id__in=ids))}
    answered = []
    for i, a in enumerate(answers):
        question = found.get(a.question_id)
        if question is None:
            raise NotFound()
        if question.status != QuestionStatus.OPEN.value:
            raise QuestionAlreadyAnswered()
        text = required_text(a.text, f"answers.{i}.text", MAX_ANSWER)
        question.status = QUESTION.fire(question.status, "answer", by=actor).value
        question.answer, question.answered_by, question.answered_at = text, actor.user_id, now
        answered.append((question, text))
    return answered


async def _move_deadline(lot: Lot, before: datetime, after: datetime, now: datetime) -> None:
    """The lot's deadline and the times that follow it, and its opening's due time."""
    delta = after - before
    config = dict(lot.config)
    config["bid_deadline"] = after.isoformat()
    for name in FOLLOW_DEADLINE:
        value = _at(config, name)
        if value is not None and (name != "registration_closes_at" or value > now):
            config[name] = (value + delta).isoformat()
    await Lot.filter(id=lot.id).update(config=config, updated_at=now)
    lot.config = config
    await events.record(LotDeadlineMoved(object_id=str(lot.id), before=before, after=after), SYSTEM)
    opening = await lock(Opening.filter(lot_id=lot.id)).first()
    if opening is not None and opening.status == OpeningStatus.SCHEDULED.value:
        opening.deadline = after
        if opening.next_check_at is not None:  # None while a suspension parks it: resume re-plans from the deadline
            opening.next_check_at = after
        opening.updated_at = now
        await opening.save(update_fields=["deadline", "next_check_at", "updated_at"])


async def _flag_bids(lot: Lot, clarification: Clarification, deadline: datetime | None, now: datetime) -> int:
    """Every sealed bid standing now must be confirmed or replaced before the deadline."""
    standing = await lock(SealedBid.filter(lot_id=lot.id, status=BidStatus.SUBMITTED.value))
    for bid in standing:
        bid.status = BID.fire(bid.status, "flag", by=SYSTEM).value
        bid.flagged_by, bid.flagged_at, bid.confirmed_at = clarification.id, now, None
        await bid.save(update_fields=["status", "flagged_by", "flagged_at", "confirmed_at"])
        await events.record(
            SealedBidFlagged(
                object_id=str(bid.id),
                lot_id=lot.id,
                clarification_id=clarification.id,
                deadline=deadline,
                audience=Audience(orgs=(bid.organisation_id,), roles=()),
            ),
            SYSTEM,
        )
    return len(standing)


@raises(
    ClarificationClosed,
    DeadlineTooEarly,
    QuestionAlreadyAnswered,
    TenderNotPublished,
    AnnouncementImmutable,
    NotSealedTender,
)
@use_case("clarification.publish", "Lot", lambda actor, form, *a, **k: str(form.lot_id))
async def publish(actor: Actor, form: ClarificationForm, idempotency_key: str | None = None) -> Clarification:
    """Publishes a clarification of an open lot before its deadline as a change notice with the answers it gives; when
    it changes the documents, moves the deadline (and the opening) as the law requires and flags the standing bids.
    All in one transaction: the notice, the answers, the moved times and the flags, or nothing."""
    lot = await Lot.get_or_none(id=form.lot_id)
    if lot is None:
        raise NotFound()
    project: Project = await managed_project(actor, lot.project_id)
    if form.bid_deadline is not None and form.bid_deadline.tzinfo is None:
        raise InvalidInput(field="bidDeadline")

    async def change() -> dict[str, Any]:
        now = clock.now()
        locked = await lock(Lot.filter(id=lot.id)).get()
        before = _at(locked.config, "bid_deadline")
        if locked.status != LotStatus.OPEN.value or before is None or now >= before:
            raise ClarificationClosed(deadline=before or now)
        procedure = Procedure(locked.procedure)
        minimum = clarification_minimum(procedure, project.category) if form.changes_documents else None
        earliest = before
        if minimum is not None:
            earliest = earliest_deadline(now, before, minimum, await calendar.current())
        if form.bid_deadline is not None and form.bid_deadline < earliest:
            if form.bid_deadline < before:
                raise InvalidInput(field="bidDeadline")  # a clarification never brings the deadline forward
            raise DeadlineTooEarly(deadline=earliest, basis=minimum.basis if minimum else "")
        after = max(earliest, form.bid_deadline or earliest)
        notice = await _draft_notice(actor, locked, form)
        answered = await _answer(actor, locked, form.answers, now)
        body = sanitize(notice.body_html + _qa_html(answered))
        await Announcement.filter(id=notice.id).update(body_html=body, body_text=plain_text(body))
        if after != before:
            await _move_deadline(locked, before, after, now)
        published = await announcements.publish_announcement(actor, notice.id)
        clarification = await Clarification.create(
            lot_id=locked.id,
            announcement_id=published.id,
            changes_documents=form.changes_documents,
            deadline_before=before,
            deadline_after=after,
            minimum_days=minimum.days if minimum else None,
            working_days=bool(minimum and minimum.working_days),
            legal_basis=minimum.basis if minimum and after != before else "",
            published_by=actor.user_id,
            published_at=now,
        )
        for question, _ in answered:
            question.clarification_id = clarification.id
            await question.save(update_fields=["status", "answer", "answered_by", "answered_at", "clarification_id"])
        if form.changes_documents:
            clarification.flagged_bids = await _flag_bids(locked, clarification, after, now)
            await clarification.save(update_fields=["flagged_bids"])
        await events.record(
            ClarificationPublished(
                object_id=str(clarification.id),
                lot_id=locked.id,
                announcement_id=published.id,
                changes_documents=form.changes_documents,
                deadline_before=before,
                deadline_after=after,
                moved=after != before,
                legal_basis=clarification.legal_basis,
                answered=len(answered),
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"id": clarification.id}

    request = {
        "lot": form.lot_id,
        "changes": form.changes_documents,
        "answers": [[a.question_id, a.text] for a in form.answers],
        "announcement": form.announcement_id,
        "title": form.title,
        "body": form.body_html,
        "deadline": form.bid_deadline.isoformat() if form.bid_deadline else None,
    }
    result, _ = await run_once(actor, idempotency_key, "clarification.publish", request, change)
    return await Clarification.get(id=result["id"])


async def lot_clarifications(lot_id: int) -> list[Clarification]:
    """A lot's clarifications, oldest first: public, as their notices are."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    return list(await Clarification.filter(lot_id=lot_id).order_by("id"))


@raises(
    BidDeadlinePassed,
    NotRegistered,
    SecurityMissing,
    GuaranteeValidityShortfall,
    NoBidToConfirm,
    NotSealedTender,
    TwoFactorRequired,
)
@use_case("sealed_bid.confirm", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def confirm(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> SealedBid:
    """The bidder confirms that its sealed bid, flagged by a change of the documents, stands under the changed
    documents; before the deadline, with its registration and security still in place. Confirming again is a no-op."""
    lot = await _open_lot(actor, lot_id)
    check_bidder_authentication(actor, lot)
    org_id = int(actor.org_id or 0)  # checked by _open_lot

    async def change() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot.id)).get()
        now = clock.now()
        facts = {"lot_status": locked.status, "now": now, "deadline": _at(locked.config, "bid_deadline")}
        BID.precheck("confirm", by=actor, **facts, registered=True, security=True)
        bid = await lock(
            SealedBid.filter(lot_id=lot.id, organisation_id=org_id, status=BidStatus.UNCONFIRMED.value)
        ).first()
        if bid is None:
            done = await SealedBid.filter(
                lot_id=lot.id, organisation_id=org_id, status=BidStatus.SUBMITTED.value, confirmed_at__isnull=False
            ).first()
            if done is None:
                raise NoBidToConfirm()
            return {"id": done.id}
        registered = await registration.active(lot.id, org_id) is not None
        security = registered and await registration.security_in_place(lot.id, org_id, now)
        short = await registration_security.shortfall(lot.id, org_id, now) if registered and not security else None
        bid.status = BID.fire(
            bid.status, "confirm", by=actor, **facts, registered=registered, security=security, security_short=short
        ).value
        bid.confirmed_at = now
        await bid.save(update_fields=["status", "confirmed_at"])
        await events.record(
            SealedBidConfirmed(
                object_id=str(bid.id),
                lot_id=lot.id,
                sha256=bid.ciphertext_sha256,
                audience=Audience(orgs=(org_id,), roles=()),
            ),
            actor,
        )
        return {"id": bid.id}

    result, _ = await run_once(actor, idempotency_key, "sealed_bid.confirm", {"lot": lot.id}, change)
    return await SealedBid.get(id=result["id"])


async def lapse_unconfirmed(lot_id: int, now: datetime) -> int:
    """At the deadline (the opening's step, in its transaction): bids still unconfirmed lapse; how many."""
    lapsed = await lock(SealedBid.filter(lot_id=lot_id, status=BidStatus.UNCONFIRMED.value))
    for bid in lapsed:
        bid.status = BID.fire(bid.status, "lapse", by=SYSTEM).value
        bid.ended_at = now
        await bid.save(update_fields=["status", "ended_at"])
        await events.record(
            SealedBidLapsed(
                object_id=str(bid.id),
                lot_id=lot_id,
                sha256=bid.ciphertext_sha256,
                audience=Audience(orgs=(bid.organisation_id,), roles=()),
            ),
            SYSTEM,
        )
    return len(lapsed)


async def return_unopened(lot_id: int, now: datetime) -> int:
    """A lot terminated before its opening: every sealed bid still standing or flagged by a change is returned
    unopened and its bidder told, once (a repeat finds none left); how many."""
    standing = await lock(
        SealedBid.filter(lot_id=lot_id, status__in=(BidStatus.SUBMITTED.value, BidStatus.UNCONFIRMED.value))
    )
    for bid in standing:
        flagged = bid.status == BidStatus.UNCONFIRMED.value
        bid.status = BID.fire(bid.status, "return", by=SYSTEM).value
        bid.ended_at = now
        await bid.save(update_fields=["status", "ended_at"])
        await events.record(
            SealedBidReturned(
                object_id=str(bid.id),
                lot_id=lot_id,
                sha256=bid.ciphertext_sha256,
                was_flagged=flagged,
                audience=Audience(orgs=(bid.organisation_id,), roles=()),
            ),
            SYSTEM,
        )
    return len(standing)
