"""The demo city a new user meets on `make run`."""

from api.seed import DEMO_PASSWORD, seed_demo_city
from domain.accounts.models import Organisation
from domain.publication.models import Announcement
from domain.publication.states import AnnouncementType
from tests import factories as f


async def test_the_demo_city_has_every_kind_of_announcement_and_loads_once(api):
    # when the demo city is loaded into an empty database, twice
    first = await seed_demo_city(b"secret")
    second = await seed_demo_city(b"secret")

    # then it loaded once, with announcements of all eight types, public to anyone
    assert (first, second) == (True, False)
    kinds = set(await Announcement.filter(status="published").values_list("type", flat=True))
    assert kinds == {t.value for t in AnnouncementType}
    listed = await api.gql("{ announcements(first: 50) { edges { node { title typeName region { name } } } } }")
    titles = [e["node"]["title"] for e in listed["data"]["announcements"]["edges"]]
    assert len(titles) == await Announcement.all().count()
    assert any("中标候选人公示" in t for t in titles)

    # and its operator signs in with the documented password
    assert await f.login(api, "13800000001", DEMO_PASSWORD)
    assert await Organisation.filter(status="pending").count() == 1


async def test_every_procedure_of_the_demo_city_has_something_to_try_and_its_dates_run_in_order(api):
    # given the demo city, loaded now
    from datetime import datetime, timedelta

    from api.seed import AUCTION_BIDDERS
    from domain.auctions.models import Auction, AuctionEntry
    from domain.common import clock
    from domain.complaints.models import Complaint
    from domain.disclosure import ocds
    from domain.publication.models import Lot
    from domain.publication.procedures import Procedure
    from domain.registration import services as registration
    from domain.registration.models import Registration

    await seed_demo_city(b"secret")
    now = clock.now()
    lots = {p: [lot async for lot in Lot.filter(procedure=p.value)] for p in Procedure}

    def open_now(lot: Lot, published: datetime | None) -> bool:
        span = registration.window(lot, published)
        return lot.status == "open" and span is not None and span.opens_at <= now < span.closes_at

    # then the online auction has its rules and starts within the hour, two demo bidders entered
    (auction_lot,) = lots[Procedure.ONLINE_AUCTION]
    auction = await Auction.get(lot_id=auction_lot.id)
    assert auction.phase == "scheduled"
    assert now < auction.starts_at <= now + timedelta(hours=1)
    assert now < auction.entry_deadline <= auction.starts_at
    entered = await Registration.filter(lot_id=auction_lot.id, status="registered").count()
    assert entered == len(AUCTION_BIDDERS)
    assert not await AuctionEntry.exists(auction_id=auction.id)  # bidder numbers are given at the start
    # and an open tender and the listing take registrations (and bids) now
    tenders = [
        lot for lot in lots[Procedure.OPEN_TENDER] if open_now(lot, await registration._tender_published_at(lot))
    ]
    assert tenders, "no open tender takes bids"
    assert registration.bid_deadline(tenders[0]) >= now + timedelta(days=20)  # type: ignore[operator]
    (listing,) = lots[Procedure.LISTING]
    assert open_now(listing, await registration._tender_published_at(listing))
    # and a complaint about the open tender waits for the supervisor of its category
    (complaint,) = await Complaint.all()
    assert (complaint.status, complaint.category, complaint.lot_id) == (
        "submitted",
        "engineering_construction",
        tenders[0].id,
    )
    # and the procedures that finished did so in the order of the law: bids due before any award or contract
    for lot in [*lots[Procedure.OPEN_TENDER], *lots[Procedure.COMPETITIVE_NEGOTIATION]]:
        releases = (await ocds.record(lot.id))["releases"]
        due = datetime.fromisoformat(releases[-1]["tender"]["tenderPeriod"]["endDate"])
        for release in releases:
            if "awards" in release or "contracts" in release:
                assert datetime.fromisoformat(release["date"]) > due, (lot.name, release["tag"])
