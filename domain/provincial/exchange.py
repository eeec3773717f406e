"""Real-time exchange with the provincial platform (实时交互至省公共资源交易网; Qingdao plan 2(二)4).

Every published announcement (the notice, the candidates' publicity, the result with its winner and amount, the
contract) is queued by a reaction to its publication (domain/wiring.py), mapped to the national data specification
(domain/provincial/spec.py), and sent by the worker's `provincial` loop through the adapter plugged here (api/
provincial.py: HTTPS, signed with HMAC-SM3/SHA-256 or SM2). The sender leases due messages as the push sender does;
a failure (no answer, 5xx, an error receipt) is retried with exponential backoff, and after MAX_ATTEMPTS tries the
message is dead, for an operator to send again. Each message has one id, derived from the object, which the province
deduplicates by: a retry after a lost receipt is never a second item there. Before a send, the lot is checked
against the data-quality rules (domain/provincial/quality.py); a blocking finding holds the message until the lot is
clean. Reconciliation asks the province what it holds for a day and sends again what it lacks or holds differently.

Without an adapter (no PROVINCIAL_EXCHANGE_URL) messages are queued and kept, and nothing is sent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.accounts.models import Organisation, User
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, raises
from domain.common.events import DomainEvent, digest, use_case
from domain.common.idempotency import run_once
from domain.common.lifecycle import SYSTEM as SYSTEM_STEP
from domain.common.storage import claim, lock
from domain.provincial import quality, spec
from domain.provincial.models import ProvincialMessage, QualityFinding
from domain.provincial.states import TABLE, MessageStatus
from domain.publication.events import AnnouncementPublished
from domain.publication.models import Announcement, Lot, Project
from domain.results.models import Award, Candidate, Contract

log = logging.getLogger("palmtrade.provincial")

NAMESPACE = uuid.UUID("6f1c2a4e-2b0c-4d2e-9b1a-5e7d0c3f8a11")  # message ids: uuid5 of the object in this space
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Receipt:
    """The province's answer to one message (回执): accepted with its own id, or an error it gave."""

    accepted: bool
    receipt_id: str | None = None
    error: str | None = None


class PlatformUnavailable(Exception):
    """No answer, or a 5xx: try again later."""


class ProvincialPlatform(Protocol):
    """The provincial platform's interface as PalmTrade uses it."""

    async def send(self, message: dict[str, Any]) -> Receipt:
        """Delivers one message; PlatformUnavailable when it did not answer."""
        ...

    async def holdings(self, day: date) -> dict[str, str]:
        """What the province holds from this platform, published that day (Beijing): message id -> digest."""
        ...


@dataclass(slots=True)
class _Deps:
    platform: ProvincialPlatform | None = None
    platform_code: str = ""
    max_attempts: int = 8
    notice_media: str = ""  # 公示发布媒体: where the platform publishes (PROVINCIAL_NOTICE_MEDIA)
    public_url: str = ""  # an announcement's public address, `{id}` its id (PROVINCIAL_PUBLIC_URL)
    examiner_name: str = ""  # 交易平台数据验证责任人 (PROVINCIAL_EXAMINER_NAME)


deps = _Deps()


def configure(
    platform: ProvincialPlatform | None,
    platform_code: str = "",
    max_attempts: int = 8,
    *,
    notice_media: str = "",
    public_url: str = "",
    examiner_name: str = "",
) -> None:
    """Plugs the adapter (api/services.plug_adapters); None keeps messages queued and sends nothing. The rest are
    items of the candidates' publicity (511) that only the deployment knows."""
    deps.platform, deps.platform_code, deps.max_attempts = platform, platform_code, max(1, max_attempts)
    deps.notice_media, deps.public_url, deps.examiner_name = notice_media, public_url, examiner_name


# ---------------------------------------------------------------- events (audited)


@dataclass(frozen=True, kw_only=True)
class ProvincialMessageChanged(DomainEvent):
    """A message to the province moved: sent (with the province's receipt id), held, dead, queued again."""

    type = "provincial.message"
    object_type = "ProvincialMessage"
    message_id: str
    status: str
    attempts: int
    lot_id: int | None
    receipt_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProvincialReconciled(DomainEvent):
    type = "provincial.reconciled"
    object_type = "ProvincialExchange"
    day: str
    missing: tuple[str, ...]
    differing: tuple[str, ...]
    unknown: tuple[str, ...]


