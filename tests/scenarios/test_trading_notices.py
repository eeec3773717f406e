"""Notices a bidder must not miss, in its inbox (and pushed, time-critical ones on every channel): the bid deadline
a day ahead, the decryption window opening and closing, a change notice on its lot, and a lot that failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import chronograph
from domain.tendering import reminders
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_opening import decrypt
from tests.scenarios.test_publication import LIST, publish
from tests.scenarios.test_results import inbox
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit


async def kinds(api: Any, phone: str) -> list[str]:
    return [n["kind"] for n in await inbox(api, await f.login(api, phone))]


async def test_deadline_decryption_and_change_notices_reach_the_right_bidders(api, manual_clock):
    # given a sealed tender (deadline in 25 days) and four registered bidders; three seal a bid, one does not
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(4)]
    keys = [new_key(), new_key(), new_key()]
    for (_, token), key, price in zip(bidders[:3], keys, (1_200_000_000, 1_210_000_000, 1_220_000_000), strict=True):
        assert (await submit(api, token, lot["id"], seal(key, lot["tradeCode"], price, {})))["__typename"] == (
            "BidSubmitted"
        )
    await api.dispatch()

    # when the tenderer publishes a clarification, and the deadline is a day away
    listed = await api.gql(LIST, {"filter": {"tradeCode": lot["tradeCode"], "types": ["TENDER"]}})
    tender_id = listed["data"]["announcements"]["edges"][0]["node"]["id"]
    await publish(
        api,
        tenderer,
        project,
        "CHANGE",
        "关于第一标段的澄清公告",
        "<p>工期调整为 180 日历天。</p>",
        correctsId=tender_id,
    )
    manual_clock.advance(timedelta(days=24, minutes=1))
    made = await reminders.remind(manual_clock.now())
    again = await reminders.remind(manual_clock.now())
    await api.dispatch()

    # then every registrant is told of the change, and only the one without a sealed bid of the deadline (once)
    phones = [phone for phone, _ in bidders]
    seen = [await kinds(api, phone) for phone in phones]
    assert [k.count("LOT_CHANGED") for k in seen] == [1, 1, 1, 1]
    assert [k.count("BID_DEADLINE_APPROACHING") for k in seen] == [0, 0, 0, 1]
    assert (made, again) == (1, 0)

    # when the deadline passes and the opening begins; then the decryption window closes in ten minutes
    manual_clock.advance(timedelta(days=1))
    await chronograph.fire_due()
    await api.dispatch()
    assert (await decrypt(api, await f.login(api, phones[0]), lot["id"], keys[0]))["__typename"] == "BidDecrypted"
    manual_clock.advance(timedelta(minutes=50))
    await reminders.remind(manual_clock.now())
    await api.dispatch()

    # then the three sealed bidders were told the window opened (time-critical); those still sealed are reminded
    notices = [await inbox(api, await f.login(api, phone)) for phone in phones]
    opened = [[n for n in mine if n["kind"] == "DECRYPTION_WINDOW"] for mine in notices]
    assert [len(o) for o in opened] == [1, 1, 1, 0]
    assert all("解密" in o[0]["title"] for o in opened[:3])
    assert [sum(n["kind"] == "DECRYPTION_REMINDER" for n in mine) for mine in notices] == [0, 1, 1, 0]
    # and, being time-critical, the window's notices went by text as well, to the same bidders
    await api.send_texts()
    texted = [[t for to, t in api.sms if to == phone] for phone in phones]
    assert [sum("已开标" in t for t in mine) for mine in texted] == [1, 1, 1, 0]
    assert [sum("截止" in t for t in mine) for mine in texted] == [0, 1, 1, 0]


async def test_a_lot_that_fails_at_its_deadline_tells_its_registrants(api, manual_clock):
    # given a sealed tender with three registrants, only two of which seal a bid (three are needed)
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(3)]
    for _, token in bidders[:2]:
        assert (await submit(api, token, lot["id"], seal(new_key(), lot["tradeCode"], 1_200_000_000, {})))[
            "__typename"
        ] == "BidSubmitted"
    await api.dispatch()

    # when the deadline passes
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()

    # then every registrant is told the lot failed (流标), and the two that sealed a bid that it is returned unopened
    # (实施条例 第四十四条: fewer than three bids are not opened)
    titles = [[n["title"] for n in await inbox(api, await f.login(api, phone))] for phone, _ in bidders]
    assert [(await kinds(api, phone)).count("LOT_ENDED") for phone, _ in bidders] == [2, 2, 1]
    assert [t.count("投标文件已退回") for t in titles] == [1, 1, 0]
