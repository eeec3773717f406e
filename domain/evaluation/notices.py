"""Telling drawn experts (专家抽取通知): when a draw is revealed, each expert it selected is sent a text and called
by an automatic voice call (the Yunnan plan's 自动语音通知), and answers with the keypad, in the app, or not at
all. A decline, or no answer within ANSWER_WINDOW, tells the operators a replacement draw (补抽) is needed; the
replacement's experts are told the same way when it is revealed. The notice gives the lot's name and when and
where to report, never its bidders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.accounts.models import Expert
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.clock import shanghai_text
from domain.common.errors import DomainError, NotFound
from domain.common.events import Audience, DomainEvent
from domain.common.storage import claim, lock
from domain.evaluation.models import ExpertDraw, ExpertNotice
from domain.publication.models import Lot
from domain.sms import services as sms

ANSWER_WINDOW = timedelta(minutes=30)
_COMPLETE = uuid.UUID("0c6d0f59-2b8e-4b8a-9d4f-1f0b8f3e6a21")
CALL_LEASE = timedelta(seconds=30)
CALL_BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5))
DEFAULT_PLACE = "公共资源交易中心评标区"


class Answer:
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NO_ANSWER = "no_answer"


class Call:
    DUE = "due"  # to be placed by a voice dispatcher
    PLACED = "placed"  # the provider is calling
    FAILED = "failed"  # the provider refused it for good (the text and the app remain)
    NONE = "none"  # no voice provider configured


@dataclass(frozen=True, kw_only=True)
class ExpertAnswered(DomainEvent):
    type = "expert_notice.answered"
    object_type = "ExpertNotice"
    lot_id: int
    draw_id: int
    expert_id: int
    answer: str
    channel: str


@dataclass(frozen=True, kw_only=True)
class ReplacementNeeded(DomainEvent):
    """An expert declined or did not answer: the operators must commit and reveal a replacement draw."""

    type = "expert_notice.replacement_needed"
    object_type = "Lot"
    lot_id: int
    expert_id: int
    answer: str


@dataclass(frozen=True, kw_only=True)
class CommitteeComplete(DomainEvent):
    """Every seat of the lot's committee is held by an expert who confirmed."""

    type = "expert_notice.committee_complete"
    object_type = "Lot"
    lot_id: int
    size: int


class NoticeAnswered(DomainError):
    code = "EXPERT_NOTICE_ANSWERED"
    message_zh = "您已答复过本次抽取通知"
    message_en = "You have already answered this notice"


_voice = {"calls": False}


def configure(calls: bool) -> None:
    """Whether a voice provider is configured (VOICE_PROVIDERS): without one, experts get the text and the app."""
    _voice["calls"] = calls


def report_at(lot: Lot) -> tuple[str, str]:
    """When and where the committee reports: the lot's evaluation time and place, else its opening."""
    when = lot.config.get("evaluation_at") or lot.config.get("opening_at") or lot.config.get("bid_deadline")
    time_text = shanghai_text(datetime.fromisoformat(when)) if when else "另行通知的时间"
    return time_text, str(lot.config.get("evaluation_place") or DEFAULT_PLACE)


async def open_for(draw: ExpertDraw) -> list[ExpertNotice]:
    """Notices for the experts a revealed draw selected, in the caller's transaction: a text queued to each, and
    a voice call due when a voice provider is configured."""
    calls = _voice["calls"]
    lot = await Lot.get(id=draw.lot_id)
    time_text, place = report_at(lot)
    now = clock.now()
    made = []
    for expert in await Expert.filter(id__in=list(draw.selected or [])):
        if await ExpertNotice.exists(draw_id=draw.id, expert_id=expert.id):
            continue
        made.append(
            await ExpertNotice.create(
                draw_id=draw.id,
                lot_id=lot.id,
                expert_id=expert.id,
                phone=expert.phone,
                status=Answer.PENDING,
                call_status=Call.DUE if calls else Call.NONE,
                call_due_at=now if calls else None,
                answer_due_at=now + ANSWER_WINDOW,
                created_at=now,
            )
        )
        await sms.queue(
            expert.phone,
            "expert_drawn",
            {"lot": lot.name, "time": time_text, "place": place},
            ttl=ANSWER_WINDOW,
            time_critical=True,
        )
    return made


def call_params(notice: ExpertNotice, lot: Lot) -> dict[str, str]:
    """What the voice call says: the lot's name, when and where to report."""
    time_text, place = report_at(lot)
    return {"lot": lot.name, "time": time_text, "place": place}


