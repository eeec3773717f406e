"""The end of a guarantee's purpose: when the lot has its result (contract, failure, termination) every
issued guarantee is released (at the award all but the ranked candidates', on a withdrawal the bidder's); one still
issued at valid_until expires (the chronograph). Each records its event once."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from tortoise.transactions import in_transaction

from domain.common import clock
from domain.common.storage import lock
from domain.guarantees.events import GuaranteeExpired, GuaranteeReleased
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import RESULT_STATUSES, S, event_audience, event_facts, locked, lot_of, record_once
from domain.guarantees.states import TABLE, Party
from domain.publication.models import Lot
from domain.publication.states import LotStatus


async def on_lot_status_changed(lot_id: int, after: str) -> None:
    """Releases every issued guarantee once the lot has its result (contract, failure, termination).
    Idempotent: only guarantees still `issued` move, so a redelivered event does nothing; claimed ones
    wait for their claim decision."""
    try:
        status = LotStatus(after)
    except ValueError:
        return
    if status not in RESULT_STATUSES:
        return
    await _release(lot_id, status.value)


async def on_registration_withdrawn(lot_id: int, organisation_id: int) -> None:
    """A bidder that withdrew before the deadline no longer bids: its issued guarantee is released."""
    await _release(lot_id, "withdrawn", organisation_id)


async def release_all_but(lot_id: int, keep_organisation_id: int | None, *, keep_also: Collection[int] = ()) -> None:
    """At the award, every issued guarantee of the lot is released except the winner's and those of `keep_also` (a
    tender's other ranked candidates, still eligible for a sequential award), which stay as security until the
    contract, the lot's failure or its cancellation. Idempotent: only guarantees still `issued` move."""
    kept = frozenset(o for o in (keep_organisation_id, *keep_also) if o is not None)
    await _release(lot_id, LotStatus.AWARDED.value, keep_applicant_ids=kept)


async def _release(
    lot_id: int, reason: str, applicant_id: int | None = None, *, keep_applicant_ids: frozenset[int] = frozenset()
) -> None:
    async with in_transaction():
        lot = await Lot.get_or_none(id=lot_id)
        if lot is None:
            return
        now = clock.now()
        query = Guarantee.filter(lot_id=lot_id, status=S.ISSUED.value)
        if applicant_id is not None:
            query = query.filter(applicant_id=applicant_id)
        if keep_applicant_ids:
            query = query.exclude(applicant_id__in=sorted(keep_applicant_ids))
        for g in await lock(query):
            TABLE.fire(g.status, "release", by=Party.SYSTEM)
            g.status = S.RELEASED.value
            g.released_at = now
            g.next_check_at = None
            g.updated_at = now
            await g.save()
            await record_once(
                GuaranteeReleased(
                    **event_facts(g, lot), lot_status=reason, audience=event_audience(g, lot, beneficiary=True)
                ),
                "guarantee.released",
                g.id,
            )


async def expire(g: Guarantee, now: datetime) -> None:
    """Chronograph transition: a guarantee still issued at valid_until expires, once."""
    current = await locked(g.id)
    due: datetime | None = None
    if current.status == S.ISSUED.value and current.valid_until <= now:
        lot, _ = await lot_of(current)
        current.status = S.EXPIRED.value
        current.expired_at = now
        current.updated_at = now
        await record_once(
            GuaranteeExpired(**event_facts(current, lot), audience=event_audience(current, lot, beneficiary=True)),
            "guarantee.expired",
            current.id,
        )
    elif current.status == S.ISSUED.value:
        due = current.valid_until
    current.next_check_at = due
    await current.save()
    g.next_check_at = due
