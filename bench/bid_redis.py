"""The bid's Redis calls alone, as they were and as they are, in alternated rounds (bench/README.md, issue 21 (7)).

What a bid asks of Redis from the server: the per-bidder rate limit's count (`RedisRateLimiter.hit`) and, once the
bid is committed, its live publication with its mark (`RedisBroker.publish`). Each is measured on this process's
main thread (`time.thread_time`: redis-py's work and the loop's, uvloop as uvicorn serves) per call, with the code
of the levers in bench/lever_ab.py off (`bid_limit_script`: MULTI/INCR/EXPIRE/EXEC; `bid_publish_batch`: a PUBLISH
and SET pipeline per publication) and on (one EVALSHA each; publications asked while one is in flight written
together). `publish xN` asks N publications at once (N requests of one process answered at the same time) and
gives the CPU per publication. `marks x20` is the outbox's live consumer asking for the marks of 20 bids this process
published (a dispatcher in the server's process), per call: off, Redis is asked (MGET); on, the process knows them.
Keys and channels are under a fresh prefix, deleted at the end.

    .venv/bin/python bench/bid_redis.py --redis redis://127.0.0.1:6379/12
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def bid_message(seq: int) -> dict[str, Any]:
    """As `live_message` makes a bid's (about 420 bytes encoded)."""
    return {
        "eventId": str(uuid.uuid4()),
        "type": "auction.bid_placed",
        "objectType": "Auction",
        "objectId": "3",
        "occurredAt": "2026-12-07T09:27:13.465514+00:00",
        "payload": {
            "lot_id": 2473137175581,
            "seq": seq,
            "price_fen": 100_000_000 + seq,
            "bidder_no": "7979",
            "phase": "free",
            "ends_at": None,
            "placed_at": "2026-12-07T09:27:13.457590+00:00",
        },
        "audience": {"orgs": [], "users": [], "roles": ["operator"], "public": True},
    }


async def measure(
    url: str, calls: int, rounds: int, together: list[int], only: str | None = None, chosen: str = ""
) -> None:
    from lever_ab import _count_in_a_transaction, _publish_each_in_a_pipeline

    from api.ratelimit import RedisRateLimiter
    from domain.common.topics import watermark
    from notifications.broker import RedisBroker
    from notifications.keyspace import Keyspace

    prefix = f"bench-bid-redis-{uuid.uuid4().hex[:8]}"
    space = Keyspace(url, prefix)
    broker = RedisBroker(space)
    limiter = RedisRateLimiter(space)
    seq = [0]

    async def limit(n: int) -> None:
        for i in range(n):
            await limiter.hit(f"bid:{i % 200}", 1_000_000, window_seconds=1)

    def publish(at_once: int) -> Callable[[int], Awaitable[None]]:
        async def run(n: int) -> None:
            for _ in range(n // at_once):
                seq[0] += at_once
                await asyncio.gather(*(broker.publish(bid_message(seq[0] + k)) for k in range(at_once)))

        return run

    published = [bid_message(seq) for seq in range(1, 21)]
    for message in published:
        await broker.publish(message)
    names = [mark[0] for message in published if (mark := watermark(message)) is not None]

    async def marks(n: int) -> None:
        for _ in range(n // 20):
            await broker.marks(names)

    @contextlib.contextmanager
    def marks_asked_of_redis() -> Iterator[None]:
        kept = broker._marks
        broker._marks = OrderedDict()
        try:
            yield
        finally:
            broker._marks = kept

    targets: dict[str, tuple[Callable[[int], Awaitable[None]], Callable[[], Any]]] = {
        "marks x20": (marks, marks_asked_of_redis),  # first: the publications below push its marks out (MARKS_KEPT)
        "limit": (limit, _count_in_a_transaction),
        **{f"publish x{n}": (publish(n), _publish_each_in_a_pipeline) for n in together},
    }
    rows: dict[tuple[str, bool], list[float]] = {}
    try:
        sides = {"off": (False,), "on": (True,), None: (False, True)}[only]
        for name, (run, off) in targets.items():
            if chosen and name not in chosen.split(","):
                continue
            for enabled in sides:
                with contextlib.nullcontext() if enabled else off():
                    await run(200)  # connections open, scripts loaded
            for round_no in range(rounds):
                for enabled in sides if round_no % 2 == 0 else sides[::-1]:
                    with contextlib.nullcontext() if enabled else off():
                        started = time.thread_time()
                        await run(calls)
                        per = calls // 20 if name == "marks x20" else calls
                        rows.setdefault((name, enabled), []).append((time.thread_time() - started) / per * 1e6)
    finally:
        keys = [key async for key in space._client.scan_iter(match=space.name("*"))]
        if keys:
            await space._client.delete(*keys)
        await broker.close()
    for (name, enabled), measured in rows.items():
        figure = f"bid_redis_{name.replace(' ', '_')}_{'on' if enabled else 'off'}_cpu"
        print(f"{figure}: {min(measured):.0f} us")
        print(f"# {figure}: per round {' '.join(str(round(v)) for v in measured)} us", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", metavar="URL", required=True)
    parser.add_argument("--calls", type=int, default=2000, help="calls per target and round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--together", default="1,8", help="publications asked at once, one target each")
    parser.add_argument("--only", choices=["off", "on"], help="one side only (instructions under callgrind)")
    parser.add_argument("--targets", default="", help="comma-separated names (default: all)")
    args = parser.parse_args(argv)
    import uvloop

    uvloop.install()
    together = [int(n) for n in args.together.split(",")]
    asyncio.run(measure(args.redis, args.calls, args.rounds, together, args.only, args.targets))


if __name__ == "__main__":
    main()
