"""Issue 22's post-qualification (资格后审), as the apps drive it over HTTP: the tenderer sets two criteria on its draft
lot (a local-protection one refused), three bidders seal bids, the drawn committee judges each bid on each criterion,
three members of five fail the cheapest bidder's licence, so its bid is rejected with the reason on the record (seen by
the tenderer, the supervisor with the experts named, and the bidder itself once the evaluation ends); the other two
are scored and the award goes to one of them. Wrong judgements come back as typed errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from schema.relay import to_global_id
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_expert_draw import COMMIT, DRAWS, SPECIALTY, add_expert, new_secret, reveal
from tests.scenarios.test_opening import decrypt
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_results import AWARD, PUBLISH, inbox, status_of
from tests.scenarios.test_sealed_bids import registered_bidder, submit
from tests.schema.test_scoring import BIDS, START, SUBMIT
from tests.support.evaluation_signing import sign_report
from tests.support.negotiation import opened_lot

PRICES = [1_250_000_000, 1_199_000_000, 1_230_000_000]  # the second, the cheapest, lacks the licence
LICENCE = "具有市政公用工程施工总承包二级及以上资质，且在有效期内"
PERFORMANCE = "近三年具有不少于 1 项类似道路工程业绩"
EXPIRED = "资质证书已于2026年3月过期"

FAILURE = "criterionId position description mandatory passVotes failVotes reasons"
CRITERIA_SET = """mutation($input: LotQualificationCriteriaSetInput!) { lotQualificationCriteriaSet(input: $input) {
  __typename ... on QualificationCriteriaSet { criteria { id position kind description mandatory } }
  ... on LocalProtectionBanned { rule } ... on FieldError { field } ... on Error { code message } } }"""
CRITERIA = "query($lotId: ID!) { qualificationCriteria(lotId: $lotId) { id position kind description mandatory } }"
REVIEW_FIELDS = f"""lotId members completeMembers decided criteria {{ id mandatory }}
  bids {{ sealedBidId bidder priceFen qualified failures {{ {FAILURE} }} licences {{ id }} openedFiles {{ id name }} }}
  votes {{ member expertId sealedBidId criterionId passed reason }}"""
REVIEW = f"query($lotId: ID!) {{ qualificationReview(lotId: $lotId) {{ {REVIEW_FIELDS} }} }}"
JUDGE = f"""mutation($input: QualificationJudgeInput!) {{ qualificationJudge(input: $input) {{
  __typename ... on QualificationJudged {{ review {{ {REVIEW_FIELDS} }} }}
  ... on FieldError {{ field }} ... on Error {{ code message }} }} }}"""
MINE = f"""query($lotId: ID!) {{ myQualificationOutcome(lotId: $lotId) {{
  sealedBidId qualified decidedAt failures {{ {FAILURE} }} }} }}"""


async def draft_lot(api: Any, clock: Any, operator: str) -> tuple[dict[str, Any], str, str]:
    """A draft lowest-price open tender without security, bids due in 25 days; its tenderer's token and phone."""
    _, phone, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    deadline = (clock.now() + timedelta(days=25)).isoformat()
    config = {"bidDeadline": deadline, "depositRequired": False, "evaluationMethod": "LOWEST_PRICE"}
    created = (await api.gql(PROJECT_CREATE, {"input": road_project(clock.now(), config=config)}, token=tenderer))[
        "data"
    ]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    return created["project"], tenderer, phone


