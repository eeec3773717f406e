"""Who hears of the results: the report to the tenderer, the publicity to the bidders, the award notice to
the winner, result notices to the others, an overdue contract to the tenderer and the supervisors."""

from __future__ import annotations

from domain.accounts.models import Organisation
from domain.common import events
from domain.common.actors import SYSTEM
from domain.common.events import Audience
from domain.common.models import OutboxEvent
from domain.evaluation.scoring import EvaluationReported
from domain.notifications.models import Notification
from domain.results import services as results
from notifications.broker import InProcessBroker
from notifications.inbox import NotificationConsumer
from notifications.rules import notifications_for
from tests.domain.factories import organisation, user
from tests.support.results import evaluated_lot

PRICES = [98_000_000, 95_500_000, 97_250_000, 99_000_000]


async def users_of(*orgs: int) -> dict[int, int]:
    """One active user per organisation: user id -> organisation id."""
    made = {}
    for org_id in orgs:
        u = await user(await Organisation.get(id=org_id))
        made[u.id] = org_id
    return made


async def of_type(kind: str) -> list[OutboxEvent]:
    return list(await OutboxEvent.filter(type=kind).order_by("id"))


async def test_the_report_tells_the_tenderer_to_publish_the_candidates(db, manual_clock):
    # given an evaluated lot, a user of its tenderer and one of a bidder
    t, _ = await evaluated_lot(manual_clock, PRICES[:3])
    tenderer = await users_of(t.project.tenderer_id)
    await users_of(t.bidders[0].org.id)
    reported = [
        await events.record(
            EvaluationReported(
                object_id="1", lot_id=t.lot.id, candidates=3, failed=False, report_sha256="0" * 64, audience=Audience()
            ),
            SYSTEM,
        ),
        await events.record(
            EvaluationReported(
                object_id="2", lot_id=t.lot.id, candidates=0, failed=True, report_sha256="1" * 64, audience=Audience()
            ),
            SYSTEM,
        ),
    ]
    # when
    made = await notifications_for(reported)
    # then only the tenderer hears, once per event, with the right words
    assert [n.user_id for n in made] == [*tenderer, *tenderer]
    assert {n.kind for n in made} == {"evaluation_reported"}
    assert made[0].title_zh == "评标报告已提交"
    assert "3 名" in made[0].body_zh
    assert "Publish the candidate publicity" in made[0].body_en
    assert "流标" in made[1].body_zh
    assert (made[0].object_type, made[0].object_id) == ("Lot", str(t.lot.id))


async def test_the_publicity_reaches_every_bidder_of_the_opening_and_nobody_else(db, manual_clock):
    # given four bidders, the last never decrypted, and a stranger
    t, _ = await evaluated_lot(manual_clock, PRICES, decrypted=3)
    bidders = await users_of(*(b.org.id for b in t.bidders))
    await users_of((await organisation()).id)
    # when the candidates are publicised
    await results.publish_candidates(t.tenderer, t.lot.id)
    made = await notifications_for(await of_type("result.candidates_published"))
    # then each bidder whose bid was opened hears of it, with the end of the window
    assert sorted(n.user_id for n in made) == sorted(bidders)
    assert {n.kind for n in made} == {"candidate_publicity"}
    assert made[0].title_zh == "中标候选人公示已发布"
    assert "公示期至" in made[0].body_zh
    assert made[0].object_type == "Announcement"


async def test_the_winner_gets_the_award_notice_and_each_other_valid_bidder_a_result_notice(db, manual_clock):
    # given an awarded lot, its four bidders with a user each (the fourth never decrypted)
    t, candidates = await evaluated_lot(manual_clock, PRICES, decrypted=3)
    bidders = await users_of(*(b.org.id for b in t.bidders))
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    award = await results.award(t.tenderer, t.lot.id)
    # when
    notices = await notifications_for(await of_type("result.awarded"))
    others = await notifications_for(await of_type("result.not_awarded"))
    # then
    [notice] = notices
    assert bidders[notice.user_id] == candidates[0].organisation_id
    assert notice.kind == "award_notice"
    assert notice.title_zh == "中标通知书"
    assert award.confirmation_no in notice.body_zh
    assert "955,000.00" in notice.body_zh
    assert {bidders[n.user_id] for n in others} == {t.bidders[0].org.id, t.bidders[2].org.id}
    assert {n.kind for n in others} == {"result_notice"}
    assert "您未中标" in others[0].body_zh


async def test_an_overdue_contract_reaches_the_tenderer_and_the_supervisors_of_its_category(db, manual_clock):
    # given an awarded lot and supervisors of two categories
    from domain.common import chronograph

    t, _ = await evaluated_lot(manual_clock, PRICES[:3])
    tenderer = await users_of(t.project.tenderer_id)
    ours = await organisation(kinds=["supervisor"])
    ours.supervised_categories = ["engineering_construction"]
    await ours.save()
    theirs = await organisation(kinds=["supervisor"])
    theirs.supervised_categories = ["government_procurement"]
    await theirs.save()
    watching = await users_of(ours.id)
    await users_of(theirs.id)
    await results.publish_candidates(t.tenderer, t.lot.id)
    manual_clock.advance(days=3, seconds=1)
    await results.award(t.tenderer, t.lot.id)
    # when 30 days pass without a contract
    manual_clock.advance(days=30, seconds=1)
    await chronograph.fire_due()
    made = await notifications_for(await of_type("result.contract_overdue"))
    # then the tenderer and the supervisor of engineering construction hear of it
    assert sorted(n.user_id for n in made) == sorted([*tenderer, *watching])
    assert {n.kind for n in made} == {"contract_overdue"}
    assert made[0].title_zh == "合同逾期未签订"

    # and the inbox consumer files each once, even when the event is delivered again
    consumer = NotificationConsumer(InProcessBroker())
    await consumer.consume(await of_type("result.contract_overdue"))
    await consumer.consume(await of_type("result.contract_overdue"))
    assert await Notification.filter(kind="contract_overdue").count() == 2
