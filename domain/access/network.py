"""Device and network facts, recorded inside the transaction of the act they describe.

Bids in a live auction come many a second on one hot row, so a bid keeps its fact only the first time this
process sees the bidder act from that address and device in that auction (`record_first`, then `kept` once
the transaction committed): an auction's evidence names every device and address its bidders used, at
most once per process, without a query per bid.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from domain.access.models import NetworkFact
from domain.common import clock
from domain.common.actors import Actor

MAX_DEVICE_ID = 128
# how many (scope, organisation, address, device) a process remembers having kept
SEEN_MAX = 50_000

Key = tuple[Hashable, ...]
_seen: OrderedDict[Key, None] = OrderedDict()


def _worth_keeping(actor: Actor) -> bool:
    return actor.org_id is not None and (actor.ip is not None or bool(actor.device_id))


async def record(actor: Actor, lot_id: int, action: str) -> None:
    """Keeps the caller's address and device id for the lot (nothing for a caller without an organisation)."""
    if not _worth_keeping(actor):
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


async def record_first(actor: Actor, lot_id: int, action: str, scope: Key) -> Key | None:
    """Keeps the fact unless this process kept one for the same action, scope, organisation, address and
    device; returns the key to pass to `kept` after the commit (None when nothing was kept)."""
    if not _worth_keeping(actor):
        return None
    key = (action, *scope, actor.org_id, actor.ip, actor.device_id)
    if key in _seen:
        _seen.move_to_end(key)
        return None
    await record(actor, lot_id, action)
    return key


def kept(key: Key | None) -> None:
    """Remembers a fact `record_first` kept, once its transaction committed."""
    if key is None:
        return
    _seen[key] = None
    _seen.move_to_end(key)
    while len(_seen) > SEEN_MAX:
        _seen.popitem(last=False)
