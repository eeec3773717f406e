"""Projects and lots, announcements from draft to publication, saved searches, public reading."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nh3
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.common.storage import lock, lock_named
from domain.publication import events as ev
from domain.publication import holds, pauses, search
from domain.publication.identifiers import CATEGORY_CODES, lot_code, trade_code
from domain.publication.models import Announcement, AnnouncementAttachment, Lot, Project, Region, SavedSearch
from domain.publication.procedures import (
    TIME_SETTINGS,
    ConfigOutOfBounds,
    EvaluationWeightsNot100,
    LocalProtectionBanned,
    Procedure,
    SecurityOverCap,
    check_eligibility,
    configure,
)
from domain.publication.states import (
    NEEDS_TENDER,
    PUBLICITY_DAYS_SETTING,
    TABLE,
    AnnouncementStatus,
    AnnouncementType,
    LotStatus,
    lot_after,
)

ALLOWED_TAGS = {
    "p",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "span",
    "div",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_LOTS = 50


class RegionUnknown(InvalidInput):
    code = "REGION_UNKNOWN"
    message_zh = "未知的行政区划代码：{value}"
    message_en = "Unknown region code: {value}"

    def __init__(self, value: str) -> None:
        super().__init__(field="regionCode", value=value)


class NotATenderer(InvalidInput):
    code = "NOT_A_TENDERER"
    message_zh = "招标人须为已审核通过的招标人主体"
    message_en = "The tenderer must be an approved tenderer organisation"

    def __init__(self) -> None:
        super().__init__(field="tendererId")


class AnnouncementImmutable(InvalidTransition):
    code = "ANNOUNCEMENT_IMMUTABLE"
    message_zh = "公告发布后不可修改，如需更正请发布变更公告"
    message_en = "A published announcement never changes; publish a change announcement instead"


class LotSuspended(InvalidTransition):
    """The supervisor handling a complaint suspended the lot: no transition until it is lifted."""

    code = "LOT_SUSPENDED"
    message_zh = "该标段已被行政监督部门暂停（{reason}），解除暂停前不能变更状态"
    message_en = "The lot is suspended by its supervisor ({reason}); it cannot move until the suspension is lifted"


async def ensure_not_suspended(lot: Lot) -> None:
    """Raises LotSuspended while a suspension of the lot is in force (domain/complaints suspends, via pauses)."""
    reason = await pauses.reason(lot.id)
    if reason is not None:
        raise LotSuspended(state=lot.status, reason=reason)


class TenderNotPublished(InvalidTransition):
    code = "TENDER_NOT_PUBLISHED"
    message_zh = "须先发布该标段的招标公告"
    message_en = "The lot's tender announcement must be published first"


# ---------------------------------------------------------------- projects and lots


@dataclass(frozen=True, slots=True)
class LotForm:
    name: str
    procedure: str
    estimated_price_fen: int
    config: dict[str, Any] = field(default_factory=dict)
    eligibility: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ProjectForm:
    name: str
    category: str
    region_code: str
    lots: list[LotForm]
    tenderer_id: int | None = None


async def _tenderer_for(actor: Actor, tenderer_id: int | None) -> tuple[int, int | None]:
    """(tenderer, agency) of a new project: the caller's own org, or the one it acts for."""
    if actor.has(Role.TENDERER) and (tenderer_id is None or tenderer_id == actor.org_id):
        return int(actor.org_id or 0), None
    if not actor.has(Role.AGENCY, Role.OPERATOR) or tenderer_id is None:
        raise PermissionDenied()
    org = await Organisation.get_or_none(id=tenderer_id)
    if org is None or org.status != OrgStatus.APPROVED or OrgKind.TENDERER not in org.kinds:
        raise NotATenderer()
    return org.id, actor.org_id if actor.has(Role.AGENCY) else None


def _lot_values(form: LotForm, index: int) -> dict[str, Any]:
    try:
        procedure = Procedure(form.procedure)
    except ValueError:
        raise InvalidInput(field=f"lots.{index}.procedure") from None
    if form.estimated_price_fen <= 0 or form.estimated_price_fen > 10**15:
        raise InvalidInput(field=f"lots.{index}.estimatedPriceFen")
    return {
        "name": required_text(form.name, f"lots.{index}.name", 200),
        "procedure": procedure.value,
        "estimated_price_fen": form.estimated_price_fen,
        "config": configure(procedure, form.config, estimated_price_fen=form.estimated_price_fen),
        "eligibility": check_eligibility(form.eligibility),
    }


