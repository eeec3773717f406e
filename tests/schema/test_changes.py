"""changes: the change feed for integrators with feed:read (and operators), paged and resumed by cursor."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from domain.accounts.models import User
from domain.common.actors import Actor, Role
from domain.publication import announcements, projects
from domain.publication.models import Announcement, FeedEntry, Lot
from schema.relay import from_global_id, int_id
from tests import factories as f
from tests.schema.test_integrators import client_token, create_client

CHANGES = """
query($after: String, $first: Int) {
  changes(after: $after, first: $first) {
    entries { seq kind objectType objectId tradeCode committedAt payload }
    endCursor hasMore
  }
}"""
_titles = itertools.count(1)


async def tenderer(api: Any, operator: str) -> Actor:
    """An approved tenderer organisation's first user, as the domain services see them."""
    org_id, phone, _ = await f.approved_org(api, operator, kinds=["TENDERER"])
    user = await User.get(phone=phone)
    return Actor(user_id=user.id, org_id=int_id(org_id, "Organisation"), roles=frozenset({Role.TENDERER}))


async def publish_tender(actor: Actor) -> Announcement:
    """A project with one lot and its published tender: two changes (published, lot draft -> open)."""
    n = next(_titles)
    project = await projects.create_project(
        actor,
        projects.ProjectForm(
            name=f"2026年青岛市市北区第{n}批道路改造工程",
            category="engineering_construction",
            region_code="370203",
            lots=[projects.LotForm(name="施工", procedure="open_tender", estimated_price_fen=980_000_000)],
        ),
    )
    lot = await Lot.get(project_id=project.id)
    draft = await announcements.draft_announcement(
        actor,
        announcements.AnnouncementForm(
            project_id=project.id,
            lot_id=lot.id,
            type="tender",
            title=f"2026年青岛市市北区第{n}批道路改造工程施工招标公告",
            body_html="<p>项目概况：市北区道路改造，计划工期180日历天。</p>",
        ),
    )
    return await announcements.publish_announcement(actor, draft.id)


async def integrator(api: Any, operator: str, scopes: list[str]) -> str:
    created = await create_client(api, operator, scopes=scopes, ratePerMinute=600)
    grant = await client_token(api, created["client"]["clientId"], created["clientSecret"])
    return str(grant["access_token"])


async def changes(api: Any, token: str, **variables: Any) -> dict[str, Any]:
    body = await api.gql(CHANGES, variables, token=token)
    return body["data"]["changes"]  # type: ignore[no-any-return]


async def test_an_integrator_pages_the_feed_and_resumes_from_its_cursor(api, manual_clock):
    # given three published tenders (six changes) and an integrator with feed:read
    operator = await f.operator_token(api)
    actor = await tenderer(api, operator)
    published = [await publish_tender(actor) for _ in range(3)]
    await api.dispatch()
    token = await integrator(api, operator, ["feed:read"])

    # when it reads four, then the rest from the cursor
    first = await changes(api, token, first=4)
    rest = await changes(api, token, after=first["endCursor"], first=4)

    # then it got all six once, in order, the last page saying nothing more is there
    assert [e["seq"] for e in first["entries"]] == [1, 2, 3, 4]
    assert first["hasMore"] is True
    assert [e["seq"] for e in rest["entries"]] == [5, 6]
    assert rest["hasMore"] is False
    entries = first["entries"] + rest["entries"]
    assert [e["kind"] for e in entries] == ["announcement.published", "lot.status_changed"] * 3

    # and each change names its object by global id, with its trade code and the recorded payload
    ann, lot_change = entries[0], entries[1]
    assert ann["objectType"] == "Announcement"
    assert from_global_id(ann["objectId"]) == ("Announcement", str(published[0].id))
    assert ann["tradeCode"] == published[0].trade_code
    assert ann["payload"]["title"] == published[0].title
    assert ann["payload"]["category"] == "engineering_construction"
    assert ann["committedAt"].startswith(str(manual_clock.now().year))
    assert lot_change["objectType"] == "Lot"
    assert from_global_id(lot_change["objectId"]) == ("Lot", str(published[0].lot_id))
    assert (lot_change["payload"]["before"], lot_change["payload"]["after"]) == ("draft", "open")

    # when nothing new is there, the cursor stays; after another publication it resumes there
    idle = await changes(api, token, after=rest["endCursor"])
    manual_clock.advance(timedelta(minutes=5))
    later = await publish_tender(actor)
    await api.dispatch()
    resumed = await changes(api, token, after=idle["endCursor"])

    # then the integrator gets exactly the new changes
    assert idle == {"entries": [], "endCursor": rest["endCursor"], "hasMore": False}
    assert [e["seq"] for e in resumed["entries"]] == [7, 8]
    assert from_global_id(resumed["entries"][0]["objectId"]) == ("Announcement", str(later.id))


