"""The bulk seeding command produces what publishing produces: findable, listed and in the feed."""

from api.bulk_seed import seed_announcements
from domain.publication import search
from domain.publication.models import Announcement, FeedEntry
from domain.publication.services import AnnouncementFilter


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
