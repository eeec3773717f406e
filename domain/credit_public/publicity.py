"""Public credit records (不良行为记录信息公开发布): bad-conduct records and joint punishments are published with
personal data masked for the publicity period their severity sets, then withdrawn from public view by the
chronograph (officials keep reading them). A record bound to a lot is also announced (不良行为记录公告)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.accounts.models import Organisation, User
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, raises
from domain.common.events import Audience, DomainEvent
from domain.common.storage import lock
from domain.credit.models import CreditPublication, CreditRecord, JointPunishment
from domain.credit.services import CreditRecorded, PunishmentLifted, PunishmentListed
from domain.publication.announcements import announce
from domain.publication.models import Lot
from domain.publication.states import AnnouncementType

MAX_PAGE = 100


class Severity(StrEnum):
    GENERAL = "general"  # 一般失信行为
    SERIOUS = "serious"  # 严重失信行为


@dataclass(frozen=True, slots=True)
class Period:
    zh: str
    publicity_days: int  # 最长公示期: withdrawn from public view after it
    minimum_days: int  # 最短公示期: credit repair may be applied for after it
    basis: str


_MEASURES = "《失信行为纠正后的信用信息修复管理办法（试行）》（国家发展和改革委员会令2023年第58号）"

# The publicity periods by severity (最短公示期 / 最长公示期): general misconduct three months to one year, serious
# misconduct one year to three years, counted from the decision (the record).
PERIODS: dict[Severity, Period] = {
    Severity.GENERAL: Period("一般失信行为", 365, 90, f"{_MEASURES}：一般失信行为信息最短公示期三个月，最长公示期一年"),
    Severity.SERIOUS: Period(
        "严重失信行为", 3 * 365, 365, f"{_MEASURES}：严重失信行为信息最短公示期一年，最长公示期三年"
    ),
}


class Withdrawal(StrEnum):
    EXPIRED = "expired"  # the publicity period ended
    REPAIRED = "repaired"  # credit repair approved
    LIFTED = "lifted"  # the joint punishment was lifted


# -------------------------------------------------------------------------------------------------- masking

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])|(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{7,8}(?!\d)")
_LABELLED_NAME = re.compile(
    r"(法定代表人|负责人|联系人|项目经理|项目负责人|委托代理人|经办人|姓名|当事人)([：:]\s*|\s+)([\u4e00-\u9fa5·]{2,4})"
)


def _name_mask(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


def _id_mask(match: re.Match[str]) -> str:
    return f"{match.group(1) or match.group(3)}{'*' * (12 if match.group(1) else 9)}"


def mask(text: str, names: tuple[str, ...] = ()) -> str:
    """The text with personal data masked (个人信息): identity numbers, mobile and fixed phone numbers, the names
    given and names after a label such as 法定代表人 or 项目经理 (个人信息保护法 第二十八条: identity numbers are
    sensitive personal information)."""
    out = _ID_NUMBER.sub(_id_mask, text)
    out = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", out)
    out = _LANDLINE.sub(lambda m: f"{m.group(1)}********", out)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, _name_mask(name))
    return _LABELLED_NAME.sub(lambda m: f"{m.group(1)}{m.group(2)}{_name_mask(m.group(3))}", out)


async def _people_of(organisation_id: int) -> tuple[str, ...]:
    names = await User.filter(organisation_id=organisation_id).values_list("name", flat=True)
    return tuple(str(n) for n in names if n)


# -------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class CreditPublicised(DomainEvent):
    """Public (the change feed, every client): a record entered public view; masked text only."""

    type = "credit.publicised"
    object_type = "CreditPublication"
    organisation_name: str
    credit_code: str
    title: str
    severity: str
    public_until: datetime


@dataclass(frozen=True, kw_only=True)
class CreditPublicityEnded(DomainEvent):
    """Public: a record left public view (its period ended, a repair was approved, the punishment lifted)."""

    type = "credit.publicity_ended"
    object_type = "CreditPublication"
    credit_code: str
    reason: str


# -------------------------------------------------------------------------------------------------- publishing


async def _announce(lot_id: int, title: str, body_html: str) -> int:
    lot = await Lot.get(id=lot_id)
    notice = await announce(SYSTEM, lot, AnnouncementType.BAD_CONDUCT, title, body_html)
    return int(notice.id)


def _body(org: Organisation, pub: CreditPublication, period: Period) -> str:
    return (
        f"<p>市场主体：{html.escape(org.name)}（统一社会信用代码 {html.escape(org.credit_code)}）</p>"
        f"<p>不良行为：{html.escape(pub.title)}</p><p>{html.escape(pub.summary)}</p>"
        f"<p>失信程度：{period.zh}；公示期自 {clock.shanghai_text(pub.published_at)} 至 "
        f"{clock.shanghai_text(pub.public_until)}。</p><p>依据：{html.escape(period.basis)}</p>"
    )


async def publish(
    *,
    organisation_id: int,
    severity: Severity,
    title: str,
    summary: str,
    decided_at: datetime,
    record_id: int | None = None,
    punishment_id: int | None = None,
    lot_id: int | None = None,
    category: str | None = None,
    public_until: datetime | None = None,
) -> CreditPublication:
    """Puts a record in public view, masked, for its severity's period counted from the decision (announced when
    it belongs to a lot); call it inside the transaction of the record. A record already published is returned."""
    existing = await CreditPublication.get_or_none(
        **({"record_id": record_id} if record_id is not None else {"punishment_id": punishment_id})
    )
    if existing is not None:
        return existing
    org = await Organisation.get(id=organisation_id)
    people = await _people_of(organisation_id)
    period = PERIODS[severity]
    now = clock.now()
    until = max(public_until or decided_at, decided_at + timedelta(days=period.publicity_days))
    pub = await CreditPublication.create(
        organisation_id=organisation_id,
        record_id=record_id,
        punishment_id=punishment_id,
        lot_id=lot_id,
        category=category,
        severity=severity.value,
        title=mask(title, people)[:300],
        summary=mask(summary, people),
        published_at=now,
        public_until=until,
        repairable_from=decided_at + timedelta(days=period.minimum_days),
        next_check_at=until,
    )
    if lot_id is not None:
        pub.announcement_id = await _announce(lot_id, f"{org.name}不良行为记录公告", _body(org, pub, period))
        await pub.save(update_fields=["announcement_id"])
    await events.record(
        CreditPublicised(
            object_id=str(pub.id),
            organisation_name=org.name,
            credit_code=org.credit_code,
            title=pub.title,
            severity=pub.severity,
            public_until=until,
            audience=Audience(orgs=(organisation_id,), roles=("operator", "supervisor"), public=True),
        ),
        SYSTEM,
    )
    return pub


async def withdraw(pub: CreditPublication, reason: Withdrawal, actor: Actor = SYSTEM) -> None:
    """Takes a record out of public view (kept for officials); call it inside a transaction with the row locked."""
    if pub.withdrawn_at is not None:
        return
    pub.withdrawn_at, pub.withdrawn_reason, pub.next_check_at = clock.now(), reason.value, None
    await pub.save(update_fields=["withdrawn_at", "withdrawn_reason", "next_check_at"])
    org = await Organisation.get(id=pub.organisation_id)
    await events.record(
        CreditPublicityEnded(
            object_id=str(pub.id),
            credit_code=org.credit_code,
            reason=reason.value,
            audience=Audience(orgs=(pub.organisation_id,), roles=("operator", "supervisor"), public=True),
        ),
        actor,
    )


async def end_publicity(pub: CreditPublication, now: datetime) -> None:
    """The chronograph's step: a record whose publicity period is over leaves public view."""
    if pub.withdrawn_at is None and pub.public_until <= now:
        await withdraw(pub, Withdrawal.EXPIRED)
        return
    pub.next_check_at = None if pub.withdrawn_at is not None else pub.public_until
    await pub.save(update_fields=["next_check_at"])