async def lease_calls(owner: str, limit: int) -> list[ExpertNotice]:
    """Unanswered notices whose call is due, for this voice dispatcher alone."""
    now = clock.now()
    async with in_transaction():
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        rows = await claim(
            ExpertNotice.filter(status=Answer.PENDING, call_status=Call.DUE, call_due_at__lte=now).filter(free)
        ).limit(limit)
        for row in rows:
            row.lease_until, row.lease_owner = now + CALL_LEASE, owner
            await row.save(update_fields=["lease_until", "lease_owner"])
    return list(rows)


async def call_outcome(notice: ExpertNotice, provider: str, outcome: str, call_id: str | None) -> None:
    """Records a call attempt: placed (then the provider's report brings the answer), retried later, or failed."""
    async with in_transaction():
        current = await lock(ExpertNotice.filter(id=notice.id)).get()
        current.call_attempts += 1
        current.call_provider = provider
        current.lease_until = current.lease_owner = None
        if outcome == "placed":
            current.call_status, current.call_id = Call.PLACED, call_id
        elif outcome == "retry" and current.call_attempts <= len(CALL_BACKOFF):
            current.call_due_at = clock.now() + CALL_BACKOFF[current.call_attempts - 1]
        else:
            current.call_status = Call.FAILED
        await current.save()


async def _answer(notice: ExpertNotice, answer: str, channel: str, actor: Actor) -> ExpertNotice:
    now = clock.now()
    notice.status, notice.answered_at, notice.answered_by = answer, now, channel
    await notice.save(update_fields=["status", "answered_at", "answered_by"])
    await events.record(
        ExpertAnswered(
            object_id=str(notice.id),
            lot_id=notice.lot_id,
            draw_id=notice.draw_id,
            expert_id=notice.expert_id,
            answer=answer,
            channel=channel,
            audience=Audience(),
        ),
        actor,
    )
    if answer == Answer.CONFIRMED:
        await _complete(notice.lot_id, actor)
    if answer in (Answer.DECLINED, Answer.NO_ANSWER):
        await events.record(
            ReplacementNeeded(
                object_id=str(notice.lot_id),
                lot_id=notice.lot_id,
                expert_id=notice.expert_id,
                answer=answer,
                audience=Audience(roles=(Role.OPERATOR.value,)),
            ),
            actor,
        )
    return notice


async def _complete(lot_id: int, actor: Actor) -> None:
    """Records, once per lot, that the committee is complete: as many confirmations as the first draw's seats."""
    first = await ExpertDraw.filter(lot_id=lot_id).order_by("round").first()
    if first is None:
        return
    confirmed = await ExpertNotice.filter(lot_id=lot_id, status=Answer.CONFIRMED).count()
    if confirmed != first.size:
        return
    await events.record(
        CommitteeComplete(object_id=str(lot_id), lot_id=lot_id, size=first.size, audience=Audience()),
        actor,
        event_id=uuid.uuid5(_COMPLETE, str(lot_id)),
    )


async def answer_in_app(actor: Actor, lot_id: int, confirm: bool) -> ExpertNotice:
    """The signed-in expert confirms or declines its latest notice for the lot, once."""
    if actor.expert_id is None:
        raise NotFound()
    async with in_transaction():
        notice = await lock(ExpertNotice.filter(lot_id=lot_id, expert_id=actor.expert_id)).order_by("-id").first()
        if notice is None:
            raise NotFound()
        if notice.status != Answer.PENDING:
            raise NoticeAnswered()
        return await _answer(notice, Answer.CONFIRMED if confirm else Answer.DECLINED, "app", actor)


async def apply_call_report(provider: str, call_id: str | None, answer: str) -> bool:
    """A voice provider's report: the key the expert pressed (confirmed, declined) or no answer. A notice already
    answered (in the app, or by an earlier report) keeps its answer."""
    if not call_id or answer not in (Answer.CONFIRMED, Answer.DECLINED, Answer.NO_ANSWER):
        return False
    async with in_transaction():
        notice = await lock(ExpertNotice.filter(call_provider=provider, call_id=call_id)).first()
        if notice is None or notice.status != Answer.PENDING:
            return False
        if answer == Answer.NO_ANSWER and clock.now() < notice.answer_due_at:
            return False  # the text and the app may still bring an answer before the window ends
        await _answer(notice, answer, "voice", SYSTEM)
    return True


async def expire(now: datetime) -> int:
    """Notices still unanswered when their window ends: no answer, and a replacement is asked for."""
    done = 0
    for notice in await ExpertNotice.filter(status=Answer.PENDING, answer_due_at__lte=now).limit(200):
        async with in_transaction():
            current = await lock(ExpertNotice.filter(id=notice.id)).get()
            if current.status == Answer.PENDING:
                await _answer(current, Answer.NO_ANSWER, "timeout", SYSTEM)
                done += 1
    return done


async def of_lot(lot_id: int) -> list[ExpertNotice]:
    return list(await ExpertNotice.filter(lot_id=lot_id).order_by("id"))