async def _changed(actor: Actor, m: ProvincialMessage, reason: str | None = None) -> None:
    await events.record(
        ProvincialMessageChanged(
            object_id=str(m.id),
            message_id=m.message_id,
            status=m.status,
            attempts=m.attempts,
            lot_id=m.lot_id,
            receipt_id=m.receipt_id,
            reason=reason,
        ),
        actor,
    )


# ---------------------------------------------------------------- queueing


def message_id(object_type: str, object_id: int) -> str:
    return uuid.uuid5(NAMESPACE, f"{object_type}:{object_id}").hex


async def _values(ann: Announcement) -> tuple[str, dict[str, Any]]:
    project = await Project.get(id=ann.project_id)
    lot = await Lot.get_or_none(id=ann.lot_id) if ann.lot_id else None
    award = await Award.get_or_none(lot_id=lot.id) if lot else None
    contract = await Contract.get_or_none(lot_id=lot.id) if lot else None
    of = spec.data_set(ann.type)
    if of == spec.RESULT and (award is None or ann.type == "candidate_publicity"):
        of = spec.NOTICE  # a publicity or a failure (流标, 流拍) names no winner: it is a notice
    if of == spec.CONTRACT and contract is None:
        of = spec.NOTICE
    # an engineering project's candidates' publicity and contract go in their own sets (511, 512)
    of = spec.trade_set(project.category, of, ann.type)
    candidates = await Candidate.filter(lot_id=lot.id).order_by("rank").limit(3) if of == spec.PUBLICITY and lot else []
    orgs = {
        o.id: o
        for o in await Organisation.filter(
            id__in=[
                project.tenderer_id,
                *([award.organisation_id] if award else []),
                *(c.organisation_id for c in candidates),
            ]
        )
    }
    corrected = await Announcement.get_or_none(id=ann.corrects_id) if ann.corrects_id else None
    tenderer = orgs.get(project.tenderer_id)
    winner = orgs.get(award.organisation_id) if award else None
    published = spec.time_text(ann.published_at or clock.now())
    lot_code = lot.trade_code if lot else None
    values: dict[str, Any] = {
        "TENDER_PROJECT_CODE": project.trade_code,
        "TENDER_PROJECT_NAME": project.name,
        "BID_SECTION_CODES": lot_code,
        "BID_SECTION_CODE": lot_code,
        "BID_SECTION_NAME": lot.name if lot else None,
        "UNIFIED_DEAL_CODES": lot_code,
        "UNIFIED_DEAL_CODE": lot_code,
        "TENDER_PROJECT_TYPE": spec.industry_of(project.category, project.industry),
        "REGION_CODE": project.region_code,
        "TENDERER_NAME": tenderer.name if tenderer else None,
        "TENDERER_CODE": tenderer.credit_code if tenderer else None,
        "NOTICE_NAME": ann.title,
        "NOTICE_CONTENT": ann.body_text,
        "NOTICE_SEND_TIME": published,
        "NOTICE_NATURE": spec.notice_nature(ann.type, ann.corrects_id),
        "BULLETIN_TYPE": spec.bulletin_type(
            ann.type, corrects=corrected.type if corrected else None, winner=award is not None
        ),
        "ORIGINAL_BULLETIN_CODE": message_id("Announcement", ann.corrects_id) if ann.corrects_id else None,
        "DATA_TIMESTAMP": spec.time_text(clock.now()),
    }
    if of in (spec.RESULT, spec.CONTRACT) and award is not None:
        values |= {
            "WIN_BIDDER_NAME": winner.name if winner else None,
            "WIN_BIDDER_CODE": winner.credit_code if winner else None,
            "BID_AMOUNT": spec.wan(award.price_fen),
            "PRICE_UNIT": spec.PRICE_UNIT_WAN,
        }
    if of == spec.CONTRACT and contract is not None:
        values |= {
            "CONTRACT_CODE": contract.contract_no,
            "CONTRACT_AMOUNT": spec.wan(contract.amount_fen),
            "CONTRACT_SIGNING_TIME": spec.day_text(contract.signed_on),
        }
    if of == spec.PUBLICITY:
        publisher = await User.get_or_none(id=ann.published_by) if ann.published_by else None
        starts = ann.publicity_starts_at or ann.published_at or clock.now()
        values |= {
            "PUBLICITY_NAME": ann.title,
            "PUBLICITY_CONTENT": ann.body_text,
            "PUBLICITY_REFER_TIME": published,
            "PUBLICITY_TYPE": spec.publicity_type(ann.corrects_id, len(candidates)),
            "PUBLICITY_START_TIME": spec.time_text(starts),
            "PUBLICITY_END_TIME": spec.time_text(ann.publicity_ends_at),
            "OBJECTION_METHOD": spec.OBJECTION_METHOD_TEXT,
            "NOTICE_MEDIA": deps.notice_media or None,
            "URL": deps.public_url.replace("{id}", message_id("Announcement", ann.id)) if deps.public_url else None,
            "BULLETIN_DUTY": publisher.name if publisher else (tenderer.contact_name if tenderer else None),
            "EXAMINER_NAME": deps.examiner_name or None,
        }
        for c, rank in zip(candidates, ("FIRST", "SECOND", "THIRD"), strict=False):
            org = orgs.get(c.organisation_id)
            values |= {
                f"{rank}_BIDDER_NAME": org.name if org else None,
                f"{rank}_BIDDER_CODE": org.credit_code if org else None,
            }
    if of == spec.WORKS_CONTRACT and contract is not None:
        values |= {
            "TENDER_CODE": tenderer.credit_code if tenderer else None,
            "BIDDER_NAME": winner.name if winner else None,
            "BIDDER_CODE": winner.credit_code if winner else None,
            "PRICE_UNIT": spec.PRICE_UNIT_WAN,
            "CONTRACT_CODE": contract.contract_no,
            "CONTRACT_NAME": f"{lot.name}合同" if lot else None,
            "PRICE_FORM_CODE": spec.PRICE_FORM_AMOUNT,
            "CONTRACT_CONTENT": ann.body_text,
            "CONTRACT_PRICE": spec.wan(contract.amount_fen),
            "CONTRACT_SIGN_TIME": spec.day_text(contract.signed_on),
        }
    return of, values


