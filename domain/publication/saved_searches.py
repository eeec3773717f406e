"""Saved searches: a user's standing queries, and the events for each newly published announcement that
matches one (once per pair, ever)."""

from __future__ import annotations

import uuid
from typing import Any

from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.models import OutboxEvent
from domain.common.queries import column
from domain.publication import events as ev
from domain.publication import search
from domain.publication.errors import RegionUnknown
from domain.publication.models import Announcement, Region, SavedSearch
from domain.publication.reading import is_division_code, region_prefix
from domain.publication.states import AnnouncementStatus


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