async def test_an_operator_reads_the_feed(api, manual_clock):
    # given a published tender
    operator = await f.operator_token(api)
    await publish_tender(await tenderer(api, operator))
    await api.dispatch()

    # when the operator reads the feed
    page = await changes(api, operator)

    # then it sees both changes
    assert [e["seq"] for e in page["entries"]] == [1, 2]


async def test_first_is_capped_at_1000_and_a_bad_cursor_or_first_is_refused(api, manual_clock):
    # given 1001 changes and an integrator with feed:read
    operator = await f.operator_token(api)
    entry = {"kind": "lot.status_changed", "object_type": "Lot", "trade_code": None, "payload": {}}
    await FeedEntry.bulk_create(
        [
            FeedEntry(
                seq=i,
                event_id=f"00000000-0000-4000-8000-{i:012d}",
                object_id=str(i),
                committed_at=manual_clock.now(),
                **entry,
            )
            for i in range(1, 1002)
        ]
    )
    token = await integrator(api, operator, ["feed:read"])

    # when it asks without a size, for 5000, then for the rest
    default = await changes(api, token, first=None)
    big = await changes(api, token, first=5000)
    tail = await changes(api, token, after=big["endCursor"], first=5000)

    # then it gets 100, 1000, then the one left
    assert len(default["entries"]) == 100
    assert default["hasMore"] is True
    assert len(big["entries"]) == 1000
    assert big["hasMore"] is True
    assert [e["seq"] for e in tail["entries"]] == [1001]

    # and a cursor it was not given, or first < 1, is refused with the field named
    for variables, field in (({"after": "not-a-cursor"}, "after"), ({"first": 0}, "first")):
        body = await api.gql(CHANGES, variables, token=token, expect_errors=True)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
        assert field in body["errors"][0]["message"]


async def test_a_bidder_is_forbidden(api, manual_clock):
    # given a published tender and an approved bidder
    operator = await f.operator_token(api)
    await publish_tender(await tenderer(api, operator))
    await api.dispatch()
    _, _, bidder = await f.approved_org(api, operator)

    # when the bidder asks for the feed
    body = await api.gql(CHANGES, {}, token=bidder, expect_errors=True)

    # then the field is refused at the gate
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_integrator_without_feed_read_is_forbidden(api, manual_clock):
    # given a published tender and an integrator allowed announcements and results, not the feed
    operator = await f.operator_token(api)
    await publish_tender(await tenderer(api, operator))
    await api.dispatch()
    token = await integrator(api, operator, ["announcements:read", "results:read"])

    # when it asks for the feed
    body = await api.gql(CHANGES, {}, token=token, expect_errors=True)

    # then the field is refused at the gate
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_without_a_token_the_caller_is_asked_to_sign_in(api):
    # when an anonymous caller asks for the feed
    body = await api.gql(CHANGES, {}, expect_errors=True)

    # then it is told to authenticate
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
