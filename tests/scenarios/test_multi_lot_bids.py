"""Issue 22's multi-lot bids (多标段投标), as the app sends them: three bidders each seal a bid for each of two lots
of one project and submit both in one mutation (one of them twice with the same key: the same receipts); a
submission that a lot refuses stores nothing on the other; lots of another project and a lot named twice are typed
errors. Each lot is then opened on its own: a bidder who decrypts only one of its bids is valid there and invalid
on the other. And each lot runs to its own end: a lot with too few bids fails at its deadline while the others of
the same submissions open; each is evaluated by its own drawn committee (a bid rejected on one lot wins another),
publicised, awarded to its own winner, and one is carried to a contract both parties sign."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_expert_draw import COMMIT, SPECIALTY, add_expert, new_secret, reveal
from tests.scenarios.test_opening import RECORD, decrypt
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_results import AWARD, PUBLISH, RESULT, inbox, status_of
from tests.scenarios.test_sealed_bids import MINE, REGISTER
from tests.schema.test_scoring import BIDS, START, SUBMIT
from tests.support import contract_flow
from tests.support.commitments import commit_over_api
from tests.support.evaluation_signing import certify, sign_as
from tests.support.pki import Leaf

SUBMIT_LOTS = """mutation($input: BidSubmitLotsInput!) { bidSubmitLots(input: $input) {
  __typename ... on LotBidsSubmitted { receipts { id sha256 submittedAt status } }
  ... on FieldError { field } ... on Error { code message } } }"""
PRICES = {"A": [1_250_000_000, 1_199_000_000, 1_230_000_000], "B": [640_000_000, 655_500_000, 632_100_000]}


async def two_lot_project(
    api: Any, clock: Any, operator: str, names: tuple[str, ...] = ("第一标段：路基", "第二标段：路面")
) -> tuple[dict[str, Any], str]:
    """A published project of open-tender lots without security (two unless `names` says otherwise), bids due in 25
    days; its tenderer's phone."""
    _, tenderer_at, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    config = {"bidDeadline": (clock.now() + timedelta(days=25)).isoformat(), "depositRequired": False}
    form = road_project(clock.now(), config=config)
    form["lots"] = [{**form["lots"][0], "name": name} for name in names]
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    project = created["project"]
    for lot in project["lots"]:
        await publish(
            api, tenderer, {**project, "lots": [lot]}, "TENDER", f"{lot['tradeCode']}招标公告", "<p>多标段。</p>"
        )
    return project, tenderer_at


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


THREE_LOTS = ("第一标段：路基", "第二标段：路面", "第三标段：附属工程")
PRICE_C = [310_000_000, 305_000_000]  # only the first two bidders bid on lot C


async def committed_draw(api: Any, operator: str, lot_id: str) -> str:
    """The operator commits to the lot's own expert draw before the deadline; the secret it reveals later."""
    secret, commitment = new_secret()
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    committed = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    return secret


@dataclass
class Experts:
    """Each expert's token and bound certificate: one sitting on several lots signs in and binds once."""

    tokens: dict[int, str] = field(default_factory=dict)
    leaves: dict[int, Leaf] = field(default_factory=dict)


async def evaluated(
    api: Any, operator: str, lot_id: str, secret: str, experts: Experts, rejected: int | None = None
) -> dict[str, Any]:
    """The lot's draw revealed, its evaluation started, every member's sheet handed in, with equal points for every
    bid (so the price decides) and the bid at the price `rejected` found non-compliant by all, and the report signed by
    every member (实施条例 第五十三条); the report."""
    revealed = await reveal(api, operator, secret, lotId=lot_id, round=1)
    assert revealed["__typename"] == "ExpertDrawRevealed", revealed
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    assert started["__typename"] == "EvaluationStarted", started
    committee = [member["poolNumber"] for member in revealed["draw"]["selected"]]
    for number in committee:
        if number not in experts.tokens:
            experts.tokens[number] = await f.expert_token(api, number)
        expert = experts.tokens[number]
        bids = (await api.gql(BIDS, {"lotId": lot_id}, token=expert))["data"]["evaluationBids"]
        entries = [
            {"sealedBidId": b["sealedBidId"], "compliant": b["priceFen"] != rejected}
            | {"technicalCenti": 4_000, "commercialCenti": 1_500}
            | ({"reason": "路面结构层厚度不满足招标文件要求"} if b["priceFen"] == rejected else {})
            for b in bids
        ]
        body = await api.gql(SUBMIT, {"input": {"lotId": lot_id, "entries": entries}}, token=expert)
        sheet = body["data"]["evaluationSheetSubmit"]
        assert sheet["__typename"] == "ScoreSheetSubmitted", sheet
    uncertified = [number for number in committee if number not in experts.leaves]
    leaves = await certify(api, operator, [experts.tokens[number] for number in uncertified])
    experts.leaves |= dict(zip(uncertified, leaves, strict=True))
    signed = [await sign_as(api, experts.tokens[n], experts.leaves[n], lot_id) for n in committee]
    assert all(s["__typename"] == "EvaluationSigned" for s in signed), signed
    assert signed[-1]["reportFinal"] is True, signed
    return sheet["evaluation"]  # type: ignore[no-any-return]


