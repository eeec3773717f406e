"""The files a result record names (a contract, its changes, an acceptance, a cancellation): documents already
handed in through the documents area for one of the record's lots, of the record's purpose, current and clean.

Results sits below documents in the layers, so documents plugs its lookup in here (domain/wiring)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from domain.common.errors import InvalidInput
from domain.publication.models import AnnouncementAttachment

MAX_FILES = 20


@dataclass(frozen=True, slots=True)
class FileRef:
    """A current, clean document of one purpose, as a result record names it."""

    id: int
    name: str
    size: int
    sha256: str
    media_type: str
    lot_id: int | None


# (ids, purpose) -> the current clean documents of that purpose among them, by id
Finder = Callable[[Sequence[int], str], Awaitable[dict[int, FileRef]]]
_finders: list[Finder] = []


def plug(finder: Finder) -> None:
    """domain/documents provides the lookup (domain/wiring)."""
    _finders[:] = [finder]


async def named_documents(ids: Iterable[int], purpose: str, lot_ids: Iterable[int], field: str) -> list[FileRef]:
    """The documents by id, in the order given; InvalidInput(field.i) for one that is not of `purpose`, of another
    lot, superseded or not clean; InvalidInput(field) for none or too many or a repeat."""
    wanted = list(ids)
    if not wanted or len(wanted) > MAX_FILES or len(set(wanted)) != len(wanted) or not _finders:
        raise InvalidInput(field=field)
    lots = set(lot_ids)
    found = await _finders[0](wanted, purpose)
    for i, doc_id in enumerate(wanted):
        doc = found.get(doc_id)
        if doc is None or doc.lot_id not in lots:
            raise InvalidInput(field=f"{field}.{i}")
    return [found[i] for i in wanted]


async def attach(announcement_id: int, docs: Iterable[FileRef]) -> None:
    """Lists the documents on a published announcement: public with it, in OCDS as its documents."""
    for doc in docs:
        await AnnouncementAttachment.create(
            announcement_id=announcement_id,
            name=doc.name,
            size=doc.size,
            sha256=doc.sha256,
            content_type=doc.media_type,
        )