def data_of(m: ProvincialMessage) -> dict[str, Any]:
    """The mapped items as sent: the platform's identifier (the setting when it is sent) first, then the rest."""
    return {"PLATFORM_CODE": deps.platform_code or None, **{k: v for k, v in m.payload.items() if k != "PLATFORM_CODE"}}


def envelope(m: ProvincialMessage) -> dict[str, Any]:
    """The message as sent: its id, the specification version, the specification's data set of its trade (number,
    English and Chinese names: how the province tells the trades apart, spec.DATA_SETS) and the mapped items."""
    declared = spec.spec_data_set(m.category, m.data_type)
    return {
        "messageId": m.message_id,
        "specVersion": spec.SPEC_VERSION,
        "dataNo": declared.no,
        "dataType": declared.name,
        "dataCn": declared.label,
        "platformCode": deps.platform_code,
        "data": data_of(m),
    }


async def queue_announcement(event: AnnouncementPublished) -> None:
    """Reaction to a publication: the announcement queued for the province once (a repeat of the event is
    ignored: the message id is the announcement's)."""
    ann = await Announcement.get_or_none(id=int(event.object_id))
    if ann is None or ann.type in ("complaint_decision", "bad_conduct"):
        return  # the supervisor's decisions and the credit notices go by their own exchanges
    mid = message_id("Announcement", ann.id)
    if await ProvincialMessage.exists(message_id=mid):
        return
    of, values = await _values(ann)
    payload = spec.fields_of(of, values)
    now = clock.now()
    await ProvincialMessage.create(
        message_id=mid,
        object_type="Announcement",
        object_id=ann.id,
        lot_id=ann.lot_id,
        category=ann.category,
        kind=ann.type,
        data_type=of,
        payload=payload,
        digest=digest(payload),
        status=TABLE.fire(None, "queue", by=SYSTEM_STEP).value,
        due_at=now,
        published_on=clock.to_shanghai(ann.published_at or now).date(),
        created_at=now,
        updated_at=now,
    )


