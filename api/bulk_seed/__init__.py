"""Bulk seeding for scale tests: many realistic Chinese announcements, written in batches.

Each seeded announcement leaves the rows that `create_project`, `draft_announcement` and
`publish_announcement` leave once the dispatcher has run, computed with the same functions:
a project and its lot (trade identifiers with check characters, configuration through
`procedures.configure`, lawful eligibility rules), the announcement (HTML through `sanitize`,
`plain_text`, `search_text = search.segment(title + "\\n" + body_text)`, lot status and
publicity window as publishing sets them, a change notice pointing at the tender it corrects),
the lot's status moved by `states.lot_after`, the search index row (`search.index`), and the
change-feed entries (AnnouncementPublished, then LotStatusChanged when the lot moved) with the
payloads those events carry, numbered under the feed's lock like `feed.append`.

Not written: outbox events and therefore audit entries, saved-search notifications and live
messages (a million notifications are not what a seed wants), idempotency records, attachments.

Fast because rows go in with one bulk insert per table and batch, ids come from the sequences
(PostgreSQL) or after the current maximum (SQLite, single writer), and the jieba segmentation is
done once per distinct text run: jieba cuts each run of word characters on its own, so a text's
segmentation is the concatenation of its runs' segmentations. Every batch checks a sample
against `search.segment` itself and stops the seeding on any difference.

Announcements are published in time order over the last two years, projects moving through
tender, change, candidate publicity, result or termination as real ones do.

publishers.py registers who publishes, vocabulary.py holds the words, stream.py plans projects and orders
their announcements, texts.py words them, segmentation.py segments them, writer.py writes a batch; this
module is the command (`python -m api.manage seed-announcements`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.bulk_seed.plans import Publication
from api.bulk_seed.publishers import ensure_organisations
from api.bulk_seed.segmentation import check_segmentation
from api.bulk_seed.stream import Stream
from api.bulk_seed.writer import write_batch
from domain.common import clock
from domain.common.storage import using_postgres

DEFAULT_BATCH = 5000
MAX_BATCH = 50_000
SPAN = timedelta(days=730)


async def _produce(
    stream: Iterator[Publication], size: int, out: asyncio.Queue[list[Publication] | BaseException]
) -> None:
    """Makes the next batch while the previous one is written: it yields after each announcement,
    so the writer's round trips go on while this one uses the processor."""
    try:
        while True:
            pubs = []
            for pub in itertools.islice(stream, size):
                pubs.append(pub)
                await asyncio.sleep(0)
            await out.put(pubs)
            if not pubs:
                return
    except Exception as err:
        await out.put(err)


@dataclass
class SeedReport:
    announcements: int = 0
    projects: int = 0
    feed_entries: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.announcements / self.seconds if self.seconds > 0 else 0.0


async def seed_announcements(
    n: int,
    batch: int = DEFAULT_BATCH,
    seed: int = 2026,
    progress: bool = True,
    end: datetime | None = None,
) -> SeedReport:
    """Publishes n generated announcements in batches; each batch commits whole or not at all."""
    if n < 0 or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"need n >= 0 and 1 <= batch <= {MAX_BATCH}")
    from tqdm import tqdm

    report = SeedReport()
    started = time.perf_counter()
    tenderers, agencies = await ensure_organisations()
    postgres = using_postgres()
    end = end or clock.now()
    rng = random.Random(seed)
    stream = Stream(random.Random(rng.random()), end - SPAN, end, n, tenderers, agencies)
    checker = random.Random(rng.random())
    batches: asyncio.Queue[list[Publication] | BaseException] = asyncio.Queue(maxsize=1)
    producer = asyncio.create_task(_produce(stream, batch, batches))
    try:
        with tqdm(total=n, unit="ann", disable=not progress, file=sys.stderr, smoothing=0.1) as bar:
            first = True
            while True:
                pubs = await batches.get()
                if isinstance(pubs, BaseException):
                    raise pubs
                if not pubs:
                    break
                check_segmentation(pubs, checker, first)
                first = False
                written = await write_batch(pubs, postgres)
                report.announcements += written.announcements
                report.projects += written.projects
                report.feed_entries += written.feed_entries
                bar.update(written.announcements)
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
    report.seconds = time.perf_counter() - started
    return report
