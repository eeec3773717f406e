"""Issue 22's competitive negotiation (竞争性谈判) and consultation (竞争性磋商) over HTTP, as the app drives them:
three suppliers' sealed first responses opened at the remote opening, the panel (the drawn experts and the
purchaser's representative) negotiating with each supplier apart over two rounds, each supplier reading only its
own rounds (another's is NotFound, 政府采购法 第三十八条(四)), the sealed final offers (最后报价) in one window and
refused outside it, the keys, the panel's sheets, and the result: the lowest final offer for a negotiation, the
best comprehensive score for a consultation (财库〔2014〕214号 第二十四条)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key
from tests import factories as f
from tests.scenarios.test_publication import LIST
from tests.scenarios.test_results import AWARD, PUBLISH, RESULT, inbox, status_of
from tests.support.negotiation import Opened, op, opened_lot, sealed_offer

RESPONSES = [98_000_000, 95_500_000, 97_300_000]  # the first responses' prices (首次报价)
FINAL = [93_800_000, 94_200_000, 91_900_000]  # the final offers: the third supplier is now the cheapest
FILE = {"name": "第二轮补充说明.pdf", "sha256": "ab" * 32}


async def negotiate_two_rounds(api: Any, lot: Opened) -> dict[str, Any]:
    """The operator starts the negotiation; the purchaser's representative sends each supplier its round-1
    document and each answers with a revised quotation; an expert opens round 2 and talks to the first supplier."""
    operator = await f.login(api, lot.operator_at)
    started = await op(api, "NegotiationStart", {"input": {"lotId": lot.lot_id}}, operator)
    assert started["__typename"] == "NegotiationChanged", started
    tenderer = await f.login(api, lot.tenderer_at)
    suppliers = [await f.login(api, phone) for _, phone in lot.suppliers]
    for n, ((org, _), token) in enumerate(zip(lot.suppliers, suppliers, strict=True)):
        asked = {"lotId": lot.lot_id, "organisationId": org, "text": f"第1轮：请就供应商{n + 1}的交货期作出说明"}
        sent = await op(api, "NegotiationPost", {"input": asked}, tenderer)
        assert sent["__typename"] == "NegotiationPosted", sent
        answer = {"lotId": lot.lot_id, "text": f"供应商{n + 1}：交货期30日", "priceFen": RESPONSES[n] - 1_000_000}
        answered = await op(api, "NegotiationPost", {"input": answer}, token)
        assert answered["__typename"] == "NegotiationPosted", answered
    expert = await f.expert_token(api, lot.committee[0])
    second = await op(api, "NegotiationRoundOpen", {"input": {"lotId": lot.lot_id}}, expert)
    asked = {
        "lotId": lot.lot_id,
        "organisationId": lot.suppliers[0][0],
        "text": "第2轮：技术偏离表",
        "documents": [FILE],
    }
    posted = await op(api, "NegotiationPost", {"input": asked}, expert)
    replied = await op(api, "NegotiationPost", {"input": {"lotId": lot.lot_id, "text": "已修改"}}, suppliers[0])
    return {"second": second, "posted": posted, "replied": replied, "expert": expert, "suppliers": suppliers}


async def offer_and_open(api: Any, clock: Any, lot: Opened, prices: list[int]) -> dict[str, Any]:
    """The panel calls the final offers; every supplier seals one in the window; the window and then the key window
    end on the clock, each supplier handing its key over in between. What a late offer is told comes back too."""
    tenderer = await f.login(api, lot.tenderer_at)
    suppliers = [await f.login(api, phone) for _, phone in lot.suppliers]
    keys = [new_key() for _ in prices]
    early = await op(
        api,
        "FinalOfferSubmit",
        {"input": {"lotId": lot.lot_id, "sealedOffer": sealed_offer(keys[0], lot.code, 1)}},
        suppliers[0],
    )
    called = await op(api, "NegotiationFinalOffersCall", {"input": {"lotId": lot.lot_id}}, tenderer)
    receipts = [
        await op(
            api,
            "FinalOfferSubmit",
            {"input": {"lotId": lot.lot_id, "sealedOffer": sealed_offer(key, lot.code, price)}},
            token,
        )
        for token, key, price in zip(suppliers, keys, prices, strict=True)
    ]
    clock.advance(timedelta(minutes=60))
    await chronograph.fire_due()
    suppliers = [await f.login(api, phone) for _, phone in lot.suppliers]
    late = await op(
        api,
        "FinalOfferSubmit",
        {"input": {"lotId": lot.lot_id, "sealedOffer": sealed_offer(new_key(), lot.code, 80_000_000)}},
        suppliers[2],
    )
    opened = [
        await op(api, "FinalOfferDecrypt", {"input": {"lotId": lot.lot_id, "key": key}}, token)
        for token, key in zip(suppliers, keys, strict=True)
    ]
    clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()
    return {"early": early, "called": called, "receipts": receipts, "late": late, "opened": opened}


async def sheets(api: Any, lot: Opened, points: dict[int, tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Every panel expert reads the decrypted final offers and hands in its sheet, each offer compliant; with points
    (technical, commercial by price) for a consultation."""
    done = []
    for expert_id in lot.committee:
        token = await f.expert_token(api, expert_id)
        offers = await op(api, "NegotiationOffers", {"lotId": lot.lot_id}, token)
        entries = []
        for o in offers:
            entry: dict[str, Any] = {"finalOfferId": o["finalOfferId"], "compliant": True}
            if points is not None:
                entry["technicalCenti"], entry["commercialCenti"] = points[o["priceFen"]]
            entries.append(entry)
        done.append(
            await op(api, "NegotiationSheetSubmit", {"input": {"lotId": lot.lot_id, "entries": entries}}, token)
        )
    return done