@raises(RegionUnknown, NotATenderer, ConfigOutOfBounds, SecurityOverCap, LocalProtectionBanned, EvaluationWeightsNot100)
@use_case("project.create", "Project")
async def create_project(actor: Actor, form: ProjectForm, idempotency_key: str | None = None) -> Project:
    """Creates a project with its lots, each with a lifelong trade identifier and a checked configuration."""
    name = required_text(form.name, "name", 200)
    try:
        category = Category(form.category)
    except ValueError:
        raise InvalidInput(field="category") from None
    if not 1 <= len(form.lots) <= MAX_LOTS:
        raise InvalidInput(field="lots")
    lots = [_lot_values(lot, i) for i, lot in enumerate(form.lots)]
    tenderer_id, agency_id = await _tenderer_for(actor, form.tenderer_id)
    if not await Region.exists(code=form.region_code):
        raise RegionUnknown(form.region_code)
    request = {
        "name": name,
        "category": category.value,
        "region": form.region_code,
        "lots": lots,
        "tenderer": tenderer_id,
    }

    async def create() -> dict[str, Any]:
        now = clock.now()
        year = clock.to_shanghai(now).year
        await lock_named("trade_code")
        prefix = f"{form.region_code}{CATEGORY_CODES[category]}{year:04d}"
        last = await Project.filter(trade_code__startswith=prefix).order_by("-trade_code").first()
        serial = int(last.trade_code[12:18]) + 1 if last else 1
        code = trade_code(form.region_code, category, year, serial)
        project = await Project.create(
            trade_code=code,
            name=name,
            category=category.value,
            region_code=form.region_code,
            tenderer_id=tenderer_id,
            agency_id=agency_id,
            created_by=actor.user_id,
            created_at=now,
        )
        codes = []
        for no, values in enumerate(lots, start=1):
            lot = await Lot.create(
                project=project,
                lot_no=no,
                trade_code=lot_code(code, no),
                status=LotStatus.DRAFT.value,
                created_at=now,
                updated_at=now,
                **values,
            )
            codes.append(lot.trade_code)
        orgs = tuple(o for o in (tenderer_id, agency_id) if o)
        await events.record(
            ev.ProjectCreated(
                object_id=str(project.id), trade_code=code, lots=tuple(codes), audience=Audience(orgs=orgs)
            ),
            actor,
        )
        return {"project_id": project.id}

    result, _ = await run_once(actor, idempotency_key, "project.create", request, create)
    return await Project.get(id=result["project_id"])


# types only the platform publishes, on a supervisor's decision (domain/complaints)
SUPERVISORS_ONLY = frozenset({AnnouncementType.COMPLAINT_DECISION})


async def _manages(actor: Actor, project: Project) -> bool:
    return actor.has(Role.OPERATOR) or (
        actor.org_id is not None and actor.org_id in (project.tenderer_id, project.agency_id)
    )


async def managed_project(actor: Actor, project_id: int) -> Project:
    """A project the actor may manage (tenderer, its agency, operator); else NotFound."""
    project = await Project.get_or_none(id=project_id)
    if project is None or not await _manages(actor, project):
        raise NotFound()
    return project


