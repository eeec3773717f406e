"""The outbox consumer that evaluates collusion signals when a lot's bids are opened or its auction ends, and
abnormal evaluation signals when its evaluation report is made."""

from __future__ import annotations

from collections.abc import Sequence

from domain.common.models import OutboxEvent
from domain.supervision import alerts, evaluation_alerts

ENDED_AUCTION_PHASES = ("sold", "failed")


def lot_to_check(event: OutboxEvent) -> int | None:
    """The lot an event asks to be checked: an opening that closed, an auction that ended."""
    if event.outcome != "success":
        return None
    if event.type == "opening.closed" or (
        event.type == "auction.phase_changed" and event.payload.get("phase") in ENDED_AUCTION_PHASES
    ):
        return int(event.payload["lot_id"])
    return None


class SupervisionConsumer:
    """Raises the lot's collusion alerts in the dispatcher's transaction (once per lot and signal)."""

    name = "supervision"

    async def consume(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            lot_id = lot_to_check(event)
            if lot_id is not None:
                await alerts.evaluate_lot(lot_id)
            if event.type == "evaluation.reported" and event.outcome == "success":
                await evaluation_alerts.evaluate_lot(int(event.payload["lot_id"]))
