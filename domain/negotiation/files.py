"""The files a round's document names, as domain/documents holds them (plugged in at domain/wiring, since documents
sits above negotiation): a document of the panel or a supplier names only files already handed in on that supplier's
thread (purpose negotiation_document), by their SHA-256."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

# (owner type, owner id, purpose, SHA-256s) -> the SHA-256s among them of current documents of that owner and purpose
Finder = Callable[[str, int, str, Sequence[str]], Awaitable[set[str]]]

_finders: list[Finder] = []


def plug(finder: Finder) -> None:
    """domain/documents answers which files a thread holds (domain/wiring)."""
    _finders[:] = [finder]


async def held(thread_id: int, sha256s: Sequence[str]) -> set[str]:
    """The SHA-256s among `sha256s` of the round documents handed in on the thread."""
    if not sha256s:
        return set()
    if not _finders:
        raise RuntimeError("negotiation files are not wired: call domain.wiring.wire() at the process's start")
    return await _finders[0]("NegotiationSupplier", thread_id, "negotiation_document", sha256s)
