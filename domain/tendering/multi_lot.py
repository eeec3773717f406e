"""Multi-lot bids (多标段投标): one bidder seals bids on several lots of one project and submits them together.

Each bid is sealed on the device for its own lot exactly as a single bid is (sealing.py, SEALED_BID.md: the
lot's trade code is bound into the ciphertext), and each is stored by services.submit, so each lot keeps its own
receipt, is opened at its own opening and evaluated on its own. The submission is all-or-nothing: one transaction
holds every bid, and the first lot that refuses (deadline passed, not registered, security missing...) refuses the
whole submission with that lot's error, nothing stored. A retry with the same idempotency key returns the same
receipts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from domain.certificates.signatures import Signed
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, declared, raises
from domain.common.events import use_case
from domain.common.idempotency import run_once
from domain.publication.models import Lot
from domain.publication.states import LotStatus
from domain.tendering import services
from domain.tendering.models import SealedBid
from domain.tendering.sealing import check_sealed

MAX_LOTS = 50


class LotsOfDifferentProjects(InvalidInput):
    """A multi-lot submission names lots of one project only."""

    code = "LOTS_OF_DIFFERENT_PROJECTS"
    message_zh = "一次提交的多个标段须属于同一项目（{field}）"
    message_en = "The lots of one submission must belong to one project ({field})"
    exposed: ClassVar[dict[str, str]] = {"field": "str"}


@dataclass(frozen=True, slots=True)
class LotBid:
    lot_id: int
    sealed: str
    signed: Signed | None = None


@raises(LotsOfDifferentProjects, *declared(services.submit))
@use_case("sealed_bid.submit_lots", "Project", lambda actor, bids, *a, **k: str(bids[0].lot_id) if bids else "")
async def submit_lots(actor: Actor, bids: Sequence[LotBid], idempotency_key: str | None = None) -> list[SealedBid]:
    """Stores one sealed bid on each of several lots of one project (replacing the caller's earlier bid on each) in
    one transaction: every bid is stored, or none is; the receipts come back in the order given."""
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    if not 1 <= len(bids) <= MAX_LOTS:
        raise InvalidInput(field="bids")
    seen: set[int] = set()
    for i, bid in enumerate(bids):
        if bid.lot_id in seen:
            raise InvalidInput(field=f"bids.{i}.lotId")
        seen.add(bid.lot_id)
    lots = {lot.id: lot for lot in await Lot.filter(id__in=list(seen))}
    project_id = None
    for i, bid in enumerate(bids):
        lot = lots.get(bid.lot_id)
        if lot is None or lot.status == LotStatus.DRAFT.value:
            raise NotFound()
        if project_id is None:
            project_id = lot.project_id
        elif lot.project_id != project_id:
            raise LotsOfDifferentProjects(field=f"bids.{i}.lotId")
    digests = [check_sealed(b.sealed) for b in bids]

    async def store() -> dict[str, Any]:
        made = []
        for bid in bids:
            made.append((await services.submit(actor, bid.lot_id, bid.sealed, None, bid.signed)).id)
        return {"ids": made}

    request = {
        "bids": [
            {"lot": b.lot_id, "sha256": d, "signature": b.signed.signature if b.signed else None}
            for b, d in zip(bids, digests, strict=True)
        ]
    }
    result, _ = await run_once(actor, idempotency_key, "sealed_bid.submit_lots", request, store)
    by_id = {b.id: b for b in await SealedBid.filter(id__in=result["ids"])}
    return [by_id[int(i)] for i in result["ids"]]
