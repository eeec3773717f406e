"""The documents a committee reviews a bidder with (资格后审, domain/evaluation/qualification.py): the bid files
decrypted at the opening and the organisation's licences, each only if the caller may read it (access.py)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.common.actors import Actor
from domain.common.errors import DomainError
from domain.documents import access
from domain.documents.models import Document


@dataclass(frozen=True, slots=True)
class BidderDocuments:
    opened_files: list[Document]
    licences: list[Document]


async def _readable(actor: Actor, docs: list[Document]) -> list[Document]:
    shown = []
    for doc in docs:
        try:
            await access.may_download(actor, doc)
        except DomainError:
            continue
        shown.append(doc)
    return shown


async def bidder_documents(actor: Actor, lot_id: int, org_ids: list[int]) -> dict[int, BidderDocuments]:
    """Per bidding organisation: its current opened bid files of the lot and its current licences, as far as the
    caller may read them (the lot's committee, operators and supervisors of the category)."""
    opened = await Document.filter(
        purpose="bid_file_opened", lot_id=lot_id, organisation_id__in=org_ids, superseded_by_id=None
    ).order_by("id")
    licences = await Document.filter(
        purpose="organisation_licence", owner_type="Organisation", owner_id__in=org_ids, superseded_by_id=None
    ).order_by("id")
    readable_opened = await _readable(actor, list(opened))
    readable_licences = await _readable(actor, list(licences))
    return {
        org: BidderDocuments(
            [d for d in readable_opened if d.organisation_id == org],
            [d for d in readable_licences if d.owner_id == org],
        )
        for org in org_ids
    }
