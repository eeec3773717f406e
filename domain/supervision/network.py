"""Device and network facts, recorded inside the transaction of the act they describe."""

from __future__ import annotations

from domain.common import clock
from domain.common.actors import Actor
from domain.supervision.models import NetworkFact

MAX_DEVICE_ID = 128


async def record(actor: Actor, lot_id: int, action: str) -> None:
    """Keeps the caller's address and device id for the lot (nothing for a caller without an organisation)."""
    if actor.org_id is None or (actor.ip is None and not actor.device_id):
        return
    await NetworkFact.create(
        lot_id=lot_id,
        organisation_id=actor.org_id,
        user_id=actor.user_id,
        action=action,
        ip=(actor.ip or None) and actor.ip[:64],
        device_id=(actor.device_id or None) and actor.device_id[:MAX_DEVICE_ID],
        recorded_at=clock.now(),
    )
