"""Guided navigation (智慧导办) over HTTP: a bidder's task list through one lot's life (registered: the deposit and the
bid are due; deposit paid: the bid; bid sealed: nothing; the opening begins: the key), ordered by urgency with the
operation and the app link of each; a committee member's score-by task until its sheet is in; the winner's and the
tenderer's contract signatures, each owed until signed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.common import chronograph
from domain.common.actors import Actor, Role
from domain.common.clock import ManualClock
from domain.registration import services as registration
from domain.tendering import opening
from mobile_contract.sealed_bid import new_key, seal
from mobile_contract.signing import contract_sign_content
from schema.relay import to_global_id
from tests import factories as f
from tests.domain.factories import organisation
from tests.scenarios.test_contract_lifecycle import PRICE, awarded_lot
from tests.schema.test_scoring import START, expert, token
from tests.support import commitments
from tests.support import contract_flow as cf
from tests.support.results import pay_deposits
from tests.support.tendering import OPERATOR, evaluating_tender, person, published_tender

TASKS = "{ myTasks { kind role lotId objectType deadline deadlineText overdue operation link } }"


async def tasks(api: Any, who: str) -> list[dict[str, Any]]:
    body = await api.gql(TASKS, token=who)
    return body["data"]["myTasks"]  # type: ignore[no-any-return]


async def test_a_bidders_tasks_follow_its_lot_and_an_expert_is_told_to_score(api, manual_clock: ManualClock):
    # given an open tender asking a deposit, and three registered bidders
    t = await published_tender({"deposit_required": True})
    bidders = []
    for _ in range(3):
        org = await organisation(kinds=["bidder"])
        actor = person(org, Role.BIDDER)
        await commitments.register(actor, t.lot.id)
        bidders.append((actor, new_key()))
    me = token(api, bidders[0][0])
    lot_id = to_global_id("Lot", t.lot.id)

    # then the first bidder owes the deposit and the bid, both by the deadline, with their operations and links
    owed = await tasks(api, me)
    assert [(x["kind"], x["operation"], x["overdue"]) for x in owed] == [
        ("PAY_SECURITY", "guaranteeApply", False),
        ("SEAL_BID", "bidSubmit", False),
    ]
    assert {x["lotId"] for x in owed} == {lot_id}
    assert {x["role"] for x in owed} == {"bidder"}
    assert owed[1]["link"] == f"palmtrade://lot/{t.lot.id}/seal_bid?lot={t.lot.id}"
    assert owed[0]["deadline"][:19] == t.lot.config["bid_deadline"][:19]
    assert owed[0]["deadlineText"]  # shown in Asia/Shanghai

    # when the deposits arrive, only the bid is owed; once sealed, nothing
    await pay_deposits(t.lot.id)
    assert [x["kind"] for x in await tasks(api, me)] == ["SEAL_BID"]
    for actor, key in bidders:
        await commitments.submit(actor, t.lot.id, seal(key, t.lot.trade_code, 90_000_000, {"a.pdf": b"x"}))
    assert await tasks(api, me) == []

    # when the deadline passes and the opening begins, the key is owed by the window's end
    deadline = registration.bid_deadline(t.lot)
    assert deadline is not None
    manual_clock.set(deadline + timedelta(seconds=1))
    await chronograph.fire_due()
    me = token(api, bidders[0][0])
    [key_task] = await tasks(api, me)
    assert (key_task["kind"], key_task["operation"], key_task["objectType"]) == (
        "HAND_OVER_KEY",
        "bidDecrypt",
        "SealedBid",
    )
    await opening.submit_key(bidders[0][0], t.lot.id, bidders[0][1])
    assert await tasks(api, me) == []

    # and another bidder's list never shows this one's tasks, nor a stranger's anything
    stranger = token(api, Actor(user_id=999_001, org_id=999_001, roles=frozenset({Role.BIDDER})))
    assert await tasks(api, stranger) == []

    # given a committee whose evaluation started: each member owes its sheet
    e = await evaluating_tender(manual_clock, [800_000_00, 700_000_00, 750_000_00])
    started = await api.gql(START, {"input": {"lotId": to_global_id("Lot", e.lot.id)}}, token=token(api, OPERATOR))
    assert started["data"]["evaluationStart"]["__typename"] == "EvaluationStarted", started
    member = expert(api, e.committee[0])
    [score] = await tasks(api, member)
    assert (score["kind"], score["role"], score["operation"]) == ("SCORE_BIDS", "expert", "evaluationSheetSubmit")
    outsider = expert(api, next(x for x in e.pool if x not in e.committee))
    assert await tasks(api, outsider) == []


async def test_the_winner_and_the_tenderer_each_owe_the_contract_signature_until_they_sign(
    api, manual_clock: ManualClock, tmp_path
):
    # given an awarded lot whose tenderer drafted the contract
    t = await awarded_lot(api, manual_clock)
    lot_id, code = t["lot"]["id"], t["lot"]["tradeCode"]
    parties = await cf.contract_parties(api, manual_clock, t["tenderer_phone"], t["phones"][1])  # the lowest bid
    drafted = await cf.draft(api, parties, tmp_path, lot_id, PRICE)
    assert drafted["__typename"] == "ContractUpdated", drafted
    contract = drafted["contract"]

    # then each side owes its signature on the contract, by the award's contract deadline
    def signing(owed: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(x["role"], x["objectType"], x["lotId"]) for x in owed if x["kind"] == "SIGN_CONTRACT"]

    winner_owes = await tasks(api, await parties.token("winner"))
    assert signing(winner_owes) == [("bidder", "Contract", lot_id)]
    assert signing(await tasks(api, await parties.token("tenderer"))) == [("tenderer", "Contract", lot_id)]
    assert next(x for x in winner_owes if x["kind"] == "SIGN_CONTRACT")["operation"] == "contractSign"
    assert signing(await tasks(api, await f.login(api, t["phones"][0]))) == []  # a losing bidder owes nothing

    # when the winner signs, only the tenderer still owes; when the tenderer signs, nobody
    content = contract_sign_content(code, contract["contractNo"], PRICE, contract["documentsSha256"])
    assert (await cf.sign(api, parties, lot_id, "winner", content))["__typename"] == "ContractUpdated"
    assert signing(await tasks(api, await parties.token("winner"))) == []
    assert signing(await tasks(api, await parties.token("tenderer"))) == [("tenderer", "Contract", lot_id)]
    assert (await cf.sign(api, parties, lot_id, "tenderer", content))["__typename"] == "ContractUpdated"
    assert signing(await tasks(api, await parties.token("tenderer"))) == []