# ---------------------------------------------------------------- sending


def backoff(attempts: int) -> timedelta:
    """The wait before try `attempts + 1`: 30 s, 1 min, 2 min ... up to an hour."""
    wait: timedelta = BASE_BACKOFF * (2 ** max(0, attempts - 1))
    return min(wait, MAX_BACKOFF)


async def _lease(owner: str, batch: int) -> list[ProvincialMessage]:
    now = clock.now()
    async with in_transaction():
        due = await claim(
            ProvincialMessage.filter(status=MessageStatus.QUEUED, due_at__lte=now)
            .filter(Q(lease_until=None) | Q(lease_until__lt=now))
            .order_by("due_at", "id")
            .limit(batch)
        )
        if due:
            await ProvincialMessage.filter(id__in=[m.id for m in due]).update(
                lease_owner=owner, lease_until=now + LEASE
            )
    return list(due)


async def _settle(m: ProvincialMessage, owner: str, reason: str | None = None, **changes: Any) -> None:
    """Writes the outcome of a send iff this sender still holds the lease; audited."""
    async with in_transaction():
        row = await lock(ProvincialMessage.filter(id=m.id, lease_owner=owner)).first()
        if row is None:
            return
        for k, v in {**changes, "lease_owner": None, "lease_until": None, "updated_at": clock.now()}.items():
            setattr(row, k, v)
        await row.save()
        await _changed(SYSTEM, row, reason)


async def send_due(owner: str, batch: int = 50) -> int:
    """One step of the worker's provincial loop: leases due messages, holds those of a lot with a blocking
    finding, sends the rest and records each receipt or failure; returns how many it handled."""
    platform = deps.platform
    if platform is None:
        return 0
    leased = await _lease(owner, batch)
    for m in leased:
        if m.lot_id is not None:
            held = await quality.blocking(m.lot_id)
            if held:
                rules = ", ".join(sorted({f.rule for f in held}))
                await _settle(
                    m,
                    owner,
                    f"held by {rules}",
                    status=TABLE.fire(m.status, "hold", by=SYSTEM_STEP).value,
                    last_error=f"data quality: {rules}"[:500],
                )
                continue
        attempts = m.attempts + 1
        try:
            receipt = await platform.send(envelope(m))
        except PlatformUnavailable as err:
            receipt = Receipt(accepted=False, error=f"unavailable: {err}"[:500])
        except Exception as err:  # an adapter bug or a malformed answer: retried like an outage
            log.exception("provincial adapter failed on %s", m.message_id)
            receipt = Receipt(accepted=False, error=f"{type(err).__name__}: {err}"[:500])
        if receipt.accepted:
            await _settle(
                m,
                owner,
                status=TABLE.fire(m.status, "deliver", by=SYSTEM_STEP).value,
                attempts=attempts,
                receipt_id=receipt.receipt_id,
                sent_at=clock.now(),
                last_error=None,
            )
        elif attempts >= deps.max_attempts:
            dead = TABLE.fire(m.status, "give_up", by=SYSTEM_STEP).value
            await _settle(m, owner, receipt.error, status=dead, attempts=attempts, last_error=receipt.error)
        else:
            await _settle(
                m,
                owner,
                receipt.error,
                status=TABLE.fire(m.status, "fail", by=SYSTEM_STEP).value,
                attempts=attempts,
                last_error=receipt.error,
                due_at=clock.now() + backoff(attempts),
            )
    return len(leased)


async def release_held(lot_id: int | None = None) -> int:
    """Held messages whose lot has no blocking finding any more go back in the queue (after the nightly check)."""
    query = ProvincialMessage.filter(status=MessageStatus.HELD)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    released = 0
    for m in await query:
        if m.lot_id is not None and await quality.blocking(m.lot_id):
            continue
        m.status = TABLE.fire(m.status, "release", by=SYSTEM_STEP).value
        m.due_at, m.updated_at = clock.now(), clock.now()
        await m.save()
        await _changed(SYSTEM, m, "data quality resolved")
        released += 1
    return released


