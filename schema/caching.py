"""Which parts of the schema answer every caller alike, and for how long such an answer may be shared.

A persisted query selecting only these (api/response_cache.py) is answered from a shared response cache
and sent with Cache-Control; anything else runs for its caller every time. Adding a type here is a
promise: none of its fields reads the caller (actor, organisation, token scopes) or changes its answer
for a draft, a role or a locale. `tests/api/test_response_cache.py` keeps the promise for what is listed.

A conditionally public root field (CONDITIONAL_ROOT_FIELDS) answers some callers differently in general,
but alike for some of its values: `announcement(id)` shows a draft only to who manages its project (null
to everyone else), while a published announcement is the same for everyone. Its resolver says which it
answered (`mark_answer`): a query selecting such a field is kept only when every one of them marked its
answer shareable, so a null or a draft is never kept, and a missing mark keeps nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Query fields whose answer is the same for everyone, with the seconds it may be reused: published
# announcements never change and a new one clears the cache (INVALIDATED_BY), so the age only bounds how
# late another process sees one whose invalidation message it missed. The search reads published
# announcements only (domain/publication/search.py, indexed in the publishing transaction), by filters
# none of which reads the caller.
PUBLIC_ROOT_FIELDS: Final[Mapping[str, int]] = {
    "announcements": 10,
    "searchAnnouncementsConnection": 10,
    "catalogue": 300,
    "regions": 300,
}

# Query fields public only when their resolver marks the answer so (see the module docstring), with their
# seconds: one announcement, kept only when it is published.
CONDITIONAL_ROOT_FIELDS: Final[Mapping[str, int]] = {
    "announcement": 10,
}

# Object types all of whose fields are public and caller-independent.
PUBLIC_TYPES: Final = frozenset(
    {
        "AnnouncementConnection",
        "AnnouncementEdge",
        "AnnouncementSearchConnection",
        "AnnouncementSearchEdge",
        "PageInfo",
        "Announcement",
        "Attachment",
        "Region",
        "CategoryInfo",
    }
)

# Object types of which only these fields are public: what an announcement's detail shows of its lot and
# project. Each reads its row only, and is fixed once the lot is announced but the lot's status, whose every
# change is a `lot.status_changed` event (INVALIDATED_BY). Not a lot's config (a clarification moves its
# deadline) nor a project's industry (set later) nor its lots (drafts among them).
PUBLIC_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "Lot": frozenset({"id", "tradeCode", "lotNo", "name", "procedure", "estimatedPriceFen", "status"}),
    "Project": frozenset({"id", "tradeCode", "name", "category", "regionCode", "createdAt"}),
}

# Event types (domain events, as they reach the live bus) after which a shared answer may be stale: a
# publication (a new card, hit or correction) and a lot's move (its status in an announcement's detail).
INVALIDATED_BY: Final = frozenset({"announcement.published", "lot.status_changed"})

# The request state's entry (scope["state"]) where conditionally public fields mark their answers.
SHAREABLE: Final = "shareable_answer"


def mark_answer(request: Any, shareable: bool) -> None:
    """Records whether a conditionally public field's answer is the same for every caller: the request's
    answer stays shareable only while every such field marked it so (one unshareable answer is enough)."""
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict):
        return
    state = scope.setdefault("state", {})
    state[SHAREABLE] = shareable and state.get(SHAREABLE, True) is True
