"""How guarantees react to other areas' events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from datetime import datetime

from domain.guarantees import release
from domain.guarantees.models import Guarantee
from domain.publication.events import LotStatusChanged
from domain.registration.services import RegistrationWithdrawn


async def release_on_lot_result(event: LotStatusChanged) -> None:
    """A lot with its result (contract, failure, termination) releases every issued guarantee."""
    await release.on_lot_status_changed(int(event.object_id), event.after)


async def release_on_withdrawal(event: RegistrationWithdrawn) -> None:
    """A bidder that withdrew no longer bids: its issued guarantee is released."""
    await release.on_registration_withdrawn(event.lot_id, event.organisation_id)


async def in_force(lot_id: int, org_id: int, at: datetime) -> bool:
    """A guarantee issued by `at` and valid after it is the bidder's security (domain/registration/security)."""
    return await Guarantee.filter(
        lot_id=lot_id, applicant_id=org_id, status="issued", decided_at__lte=at, valid_until__gt=at
    ).exists()
