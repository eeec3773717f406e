"""One live feed per auction and process: the bus is read, deduplicated and gap-filled once, and every
watcher of the lot receives the same update objects, which a transport may render once per document.

A watcher joins the feed before it reads its snapshot (so nothing committed after the snapshot can pass
it by), then receives every bid after the snapshot's sequence, in order: the feed fills a gap in what the
bus delivered from the database once for everyone, and a watcher whose own queue overflowed fills its gap
from the database itself.

A watcher that asked for the latest price only (`latestOnly`) conflates instead: an unsent price in its queue or
backlog is dropped as soon as a newer one arrives (the newer one goes last, so what stays keeps its order), phase
changes never are, and no gap is filled. It is the broker's conflation rule (`domain/common/topics.py
conflation_key`) applied per watcher: the feed's one bus subscription serves every watcher of the lot, most of
which want every bid, so it cannot conflate itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any, Protocol

from domain.auctions import services as auctions
from domain.common import topics
from schema.auctions.types import AuctionUpdate

log = logging.getLogger("palmtrade.auctions.fanout")
TYPES = frozenset({auctions.BidPlaced.type, auctions.AuctionPhaseChanged.type})
QUEUE_SIZE = 1000
# an auction update carries bidder numbers only and no field depends on who watches: one rendering for all
VISIBILITY = "public"


class Shared:
    """An update every watcher of the lot receives as the same object; `wire` caches its rendered forms."""

    __slots__ = ("kind", "phase", "seq", "update", "wire")

    def __init__(self, update: AuctionUpdate) -> None:
        self.update = update
        self.kind = update.kind
        self.seq = update.seq
        self.phase = update.phase.value
        self.wire: dict[Any, Any] = {}


class Channel(Protocol):
    """A transport that sends a shared update itself, rendered once per (visibility, document, variables)."""

    async def send(self, shared: Shared, visibility: str) -> bool:
        """True when sent; False when this update must go through ordinary execution instead."""
        ...


# set by a transport (api/ws.py) in the task that runs the subscription; unset: updates are yielded
direct_channel: ContextVar[Channel | None] = ContextVar("auction_direct_channel", default=None)


def _bid_message(bid: Any, lot_pk: int) -> dict[str, Any]:
    return {
        "type": auctions.BidPlaced.type,
        "payload": {
            "lot_id": lot_pk,
            "seq": bid.seq,
            "phase": bid.phase,
            "price_fen": bid.amount_fen,
            "bidder_no": bid.bidder_no,
            "ends_at": bid.ends_at.isoformat() if bid.ends_at else None,
        },
    }


async def _bids_between(lot_pk: int, lot_id: str, after: int, before: int) -> AsyncIterator[Shared]:
    """Bids with after < seq < before from the database, page by page, as updates."""
    while before > after + 1:
        page = [b for b in await auctions.bids_after(lot_pk, after) if b.seq < before]
        if not page:
            return
        for bid in page:
            yield Shared(AuctionUpdate.from_message(lot_id, _bid_message(bid, lot_pk)))
        after = page[-1].seq


def _supersede(pending: deque[Shared], shared: Shared) -> None:
    """Conflating: drops from `pending` the unsent price that `shared`, a newer price, makes stale."""
    if shared.kind == "bid":
        for index in range(len(pending) - 1, -1, -1):  # at most one price waits, behind a few phase changes
            if pending[index].kind == "bid":
                del pending[index]
                return


class LatestQueue(asyncio.Queue[Shared]):
    """A watcher's queue that holds at most one price: a newer price drops the unread one (and queues last)."""

    _queue: deque[Shared]

    def _put(self, item: Shared) -> None:
        _supersede(self._queue, item)
        self._queue.append(item)