@raises(ConfigOutOfBounds, SecurityOverCap, LocalProtectionBanned, EvaluationWeightsNot100)
@use_case("lot.configure", "Lot", lambda actor, lot_id, *a, **k: lot_id)
async def configure_lot(
    actor: Actor,
    lot_id: int,
    config: dict[str, Any],
    eligibility: list[dict[str, str]] | None = None,
    idempotency_key: str | None = None,
) -> Lot:
    """Changes a draft lot's configuration and eligibility, checked against the legal bounds."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or not await _manages(actor, lot.project):
        raise NotFound()
    TABLE.fire(lot.status, "configure")
    merged = {**lot.config, **config}
    # only the times are stored as text to parse back; evaluation_method is text too and stays so
    merged = {
        k: (datetime.fromisoformat(v) if k in TIME_SETTINGS and isinstance(v, str) else v) for k, v in merged.items()
    }
    new_config = configure(Procedure(lot.procedure), merged, estimated_price_fen=lot.estimated_price_fen)
    rules = check_eligibility(eligibility) if eligibility is not None else list(lot.eligibility)

    async def change() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        TABLE.fire(locked.status, "configure")
        await Lot.filter(id=lot_id).update(config=new_config, eligibility=rules, updated_at=clock.now())
        return {"lot_id": lot_id}

    request = {"lot": lot_id, "config": new_config, "eligibility": rules}
    await run_once(actor, idempotency_key, "lot.configure", request, change)
    return await Lot.get(id=lot_id)


# ---------------------------------------------------------------- announcements


@dataclass(frozen=True, slots=True)
class AttachmentForm:
    name: str
    size: int
    sha256: str
    content_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class AnnouncementForm:
    project_id: int
    type: str
    title: str
    body_html: str
    lot_id: int | None = None
    corrects_id: int | None = None
    attachments: list[AttachmentForm] = field(default_factory=list)


def sanitize(html: str) -> str:
    """Rich text as the public may safely see it: an allow-list of tags, no scripts or handlers."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"})


