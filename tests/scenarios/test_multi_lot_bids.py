"""Issue 22's multi-lot bids (多标段投标), as the app sends them: three bidders each seal a bid for each of two lots
of one project and submit both in one mutation (one of them twice with the same key: the same receipts); a
submission that a lot refuses stores nothing on the other; lots of another project and a lot named twice are typed
errors. Each lot is then opened on its own: a bidder who decrypts only one of its bids is valid there and invalid
on the other."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_opening import RECORD, decrypt
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_sealed_bids import MINE, REGISTER
from tests.support.commitments import commit_over_api

SUBMIT_LOTS = """mutation($input: BidSubmitLotsInput!) { bidSubmitLots(input: $input) {
  __typename ... on LotBidsSubmitted { receipts { id sha256 submittedAt status } }
  ... on FieldError { field } ... on Error { code message } } }"""
PRICES = {"A": [1_250_000_000, 1_199_000_000, 1_230_000_000], "B": [640_000_000, 655_500_000, 632_100_000]}


async def two_lot_project(api: Any, clock: Any, operator: str) -> tuple[dict[str, Any], str]:
    """A published project of two open-tender lots without security, bids due in 25 days; its tenderer's token."""
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    config = {"bidDeadline": (clock.now() + timedelta(days=25)).isoformat(), "depositRequired": False}
    form = road_project(clock.now(), config=config)
    form["lots"] = [{**form["lots"][0], "name": "第一标段：路基"}, {**form["lots"][0], "name": "第二标段：路面"}]
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    project = created["project"]
    for lot in project["lots"]:
        await publish(
            api, tenderer, {**project, "lots": [lot]}, "TENDER", f"{lot['tradeCode']}招标公告", "<p>两标段。</p>"
        )
    return project, tenderer


async def submit_lots(api: Any, token: str, bids: list[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
    body = await api.gql(SUBMIT_LOTS, {"input": {"bids": bids, "idempotencyKey": key}}, token=token)
    return body["data"]["bidSubmitLots"]  # type: ignore[no-any-return]


async def register(api: Any, token: str, lot_id: str) -> None:
    await commit_over_api(api, token, lot_id, "registration")
    answer = (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=token))["data"]["lotRegister"]
    assert answer["__typename"] == "LotRegistered", answer
    await commit_over_api(api, token, lot_id, "bid")


async def test_one_submission_bids_on_two_lots_each_opened_on_its_own(api, manual_clock):
    # given a project of two lots, another project, and three bidders registered for both lots
    operator = await f.operator_token(api)
    project, _ = await two_lot_project(api, manual_clock, operator)
    (a, b) = project["lots"]
    other, _ = await two_lot_project(api, manual_clock, operator)
    bidders = []
    for _ in range(3):
        _, phone, token = await f.approved_org(api, operator)
        for lot in (a, b):
            await register(api, token, lot["id"])
        bidders.append((phone, token))
    _, _, late = await f.approved_org(api, operator)
    await register(api, late, a["id"])  # registered for lot A only

    # when each bidder seals one bid per lot under one key per lot and submits both at once
    keys: list[dict[str, Any]] = []
    answers = []
    for n, (_, token) in enumerate(bidders):
        key_a, key_b = new_key(), new_key()
        keys.append({"A": key_a, "B": key_b})
        bids = [
            {"lotId": a["id"], "sealedBid": seal(key_a, a["tradeCode"], PRICES["A"][n], {"商务标.pdf": b"%PDF a"})},
            {"lotId": b["id"], "sealedBid": seal(key_b, b["tradeCode"], PRICES["B"][n], {"商务标.pdf": b"%PDF b"})},
        ]
        answers.append(await submit_lots(api, token, bids, key=f"lots-{n}"))
        if n == 0:
            answers.append(await submit_lots(api, token, bids, key="lots-0"))  # a retry after a dropped answer

    # then every submission has one receipt per lot, in order; the retry returns the same receipts
    assert all(x["__typename"] == "LotBidsSubmitted" for x in answers), answers
    assert answers[0]["receipts"] == answers[1]["receipts"]
    assert all(len(x["receipts"]) == 2 for x in answers)
    for _, token in bidders:
        for lot in (a, b):
            [mine] = (await api.gql(MINE, {"lotId": lot["id"]}, token=token))["data"]["mySealedBids"]
            assert mine["status"] == "SUBMITTED"

    # when a bidder registered for lot A only submits on both, or names a lot of another project, or one lot twice
    sealed_a = seal(new_key(), a["tradeCode"], 1_100_000_000, {"商务标.pdf": b"%PDF"})
    sealed_b = seal(new_key(), b["tradeCode"], 600_000_000, {"商务标.pdf": b"%PDF"})
    refused = await submit_lots(
        api, late, [{"lotId": a["id"], "sealedBid": sealed_a}, {"lotId": b["id"], "sealedBid": sealed_b}]
    )
    foreign = await submit_lots(
        api,
        late,
        [{"lotId": a["id"], "sealedBid": sealed_a}, {"lotId": other["lots"][0]["id"], "sealedBid": sealed_a}],
    )
    twice = await submit_lots(api, late, [{"lotId": a["id"], "sealedBid": sealed_a}] * 2)

    # then each is refused with its type, and nothing was stored on lot A
    assert (refused["__typename"], refused["code"]) == ("NotRegistered", "NOT_REGISTERED")
    assert (foreign["__typename"], foreign["code"], foreign["field"]) == (
        "LotsOfDifferentProjects",
        "LOTS_OF_DIFFERENT_PROJECTS",
        "bids.1.lotId",
    )
    assert (twice["__typename"], twice["field"]) == ("InvalidInput", "bids.1.lotId")
    assert (await api.gql(MINE, {"lotId": a["id"]}, token=late))["data"]["mySealedBids"] == []

    # when the deadline passes, both lots open; the first bidder decrypts only its lot-A bid, the others both
    await api.dispatch()
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    opened = []
    for n, token in enumerate(tokens):
        opened.append(await decrypt(api, token, a["id"], keys[n]["A"]))
        if n > 0:
            opened.append(await decrypt(api, token, b["id"], keys[n]["B"]))
    wrong = await decrypt(api, tokens[0], b["id"], keys[0]["A"])  # lot A's key does not open its lot-B bid
    manual_clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()

    # then each lot has its own opening record: all three valid on A, the first bidder invalid on B
    assert all(o["__typename"] == "BidDecrypted" for o in opened), opened
    assert wrong["__typename"] != "BidDecrypted"
    record_a = (await api.gql(RECORD, {"lotId": a["id"]}))["data"]["openingRecord"]
    record_b = (await api.gql(RECORD, {"lotId": b["id"]}))["data"]["openingRecord"]
    assert (record_a["status"], record_a["bids"], record_b["status"], record_b["bids"]) == ("closed", 3, "closed", 3)
    assert sorted(line["priceFen"] for line in record_a["lines"]) == sorted(PRICES["A"])
    assert sorted(line["status"] for line in record_b["lines"]) == ["DECRYPTED", "DECRYPTED", "INVALID"]
    assert sorted(line["priceFen"] for line in record_b["lines"] if line["priceFen"]) == sorted(PRICES["B"][1:])