class Watcher:
    """One subscriber's view of a feed.

    Queued: a bounded queue (the oldest update dropped when it overflows) read by the subscription's task.
    Direct (a transport channel attached while the watcher is caught up): the feed's task hands each update
    to the channel itself, so a price update does not wake one task per watcher; a send that has to wait
    for a slow socket finishes in a task of its own while later updates wait in order behind it.
    """

    def __init__(self, feed: LotFeed, latest: bool = False) -> None:
        self.feed = feed
        self.latest = latest  # conflating: the newest price and every phase change, stale prices dropped
        self.queue: asyncio.Queue[Shared] = LatestQueue(QUEUE_SIZE) if latest else asyncio.Queue(QUEUE_SIZE)
        self.seq = 0
        self.phase = ""
        self.channel: Channel | None = None
        self.detached: asyncio.Future[None] | None = None
        self.backlog: deque[Shared] = deque()
        self.sending: asyncio.Task[None] | None = None

    def put(self, shared: Shared) -> None:
        try:
            self.queue.put_nowait(shared)
        except asyncio.QueueFull:
            log.warning("an auction watcher is too slow; dropping its oldest update")
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(shared)

    def offer(self, shared: Shared) -> None:
        if self.channel is None:
            self.put(shared)
        elif self.sending is not None or self.backlog:
            if len(self.backlog) >= QUEUE_SIZE:
                self._detach(None)  # too slow for direct delivery: the queue (and its gap filling) takes over
                self.put(shared)
            else:
                if self.latest:
                    _supersede(self.backlog, shared)
                self.backlog.append(shared)
        else:
            self._deliver(shared)

    def start(self, seq: int, phase: str) -> None:
        self.seq, self.phase = seq, phase
        self.feed.baseline(seq, phase)

    def _accept(self, shared: Shared) -> bool:
        """Advances seq/phase for an update this watcher must get now; False for a repeat or a stale phase."""
        if shared.kind == "bid":
            if shared.seq <= self.seq:
                return False
            self.seq = shared.seq
        elif shared.phase == self.phase or shared.seq < self.seq:
            return False
        else:
            self.phase = shared.phase
        return True

    def _deliver(self, shared: Shared) -> None:
        """Direct mode, nothing in flight: sends `shared` (and then the backlog) from the calling task."""
        while True:
            if shared.kind == "bid" and shared.seq > self.seq + 1 and not self.latest:
                self._detach(None, shared)  # a gap: the subscription's task fills it from the database
                return
            seq, phase = self.seq, self.phase
            if self._accept(shared):
                assert self.channel is not None
                coro = self.channel.send(shared, VISIBILITY)
                try:
                    waiting = coro.send(None)
                except StopIteration as done:
                    if done.value is False:  # not renderable as shared: ordinary execution reports it
                        self.seq, self.phase = seq, phase
                        self._detach(None, shared)
                        return
                except BaseException as err:
                    coro.close()
                    self._detach(err)
                    return
                else:
                    self.sending = asyncio.ensure_future(self._finish(coro, waiting))
                    return
            if not self.backlog:
                return
            shared = self.backlog.popleft()

    async def _finish(self, coro: Any, waiting: Any) -> None:
        """Completes a send that suspended (the socket's buffer was full), then delivers the backlog."""
        try:
            while True:
                try:
                    if waiting is None:
                        await asyncio.sleep(0)
                    else:
                        # as a task does with the future its coroutine yielded: marked as taken (else awaiting it
                        # again raises "await wasn't used with future"), then waited for
                        waiting._asyncio_future_blocking = False
                        await waiting
                except BaseException as err:
                    waiting = coro.throw(err)
                else:
                    waiting = coro.send(None)
        except StopIteration:
            pass
        except BaseException as err:
            coro.close()
            self.sending = None
            self._detach(err)
            if isinstance(err, asyncio.CancelledError):
                raise
            return
        self.sending = None
        if self.channel is not None and self.backlog:
            self._deliver(self.backlog.popleft())

    def _detach(self, error: BaseException | None, *pending: Shared) -> None:
        """Leaves direct mode: what was not sent goes to the queue, in order; the subscription's task resumes."""
        self.channel = None
        for shared in (*pending, *self.backlog):
            self.put(shared)
        self.backlog.clear()
        if self.detached is not None and not self.detached.done():
            if error is None:
                self.detached.set_result(None)
            else:
                self.detached.set_exception(error)

    async def updates(self, channel: Channel | None = None) -> AsyncIterator[Shared]:
        """Every bid after the snapshot in sequence (gaps filled from the database) and each phase change
        (conflating: the newest price instead of every bid, no gap filled); with a channel, only what the
        channel could not send itself."""
        feed = self.feed
        while True:
            if channel is not None and self.queue.empty():
                self.detached = asyncio.get_running_loop().create_future()
                self.channel = channel
                await self.detached
                continue
            shared = await self.queue.get()
            if shared.kind == "bid" and shared.seq > self.seq + 1 and not self.latest:
                # this watcher lost updates (its queue overflowed, or the feed skipped): fill the gap itself
                async for missed in _bids_between(feed.lot_pk, feed.lot_id, self.seq, shared.seq):
                    if self._accept(missed) and not (channel is not None and await channel.send(missed, VISIBILITY)):
                        yield missed
            if self._accept(shared) and not (channel is not None and await channel.send(shared, VISIBILITY)):
                yield shared

    def close(self) -> None:
        self.channel = None
        if self.sending is not None:
            self.sending.cancel()
        self.feed.leave(self)