@dataclass(frozen=True, kw_only=True)
class DataQualityRunRecorded(DomainEvent):
    """The nightly data-quality run: one audit entry per run (not one per finding: the findings are derived data,
    recomputed every night, and thousands of unchanged ones would drown the trail), naming the lots whose blocking
    findings appeared or cleared and how many held messages went back in the queue."""

    type = "data_quality.run"
    object_type = "DataQualityRun"
    lots_checked: int
    findings: int
    newly_blocked: tuple[int, ...]
    cleared: tuple[int, ...]
    released: int


async def nightly(now: datetime) -> int:
    """The nightly data-quality run (every lot), then the held messages whose lot is clean are queued again; the
    run is audited once, with the lots newly blocked and cleared; returns how many findings stand."""
    run = await quality.check_all(now)
    released = await release_held()
    await events.record(
        DataQualityRunRecorded(
            object_id=clock.to_shanghai(now).date().isoformat(),
            lots_checked=run.lots,
            findings=run.findings,
            newly_blocked=tuple(run.newly_blocked),
            cleared=tuple(run.cleared),
            released=released,
        ),
        SYSTEM,
    )
    return run.findings


# ---------------------------------------------------------------- operators


class MessageNotRetryable(InvalidTransition):
    """Only a queued, held or dead message is sent again; a sent one is in the province already."""

    code = "PROVINCIAL_MESSAGE_SENT"
    message_zh = "该报文已被省级平台接收（状态“{state}”），无需重发"
    message_en = "The provincial platform has this message already (state '{state}')"


def _operator(actor: Actor) -> None:
    if Role.OPERATOR not in actor.roles:
        raise PermissionDenied()


@raises(MessageNotRetryable)
@use_case("provincial.retry", "ProvincialMessage", lambda actor, pk, *a, **k: str(pk))
async def retry_now(actor: Actor, pk: int, idempotency_key: str | None = None) -> ProvincialMessage:
    """An operator sends a queued, held or dead message now (a dead one starts its tries afresh)."""
    _operator(actor)

    async def change() -> dict[str, Any]:
        m = await lock(ProvincialMessage.filter(id=pk)).first()
        if m is None:
            raise NotFound()
        if m.status == MessageStatus.SENT:
            raise MessageNotRetryable(state=m.status)
        if m.status == MessageStatus.DEAD:
            m.attempts = 0
        m.status = TABLE.fire(m.status, "retry", by=actor).value
        m.due_at, m.lease_owner, m.lease_until = clock.now(), None, None
        m.updated_at = clock.now()
        await m.save()
        await _changed(actor, m, "retry now")
        return {"id": m.id}

    result, _ = await run_once(actor, idempotency_key, "provincial.retry", {"id": pk}, change)
    return await ProvincialMessage.get(id=result["id"])


async def messages(
    actor: Actor, *, status: str | None = None, lot_id: int | None = None, limit: int = 200
) -> list[ProvincialMessage]:
    """The messages to the province, newest first; operators see all, supervisors those of their categories."""
    if Role.OPERATOR not in actor.roles and Role.SUPERVISOR not in actor.roles:
        raise PermissionDenied()
    query = ProvincialMessage.all()
    if Role.OPERATOR not in actor.roles:
        query = query.filter(category__in=sorted(actor.supervised_categories))
    if status:
        query = query.filter(status=status)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    return list(await query.order_by("-id").limit(limit))


@dataclass(frozen=True, kw_only=True)
class DataQualityRechecked(DomainEvent):
    """An operator checked a lot against the data-quality rules now: what stands, whether its blocking findings
    appeared or cleared, and the held messages that went back in the queue."""

    type = "data_quality.rechecked"
    object_type = "Lot"
    findings: int
    blocking: int
    rules: tuple[str, ...]
    newly_blocked: bool
    cleared: bool
    released: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recheck:
    lot_id: int
    findings: list[QualityFinding]
    newly_blocked: bool
    cleared: bool
    released: list[str]  # the message ids queued again


