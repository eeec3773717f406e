"""Issue 22's competitive negotiation (竞争性谈判) and consultation (竞争性磋商) over HTTP, as the app drives them, from
the announcement to a contract signed by both parties: suppliers invited to the lot (by recommendation and a pool
draw, 财政部令第74号 第十二条; an uninvited one refused), their sealed first responses opened at the remote opening,
the panel (two drawn experts and the purchaser's representative: three, two thirds experts, 政府采购法 第三十八条)
negotiating with each supplier apart over two rounds with real files that no other supplier can fetch (第三十八条(四)),
a supplier eliminated between rounds with its reason, the sealed final offers (最后报价) with their files in one
window and refused outside it or from the eliminated supplier, the keys, the panel's sheets, the award to the lowest
final offer (谈判) or the best comprehensive score (磋商, 财库〔2014〕214号 第二十四条), and the contract
(tests/support/contract_flow.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key
from tests import factories as f
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_publication import LIST
from tests.scenarios.test_results import AWARD, PUBLISH, RESULT, inbox, status_of
from tests.support import contract_flow
from tests.support import documents as docs
from tests.support.negotiation import Opened, op, opened_lot, sealed_offer

RESPONSES = [98_000_000, 95_500_000, 97_300_000, 99_900_000]  # the first responses' prices (首次报价)
FINAL = [93_800_000, 94_200_000, 91_900_000]  # the final offers of the three not eliminated: the third is cheapest
PANEL_EXPERTS = 2  # with the purchaser's representative a panel of three


async def start(api: Any, lot: Opened) -> dict[str, Any]:
    """The operator starts the negotiation with the tenderer's user as the purchaser's representative."""
    operator = await f.login(api, lot.operator_at)
    form = {"lotId": lot.lot_id, "representativeIds": [lot.representative]}
    started = await op(api, "NegotiationStart", {"input": form}, operator)
    assert started["__typename"] == "NegotiationChanged", started
    return started  # type: ignore[no-any-return]


async def thread_of(api: Any, token: str, lot: Opened, org: str | None = None) -> Any:
    return await op(api, "NegotiationThread", {"lotId": lot.lot_id, "organisationId": org}, token)


async def negotiate_two_rounds(api: Any, lot: Opened, tmp_path: Path) -> dict[str, Any]:
    """The purchaser's representative sends each supplier its round-1 document and each answers with a revised
    quotation; the first supplier's round-1 document and its revision are real files on its thread. An expert opens
    round 2 and talks to the first supplier."""
    tenderer = await f.login(api, lot.tenderer_at)
    suppliers = [await f.login(api, phone) for _, phone in lot.suppliers]
    first_thread = (await thread_of(api, tenderer, lot, lot.suppliers[0][0]))["threadId"]
    asked_file = contract_flow.pdf(tmp_path / "第1轮谈判文件-供应商1.pdf", "round 1 questions for supplier 1")
    panel_file = await contract_flow.upload(api, tenderer, first_thread, asked_file, "NEGOTIATION_DOCUMENT")
    revision = contract_flow.pdf(tmp_path / "第1轮响应修改-供应商1.pdf", "supplier 1 revised technical response")
    supplier_file = await contract_flow.upload(api, suppliers[0], first_thread, revision, "NEGOTIATION_DOCUMENT")
    for n, ((org, _), token) in enumerate(zip(lot.suppliers, suppliers, strict=True)):
        asked: dict[str, Any] = {
            "lotId": lot.lot_id,
            "organisationId": org,
            "text": f"第1轮：请就供应商{n + 1}的交货期作出说明",
        }
        if n == 0:
            asked["documents"] = [{"name": asked_file.name, "sha256": docs.sha256_file(asked_file)}]
        sent = await op(api, "NegotiationPost", {"input": asked}, tenderer)
        assert sent["__typename"] == "NegotiationPosted", sent
        answer: dict[str, Any] = {
            "lotId": lot.lot_id,
            "text": f"供应商{n + 1}：交货期30日",
            "priceFen": RESPONSES[n] - 1_000_000,
        }
        if n == 0:
            answer["documents"] = [{"name": revision.name, "sha256": docs.sha256_file(revision)}]
        answered = await op(api, "NegotiationPost", {"input": answer}, token)
        assert answered["__typename"] == "NegotiationPosted", answered
    expert = await f.expert_token(api, lot.committee[0])
    eliminated = await op(
        api,
        "NegotiationEliminate",
        {"input": {"lotId": lot.lot_id, "organisationId": lot.suppliers[3][0], "reason": "技术响应不满足第3.2条要求"}},
        expert,
    )
    second = await op(api, "NegotiationRoundOpen", {"input": {"lotId": lot.lot_id}}, expert)
    asked = {"lotId": lot.lot_id, "organisationId": lot.suppliers[0][0], "text": "第2轮：技术偏离表"}
    posted = await op(api, "NegotiationPost", {"input": asked}, expert)
    replied = await op(api, "NegotiationPost", {"input": {"lotId": lot.lot_id, "text": "已修改"}}, suppliers[0])
    return {
        "second": second,
        "posted": posted,
        "replied": replied,
        "expert": expert,
        "suppliers": suppliers,
        "eliminated": eliminated,
        "files": (panel_file, supplier_file),
        "thread": first_thread,
    }


async def offer_and_open(
    api: Any, clock: Any, lot: Opened, prices: list[int], tmp_path: Path, panel: str | None = None
) -> dict[str, Any]:
    """The panel (the purchaser's representative unless `panel` is a member's token) calls the final offers; each
    supplier with a price seals one in the window, the first with a final-offer file; a supplier beyond the prices
    (eliminated) is refused. The window and then the key window end on the clock, each supplier handing its key over
    in between. What an early and a late offer are told comes back too."""
    tenderer = panel or await f.login(api, lot.tenderer_at)
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
        for token, key, price in zip(suppliers, keys, prices, strict=False)
    ]
    out = None
    if len(suppliers) > len(prices):
        out = await op(
            api,
            "FinalOfferSubmit",
            {"input": {"lotId": lot.lot_id, "sealedOffer": sealed_offer(new_key(), lot.code, 70_000_000)}},
            suppliers[len(prices)],
        )
    thread = (await thread_of(api, suppliers[0], lot))["threadId"]
    final_file = contract_flow.pdf(tmp_path / "最后报价单-供应商1.pdf", f"final offer {prices[0]}")
    offer_file = await contract_flow.upload(api, suppliers[0], thread, final_file, "FINAL_OFFER_FILE")
    sealed_from_panel = (await docs.link(api, tenderer, offer_file))["__typename"]
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
        for token, key in zip(suppliers, keys, strict=False)
    ]
    clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()
    return {
        "early": early,
        "called": called,
        "receipts": receipts,
        "eliminated_offer": out,
        "late": late,
        "opened": opened,
        "offer_file": offer_file,
        "sealed_from_panel": sealed_from_panel,
    }


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


async def contract(api: Any, clock: Any, lot: Opened, tmp_path: Path, winner: int, price: int) -> dict[str, Any]:
    """The contract at the final offer, signed by the winner and the tenderer (contract_flow)."""
    parties = await contract_flow.contract_parties(api, clock, lot.tenderer_at, lot.suppliers[winner][1])
    return await contract_flow.signed_contract(api, parties, tmp_path, lot.lot_id, lot.code, price)


async def test_a_competitive_negotiation_over_two_rounds_ends_in_a_contract_at_the_lowest_final_offer(
    api, manual_clock, tmp_path
):
    # given a competitive negotiation whose four invited suppliers' first responses were opened, two experts drawn
    lot = await opened_lot(
        api, manual_clock, "COMPETITIVE_NEGOTIATION", RESPONSES, size=PANEL_EXPERTS, negotiationRoundsMin=2
    )
    # (an approved supplier nobody invited tried to register before the deadline)
    refused = lot.uninvited
    operator = await f.login(api, lot.operator_at)

    # when the operator starts the negotiation with the two experts alone
    alone = await op(api, "NegotiationStart", {"input": {"lotId": lot.lot_id}}, operator)

    # then both are typed refusals: only the invited take part (财政部令第74号 第十二条), and two experts are no panel
    # (政府采购法 第三十八条: three or more, two thirds experts)
    assert refused is not None
    assert (refused["__typename"], refused["code"]) == ("NotInvited", "NOT_INVITED")
    assert (alone["__typename"], alone["code"]) == ("PanelComposition", "NEGOTIATION_PANEL_COMPOSITION")
    assert "第三十八条" in alone["message"]

    # when the operator starts it with the tenderer's user as the purchaser's representative, and the panel
    # negotiates two rounds with each supplier apart, eliminating the fourth after round 1
    started = await start(api, lot)
    talks = await negotiate_two_rounds(api, lot, tmp_path)
    first, second, third, fourth = talks["suppliers"]
    mine = await thread_of(api, second, lot)
    theirs = await thread_of(api, second, lot, lot.suppliers[0][0])
    into_theirs = {"lotId": lot.lot_id, "organisationId": lot.suppliers[0][0], "text": "请告知其他供应商报价"}
    intrusion = await op(api, "NegotiationPost", {"input": into_theirs}, second)
    panel_view = await thread_of(api, talks["expert"], lot, lot.suppliers[0][0])

    # then the panel is three (two experts, one representative), round 2 is open, and each supplier reads its own
    # rounds only: another supplier's read as null (not found) and posting into them is refused with NotFound
    assert (started["negotiation"]["members"], started["negotiation"]["representatives"]) == (2, 1)
    assert talks["second"]["negotiation"]["round"] == 2
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
    assert [d["name"] for d in panel_view["messages"][0]["documents"]] == ["第1轮谈判文件-供应商1.pdf"]

    # and the first supplier's round files are fetched by it, the panel and the category's supervisor, never by
    # another supplier, which cannot even list them or hand in a file on that thread
    panel_file, supplier_file = talks["files"]
    supervisor = await f.login(api, await supervisor_phone(api, operator))
    tenderer = await f.login(api, lot.tenderer_at)
    for token in (first, tenderer, supervisor):
        for doc in (panel_file, supplier_file):
            assert (await docs.link(api, token, doc))["__typename"] == "DocumentDownloadGranted"
    for token in (second, third, None):
        for doc in (panel_file, supplier_file):
            assert (await docs.link(api, token, doc))["code"] == "NOT_FOUND"
    listed = await api.gql(docs.LIST, {"purpose": "NEGOTIATION_DOCUMENT", "ownerId": talks["thread"]}, token=second)
    assert listed["data"]["documents"] == []
    foreign = await docs.grant(
        api, second, "NEGOTIATION_DOCUMENT", talks["thread"], contract_flow.pdf(tmp_path / "x.pdf", "x")
    )
    assert foreign["code"] == "NOT_FOUND"
    # and a document naming a file never handed in on the supplier's thread is refused
    unknown = {"lotId": lot.lot_id, "text": "见附件", "documents": [{"name": "未上传.pdf", "sha256": "ab" * 32}]}
    refused_file = await op(api, "NegotiationPost", {"input": unknown}, second)
    assert (refused_file["__typename"], refused_file["field"]) == ("InvalidInput", "documents.0")

    # and the eliminated supplier knows after which round and why, may no longer post, and was told
    gone = talks["eliminated"]["supplier"]
    assert (gone["eliminated"], gone["eliminatedRound"], gone["reason"]) == (True, 1, "技术响应不满足第3.2条要求")
    own = await thread_of(api, fourth, lot)
    assert (own["eliminated"], own["eliminationReason"]) == (True, "技术响应不满足第3.2条要求")
    late_post = await op(api, "NegotiationPost", {"input": {"lotId": lot.lot_id, "text": "补充说明"}}, fourth)
    assert (late_post["__typename"], late_post["code"]) == ("SupplierEliminated", "NEGOTIATION_SUPPLIER_ELIMINATED")
    await api.dispatch()
    told = [[n["title"] for n in await inbox(api, token) if n["kind"] == "NEGOTIATION"] for token in talks["suppliers"]]
    assert sorted(told[0]) == sorted(["收到第 1 轮谈判文件", "谈判（磋商）进入第 2 轮", "收到第 2 轮谈判文件"])
    assert sorted(told[1]) == sorted(["收到第 1 轮谈判文件", "谈判（磋商）进入第 2 轮"])
    assert sorted(told[3]) == sorted(["收到第 1 轮谈判文件", "您已被谈判（磋商）小组淘汰"])
    standing = await op(api, "NegotiationSuppliers", {"lotId": lot.lot_id}, talks["expert"])
    assert len(standing) == 4
    assert [s["organisationId"] for s in standing if s["eliminated"]] == [lot.suppliers[3][0]]
    assert len(await op(api, "NegotiationSuppliers", {"lotId": lot.lot_id}, second)) == 1
    # and a supplier's view of the negotiation names no other supplier
    seen = await op(api, "Negotiation", {"lotId": lot.lot_id}, third)
    assert (seen["status"], seen["suppliers"], seen["supplierIds"]) == ("NEGOTIATING", 4, [])

    # when the final offers are called after the two rounds, sealed in the window, refused before and after it
    opened = await offer_and_open(api, manual_clock, lot, FINAL, tmp_path)

    # then an offer before the call, the eliminated supplier's and one after the window are typed errors; the three
    # in it are received
    assert (opened["early"]["__typename"], opened["early"]["code"]) == (
        "FinalOffersNotCalled",
        "FINAL_OFFERS_NOT_CALLED",
    )
    assert opened["eliminated_offer"]["code"] == "NEGOTIATION_SUPPLIER_ELIMINATED"
    called = opened["called"]["negotiation"]
    assert called["status"] == "FINAL_OFFERS"
    late = opened["late"]
    assert (late["__typename"], late["code"]) == ("FinalOfferOutsideWindow", "FINAL_OFFER_OUTSIDE_WINDOW")
    assert (late["opensAt"], late["closesAt"]) == (called["finalOffersOpenAt"], called["finalOffersCloseAt"])
    assert [r["__typename"] for r in opened["receipts"]] == ["FinalOfferSubmitted"] * 3
    await api.dispatch()
    calls = [n for n in await inbox(api, await f.login(api, lot.suppliers[0][1])) if n["kind"] == "FINAL_OFFER"]
    assert sorted(n["title"] for n in calls) == sorted(["请提交最后报价", "请解密最后报价"])
    assert not [n for n in await inbox(api, await f.login(api, lot.suppliers[3][1])) if n["kind"] == "FINAL_OFFER"]
    assert [o["receipt"]["priceFen"] for o in opened["opened"]] == FINAL
    # and the final-offer file was sealed from the panel inside the window, open to it after, never to a rival
    assert opened["sealed_from_panel"] == "NotFound"
    tenderer = await f.login(api, lot.tenderer_at)
    assert (await docs.link(api, tenderer, opened["offer_file"]))["__typename"] == "DocumentDownloadGranted"
    rival = await f.login(api, lot.suppliers[1][1])
    assert (await docs.link(api, rival, opened["offer_file"]))["code"] == "NOT_FOUND"

    # when every expert of the panel hands in a sheet
    done = await sheets(api, lot)

    # then the report ranks the final offers by price (财政部令第74号 第三十五条): the third supplier leads
    report = done[-1]["negotiation"]
    assert report["status"] == "REPORTED"
    assert [(c["rank"], c["priceFen"], c["scoreCenti"]) for c in report["candidates"]] == [
        (n, p, None) for n, p in enumerate(sorted(FINAL), start=1)
    ]

    # when the purchaser publishes the candidates and awards, and both parties sign the contract
    awarded = await award(api, manual_clock, lot)
    signed = await contract(api, manual_clock, lot, tmp_path, winner=2, price=min(FINAL))

    # then the lowest final offer wins the lot at its final price, and the contract is in force at that price
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == min(FINAL)
    result = (await api.gql(RESULT, {"lotId": lot.lot_id}))["data"]["lotResult"]
    assert [c["priceFen"] for c in result["candidates"]] == sorted(FINAL)
    assert (signed["status"], signed["amountFen"]) == ("ACTIVE", min(FINAL))
    assert await status_of(api, lot.lot_id) == "CONTRACTED"


# technical and commercial points (hundredths) each expert gives the final offer of this price
POINTS = {93_800_000: (4_800, 1_800), 94_200_000: (4_100, 1_500), 91_900_000: (3_600, 1_400)}
WEIGHTS = {"price": 30, "technical": 50, "commercial": 20}  # the consultation's defaults


async def test_a_competitive_consultation_is_scored_and_ends_in_a_contract_at_the_best_total(
    api, manual_clock, tmp_path
):
    # given a competitive consultation of three invited suppliers after its opening, three experts drawn
    lot = await opened_lot(api, manual_clock, "COMPETITIVE_CONSULTATION", RESPONSES[:3], size=3)
    # when the operator starts it with the three experts and the purchaser's representative (four: even)
    operator = await f.login(api, lot.operator_at)
    even = await op(
        api, "NegotiationStart", {"input": {"lotId": lot.lot_id, "representativeIds": [lot.representative]}}, operator
    )
    # then the panel is refused with its rule's basis (财库〔2014〕214号 第十四条)
    assert (even["__typename"], even["code"]) == ("PanelComposition", "NEGOTIATION_PANEL_COMPOSITION")
    assert "214号" in even["message"]

    # when it starts with the three experts alone and one round is held with each supplier
    started = await op(api, "NegotiationStart", {"input": {"lotId": lot.lot_id}}, operator)
    assert started["__typename"] == "NegotiationChanged", started
    expert = await f.expert_token(api, lot.committee[0])
    for org, _ in lot.suppliers:
        form = {"lotId": lot.lot_id, "organisationId": org, "text": "第1轮：请确认服务方案"}
        assert (await op(api, "NegotiationPost", {"input": form}, expert))["__typename"] == "NegotiationPosted"
    # and the final offers come in and are opened, and the panel scores them
    opened = await offer_and_open(api, manual_clock, lot, FINAL, tmp_path, panel=expert)
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
    kept = await op(api, "Negotiation", {"lotId": lot.lot_id}, await f.login(api, lot.operator_at))
    assert (kept["method"], kept["weights"]) == ("COMPREHENSIVE", {"__typename": "EvaluationWeights", **WEIGHTS})

    # when the purchaser awards and both parties sign the contract
    awarded = await award(api, manual_clock, lot)
    signed = await contract(api, manual_clock, lot, tmp_path, winner=FINAL.index(ranking[0]), price=ranking[0])

    # then the best total wins at its final offer, and the contract is in force
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == ranking[0]
    assert (signed["status"], signed["amountFen"]) == ("ACTIVE", ranking[0])


async def test_too_few_final_offers_fail_the_lot_with_a_termination_notice(api, manual_clock):
    # given a competitive negotiation of three suppliers whose final offers are called after one round
    lot = await opened_lot(api, manual_clock, "COMPETITIVE_NEGOTIATION", RESPONSES[:3], size=PANEL_EXPERTS)
    await start(api, lot)
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


async def test_a_round_with_its_own_deadline_takes_no_supplier_response_after_it(api, manual_clock):
    # given a competitive negotiation of three suppliers under way
    lot = await opened_lot(api, manual_clock, "COMPETITIVE_NEGOTIATION", RESPONSES[:3], size=PANEL_EXPERTS)
    await start(api, lot)
    tenderer = await f.login(api, lot.tenderer_at)
    closes = manual_clock.now() + timedelta(days=1)

    # when the panel opens a round closing in the past, then one closing in a day
    past = {"lotId": lot.lot_id, "roundClosesAt": (manual_clock.now() - timedelta(minutes=1)).isoformat()}
    refused = await op(api, "NegotiationRoundOpen", {"input": past}, tenderer)
    opened = await op(
        api, "NegotiationRoundOpen", {"input": {"lotId": lot.lot_id, "roundClosesAt": closes.isoformat()}}, tenderer
    )
    # then the first is refused, the second open with its deadline
    assert (refused["code"], refused["field"]) == ("INVALID_INPUT", "roundClosesAt"), refused
    assert opened["__typename"] == "NegotiationChanged", opened
    assert (opened["negotiation"]["round"], opened["negotiation"]["roundClosesAt"]) == (2, closes.isoformat())

    # when a supplier responds in time, and another one second after the round closed
    first = await f.login(api, lot.suppliers[0][1])
    answer = {"lotId": lot.lot_id, "text": "第2轮响应：交货期25日", "priceFen": RESPONSES[0] - 2_000_000}
    in_time = await op(api, "NegotiationPost", {"input": answer}, first)
    manual_clock.set(closes + timedelta(seconds=1))
    second = await f.login(api, lot.suppliers[1][1])
    late = await op(api, "NegotiationPost", {"input": {**answer, "priceFen": RESPONSES[1] - 2_000_000}}, second)
    tenderer = await f.login(api, lot.tenderer_at)
    panel = await op(
        api,
        "NegotiationPost",
        {"input": {"lotId": lot.lot_id, "organisationId": lot.suppliers[1][0], "text": "第2轮已截止"}},
        tenderer,
    )

    # then the response in time is on the record, the late one refused as data with its round and deadline, and the
    # panel may still write to the supplier
    assert (in_time["__typename"], in_time["document"]["round"]) == ("NegotiationPosted", 2), in_time
    assert (late["__typename"], late["code"], late["round"]) == ("RoundClosed", "NEGOTIATION_ROUND_CLOSED", 2), late
    assert late["closesAt"] == closes.isoformat()
    assert panel["__typename"] == "NegotiationPosted", panel
    thread = await thread_of(api, second, lot)
    assert [m["round"] for m in thread["messages"] if not m["fromPanel"]] == []