class LotFeed:
    """The process's single bus subscription for one auction, shared by all its watchers."""

    def __init__(
        self, bus: topics.TopicBus, lot_pk: int, lot_id: str, registry: dict[tuple[int, str], LotFeed]
    ) -> None:
        self.bus, self.lot_pk, self.lot_id = bus, lot_pk, lot_id
        self.registry = registry
        self.watchers: set[Watcher] = set()
        self.seq: int | None = None
        self.phase: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        pk = self.lot_pk
        # the lot's topic only: a process reads the bids of the lots its watchers watch (domain/common/topics.py);
        # open() returns once the bus listens, before any watcher reads its snapshot
        subscription = await self.bus.open(
            lambda m: m.get("type") in TYPES and m.get("payload", {}).get("lot_id") == pk, topics=(topics.auction(pk),)
        )
        self.task = asyncio.create_task(self._run(subscription), name=f"auction-feed-{pk}")
        self.ready.set()

    def baseline(self, seq: int, phase: str) -> None:
        if self.seq is None:
            self.seq, self.phase = seq, phase

    def join(self, latest: bool = False) -> Watcher:
        watcher = Watcher(self, latest)
        self.watchers.add(watcher)
        return watcher

    def leave(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)
        key = (self.lot_pk, self.lot_id)
        if not self.watchers and self.registry.get(key) is self:
            del self.registry[key]
            if self.task is not None:
                self.task.cancel()

    def _emit(self, shared: Shared) -> None:
        for watcher in list(self.watchers):
            watcher.offer(shared)

    async def _run(self, subscription: topics.Subscription) -> None:
        try:
            async for message in subscription:
                try:
                    await self._handle(message)
                except Exception:  # one bad message must not stop the lot's feed; watchers fill gaps
                    log.exception("auction feed %s could not handle a message", self.lot_pk)
        finally:
            await subscription.aclose()

    async def _handle(self, message: dict[str, Any]) -> None:
        payload = message["payload"]
        if message["type"] == auctions.BidPlaced.type:
            seq = int(payload["seq"])
            if self.seq is not None:
                if seq <= self.seq:
                    return  # already sent (the dispatcher repeats what the mutation published)
                # a gap (the feed's bus queue lost messages): filled from the database once for every watcher
                async for missed in _bids_between(self.lot_pk, self.lot_id, self.seq, seq):
                    self.seq = missed.seq
                    self._emit(missed)
            self.seq = seq
        elif payload["phase"] == self.phase or (self.seq is not None and int(payload["seq"]) < self.seq):
            return
        else:
            seq = int(payload["seq"])
            if self.seq is not None and seq > self.seq:
                # bids the bus did not bring (their publisher died between the commit and the publish, and the
                # dispatcher's came later): sent before the phase they led to, the last price above all
                async for missed in _bids_between(self.lot_pk, self.lot_id, self.seq, seq + 1):
                    self.seq = missed.seq
                    self._emit(missed)
            self.phase = payload["phase"]
        self._emit(Shared(AuctionUpdate.from_message(self.lot_id, message)))


_feeds: weakref.WeakKeyDictionary[topics.TopicBus, dict[tuple[int, str], LotFeed]] = weakref.WeakKeyDictionary()


async def watch(bus: topics.TopicBus, lot_pk: int, lot_id: str, latest: bool = False) -> Watcher:
    """Joins the lot's feed in this process (starting it for the first watcher) once it reads the bus;
    `latest`: as a conflating watcher (the newest price and every phase change)."""
    feeds = _feeds.setdefault(bus, {})
    feed = feeds.get((lot_pk, lot_id))
    if feed is None:
        feed = feeds[(lot_pk, lot_id)] = LotFeed(bus, lot_pk, lot_id, feeds)
        watcher = feed.join(latest)
        try:
            await feed.start()
        except BaseException:
            feed.ready.set()
            feed.leave(watcher)
            raise
        return watcher
    watcher = feed.join(latest)
    try:
        await feed.ready.wait()
    except BaseException:
        feed.leave(watcher)
        raise
    return watcher
