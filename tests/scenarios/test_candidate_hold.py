"""A ranked candidate sees why its deposit is not back after the award: held as a candidate until the contract, due
back within 5 days after it (实施条例 第五十五条、第五十七条); the outsider's is already due, and the hold ends with the
contract."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests import factories as f
from tests.scenarios.test_sequential_award import NEXT, WITHDRAW, awarded_with_deposits
from tests.support import contract_flow

HELD = """query { myRegistrations { edges { node { deposit { status refundDueAt
  heldAsCandidate { rank winner contractDueAt releaseDueBy releaseRule } } } } } }"""


async def _held(api: Any, token: str, locale: str = "zh-CN") -> dict[str, Any]:
    body = await api.gql(HELD, token=token, headers={"accept-language": locale})
    [edge] = body["data"]["myRegistrations"]["edges"]
    return edge["node"]["deposit"]  # type: ignore[no-any-return]


async def test_a_candidates_deposit_says_it_is_held_until_the_contract(api, manual_clock, tmp_path):
    # given a lot awarded to the first of three ranked candidates, four bidders having paid their deposits
    t = await awarded_with_deposits(api, manual_clock)
    ranked = [await f.login(api, phone) for phone in t["ranked"]]
    outsider = await f.login(api, t["phones"][3])

    # then each candidate's deposit says it is held as a candidate, with its rank, until the contract
    held = [await _held(api, token) for token in ranked]
    assert [(d["status"], d["heldAsCandidate"]["rank"]) for d in held] == [("paid", 1), ("paid", 2), ("paid", 3)]
    assert [d["heldAsCandidate"]["winner"] for d in held] == [True, False, False]
    due = datetime.fromisoformat(held[0]["heldAsCandidate"]["contractDueAt"])
    assert due == manual_clock.now() + timedelta(days=30)
    assert {datetime.fromisoformat(d["heldAsCandidate"]["releaseDueBy"]) for d in held} == {due + timedelta(days=5)}
    assert "合同签订后 5 日内退还" in held[1]["heldAsCandidate"]["releaseRule"]
    english = await _held(api, ranked[1], "en")
    assert "within 5 days" in english["heldAsCandidate"]["releaseRule"]
    # and the outsider's is already due back, held for nothing
    mine = await _held(api, outsider)
    assert (mine["status"], mine["heldAsCandidate"]) == ("refund_due", None)

    # when the contract is signed
    parties = await contract_flow.contract_parties(api, manual_clock, t["tenderer_phone"], t["ranked"][0])
    await contract_flow.signed_contract(api, parties, tmp_path, t["lot"]["id"], t["lot"]["tradeCode"], 1_188_000_000)
    await api.dispatch()
    # then no deposit is held any more: each is due back within 5 days
    for phone in t["ranked"]:
        deposit = await _held(api, await f.login(api, phone))
        assert deposit["heldAsCandidate"] is None
        assert deposit["status"] == "refund_due"
        assert datetime.fromisoformat(deposit["refundDueAt"]) == manual_clock.now() + timedelta(days=5)


async def test_a_winner_that_declined_is_no_candidate_held_the_next_one_is_the_winner(api, manual_clock):
    # given a lot awarded to the first of three ranked candidates
    t = await awarded_with_deposits(api, manual_clock)
    first, second, third = [await f.login(api, phone) for phone in t["ranked"]]
    lot_id = t["lot"]["id"]

    # when the winner declines and the tenderer awards the next candidate
    decline = {"lotId": lot_id, "ground": "DECLINED", "detail": "放弃中标"}
    declined = (await api.gql(WITHDRAW, {"input": decline}, token=first))["data"]["awardWithdraw"]
    tenderer = await f.login(api, t["tenderer_phone"])
    nxt = (await api.gql(NEXT, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["awardNext"]
    await api.dispatch()
    assert declined["__typename"] == "AwardWithdrawn", declined
    assert "result" in nxt, nxt

    # then the one that declined is held as no candidate (its deposit waits on the lot's result on other grounds)
    assert (await _held(api, first))["heldAsCandidate"] is None
    # and the second is now the winner held, the third still a candidate
    held = [(await _held(api, token))["heldAsCandidate"] for token in (second, third)]
    assert [(h["rank"], h["winner"]) for h in held] == [(2, True), (3, False)]
