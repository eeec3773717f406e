"""Announcements from draft to publication: rich text kept to an allow-list, attachments checked, published
once and never changed (a change announcement corrects one), the lot moving with the announcement that moves it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import nh3

from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.publication import events as ev
from domain.publication import holds, search
from domain.publication.errors import AnnouncementImmutable, TenderNotPublished
from domain.publication.models import Announcement, AnnouncementAttachment, Lot, Project
from domain.publication.procedures import ConfigOutOfBounds, Procedure, configure
from domain.publication.projects import ensure_not_suspended, managed_project, manages
from domain.publication.states import (
    NEEDS_TENDER,
    PUBLICITY_DAYS_SETTING,
    AnnouncementStatus,
    AnnouncementType,
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

# types only the platform publishes: a supervisor's decision (domain/complaints), a credit record (domain/credit_public)
SUPERVISORS_ONLY = frozenset({AnnouncementType.COMPLAINT_DECISION, AnnouncementType.BAD_CONDUCT})


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
        if not await manages(actor, project):
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


def _times_of(config: dict[str, Any]) -> dict[str, Any]:
    return {k: datetime.fromisoformat(v) for k, v in config.items() if k.endswith("_at") or k == "bid_deadline"}
