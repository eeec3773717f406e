"""Whether a lot is paused by its supervisor (the suspension of domain/complaints), as publication sees it.

Complaints plugs its answer in from domain/wiring.py, so publication does not import complaints (complaints
imports publication). A process that did not wire the domain cannot move a lot: it fails loudly rather than
moving a suspended lot on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Reason = Callable[[int], Awaitable[str | None]]

_reasons: list[Reason] = []


def plug(reason: Reason) -> None:
    """Adds a source of pauses: reason(lot_id) is why the lot is paused, or None (idempotent)."""
    if reason not in _reasons:
        _reasons.append(reason)


async def reason(lot_id: int) -> str | None:
    """Why the lot is paused now, or None."""
    if not _reasons:
        raise RuntimeError("lot pauses are not wired: call domain.wiring.wire() at the process's start")
    for source in _reasons:
        found = await source(lot_id)
        if found is not None:
            return found
    return None
