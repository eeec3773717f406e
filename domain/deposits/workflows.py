"""How deposits react to other areas' events (registered in domain/wiring.py, run by the outbox dispatcher)."""

from __future__ import annotations

from datetime import datetime

from domain.deposits import services
from domain.deposits.models import DepositAccount
from domain.publication.events import LotStatusChanged
from domain.registration.services import RegistrationWithdrawn


async def refund_on_lot_result(event: LotStatusChanged) -> None:
    """A lot with its result (contract, failure, termination) makes every paid deposit due back."""
    await services.on_lot_status_changed(int(event.object_id), event.after)


async def refund_on_withdrawal(event: RegistrationWithdrawn) -> None:
    """A bidder that withdrew gets its paid deposit back."""
    await services.on_registration_withdrawn(event.lot_id, event.organisation_id)


async def paid(lot_id: int, org_id: int, at: datetime) -> bool:
    """A deposit paid by `at` is the bidder's security (plugged into domain/registration/security)."""
    return await DepositAccount.filter(lot_id=lot_id, organisation_id=org_id, status="paid", paid_at__lte=at).exists()