def plain_text(html_text: str) -> str:
    """The readable text of sanitised rich text: tags removed, entities decoded, blank lines folded."""
    text = re.sub(r"<(br|/p|/div|/li|/tr|/h\d)\s*/?>", "\n", html_text, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n", text)).strip()


def _attachments(forms: list[AttachmentForm]) -> list[dict[str, Any]]:
    checked = []
    for i, a in enumerate(forms):
        if not _SHA256.match(a.sha256.lower()):
            raise InvalidInput(field=f"attachments.{i}.sha256")
        if a.size <= 0 or a.size > 2 * 1024**3:
            raise InvalidInput(field=f"attachments.{i}.size")
        checked.append(
            {
                "name": required_text(a.name, f"attachments.{i}.name", 255),
                "size": a.size,
                "sha256": a.sha256.lower(),
                "content_type": required_text(a.content_type, f"attachments.{i}.contentType", 128),
            }
        )
    return checked


@raises()
@use_case("announcement.draft", "Announcement")
async def draft_announcement(actor: Actor, form: AnnouncementForm, idempotency_key: str | None = None) -> Announcement:
    """Saves a draft announcement of a project the actor manages; nothing is public yet."""
    project = await managed_project(actor, form.project_id)
    try:
        kind = AnnouncementType(form.type)
    except ValueError:
        raise InvalidInput(field="type") from None
    if kind in SUPERVISORS_ONLY and not actor.is_system:
        raise PermissionDenied()  # the complaint's handling publishes its decision, never a party
    lot = None
    if form.lot_id is not None:
        lot = await Lot.get_or_none(id=form.lot_id, project_id=project.id)
        if lot is None:
            raise NotFound()
    corrects = None
    if kind is AnnouncementType.CHANGE:
        if form.corrects_id is None:
            raise InvalidInput(field="correctsId")
        corrects = await Announcement.get_or_none(
            id=form.corrects_id, project_id=project.id, status=AnnouncementStatus.PUBLISHED.value
        )
        if corrects is None:
            raise NotFound()
        lot = lot or (await Lot.get_or_none(id=corrects.lot_id) if corrects.lot_id else None)
    elif form.corrects_id is not None:
        raise InvalidInput(field="correctsId")
    title = required_text(form.title, "title", 300)
    body = sanitize(form.body_html)
    if not body.strip() or len(body) > 500_000:
        raise InvalidInput(field="bodyHtml")
    files = _attachments(form.attachments)
    request = {
        "project": project.id,
        "lot": lot.id if lot else None,
        "type": kind.value,
        "title": title,
        "body": body,
        "corrects": corrects.id if corrects else None,
        "files": files,
    }

    async def create() -> dict[str, Any]:
        text = plain_text(body)
        ann = await Announcement.create(
            project=project,
            lot=lot,
            trade_code=lot.trade_code if lot else project.trade_code,
            type=kind.value,
            status=AnnouncementStatus.DRAFT.value,
            title=title,
            body_html=body,
            body_text=text,
            search_text="",
            category=project.category,
            region_code=project.region_code,
            lot_status=lot.status if lot else None,
            corrects=corrects,
            created_by=actor.user_id,
            created_at=clock.now(),
        )
        for f in files:
            await AnnouncementAttachment.create(announcement=ann, **f)
        orgs = tuple(o for o in (project.tenderer_id, project.agency_id) if o)
        await events.record(
            ev.AnnouncementDrafted(
                object_id=str(ann.id), trade_code=ann.trade_code, kind=kind.value, audience=Audience(orgs=orgs)
            ),
            actor,
        )
        return {"announcement_id": ann.id}

    result, _ = await run_once(actor, idempotency_key, "announcement.draft", request, create)
    return await Announcement.get(id=result["announcement_id"])


# besides what a hold plugged into publication/holds raises (documents' ScanPending: named by the API's union, since
# publication does not import documents)
@raises(AnnouncementImmutable, TenderNotPublished, ConfigOutOfBounds)
@use_case("announcement.publish", "Announcement", lambda actor, ann_id, *a, **k: ann_id)
async def publish_announcement(actor: Actor, ann_id: int, idempotency_key: str | None = None) -> Announcement:
    """Publishes a draft: public at once, never changed again; moves its lot; one event, same transaction."""

    async def change() -> dict[str, Any]:
        ann = await lock(Announcement.filter(id=ann_id)).first()
        if ann is None:
            raise NotFound()
        project = await Project.get(id=ann.project_id)
        if not await _manages(actor, project):
            raise NotFound()
        if ann.status != AnnouncementStatus.DRAFT:
            raise AnnouncementImmutable(state=ann.status)
        kind = AnnouncementType(ann.type)
        now = clock.now()
        lot = await lock(Lot.filter(id=ann.lot_id)).first() if ann.lot_id else None
        if (
            lot is not None
            and kind in NEEDS_TENDER
            and not await Announcement.exists(
                lot_id=lot.id, type=AnnouncementType.TENDER.value, status=AnnouncementStatus.PUBLISHED.value
            )
        ):
            raise TenderNotPublished(state=lot.status)
        # a public file is published only once scanned for malware (the scanner down holds it, never skips it)
        await holds.ensure_released(
            [("Announcement", ann.id), *([("Lot", lot.id)] if lot and kind is AnnouncementType.TENDER else [])]
        )
        before = lot.status if lot else None
        after = lot_after(kind, lot.status) if lot else None
        if lot is not None and after is not None and after != before:
            await ensure_not_suspended(lot)
        if lot is not None and kind is AnnouncementType.TENDER:
            configure(Procedure(lot.procedure), _times_of(lot.config), published_at=now)
        setting = PUBLICITY_DAYS_SETTING.get(kind)
        if setting and lot is not None:
            ann.publicity_starts_at = now
            ann.publicity_ends_at = now + timedelta(days=int(lot.config[setting]))
        ann.status = AnnouncementStatus.PUBLISHED.value
        ann.published_at, ann.published_by = now, actor.user_id
        ann.lot_status = (after or before) if lot else None
        ann.search_text = search.segment(f"{ann.title}\n{ann.body_text}")
        await ann.save()
        await search.index(ann)
        await events.record(
            ev.AnnouncementPublished(
                object_id=str(ann.id),
                trade_code=ann.trade_code,
                kind=ann.type,
                title=ann.title,
                category=ann.category,
                region_code=ann.region_code,
                project_id=ann.project_id,
                lot_id=ann.lot_id,
                corrects_id=ann.corrects_id,
                published_at=now.isoformat(),
                audience=Audience(public=True),
            ),
            actor,
        )
        if lot is not None and after is not None and after != before:
            await Lot.filter(id=lot.id).update(status=after.value, updated_at=now)
            await events.record(
                ev.LotStatusChanged(
                    object_id=str(lot.id),
                    trade_code=lot.trade_code,
                    before=str(before),
                    after=after.value,
                    audience=Audience(public=True),
                ),
                actor,
            )
        return {"announcement_id": ann.id}

    result, _ = await run_once(actor, idempotency_key, "announcement.publish", {"id": ann_id}, change)
    return await Announcement.get(id=result["announcement_id"])


async def announce(actor: Actor, lot: Lot, kind: AnnouncementType | str, title: str, body_html: str) -> Announcement:
    """Drafts and publishes an announcement of a lot at once, in the caller's transaction (the lot moves
    with it): what the platform publishes itself (failures, results, complaint decisions) or a service on
    a party's behalf."""
    form = AnnouncementForm(
        project_id=lot.project_id, lot_id=lot.id, type=AnnouncementType(kind).value, title=title, body_html=body_html
    )
    return await publish_announcement(actor, (await draft_announcement(actor, form)).id)


async def move_lot(actor: Actor, lot_id: int, allowed: set[LotStatus], target: LotStatus) -> bool:
    """Moves a lot by a time-driven step that no announcement makes (the opening starts, the lot
    fails at the deadline); in the caller's transaction; False when it is not in an allowed status."""
    lot = await lock(Lot.filter(id=lot_id)).get()
    if LotStatus(lot.status) not in allowed:
        return False
    # raised to the chronograph too: its savepoint rolls the step back and it is retried at the next tick
    await ensure_not_suspended(lot)
    await Lot.filter(id=lot.id).update(status=target.value, updated_at=clock.now())
    await events.record(
        ev.LotStatusChanged(
            object_id=str(lot.id),
            trade_code=lot.trade_code,
            before=lot.status,
            after=target.value,
            audience=Audience(public=True),
        ),
        actor,
    )
    return True


def _times_of(config: dict[str, Any]) -> dict[str, Any]:
    return {k: datetime.fromisoformat(v) for k, v in config.items() if k.endswith("_at") or k == "bid_deadline"}


# ---------------------------------------------------------------- reading, for anyone

_regions: dict[str, Region] = {}


async def regions() -> dict[str, Region]:
    """The shipped GB/T 2260 divisions by code (migration data: read once per process)."""
    if not _regions:
        _regions.update({r.code: r for r in await Region.all()})
    return _regions


def loaded_regions() -> dict[str, Region] | None:
    """The divisions if this process has read them already (no await needed), else None."""
    return _regions or None


@dataclass(frozen=True, slots=True)
class AnnouncementFilter:
    categories: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    lot_statuses: list[str] = field(default_factory=list)
    published_from: datetime | None = None
    published_to: datetime | None = None
    trade_code: str | None = None

    def __post_init__(self) -> None:
        if not all(is_division_code(code) for code in self.regions):
            raise InvalidInput(field="regions")
        if self.trade_code and not (self.trade_code.isascii() and self.trade_code.isalnum()):
            raise InvalidInput(field="tradeCode")


def is_division_code(code: str) -> bool:
    """A GB/T 2260 administrative division code: six ASCII digits (a longer value would overflow the
    column's length check, a NUL would fail PostgreSQL's text encoding)."""
    return len(code) == 6 and code.isascii() and code.isdigit()


def public_announcements(f: AnnouncementFilter) -> QuerySet[Announcement]:
    """Published announcements matching a filter; regions match a city and all its districts."""
    query = Announcement.filter(status=AnnouncementStatus.PUBLISHED.value)
    if f.categories:
        query = query.filter(category__in=f.categories)
    if f.regions:
        region_q = Q()
        for code in f.regions:
            region_q |= Q(region_code=code) | Q(region_code__startswith=region_prefix(code))
        query = query.filter(region_q)
    if f.types:
        query = query.filter(type__in=f.types)
    if f.lot_statuses:
        query = query.filter(lot_status__in=f.lot_statuses)
    if f.published_from:
        query = query.filter(published_at__gte=f.published_from.astimezone(UTC))
    if f.published_to:
        query = query.filter(published_at__lt=f.published_to.astimezone(UTC))
    if f.trade_code:
        query = query.filter(trade_code__startswith=f.trade_code[:18])
    return query


def region_prefix(code: str) -> str:
    """370000 -> 37, 370200 -> 3702, 370211 -> 370211."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


async def public_announcement(ann_id: int) -> Announcement:
    ann = await Announcement.get_or_none(id=ann_id, status=AnnouncementStatus.PUBLISHED.value)
    if ann is None:
        raise NotFound()
    return ann


async def visible_announcement(actor: Actor, ann_id: int) -> Announcement:
    """Published ones for anyone; drafts only for who manages the project."""
    ann = await Announcement.get_or_none(id=ann_id)
    if ann is None:
        raise NotFound()
    if ann.status == AnnouncementStatus.PUBLISHED:
        return ann
    project = await Project.get(id=ann.project_id)
    if not await _manages(actor, project):
        raise NotFound()
    return ann


# ---------------------------------------------------------------- saved searches


@raises(RegionUnknown)
@use_case("saved_search.create", "SavedSearch")
async def save_search(
    actor: Actor,
    name: str,
    keywords: str,
    categories: list[str],
    regions: list[str],
    idempotency_key: str | None = None,
) -> SavedSearch:
    """Stores a standing query; each newly published announcement that matches produces an event."""
    if actor.user_id is None or actor.org_id is None:
        raise PermissionDenied()
    label = required_text(name, "name", 100)
    words = keywords.strip()
    if len(words) > 200:
        raise InvalidInput(field="keywords")
    try:
        cats = sorted({Category(c).value for c in categories})
    except ValueError:
        raise InvalidInput(field="categories") from None
    for code in regions:
        if not is_division_code(code) or not await Region.exists(code=code):
            raise RegionUnknown(code)
    if not words and not cats and not regions:
        raise InvalidInput(field="keywords")
    terms = search.query_terms(words)
    request = {"name": label, "keywords": words, "categories": cats, "regions": sorted(regions)}

    async def create() -> dict[str, Any]:
        saved = await SavedSearch.create(
            user_id=actor.user_id,
            org_id=actor.org_id,
            name=label,
            keywords=words,
            terms=terms,
            categories=cats,
            regions=sorted(regions),
            created_at=clock.now(),
        )
        return {"id": saved.id}

    result, _ = await run_once(actor, idempotency_key, "saved_search.create", request, create)
    return await SavedSearch.get(id=result["id"])


@raises()
async def delete_saved_search(actor: Actor, saved_id: int) -> None:
    deleted = await SavedSearch.filter(id=saved_id, user_id=actor.user_id).delete()
    if not deleted:
        raise NotFound()


def matches(saved: SavedSearch, ann: Announcement) -> bool:
    if saved.categories and ann.category not in saved.categories:
        return False
    if saved.regions and not any(
        ann.region_code == r or ann.region_code.startswith(region_prefix(r)) for r in saved.regions
    ):
        return False
    tokens = set(ann.search_text.split())
    return all(term in tokens for term in saved.terms)


_MATCH_NAMESPACE = uuid.UUID("0f5b8a52-3c1e-4f6a-9d2b-7e4c1a9b3d60")


async def match_saved_searches(announcement_ids: list[int]) -> int:
    """Records one SavedSearchMatched event per (saved search, new announcement) that match, once
    ever: the event id is derived from the pair, so a redelivered publication matches nothing new."""
    if not announcement_ids:
        return 0
    anns = await Announcement.filter(id__in=announcement_ids, status=AnnouncementStatus.PUBLISHED.value).order_by("id")
    saved_searches = await SavedSearch.all()
    pairs = [(saved, ann) for ann in anns for saved in saved_searches if matches(saved, ann)]
    ids = {(saved.id, ann.id): uuid.uuid5(_MATCH_NAMESPACE, f"{saved.id}:{ann.id}") for saved, ann in pairs}
    found = OutboxEvent.filter(event_id__in=list(ids.values())).values_list("event_id", flat=True)
    known = {uuid.UUID(str(k)) for k in await column(found, uuid.UUID)}
    recorded = 0
    for saved, ann in pairs:
        event_id = ids[(saved.id, ann.id)]
        if event_id in known:
            continue
        await events.record(
            ev.SavedSearchMatched(
                object_id=str(saved.id),
                announcement_id=ann.id,
                title=ann.title,
                trade_code=ann.trade_code,
                audience=Audience(users=(saved.user_id,), roles=()),
            ),
            Actor(client_id="system", roles=frozenset({Role.OPERATOR})),
            event_id=event_id,
        )
        recorded += 1
    return recorded
