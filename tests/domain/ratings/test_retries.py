"""A rating retried under one idempotency key is recorded once (not taken for an edit); the key reused for other
scores is refused and changes nothing."""

from __future__ import annotations

import pytest

from domain.common.errors import IdempotencyKeyReused
from domain.common.models import OutboxEvent
from domain.publication import announcements
from domain.ratings import services as ratings
from domain.ratings.models import PlatformRating
from tests.support.tendering import published_tender

STARS = {"convenience": 5, "efficiency": 4, "transparency": 5, "support": 3}


async def test_a_rating_retried_under_its_key_is_recorded_once(db, manual_clock):
    # given a tender its tenderer terminated (the lot's trading ended)
    tender = await published_tender()
    end = announcements.AnnouncementForm(
        project_id=tender.project.id,
        type="termination",
        title="终止公告",
        body_html="<p>终止</p>",
        lot_id=tender.lot.id,
    )
    drafted = await announcements.draft_announcement(tender.tenderer, end)
    await announcements.publish_announcement(tender.tenderer, drafted.id)

    # when the tenderer's rating is sent twice under one key (a phone retrying after a lost answer)
    sent = []
    for _ in range(2):
        sent.append(await ratings.rate(tender.tenderer, tender.lot.id, STARS, None, "服务很好", "r-1"))
        manual_clock.advance(minutes=5)

    # then both answer the first outcome: one rating, one event, not an edit
    assert sent[0].id == sent[1].id
    assert sent[1].updated_at == sent[0].rated_at
    assert await PlatformRating.filter(lot_id=tender.lot.id).count() == 1
    rated = OutboxEvent.filter(type="platform_rating.rated", outcome="success")
    assert await rated.count() == 1

    # when the key is reused for other scores
    with pytest.raises(IdempotencyKeyReused):
        await ratings.rate(tender.tenderer, tender.lot.id, {**STARS, "support": 1}, None, "服务很好", "r-1")

    # then the rating is unchanged and nothing more is recorded
    kept = await PlatformRating.get(lot_id=tender.lot.id)
    assert (kept.platform_scores, kept.updated_at) == (STARS, sent[0].rated_at)
    assert await rated.count() == 1