async def set_criteria(api: Any, token: str, lot_id: str, *criteria: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(CRITERIA_SET, {"input": {"lotId": lot_id, "criteria": list(criteria)}}, token=token)
    return body["data"]["lotQualificationCriteriaSet"]  # type: ignore[no-any-return]


async def judge(api: Any, token: str, lot_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    body = await api.gql(JUDGE, {"input": {"lotId": lot_id, "entries": entries}}, token=token)
    return body["data"]["qualificationJudge"]  # type: ignore[no-any-return]


def judgements(review: dict[str, Any], failing: str | None = None) -> list[dict[str, Any]]:
    """Every bid on every criterion met, except the licence of the bid `failing`, with its reason."""
    licence = review["criteria"][0]["id"]
    return [
        {"sealedBidId": b["sealedBidId"], "criterionId": c["id"], "passed": True}
        if (b["sealedBidId"], c["id"]) != (failing, licence)
        else {"sealedBidId": b["sealedBidId"], "criterionId": c["id"], "passed": False, "reason": EXPIRED}
        for b in review["bids"]
        for c in review["criteria"]
    ]


async def test_a_bid_failing_a_mandatory_criterion_by_majority_is_rejected_and_the_others_compete(api, manual_clock):
    # given a draft tender, its tenderer, a supervisor of the category and an expert pool
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, tenderer, tenderer_at = await draft_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    supervisor_at = await supervisor_phone(api, operator)
    pool = [await add_expert(api, operator, f"专家{n}", [SPECIALTY]) for n in range(7)]

    # when the tenderer tries a criterion that demands local registration, then sets two lawful ones
    local = await set_criteria(
        api, tenderer, lot_id, {"kind": "QUALIFICATION", "description": "须在青岛市内注册登记的施工企业"}
    )
    criteria = await set_criteria(
        api,
        tenderer,
        lot_id,
        {"kind": "QUALIFICATION", "description": LICENCE},
        {"kind": "PERFORMANCE", "description": PERFORMANCE, "mandatory": False},
    )
    # and publishes the tender, after which the criteria cannot change
    await publish(api, tenderer, project, "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>资格后审。</p>")
    late = await set_criteria(api, tenderer, lot_id, {"kind": "OTHER", "description": "无"})

    # then the local condition is refused with the rule; the two are public; the late change is refused
    assert (local["__typename"], local["code"]) == ("LocalProtectionBanned", "LOCAL_PROTECTION_BANNED")
    assert "青岛市内注册" in local["rule"]
    assert criteria["__typename"] == "QualificationCriteriaSet", criteria
    public = (await api.gql(CRITERIA, {"lotId": lot_id}))["data"]["qualificationCriteria"]
    assert [(c["kind"], c["description"], c["mandatory"]) for c in public] == [
        ("QUALIFICATION", LICENCE, True),
        ("PERFORMANCE", PERFORMANCE, False),
    ]
    assert (late["__typename"], late["code"]) == ("InvalidTransition", "INVALID_TRANSITION")

    # when three bidders seal bids, the draw is committed, the deadline passes and all three decrypt
    bidders = [await registered_bidder(api, operator, lot_id) for _ in PRICES]
    keys = []
    for (_, token), price in zip(bidders, PRICES, strict=True):
        key = new_key()
        done = await submit(api, token, lot_id, seal(key, code, price, {"资格证明.pdf": b"%PDF-1.7 licence"}))
        assert done["__typename"] == "BidSubmitted", done
        keys.append(key)
    secret, commitment = new_secret()
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    assert (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"][
        "__typename"
    ] == "ExpertDrawCommitted"
    await api.dispatch()
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    for token, key in zip(tokens, keys, strict=True):
        assert (await decrypt(api, token, lot_id, key))["__typename"] == "BidDecrypted"
    manual_clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()
    # and the operator reveals the draw and starts the evaluation
    operator = await f.login(api, operator_at)
    assert (await reveal(api, operator, secret, lotId=lot_id, round=1))["__typename"] == "ExpertDrawRevealed"
    [drawn] = (await api.gql(DRAWS, {"lotId": lot_id}, token=operator))["data"]["expertDraws"]
    committee = [e["poolNumber"] for e in drawn["selected"]]
    outsider = next(e for e in pool if e not in committee)
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    assert started["__typename"] == "EvaluationStarted", started
    experts = [await f.expert_token(api, e) for e in committee]

    # then each member reviews the three bids on the two criteria; nobody may score yet
    review = (await api.gql(REVIEW, {"lotId": lot_id}, token=experts[0]))["data"]["qualificationReview"]
    assert (review["members"], review["completeMembers"], review["decided"]) == (5, 0, False)
    assert sorted(b["priceFen"] for b in review["bids"]) == sorted(PRICES)
    cheapest = next(b["sealedBidId"] for b in review["bids"] if b["priceFen"] == min(PRICES))
    early = await api.gql(SUBMIT, {"input": {"lotId": lot_id, "entries": []}}, token=experts[0])
    assert early["data"]["evaluationSheetSubmit"]["code"] == "QUALIFICATION_PENDING"

    # when judgements go wrong: an unknown criterion, a failure without reason, an expert off the committee
    entries = judgements(review, failing=cheapest)
    unknown = await judge(
        api,
        experts[0],
        lot_id,
        [{**entries[0], "criterionId": to_global_id("QualificationCriterion", 999_999)}],
    )
    unreasoned = await judge(api, experts[0], lot_id, [{**entries[0], "passed": False}])
    outside = await judge(api, await f.expert_token(api, outsider), lot_id, entries)
    # then each is a typed error and nothing is recorded
    assert (unknown["__typename"], unknown["code"], unknown["field"]) == (
        "CriterionUnknown",
        "QUALIFICATION_CRITERION_UNKNOWN",
        "entries.0.criterionId",
    )
    assert (unreasoned["code"], unreasoned["field"]) == ("REASON_REQUIRED", "entries.0.reason")
    assert (outside["__typename"], outside["code"]) == ("NotCommitteeMember", "NOT_COMMITTEE_MEMBER")
    again = (await api.gql(REVIEW, {"lotId": lot_id}, token=operator))["data"]["qualificationReview"]
    assert again["votes"] == []

    # when three members fail the cheapest bid's licence and two find it met
    judged = [
        await judge(api, token, lot_id, judgements(review, failing=cheapest if n < 3 else None))
        for n, token in enumerate(experts)
    ]

    # then the last judgement decided the review: the cheapest bid is rejected, with the votes and the reason
    assert all(j["__typename"] == "QualificationJudged" for j in judged), judged
    first, last = judged[0]["review"], judged[-1]["review"]
    assert (first["decided"], last["decided"], last["completeMembers"]) == (False, True, 5)
    assert {v["member"] for v in first["votes"]} == {1}  # a member sees its own judgements only
    assert all(v["expertId"] is None for v in last["votes"])
    rejected = next(b for b in last["bids"] if b["sealedBidId"] == cheapest)
    assert rejected["qualified"] is False
    [failure] = rejected["failures"]
    assert (failure["description"], failure["mandatory"], failure["failVotes"], failure["passVotes"]) == (
        LICENCE,
        True,
        3,
        2,
    )
    assert failure["reasons"] == [EXPIRED] * 3
    assert all(b["qualified"] for b in last["bids"] if b["sealedBidId"] != cheapest)
    # and the tenderer reads it, the supervisor with every expert named; the bidder learns nothing yet
    tenderer = await f.login(api, tenderer_at)
    for token, named in ((tenderer, False), (await f.login(api, supervisor_at), True)):
        seen = (await api.gql(REVIEW, {"lotId": lot_id}, token=token))["data"]["qualificationReview"]
        assert next(b for b in seen["bids"] if b["sealedBidId"] == cheapest)["failures"][0]["reasons"] == [EXPIRED] * 3
        assert len(seen["votes"]) == 5 * 3 * 2
        assert all((v["expertId"] is not None) is named for v in seen["votes"])
    loser = PRICES.index(min(PRICES))
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    assert (await api.gql(MINE, {"lotId": lot_id}, token=tokens[loser]))["data"]["myQualificationOutcome"] is None
    assert (await api.gql(REVIEW, {"lotId": lot_id}, token=tokens[loser]))["data"]["qualificationReview"] is None
    # and a member can no longer change its judgement
    changed = await judge(api, experts[0], lot_id, judgements(review))
    assert (changed["__typename"], changed["code"]) == ("QualificationDecided", "QUALIFICATION_DECIDED")

    # when every member scores the bids the committee now lists: the two qualified ones
    sheets = []
    for token in experts:
        bids = (await api.gql(BIDS, {"lotId": lot_id}, token=token))["data"]["evaluationBids"]
        assert sorted(b["priceFen"] for b in bids) == sorted(p for p in PRICES if p != min(PRICES))
        entries = [{"sealedBidId": b["sealedBidId"], "compliant": True} for b in bids]
        sheets.append(await api.gql(SUBMIT, {"input": {"lotId": lot_id, "entries": entries}}, token=token))
    report = sheets[-1]["data"]["evaluationSheetSubmit"]["evaluation"]

    # then the candidates are the two qualified bids, lowest price first
    assert report["status"] == "REPORTED", report
    candidates = sorted(p for p in PRICES if p != min(PRICES))
    assert sorted((b["rank"], b["priceFen"]) for b in report["report"]["bids"]) == [
        (1, candidates[0]),
        (2, candidates[1]),
    ]
    # and the rejected bidder sees its own outcome with the reason, members unnamed
    mine = (await api.gql(MINE, {"lotId": lot_id}, token=tokens[loser]))["data"]["myQualificationOutcome"]
    assert (mine["sealedBidId"], mine["qualified"]) == (cheapest, False)
    assert (mine["failures"][0]["description"], mine["failures"][0]["reasons"]) == (LICENCE, [EXPIRED] * 3)
    other = (await api.gql(MINE, {"lotId": lot_id}, token=tokens[0]))["data"]["myQualificationOutcome"]
    assert (other["qualified"], other["failures"]) == (True, [])
    # and it alone is told in its inbox
    await api.dispatch()
    told = [n["title"] for n in await inbox(api, tokens[loser]) if n["kind"] == "RESULT_NOTICE"]
    assert told == ["投标未通过资格审查"]
    assert "投标未通过资格审查" not in [n["title"] for n in await inbox(api, tokens[0])]
    # and judging after the evaluation is done is refused
    finished = await judge(api, experts[0], lot_id, judgements(review))
    assert (finished["__typename"], finished["code"]) == ("EvaluationFinished", "EVALUATION_FINISHED")

    # when the committee has signed the report, the tenderer publishes the candidates and awards after the publicity
    await sign_report(api, operator, lot_id, experts)
    published = (await api.gql(PUBLISH, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["candidatesPublish"]
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_at)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"]

    # then the award goes to the lowest qualified price, never to the rejected cheapest bid
    assert [c["priceFen"] for c in published["result"]["candidates"]] == candidates
    assert awarded["__typename"] == "LotAwarded", awarded
    assert awarded["result"]["award"]["priceFen"] == candidates[0]
    assert await status_of(api, lot_id) == "AWARDED"


INQUIRY_PRICES = [86_000_000, 79_500_000, 81_200_000]  # the second, the cheapest, lacks the licence
GOODS_LICENCE = "具有医疗器械经营许可证，且在有效期内"


async def test_an_inquiry_judges_its_qualification_criteria_and_the_lowest_qualified_price_leads(api, manual_clock):
    # given an inquiry (询价) published with a mandatory licence criterion, three quotations opened and a panel drawn
    lot = await opened_lot(
        api,
        manual_clock,
        "INQUIRY",
        INQUIRY_PRICES,
        criteria=[{"kind": "QUALIFICATION", "description": GOODS_LICENCE}],
    )
    public = (await api.gql(CRITERIA, {"lotId": lot.lot_id}))["data"]["qualificationCriteria"]
    operator = await f.login(api, lot.operator_at)
    started = (await api.gql(START, {"input": {"lotId": lot.lot_id}}, token=operator))["data"]["evaluationStart"]
    experts = [await f.expert_token(api, e) for e in lot.committee]
    review = (await api.gql(REVIEW, {"lotId": lot.lot_id}, token=experts[0]))["data"]["qualificationReview"]
    cheapest = next(b["sealedBidId"] for b in review["bids"] if b["priceFen"] == min(INQUIRY_PRICES))
    early = await api.gql(SUBMIT, {"input": {"lotId": lot.lot_id, "entries": []}}, token=experts[0])

    # when three members of the panel fail the cheapest quotation's licence and two find it met
    judged = [
        await judge(api, token, lot.lot_id, judgements(review, failing=cheapest if n < 3 else None))
        for n, token in enumerate(experts)
    ]

    # then the criterion was public, nobody could score before the review, and the review rejected the cheapest
    assert [(c["kind"], c["description"], c["mandatory"]) for c in public] == [("QUALIFICATION", GOODS_LICENCE, True)]
    assert started["__typename"] == "EvaluationStarted", started
    assert early["data"]["evaluationSheetSubmit"]["code"] == "QUALIFICATION_PENDING"
    assert all(j["__typename"] == "QualificationJudged" for j in judged), judged
    decided = judged[-1]["review"]
    assert decided["decided"] is True
    rejected = next(b for b in decided["bids"] if b["sealedBidId"] == cheapest)
    assert rejected["qualified"] is False
    assert (rejected["failures"][0]["failVotes"], rejected["failures"][0]["reasons"]) == (3, [EXPIRED] * 3)

    # when every member judges the quotations the panel now lists: the two qualified ones
    sheets = []
    for token in experts:
        bids = (await api.gql(BIDS, {"lotId": lot.lot_id}, token=token))["data"]["evaluationBids"]
        entries = [{"sealedBidId": b["sealedBidId"], "compliant": True} for b in bids]
        sheets.append(await api.gql(SUBMIT, {"input": {"lotId": lot.lot_id, "entries": entries}}, token=token))
    report = sheets[-1]["data"]["evaluationSheetSubmit"]["evaluation"]

    # then the candidates are the two qualified quotations, lowest price first; the rejected supplier learns why
    qualified = sorted(p for p in INQUIRY_PRICES if p != min(INQUIRY_PRICES))
    assert report["status"] == "REPORTED", report
    assert sorted((b["rank"], b["priceFen"]) for b in report["report"]["bids"]) == [
        (1, qualified[0]),
        (2, qualified[1]),
    ]
    loser = await f.login(api, lot.suppliers[INQUIRY_PRICES.index(min(INQUIRY_PRICES))][1])
    mine = (await api.gql(MINE, {"lotId": lot.lot_id}, token=loser))["data"]["myQualificationOutcome"]
    assert (mine["qualified"], mine["failures"][0]["description"]) == (False, GOODS_LICENCE)
