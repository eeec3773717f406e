"""What holds a publication back, as publication sees it: files of the notice (and of its lot's tender documents)
not yet scanned for malware (domain/documents/holds).

Documents plugs its check in from domain/wiring.py, so publication does not import documents (documents imports
publication). A process that did not wire the domain cannot publish: it fails loudly rather than publishing files
nobody scanned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Check = Callable[[list[tuple[str, int]]], Awaitable[None]]

_checks: list[Check] = []


def plug(check: Check) -> None:
    """Adds a hold: check(owners) raises while the files of these (type, id) objects may not be published yet
    (idempotent)."""
    if check not in _checks:
        _checks.append(check)


async def ensure_released(owners: list[tuple[str, int]]) -> None:
    """Raises the first hold's error while any hold keeps these objects back."""
    if not _checks:
        raise RuntimeError("publication holds are not wired: call domain.wiring.wire() at the process's start")
    for check in _checks:
        await check(owners)