async def award(api: Any, clock: Any, lot: Opened) -> dict[str, Any]:
    """The purchaser publishes the candidates, waits out the 1-day publicity and awards the first."""
    tenderer = await f.login(api, lot.tenderer_at)
    published = (await api.gql(PUBLISH, {"input": {"lotId": lot.lot_id}}, token=tenderer))["data"]["candidatesPublish"]
    assert published["__typename"] == "CandidatesPublished", published
    clock.advance(timedelta(days=1, seconds=1))
    tenderer = await f.login(api, lot.tenderer_at)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot.lot_id}}, token=tenderer))["data"]["resultAward"]
    await api.dispatch()
    return awarded  # type: ignore[no-any-return]


async def test_a_competitive_negotiation_over_two_rounds_is_awarded_to_the_lowest_final_offer(api, manual_clock):
    # given a competitive negotiation whose three first responses were opened and whose panel is drawn
    lot = await opened_lot(api, manual_clock, "COMPETITIVE_NEGOTIATION", RESPONSES, negotiationRoundsMin=2)

    # when the panel negotiates two rounds with each supplier apart
    talks = await negotiate_two_rounds(api, lot)
    _, second, third = talks["suppliers"]
    mine = await op(api, "NegotiationThread", {"lotId": lot.lot_id}, second)
    theirs = await op(api, "NegotiationThread", {"lotId": lot.lot_id, "organisationId": lot.suppliers[0][0]}, second)
    into_theirs = {"lotId": lot.lot_id, "organisationId": lot.suppliers[0][0], "text": "请告知其他供应商报价"}
    intrusion = await op(api, "NegotiationPost", {"input": into_theirs}, second)
    panel_view = await op(
        api, "NegotiationThread", {"lotId": lot.lot_id, "organisationId": lot.suppliers[0][0]}, talks["expert"]
    )

    # then round 2 is open, and each supplier reads its own rounds only: another supplier's read as null (not
    # found) and posting into them is refused with NotFound
    assert talks["second"]["negotiation"]["round"] == 2
    assert [{"name": d["name"], "sha256": d["sha256"]} for d in talks["posted"]["document"]["documents"]] == [FILE]
    assert mine["organisationId"] == lot.suppliers[1][0]
    assert [(m["round"], m["fromPanel"], m["priceFen"]) for m in mine["messages"]] == [
        (1, True, None),
        (1, False, RESPONSES[1] - 1_000_000),
    ]
    assert "供应商2" in mine["messages"][0]["text"]
    assert theirs is None
    assert (intrusion["__typename"], intrusion["code"]) == ("NotFound", "NOT_FOUND")
    assert [(m["round"], m["fromPanel"]) for m in panel_view["messages"]] == [
        (1, True),
        (1, False),
        (2, True),
        (2, False),
    ]
    # and each supplier was told of round 2 and of the documents the panel sent it, not of those sent to others
    await api.dispatch()
    told = [[n["title"] for n in await inbox(api, token) if n["kind"] == "NEGOTIATION"] for token in talks["suppliers"]]
    assert sorted(told[0]) == sorted(["收到第 1 轮谈判文件", "谈判（磋商）进入第 2 轮", "收到第 2 轮谈判文件"])
    assert sorted(told[1]) == sorted(["收到第 1 轮谈判文件", "谈判（磋商）进入第 2 轮"])
    # and a supplier's view of the negotiation names no other supplier
    seen = await op(api, "Negotiation", {"lotId": lot.lot_id}, third)
    assert (seen["status"], seen["suppliers"], seen["supplierIds"]) == ("NEGOTIATING", 3, [])

    # when the final offers are called after the two rounds, sealed in the window, refused before and after it
    opened = await offer_and_open(api, manual_clock, lot, FINAL)

    # then an offer before the call and one after the window are typed errors, the three in it are received
    assert (opened["early"]["__typename"], opened["early"]["code"]) == (
        "FinalOffersNotCalled",
        "FINAL_OFFERS_NOT_CALLED",
    )
    called = opened["called"]["negotiation"]
    assert called["status"] == "FINAL_OFFERS"
    late = opened["late"]
    assert (late["__typename"], late["code"]) == ("FinalOfferOutsideWindow", "FINAL_OFFER_OUTSIDE_WINDOW")
    assert (late["opensAt"], late["closesAt"]) == (called["finalOffersOpenAt"], called["finalOffersCloseAt"])
    assert [r["__typename"] for r in opened["receipts"]] == ["FinalOfferSubmitted"] * 3
    await api.dispatch()
    calls = [n for n in await inbox(api, await f.login(api, lot.suppliers[0][1])) if n["kind"] == "FINAL_OFFER"]
    assert sorted(n["title"] for n in calls) == sorted(["请提交最后报价", "请解密最后报价"])
    assert [o["receipt"]["priceFen"] for o in opened["opened"]] == FINAL

    # when every expert of the panel hands in a sheet
    done = await sheets(api, lot)

    # then the report ranks the final offers by price (财政部令第74号 第三十五条): the third supplier leads
    report = done[-1]["negotiation"]
    assert report["status"] == "REPORTED"
    assert [(c["rank"], c["priceFen"], c["scoreCenti"]) for c in report["candidates"]] == [
        (n, p, None) for n, p in enumerate(sorted(FINAL), start=1)
    ]

    # when the purchaser publishes the candidates and awards
    awarded = await award(api, manual_clock, lot)

    # then the lowest final offer wins the lot, at its final price
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == min(FINAL)
    assert await status_of(api, lot.lot_id) == "AWARDED"
    result = (await api.gql(RESULT, {"lotId": lot.lot_id}))["data"]["lotResult"]
    assert [c["priceFen"] for c in result["candidates"]] == sorted(FINAL)


