"""The bulk seeding command produces what publishing produces: findable, listed and in the feed."""

from api.bulk_seed import seed_announcements
from domain.publication import search
from domain.publication.models import Announcement, FeedEntry
from domain.publication.reading import AnnouncementFilter


async def test_seeded_announcements_are_public_searchable_and_in_the_feed(db):
    # when 60 announcements are seeded in small batches
    await seed_announcements(60, batch=25, seed=7, progress=False)

    # then they are published, each with its segmented text, and the feed carries each publication
    published = await Announcement.filter(status="published").count()
    assert published == 60
    sample = await Announcement.filter(status="published").order_by("id").first()
    assert sample is not None
    assert sample.search_text == search.segment(f"{sample.title}\n{sample.body_text}")
    assert await FeedEntry.filter(kind="announcement.published").count() == 60

    # and a word of a seeded title finds it
    word = search.query_terms(sample.title)[0]
    page = await search.search(word, AnnouncementFilter(), 20, None)
    assert page.total >= 1


def test_the_stream_gives_n_announcements_even_when_its_window_runs_out_first():
    # a window far too short for n: arrivals used to run on past its end until the dates overflowed
    import itertools
    import random
    from datetime import UTC, datetime, timedelta

    from api.bulk_seed.publishers import Publisher
    from api.bulk_seed.stream import Stream
    from domain.common.catalogue import Category

    end = datetime(2026, 11, 24, 8, tzinfo=UTC)
    tenderer = Publisher(org_id=1, user_id=1, name="招标人", categories=tuple(Category))
    stream = Stream(random.Random(1), end - timedelta(hours=1), end, 200, [tenderer], [])
    stream.interval = timedelta(days=3)  # as if the window had been planned much longer
    made = list(itertools.islice(stream, 300))
    assert len(made) == 200
    assert all(p.at <= end for p in made)
