"""Which parts of the schema answer every caller alike, and for how long such an answer may be shared.

A persisted query selecting only these (api/response_cache.py) is answered from a shared response cache
and sent with Cache-Control; anything else runs for its caller every time. Adding a type here is a
promise: none of its fields reads the caller (actor, organisation, token scopes) or changes its answer
for a draft, a role or a locale. `tests/api/test_response_cache.py` keeps the promise for what is listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Query fields whose answer is the same for everyone, with the seconds it may be reused: published
# announcements never change and a new one clears the cache (INVALIDATED_BY), so the age only bounds how
# late another process sees one whose invalidation message it missed.
PUBLIC_ROOT_FIELDS: Final[Mapping[str, int]] = {
    "announcements": 10,
    "catalogue": 300,
    "regions": 300,
}

# Object types all of whose fields are public and caller-independent.
PUBLIC_TYPES: Final = frozenset(
    {
        "AnnouncementConnection",
        "AnnouncementEdge",
        "PageInfo",
        "Announcement",
        "Attachment",
        "Region",
        "CategoryInfo",
    }
)

# Event types (domain events, as they reach the live bus) after which a shared answer may be stale.
INVALIDATED_BY: Final = frozenset({"announcement.published"})