# technical and commercial points (hundredths) each expert gives the final offer of this price
POINTS = {93_800_000: (4_800, 1_800), 94_200_000: (4_100, 1_500), 91_900_000: (3_600, 1_400)}
WEIGHTS = {"price": 30, "technical": 50, "commercial": 20}  # the consultation's defaults


async def test_a_competitive_consultation_is_scored_and_awarded_to_the_best_total(api, manual_clock):
    # given a competitive consultation after its opening, negotiated over two rounds
    lot = await opened_lot(api, manual_clock, "COMPETITIVE_CONSULTATION", RESPONSES)
    await negotiate_two_rounds(api, lot)

    # when the final offers come in and are opened, and the panel scores them
    opened = await offer_and_open(api, manual_clock, lot, FINAL)
    done = await sheets(api, lot, POINTS)

    # then the price score is the lowest final offer over each offer times the price weight (财库〔2014〕214号
    # 第二十四条), the totals add the panel's points, and the best total leads, not the lowest price
    assert [o["receipt"]["priceFen"] for o in opened["opened"]] == FINAL
    lowest = min(FINAL)
    totals = {p: WEIGHTS["price"] * 100 * lowest // p + t + c for p, (t, c) in POINTS.items()}
    ranking = sorted(totals, key=lambda p: (-totals[p], p))
    assert ranking[0] != lowest
    report = done[-1]["negotiation"]
    assert report["status"] == "REPORTED"
    assert [(c["rank"], c["priceFen"], c["scoreCenti"]) for c in report["candidates"]] == [
        (n, p, totals[p]) for n, p in enumerate(ranking, start=1)
    ]
    operator = await f.login(api, lot.operator_at)
    kept = await op(api, "Negotiation", {"lotId": lot.lot_id}, operator)
    assert (kept["method"], kept["weights"]) == ("COMPREHENSIVE", {"__typename": "EvaluationWeights", **WEIGHTS})

    # when the purchaser awards
    awarded = await award(api, manual_clock, lot)

    # then the best total wins at its final offer
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == ranking[0]


async def test_too_few_final_offers_fail_the_lot_with_a_termination_notice(api, manual_clock):
    # given a competitive negotiation of three suppliers whose final offers are called after one round
    lot = await opened_lot(api, manual_clock, "COMPETITIVE_NEGOTIATION", RESPONSES)
    operator = await f.login(api, lot.operator_at)
    await op(api, "NegotiationStart", {"input": {"lotId": lot.lot_id}}, operator)
    tenderer = await f.login(api, lot.tenderer_at)
    called = await op(api, "NegotiationFinalOffersCall", {"input": {"lotId": lot.lot_id}}, tenderer)

    # when only two suppliers offer in the window and it ends
    for (_, phone), price in zip(lot.suppliers[:2], FINAL, strict=False):
        offer = {"lotId": lot.lot_id, "sealedOffer": sealed_offer(new_key(), lot.code, price)}
        sent = await op(api, "FinalOfferSubmit", {"input": offer}, await f.login(api, phone))
        assert sent["__typename"] == "FinalOfferSubmitted", sent
    manual_clock.advance(timedelta(minutes=60))
    await chronograph.fire_due()
    await api.dispatch()

    # then the negotiation and the lot fail (财政部令第74号 第三十三条: at least three final offers), announced
    assert called["negotiation"]["status"] == "FINAL_OFFERS"
    kept = await op(api, "Negotiation", {"lotId": lot.lot_id}, await f.login(api, lot.operator_at))
    assert kept["status"] == "FAILED"
    assert await status_of(api, lot.lot_id) == "TERMINATED"
    announced = await api.gql(LIST, {"filter": {"tradeCode": lot.code, "types": ["TERMINATION"]}})
    assert len(announced["data"]["announcements"]["edges"]) == 1
