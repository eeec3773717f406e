"""How guarantees react to other areas' events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from datetime import datetime

from tortoise.queryset import QuerySet

from domain.common.errors import DomainError
from domain.guarantees import release
from domain.guarantees.events import GuaranteeValidityShort
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import S, event_audience, event_facts, record_once, requirement
from domain.publication.events import LotDeadlineMoved, LotStatusChanged
from domain.publication.models import Lot
from domain.registration.security import GuaranteeValidityShortfall
from domain.registration.services import RegistrationWithdrawn, security_in_place


async def release_on_lot_result(event: LotStatusChanged) -> None:
    """A lot with its result (contract, failure, termination) releases every issued guarantee."""
    await release.on_lot_status_changed(int(event.object_id), event.after)


async def release_on_withdrawal(event: RegistrationWithdrawn) -> None:
    """A bidder that withdrew no longer bids: its issued guarantee is released."""
    await release.on_registration_withdrawn(event.lot_id, event.organisation_id)


async def recheck_on_deadline_moved(event: LotDeadlineMoved) -> None:
    """A moved deadline asks every issued guarantee of the lot to stay valid until the new deadline plus the bid
    validity period (招标投标法实施条例 第二十六条: the security lasts as long as the bids); one that falls short tells
    its applicant and guarantor, once per new deadline, when it is the bid's security: an applicant whose security is in
    place without it (a paid deposit, another guarantee that covers the deadline, none owed) is not asked to extend
    it (registration.security_in_place, which the short guarantee no longer satisfies)."""
    lot = await Lot.get_or_none(id=int(event.object_id))
    if lot is None:
        return
    rule = requirement(lot)
    if rule.deadline is None or rule.valid_until is None:
        return
    short = await Guarantee.filter(lot_id=lot.id, status=S.ISSUED.value, valid_until__lt=rule.valid_until)
    for g in short:
        if await security_in_place(lot.id, g.applicant_id):
            continue
        await record_once(
            GuaranteeValidityShort(
                **event_facts(g, lot),
                deadline=rule.deadline,
                required_until=rule.valid_until,
                audience=event_audience(g, lot, beneficiary=False),
            ),
            f"guarantee.validity_short:{rule.deadline.isoformat()}",
            g.id,
        )


async def in_force(lot_id: int, org_id: int, at: datetime) -> bool:
    """A guarantee issued by `at`, valid after it and lasting at least until the lot's current deadline plus the bid
    validity period is the bidder's security (domain/registration/security). One the lot's moved deadline left short
    (招标投标法实施条例 第二十六条) is not, until its guarantor extends it (extension.py): a new bid or a confirmation
    is refused with GUARANTEE_VALIDITY_SHORT, and a bid sealed before the move keeps its place until the new deadline
    but is opened without security if its guarantee still falls short then (domain/tendering/opening)."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        return False
    query = _issued_by(lot_id, org_id, at)
    required = requirement(lot).valid_until
    if required is not None:
        query = query.filter(valid_until__gte=required)
    return await query.exists()


def _issued_by(lot_id: int, org_id: int, at: datetime) -> QuerySet[Guarantee]:
    return Guarantee.filter(
        lot_id=lot_id, applicant_id=org_id, status=S.ISSUED.value, decided_at__lte=at, valid_until__gt=at
    )


async def shortfall(lot_id: int, org_id: int, at: datetime) -> DomainError | None:
    """GuaranteeValidityShortfall when the bidder holds a guarantee issued by `at` that the lot's current deadline plus
    the bid validity period outlasts, and none that covers it; None otherwise."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        return None
    required = requirement(lot).valid_until
    issued = _issued_by(lot_id, org_id, at)
    if required is None or not await issued.exists() or await issued.filter(valid_until__gte=required).exists():
        return None
    return GuaranteeValidityShortfall(required_until=required)