async def test_each_lot_of_one_submission_runs_to_its_own_award_and_contract(api, manual_clock, tmp_path):
    # given a project of three lots, an expert pool, and three bidders registered for lots A and B, two also for C
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, tenderer_at = await two_lot_project(api, manual_clock, operator, THREE_LOTS)
    (a, b, c) = project["lots"]
    for n in range(7):
        await add_expert(api, operator, f"路桥专家{n}", [SPECIALTY])
    bidders = []
    for n in range(3):
        _, phone, token = await f.approved_org(api, operator)
        for lot in (a, b, c) if n < 2 else (a, b):
            await register(api, token, lot["id"])
        bidders.append((phone, token))

    # when each bidder seals its bids and submits them in one submission (the first two on all three lots)
    keys: list[dict[str, Any]] = []
    for n, (_, token) in enumerate(bidders):
        keys.append({"A": new_key(), "B": new_key(), "C": new_key()})
        bids = [
            {"lotId": lot["id"], "sealedBid": seal(keys[n][x], lot["tradeCode"], price, {"商务标.pdf": b"%PDF"})}
            for x, lot, price in (("A", a, PRICES["A"][n]), ("B", b, PRICES["B"][n]), ("C", c, PRICE_C[n % 2]))
        ][: 3 if n < 2 else 2]
        submitted = await submit_lots(api, token, bids)
        assert (submitted["__typename"], len(submitted["receipts"])) == ("LotBidsSubmitted", len(bids)), submitted
    # and the operator commits to a draw of its own for lots A and B
    draw_secrets = {lot["id"]: await committed_draw(api, operator, lot["id"]) for lot in (a, b)}

    # when the deadline passes and every bidder decrypts its bids on A and B; the window closes
    await api.dispatch()
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()
    failed_c = await status_of(api, c["id"])
    for n, (phone, _) in enumerate(bidders):
        token = await f.login(api, phone)
        for x, lot in (("A", a), ("B", b)):
            assert (await decrypt(api, token, lot["id"], keys[n][x]))["__typename"] == "BidDecrypted"
    manual_clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()

    # then lot C, with two bids, failed at its deadline (招标投标法 第二十八条; ended by its termination notice) and was
    # never opened, while A and B, bid on in the same submissions, were opened with their three bids each
    assert failed_c == "TERMINATED"
    record_c = (await api.gql(RECORD, {"lotId": c["id"]}))["data"]["openingRecord"]
    assert (record_c["status"], record_c["bids"], record_c["lines"]) == ("failed", 2, [])
    for lot in (a, b):
        record = (await api.gql(RECORD, {"lotId": lot["id"]}))["data"]["openingRecord"]
        assert (record["status"], record["bids"]) == ("closed", 3)
        assert await status_of(api, lot["id"]) == "EVALUATING"

    # when each lot's committee evaluates it: on A every bid complies; on B the committee rejects the second bidder's
    operator = await f.login(api, operator_at)
    experts = Experts()
    report_a = await evaluated(api, operator, a["id"], draw_secrets[a["id"]], experts)
    report_b = await evaluated(api, operator, b["id"], draw_secrets[b["id"]], experts, rejected=PRICES["B"][1])

    # then each lot has its own report: the second bidder ranks first on A though rejected on B
    assert [x["priceFen"] for x in report_a["candidates"]] == sorted(PRICES["A"])
    assert [x["priceFen"] for x in report_b["candidates"]] == sorted(p for p in PRICES["B"] if p != PRICES["B"][1])
    rejected = [x for x in report_b["report"]["bids"] if not x["compliant"]]
    assert [x["priceFen"] for x in rejected] == [PRICES["B"][1]]
    assert all(x["compliant"] for x in report_a["report"]["bids"])

    # when the tenderer publishes each lot's candidates, waits out the publicity and awards each lot
    tenderer = await f.login(api, tenderer_at)
    for lot in (a, b):
        published = (await api.gql(PUBLISH, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]
        assert published["candidatesPublish"]["__typename"] == "CandidatesPublished", published
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_at)
    awards = {}
    for lot in (a, b):
        awarded = (await api.gql(AWARD, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]["resultAward"]
        assert awarded["__typename"] == "LotAwarded", awarded
        awards[lot["id"]] = awarded["result"]["award"]
    await api.dispatch()

    # then each lot has its own winner: A the second bidder (lowest on A), B the third (lowest compliant on B)
    assert awards[a["id"]]["priceFen"] == PRICES["A"][1] == min(PRICES["A"])
    assert awards[b["id"]]["priceFen"] == PRICES["B"][2]
    assert [await status_of(api, lot["id"]) for lot in (a, b, c)] == ["AWARDED", "AWARDED", "TERMINATED"]
    notices = [
        [n for n in await inbox(api, await f.login(api, phone)) if n["kind"] == "AWARD_NOTICE"] for phone, _ in bidders
    ]
    assert [len(n) for n in notices] == [0, 1, 1]
    assert awards[a["id"]]["confirmationNo"] in notices[1][0]["body"]  # the second bidder's award notice is A's
    assert awards[b["id"]]["confirmationNo"] in notices[2][0]["body"]  # the third bidder's is B's

    # when the tenderer and lot A's winner sign lot A's contract
    parties = await contract_flow.contract_parties(api, manual_clock, tenderer_at, bidders[1][0])
    contract = await contract_flow.signed_contract(api, parties, tmp_path, a["id"], a["tradeCode"], PRICES["A"][1])
    await api.dispatch()

    # then lot A is contracted at its price, while lot B's award stands untouched for its own contract
    assert (contract["status"], contract["originalFen"]) == ("ACTIVE", PRICES["A"][1])
    assert [await status_of(api, lot["id"]) for lot in (a, b, c)] == ["CONTRACTED", "AWARDED", "TERMINATED"]
    result_b = (await api.gql(RESULT, {"lotId": b["id"]}))["data"]["lotResult"]
    assert (result_b["award"]["status"], result_b["award"]["priceFen"]) == ("AWARDED", PRICES["B"][2])
