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