# -------------------------------------------------------------------------------------------------- reactions


async def publish_recorded(event: CreditRecorded) -> None:
    """A bad record added by an official is published as general misconduct (a breach of a commitment is
    published where it is made, with its lot); repeats change nothing."""
    record = await CreditRecord.get_or_none(id=int(event.object_id))
    if record is None or record.kind != "bad" or await CreditPublication.exists(record_id=record.id):
        return
    await publish(
        organisation_id=record.organisation_id,
        severity=Severity.GENERAL,
        title=record.category,
        summary=f"{record.description}（{record.source}）",
        decided_at=record.recorded_at,
        record_id=record.id,
    )


async def publish_punishment(event: PunishmentListed) -> None:
    """A joint punishment is published as serious misconduct, at least while it is in force."""
    entry = await JointPunishment.get_or_none(id=int(event.object_id))
    if entry is None or entry.lifted_at is not None or await CreditPublication.exists(punishment_id=entry.id):
        return
    await publish(
        organisation_id=entry.organisation_id,
        severity=Severity.SERIOUS,
        title="失信联合惩戒",
        summary=f"{entry.reason}（{entry.authority} {entry.document_no}）",
        decided_at=entry.starts_at,
        punishment_id=entry.id,
        public_until=entry.ends_at,
    )


async def withdraw_lifted(event: PunishmentLifted) -> None:
    """A lifted punishment leaves public view at once."""
    pub = await lock(CreditPublication.filter(punishment_id=int(event.object_id))).first()
    if pub is not None:
        await withdraw(pub, Withdrawal.LIFTED)


# -------------------------------------------------------------------------------------------------- reading


def _public(now: datetime) -> dict[str, object]:
    return {"withdrawn_at": None, "public_until__gt": now}


async def public_records(
    first: int, after_id: int | None = None, credit_code: str | None = None, name: str | None = None
) -> list[tuple[CreditPublication, Organisation]]:
    """The records in public view now, newest first (anyone, kiosks and anonymous callers included)."""
    if first < 1 or first > MAX_PAGE:
        raise InvalidInput(field="first")
    query = CreditPublication.filter(**_public(clock.now()))
    if after_id is not None:
        query = query.filter(id__lt=after_id)
    if credit_code:
        query = query.filter(organisation__credit_code=credit_code.strip().upper())
    if name and name.strip():
        query = query.filter(organisation__name__icontains=name.strip())
    rows = await query.order_by("-id").limit(first).prefetch_related("organisation")
    return [(r, r.organisation) for r in rows]  # type: ignore[misc]


def sees_all(actor: Actor, organisation_id: int) -> bool:
    """Officials (operators, supervisors) and the organisation itself read withdrawn records too."""
    return actor.has(Role.OPERATOR, Role.SUPERVISOR) or (actor.org_id is not None and actor.org_id == organisation_id)


@raises()
async def publications_of(actor: Actor, organisation_id: int) -> list[CreditPublication]:
    """Every publication of an organisation, withdrawn ones included: officials and the organisation itself."""
    if not sees_all(actor, organisation_id):
        raise NotFound()
    return await CreditPublication.filter(organisation_id=organisation_id).order_by("-id")