@raises()
@use_case("data_quality.recheck", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def recheck(actor: Actor, lot_id: int) -> Recheck:
    """An operator checks one lot against the data-quality rules now (not waiting for the night): its findings are
    replaced, a lot clean of blocking findings has its held messages queued again, and the check is audited with
    its result."""
    _operator(actor)
    if not await Lot.exists(id=lot_id):
        raise NotFound()
    check = await quality.check_lot_against_last(lot_id)
    before = set(
        await ProvincialMessage.filter(lot_id=lot_id, status=MessageStatus.HELD).values_list("message_id", flat=True)
    )
    if not check.blocked and before:
        await release_held(lot_id)
    still = set(
        await ProvincialMessage.filter(lot_id=lot_id, status=MessageStatus.HELD).values_list("message_id", flat=True)
    )
    released = sorted(str(mid) for mid in before - still)
    findings = await QualityFinding.filter(lot_id=lot_id).order_by("rule", "id")
    await events.record(
        DataQualityRechecked(
            object_id=str(lot_id),
            findings=len(findings),
            blocking=sum(1 for f in findings if f.blocking),
            rules=tuple(sorted({f.rule for f in findings})),
            newly_blocked=check.newly_blocked,
            cleared=check.cleared,
            released=tuple(released),
        ),
        actor,
    )
    return Recheck(lot_id, list(findings), check.newly_blocked, check.cleared, released)


# ---------------------------------------------------------------- reconciliation


@dataclass(frozen=True, slots=True)
class Reconciliation:
    day: date
    missing: list[str]  # sent, but the province does not hold it: queued again
    differing: list[str]  # the province holds another version: queued again
    unknown: list[str]  # the province holds it, PalmTrade never sent it


class ProvincialExchangeOff(DomainError):
    code = "PROVINCIAL_EXCHANGE_OFF"
    message_zh = "未配置省级平台数据交换"
    message_en = "No provincial exchange is configured"


class ProvincialPlatformUnavailable(DomainError):
    code = "PROVINCIAL_PLATFORM_UNAVAILABLE"
    message_zh = "省级平台暂时无法应答，请稍后再试"
    message_en = "The provincial platform did not answer; try again later"


async def reconcile(day: date, actor: Actor = SYSTEM) -> Reconciliation:
    """Compares what the province holds for a day with what was sent that day; what it lacks or holds otherwise is
    queued again (its message id unchanged, so the province stores it once)."""
    platform = deps.platform
    if platform is None:
        raise ProvincialExchangeOff()
    try:
        held = await platform.holdings(day)
    except PlatformUnavailable:
        raise ProvincialPlatformUnavailable() from None
    ours = await ProvincialMessage.filter(published_on=day)
    missing: list[str] = []
    differing: list[str] = []
    async with in_transaction():
        for m in ours:
            if m.status != MessageStatus.SENT:
                continue
            theirs = held.get(m.message_id)
            if theirs == digest(data_of(m)):
                continue
            (missing if theirs is None else differing).append(m.message_id)
            m.status = TABLE.fire(m.status, "resend", by=SYSTEM_STEP).value
            m.due_at, m.updated_at = clock.now(), clock.now()
            await m.save()
            await _changed(actor, m, "reconciliation: " + ("missing" if theirs is None else "differs"))
        unknown = sorted(set(held) - {m.message_id for m in ours})
        await events.record(
            ProvincialReconciled(
                object_id=day.isoformat(),
                day=day.isoformat(),
                missing=tuple(missing),
                differing=tuple(differing),
                unknown=tuple(unknown),
            ),
            actor,
        )
    return Reconciliation(day, missing, differing, unknown)


@raises(ProvincialExchangeOff, ProvincialPlatformUnavailable)
@use_case("provincial.reconcile", "ProvincialExchange", lambda actor, day, *a, **k: day.isoformat())
async def reconcile_day(actor: Actor, day: date) -> Reconciliation:
    """An operator reconciles a day now."""
    _operator(actor)
    return await reconcile(day, actor)


async def reconcile_recent(now: datetime) -> int:
    """The daily job: yesterday and today (Beijing) reconciled; nothing without an adapter."""
    if deps.platform is None:
        return 0
    today = clock.to_shanghai(now).date()
    done = 0
    for day in (today - timedelta(days=1), today):
        try:
            r = await reconcile(day)
        except ProvincialPlatformUnavailable:
            log.warning("the provincial platform did not answer the reconciliation of %s", day)
            continue
        done += len(r.missing) + len(r.differing)
    return done
