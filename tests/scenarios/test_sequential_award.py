"""Sequential award over HTTP (招标投标法实施条例 第五十五条): the winner declines and the second candidate is awarded
with a new result notice; awarding out of rank order or a withdrawn candidate is refused as data, as is a ground that
does not hold; when the last candidate declines the lot fails, and the tenderer cancels it for re-tendering: the
first winner's deposit, kept until then, falls due for refund."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.common import chronograph
from tests import factories as f
from tests.domain.disclosure.test_ocds import assert_valid
from tests.scenarios.test_contract_lifecycle import pdf, upload
from tests.scenarios.test_deposits import AMOUNT, my_deposit, operator_phone, registered
from tests.scenarios.test_registration import open_lot
from tests.scenarios.test_results import AWARD, PRICES, PUBLISH, bid, inbox, opened, status_of
from tests.support import contract_flow
from tests.support.bank import Bank

WITHDRAW = """mutation($input: AwardWithdrawInput!) { awardWithdraw(input: $input) {
  __typename ... on AwardWithdrawn { result { award { status } withdrawals { rank ground basis detail failed } } }
  ... on WithdrawalUnfounded { reason } ... on Error { code message } } }"""
NEXT = """mutation($input: AwardNextInput!) { awardNext(input: $input) {
  __typename ... on AwardedNext { result { award { status confirmationNo priceFen winner } } }
  ... on CandidateNotNext { nextRank } ... on CandidateWithdrawn { rank } ... on Error { code message } } }"""
RESULT = """query($lotId: ID!) { lotResult(lotId: $lotId) {
  award { status confirmationNo priceFen }
  withdrawals { rank ground groundText basis detail failed nextAnnouncementId } } }"""
ANNOUNCEMENT = "query($id: ID!) { node(id: $id) { ... on Announcement { type title bodyHtml } } }"
CANCEL = """mutation($input: CancellationPublishInput!) { cancellationPublish(input: $input) {
  __typename ... on CancellationPublished { cancellation { ground basis status objectionEndsAt announcementIds } }
  ... on Error { code message } ... on FieldError { field } } }"""
OCDS = "query($lotId: ID!) { ocdsRecord(lotId: $lotId) }"
PURPOSE = "CANCELLATION_DOCUMENT"


async def awarded_with_deposits(api: Any, clock: Any, **config: Any) -> dict[str, Any]:
    """A tender asking 2% security, four bidders that paid and bid, three candidates publicised and the lot
    awarded to the first (the second bidder's price was the lowest); `config`: more of the lot's configuration."""
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    bank = await Bank.open(api, operator)
    deadline = (clock.now() + timedelta(days=25)).isoformat()
    lot_config = {"config": {"bidDeadline": deadline, **config}} if config else {}
    project, _, tenderer_phone = await open_lot(api, clock, operator, **lot_config)
    lot = project["lots"][0]
    bidders = [await registered(api, operator, lot["id"]) for _ in PRICES]
    for (_, phone, reference), price in zip(bidders, PRICES, strict=True):
        assert (await bank.pay(reference, AMOUNT)).json()["status"] == "accepted"
        await bid(api, await f.login(api, phone), lot["id"], lot["tradeCode"], price)
    phones = [phone for _, phone, _ in bidders]
    await opened(api, clock, lot["id"], phones)
    tenderer = await f.login(api, tenderer_phone)
    published = await api.gql(PUBLISH, {"input": {"lotId": lot["id"]}}, token=tenderer)
    assert published["data"]["candidatesPublish"]["__typename"] == "CandidatesPublished", published
    clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot["id"]}}, token=tenderer))["data"]["resultAward"]
    assert awarded["__typename"] == "LotAwarded", awarded
    await api.dispatch()
    # ranks by price: 1_188 (the 2nd bidder), 1_230 (the 3rd), 1_250 (the 1st); the 4th is no candidate
    ranked = [phones[1], phones[2], phones[0]]
    return {
        "project": project,
        "lot": lot,
        "tenderer_phone": tenderer_phone,
        "ranked": ranked,
        "phones": phones,
        "bank": bank,
    }


async def test_the_award_passes_down_the_ranking_and_the_lot_fails_when_none_remains(api, manual_clock, tmp_path):
    # given a lot awarded to the first of three candidates
    t = await awarded_with_deposits(api, manual_clock)
    lot_id, code = t["lot"]["id"], t["lot"]["tradeCode"]
    tenderer = await f.login(api, t["tenderer_phone"])
    first, second, third = [await f.login(api, phone) for phone in t["ranked"]]

    # when the tenderer awards the next while the award stands, or disqualifies the winner for a credit block
    # it is not under
    standing = (await api.gql(NEXT, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["awardNext"]
    blocked = {"lotId": lot_id, "ground": "CREDIT_BLOCKED", "detail": "失信联合惩戒"}
    unfounded = (await api.gql(WITHDRAW, {"input": blocked}, token=tenderer))["data"]["awardWithdraw"]
    # then both are refused as data
    assert standing["code"] == "AWARD_STANDS", standing
    assert unfounded["code"] == "WITHDRAWAL_UNFOUNDED", unfounded
    assert unfounded["reason"] == "the winner is not under joint punishment"

    # when the winner declines the award
    decline = {"lotId": lot_id, "ground": "DECLINED", "detail": "企业产能不足，放弃中标", "idempotencyKey": "d-1"}
    declined = (await api.gql(WITHDRAW, {"input": decline}, token=first))["data"]["awardWithdraw"]
    await api.dispatch()
    # then the award is withdrawn on that ground, on the record, and the tenderer is told
    assert declined["__typename"] == "AwardWithdrawn", declined
    assert declined["result"]["award"]["status"] == "WITHDRAWN"
    [withdrawal] = declined["result"]["withdrawals"]
    assert (withdrawal["rank"], withdrawal["ground"], withdrawal["failed"]) == (1, "DECLINED", False)
    assert "第五十五条" in withdrawal["basis"]
    assert "中标资格变更" in [n["title"] for n in await inbox(api, tenderer)]
    public = (await api.gql(RESULT, {"lotId": lot_id}))["data"]["lotResult"]["withdrawals"]
    assert public[0]["detail"] is None  # the explanation is for the keepers and the winner only

    # when the tenderer names the third candidate, then the first, then takes the next in rank
    skip = (await api.gql(NEXT, {"input": {"lotId": lot_id, "candidateRank": 3}}, token=tenderer))["data"]
    back = (await api.gql(NEXT, {"input": {"lotId": lot_id, "candidateRank": 1}}, token=tenderer))["data"]
    nxt = (await api.gql(NEXT, {"input": {"lotId": lot_id, "idempotencyKey": "n-1"}}, token=tenderer))["data"]
    await api.dispatch()
    # then skipping and the withdrawn candidate are refused; the second is awarded with a new result notice
    assert (skip["awardNext"]["code"], skip["awardNext"]["nextRank"]) == ("CANDIDATE_NOT_NEXT", 2)
    assert (back["awardNext"]["code"], back["awardNext"]["rank"]) == ("CANDIDATE_WITHDRAWN", 1)
    award = nxt["awardNext"]["result"]["award"]
    assert (award["status"], award["priceFen"], award["confirmationNo"]) == ("AWARDED", 1_230_000_000, f"CJ{code}-2")
    result = (await api.gql(RESULT, {"lotId": lot_id}, token=tenderer))["data"]["lotResult"]
    notice = (await api.gql(ANNOUNCEMENT, {"id": result["withdrawals"][0]["nextAnnouncementId"]}))["data"]["node"]
    assert notice["type"] == "RESULT"
    assert "放弃中标" in notice["bodyHtml"]
    assert "第五十五条" in notice["bodyHtml"]
    assert result["withdrawals"][0]["detail"] == "企业产能不足，放弃中标"
    assert [n["title"] for n in await inbox(api, second) if n["kind"] == "AWARD_NOTICE"] == ["中标通知书"]
    assert await status_of(api, lot_id) == "AWARDED"
    # and the first winner's deposit stays, for the tenderer to claim under 第七十四条, until the lot's result
    assert (await my_deposit(api, first))["status"] == "paid"

    # when the second and then the third decline in turn
    for token, rank in ((second, 2), (third, 3)):
        out = await api.gql(WITHDRAW, {"input": {**decline, "idempotencyKey": f"d-{rank}"}}, token=token)
        assert out["data"]["awardWithdraw"]["__typename"] == "AwardWithdrawn", out
        if rank == 2:
            moved = (await api.gql(NEXT, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["awardNext"]
            assert moved["result"]["award"]["confirmationNo"] == f"CJ{code}-3", moved
    await api.dispatch()
    # then no candidate remains: the award and the lot fail, and the tenderer is told
    result = (await api.gql(RESULT, {"lotId": lot_id}, token=tenderer))["data"]["lotResult"]
    assert result["award"]["status"] == "FAILED"
    assert [(w["rank"], w["failed"]) for w in result["withdrawals"]] == [(1, False), (2, False), (3, True)]
    assert await status_of(api, lot_id) == "FAILED"
    assert "中标候选人均不符合中标条件" in [n["title"] for n in await inbox(api, tenderer)]
    after = (await api.gql(NEXT, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["awardNext"]
    assert after["code"] == "AWARD_STANDS"  # nothing to award: the award is over

    # and every deposit left, the first winner's too, is due back with the lot's failure
    assert (await my_deposit(api, first))["status"] == "refund_due"

    # when the tenderer cancels with a government-procurement ground, without documents, then properly
    tenderer = await f.login(api, t["tenderer_phone"])
    form = {
        "projectId": t["project"]["id"],
        "lotId": lot_id,
        "ground": "NO_CANDIDATE_REMAINS",
        "explanation": "中标候选人均放弃中标，依法重新招标。",
        "documentIds": [],
    }
    wrong = (await api.gql(CANCEL, {"input": {**form, "ground": "OVER_BUDGET"}}, token=tenderer))["data"]
    no_file = (await api.gql(CANCEL, {"input": form}, token=tenderer))["data"]
    decision = await upload(api, tenderer, lot_id, pdf(tmp_path / "重新招标决定.pdf", "re-tender"), PURPOSE)
    cancelled = (await api.gql(CANCEL, {"input": {**form, "documentIds": [decision]}}, token=tenderer))["data"]
    # then the first ground is not one of this engineering tender's and a cancellation needs its documents; the
    # third is announced with its basis and a 10-day objection window, and ends the lot
    assert (wrong["cancellationPublish"]["code"], wrong["cancellationPublish"]["field"]) == ("INVALID_INPUT", "reason")
    assert no_file["cancellationPublish"]["field"] == "documentIds"
    cancellation = cancelled["cancellationPublish"]["cancellation"]
    assert (cancellation["ground"], cancellation["status"]) == ("NO_CANDIDATE_REMAINS", "OBJECTION_WINDOW")
    assert "第五十五条" in cancellation["basis"]
    assert datetime.fromisoformat(cancellation["objectionEndsAt"]) > manual_clock.now() + timedelta(days=9)
    assert await status_of(api, lot_id) == "TERMINATED"

    # and the OCDS record shows three awards, the first two cancelled, the third cancelled with the tender
    record = (await api.gql(OCDS, {"lotId": lot_id}))["data"]["ocdsRecord"]
    for release in [*record["releases"], record["compiledRelease"]]:
        assert_valid(release)
    awards = {a["id"]: a for a in record["compiledRelease"]["awards"]}
    assert [awards[f"{code}-award{n}"]["status"] for n in ("", "-2", "-3")] == ["cancelled"] * 3
    assert awards[f"{code}-award-2"]["value"]["amount"] == 12_300_000
    assert record["compiledRelease"]["tender"]["status"] == "cancelled"


async def test_the_next_candidate_is_awarded_while_its_deposit_still_secures_it(api, manual_clock, tmp_path):
    # given a lot awarded to the first of three candidates, four bidders having paid their deposits
    t = await awarded_with_deposits(api, manual_clock)
    lot_id, code = t["lot"]["id"], t["lot"]["tradeCode"]
    first, second, third = [await f.login(api, phone) for phone in t["ranked"]]
    outsider = await f.login(api, t["phones"][3])  # its bid was valid but it is no ranked candidate

    # then at the award only the outsider's deposit fell due; the three candidates' still secure their bids
    assert (await my_deposit(api, outsider))["status"] == "refund_due"
    for token in (first, second, third):
        assert (await my_deposit(api, token))["status"] == "paid"

    # when the winner declines and the tenderer awards the next candidate
    decline = {"lotId": lot_id, "ground": "DECLINED", "detail": "放弃中标"}
    declined = (await api.gql(WITHDRAW, {"input": decline}, token=first))["data"]["awardWithdraw"]
    tenderer = await f.login(api, t["tenderer_phone"])
    nxt = (await api.gql(NEXT, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["awardNext"]
    await api.dispatch()
    # then the second candidate is awarded with its deposit still in place, as the third's and the first's
    assert declined["__typename"] == "AwardWithdrawn", declined
    assert nxt["result"]["award"]["confirmationNo"] == f"CJ{code}-2", nxt
    second_deposit = await my_deposit(api, second)
    assert (second_deposit["status"], second_deposit["securityInPlace"]) == ("paid", True)
    assert [(await my_deposit(api, token))["status"] for token in (first, third)] == ["paid", "paid"]

    # when the tenderer and the new winner sign the contract
    parties = await contract_flow.contract_parties(api, manual_clock, t["tenderer_phone"], t["ranked"][1])
    await contract_flow.signed_contract(api, parties, tmp_path, lot_id, code, 1_230_000_000)
    await api.dispatch()
    # then every deposit left is due back within 5 days of the signing (实施条例 第五十七条), the winner's and the
    # other candidates'
    for phone in t["ranked"]:
        deposit = await my_deposit(api, await f.login(api, phone))
        assert deposit["status"] == "refund_due"
        assert datetime.fromisoformat(deposit["refundDueAt"]) == manual_clock.now() + timedelta(days=5)

    # when the bank refunds the winner's and the third candidate's deposits with their interest
    for phone in t["ranked"][1:]:
        deposit = await my_deposit(api, await f.login(api, phone))
        refunded = await t["bank"].refund(deposit["reference"], AMOUNT + 1_234)
        assert refunded.json()["status"] == "accepted", refunded.json()
    # then both are refunded
    for phone in t["ranked"][1:]:
        deposit = await my_deposit(api, await f.login(api, phone))
        assert (deposit["status"], deposit["paidFen"]) == ("refunded", AMOUNT)


OVERDUE = """query($lotId: ID!) { lotResult(lotId: $lotId) { award { status } withdrawals { rank ground failed } } }"""


async def test_past_the_lots_grace_after_the_overdue_flag_the_platform_withdraws_the_award(api, manual_clock):
    # given a lot awarded to the first of three candidates, with 5 days of grace after the contract-overdue flag
    t = await awarded_with_deposits(api, manual_clock, contractGraceDays=5)
    lot_id = t["lot"]["id"]

    # when 30 days pass without a contract, then the grace less a second, the chronograph running each time
    manual_clock.advance(timedelta(days=30, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()
    tenderer = await f.login(api, t["tenderer_phone"])
    told = [n["kind"] for n in await inbox(api, tenderer)]
    manual_clock.advance(timedelta(days=5, seconds=-2))
    await chronograph.fire_due()
    waiting = (await api.gql(OVERDUE, {"lotId": lot_id}))["data"]["lotResult"]
    # then the tenderer is told the contract is overdue, and the award stands through the grace
    assert told.count("CONTRACT_OVERDUE") == 1
    assert (waiting["award"]["status"], waiting["withdrawals"]) == ("AWARDED", [])

    # when the grace is over
    manual_clock.advance(timedelta(seconds=2))
    await chronograph.fire_due()
    await chronograph.fire_due()
    await api.dispatch()
    # then the platform withdrew the award once, on the ground that no contract was signed, and told the tenderer
    # and the withdrawn winner
    tenderer = await f.login(api, t["tenderer_phone"])
    winner = await f.login(api, t["ranked"][0])
    withdrawn = (await api.gql(OVERDUE, {"lotId": lot_id}, token=tenderer))["data"]["lotResult"]
    assert withdrawn["award"]["status"] == "WITHDRAWN"
    assert withdrawn["withdrawals"] == [{"rank": 1, "ground": "CONTRACT_NOT_SIGNED", "failed": False}]
    assert [n["title"] for n in await inbox(api, tenderer)].count("中标资格变更") == 1
    assert "中标资格变更" in [n["title"] for n in await inbox(api, winner)]

    # when the tenderer awards the next candidate
    nxt = (await api.gql(NEXT, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["awardNext"]
    # then the second candidate is awarded
    assert nxt["__typename"] == "AwardedNext", nxt
    assert (nxt["result"]["award"]["status"], nxt["result"]["award"]["priceFen"]) == ("AWARDED", 1_230_000_000)
