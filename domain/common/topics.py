"""Topics of the live bus: a process receives only the topics its subscribers name (issue 21).

A message's topic follows from its type and payload: a lot's auction feed (bids and phase changes) is
`auction:<lot id>`, a lot's listing (offers counted, the period's end) `listing:<lot id>`, the outbid notices of
a lot `outbid:<lot id>`, a user's live notices `user:<user id>`; every other message is on the general
topic. A subscriber names its topics, `ANY` for every message; it never names a message's type here, so
a type that gets a topic of its own must have its subscribers name it (schema/auctions/fanout.py for the
auction feed). The Redis broker keeps one channel per topic (notifications/broker.py), so a process with
no watcher of a lot never reads that lot's bids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Final, Protocol

GENERAL: Final = "events"  # messages without a topic of their own
ANY: Final = "*"  # every message, whatever its topic

BID_PLACED: Final = "auction.bid_placed"
PHASE_CHANGED: Final = "auction.phase_changed"
LISTING_OFFER: Final = "listing.offer_placed"
LISTING_ENDED: Final = "listing.ended"
# type -> the topic family; the message's payload names the lot
BY_LOT: Final = {
    BID_PLACED: "auction",
    PHASE_CHANGED: "auction",
    "auction.outbid": "outbid",
    LISTING_OFFER: "listing",
    LISTING_ENDED: "listing",
}


def auction(lot_pk: int) -> str:
    """The topic of a lot's bids and phase changes."""
    return f"auction:{lot_pk}"


def listing(lot_pk: int) -> str:
    """The topic of a lot's listing (挂牌): each offer counted and the period's end (schema/auctions/listing.py)."""
    return f"listing:{lot_pk}"


def user(user_id: int) -> str:
    """The topic of a user's live notices (domain/notifications/services.py live_notification)."""
    return f"user:{user_id}"


NOTICE: Final = "notification.created"  # domain.notifications.services.LIVE_TYPE


def topic_of(message: dict[str, Any]) -> str:
    kind = message.get("type", "")
    if kind == NOTICE:
        # a notice is its user's alone: a process without that user's subscription never reads it (an outbid
        # notice per bid was the last general message a bid made)
        recipient = message.get("payload", {}).get("userId")
        return user(recipient) if isinstance(recipient, int) else GENERAL
    family = BY_LOT.get(kind)
    if family is not None:
        lot = message.get("payload", {}).get("lot_id")
        if isinstance(lot, int):
            return f"{family}:{lot}"
    return GENERAL


def conflation_key(message: dict[str, Any]) -> str | None:
    """Messages with one key supersede each other in a conflating subscriber's queue: a lot's price.
    A phase change, a result or any other message has none and is never dropped for a newer one."""
    if message.get("type") == BID_PLACED:
        return topic_of(message)
    return None


def watermark(message: dict[str, Any]) -> tuple[str, int] | None:
    """(mark, sequence) of a message whose publication the broker records: a lot's bid, marked by its lot's
    topic and its event id. The outbox worker publishes a bid only when its own mark is not there
    (notifications/live.py). The event id, not the lot alone: a lot's id and a bid's sequence come back after a
    database is emptied or restored (every test does it), and a lot-wide mark would then hide new bids."""
    if message.get("type") == BID_PLACED:
        seq = message.get("payload", {}).get("seq")
        event_id = message.get("eventId")
        if isinstance(seq, int) and isinstance(event_id, str) and event_id:
            return f"{topic_of(message)}:{event_id}", seq
    return None


class Subscription(Protocol):
    """Messages of the named topics from the moment it was opened (the broker listens for them already)."""

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def __anext__(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class TopicBus(Protocol):
    """The live bus with topics (the `EventBus` of domain/common/events.py, which knows the general topic only)."""

    async def publish(self, message: dict[str, Any]) -> None: ...

    async def open(
        self,
        accept: Callable[[dict[str, Any]], bool] | None = None,
        *,
        topics: Iterable[str] = (GENERAL,),
        conflate: bool = False,
    ) -> Subscription:
        """Returns once the bus listens for `topics`; with `accept`, only messages it accepts (checked before
        waking the reader); `conflate`: an unread message is dropped for a newer one of its `conflation_key`."""
        ...
