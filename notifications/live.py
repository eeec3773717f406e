"""The outbox's live consumer: one publication per bid (issue 21).

The server publishes a bid right after its commit (schema/auctions/mutations.py): watchers see it without
waiting for a dispatcher. The broker marks each bid it published (`topics.watermark`: the lot's topic and the
event id, set in the same Redis round trip as the PUBLISH, kept `keyspace.MARK_SECONDS`). The dispatcher
publishes every other event as before, and a bid only when its mark is not there: the server could not
(Redis was down, or the process died between the commit and the publish), or the bid was placed by a path
that does not publish. A watcher's feed also fills any gap in the sequence from the database
(schema/auctions/fanout.py).

The server's publish can still cross the dispatcher's check (the check before the server's PUBLISH reached
Redis): the bid is then published twice, which the feeds drop by sequence. Without Redis both run in one
process and the check is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from domain.access import scope
from domain.common.events import live_message
from domain.common.models import OutboxEvent
from domain.common.topics import watermark
from notifications.dispatch import AfterCommit


class MarkingBus(Protocol):
    async def publish(self, message: dict[str, Any]) -> None: ...

    async def marks(self, names: Iterable[str]) -> dict[str, int]: ...


class LiveConsumer:
    name = "live"

    def __init__(self, bus: MarkingBus) -> None:
        self.bus = bus
        self.skipped = 0  # bids the server had published

    async def consume(self, events: Sequence[OutboxEvent]) -> AfterCommit | None:
        """Decides in the batch's transaction what to publish and to whom; publishes once it has committed."""
        messages = [live_message(event) for event in events if event.outcome == "success"]
        marked = {mark[0] for m in messages if (mark := watermark(m)) is not None}
        published = await self.bus.marks(sorted(marked)) if marked else {}
        outgoing = []
        for message in messages:
            mark = watermark(message)
            if mark is not None and published.get(mark[0], 0) >= mark[1]:
                self.skipped += 1
                continue
            message["audience"] = await scope.live_audience(
                message["objectType"], message["objectId"], message["payload"], message["audience"]
            )
            outgoing.append(message)
        if not outgoing:
            return None

        async def publish() -> None:
            for message in outgoing:
                await self.bus.publish(message)

        return AfterCommit(publish)
