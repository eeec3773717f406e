"""Documents as other areas' records name them (plugged in at domain/wiring): current, clean, of one purpose."""

from __future__ import annotations

from collections.abc import Sequence

from domain.documents.models import Document
from domain.results.files import FileRef

_READY = ("clean", "unscanned")  # unscanned: a purpose that is not scanned (access.public says the same)


async def current_clean(ids: Sequence[int], purpose: str) -> dict[int, FileRef]:
    """The documents among `ids` of `purpose`, not superseded, scanned clean (or not scanned), by id."""
    rows = await Document.filter(
        id__in=list(ids), purpose=purpose, superseded_by_id__isnull=True, scan_status__in=_READY
    )
    return {d.id: FileRef(d.id, d.name, d.size, d.sha256, d.media_type, d.lot_id) for d in rows}


async def held_by(owner_type: str, owner_id: int, purpose: str, sha256s: Sequence[str]) -> set[str]:
    """The SHA-256s among `sha256s` of the owner's current documents of `purpose` (none found infected)."""
    rows = await (
        Document.filter(
            owner_type=owner_type,
            owner_id=owner_id,
            purpose=purpose,
            superseded_by_id__isnull=True,
            sha256__in=list(sha256s),
        )
        .exclude(scan_status="infected")
        .values_list("sha256", flat=True)
    )
    return {str(s) for s in rows}
