"""Who may publish which announcement: a complaint decision is the supervisor's, published by the
platform, never by a party to the complaint."""

from __future__ import annotations

import pytest

from domain.common.actors import SYSTEM
from domain.common.errors import PermissionDenied
from domain.publication import announcements
from domain.publication.models import Announcement
from tests.support.tendering import published_tender


async def test_only_the_platform_publishes_a_complaint_decision(db, manual_clock):
    t = await published_tender()
    form = announcements.AnnouncementForm(
        project_id=t.project.id,
        lot_id=t.lot.id,
        type="complaint_decision",
        title="投诉处理决定公告",
        body_html="<p>驳回投诉。</p>",
    )
    # the tenderer (a party) may not, not even as a draft
    with pytest.raises(PermissionDenied):
        await announcements.draft_announcement(t.tenderer, form)
    assert not await Announcement.exists(type="complaint_decision")
    # the platform may, and the lot does not move
    published = await announcements.publish_announcement(
        SYSTEM, (await announcements.draft_announcement(SYSTEM, form)).id
    )
    assert published.status == "published"
    assert published.lot_status == "open"
