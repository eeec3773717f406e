"""The expert draw (专家抽取) over HTTP: committed before the bid deadline, revealed after it, recomputed by
the test from the public answer with hashlib and hmac alone; conflicts and earlier rounds excluded; the
experts numbered, not named, for bidders until the award."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_publication import publish
from tests.scenarios.test_sealed_bids import REGISTER, sealed_lot, submit
from tests.support.commitments import commit_over_api

EXPERT_ADD = """mutation($input: ExpertAddInput!) { expertAdd(input: $input) {
  __typename ... on ExpertAdded { expert { id } } ... on Error { code message } } }"""
DRAW = """id round specialty size status commitment secret receiptsDigest seed reason expertsShown
  eligible { round number poolNumber expertId name } selected { round number poolNumber expertId name }
  replaces { round number poolNumber expertId name }"""
COMMIT = f"""mutation($input: ExpertDrawCommitInput!) {{ expertDrawCommit(input: $input) {{
  __typename ... on ExpertDrawCommitted {{ draw {{ {DRAW} }} }} ... on Error {{ code message }}
  ... on FieldError {{ field }} }} }}"""
REVEAL = f"""mutation($input: ExpertDrawRevealInput!) {{ expertDrawReveal(input: $input) {{
  __typename ... on ExpertDrawRevealed {{ draw {{ {DRAW} }} }} ... on Error {{ code message }}
  ... on FieldError {{ field }} }} }}"""
REPLACE = f"""mutation($input: ExpertDrawReplaceInput!) {{ expertDrawReplace(input: $input) {{
  __typename ... on ExpertDrawReplaceCommitted {{ draw {{ {DRAW} }} }} ... on Error {{ code message }} }} }}"""
DRAWS = f"query($lotId: ID!) {{ expertDraws(lotId: $lotId) {{ {DRAW} }} }}"
MY_ORG = "query { me { organisation { id } } }"
SPECIALTY = "市政公用工程"
_people = itertools.count(1)


def id_number() -> str:
    """A fresh resident identity number with its GB 11643 check character."""
    body = f"37020219800101{next(_people) % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def pk(global_id: str) -> int:
    return int(base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().partition(":")[2])


async def add_expert(api: Any, operator: str, name: str, specialties: list[str], employer: str | None = None) -> int:
    form = {"name": name, "idNumber": id_number(), "phone": f.new_phone(), "specialties": specialties}
    if employer:
        form["employerId"] = employer
    added = (await api.gql(EXPERT_ADD, {"input": form}, token=operator))["data"]["expertAdd"]
    assert added["__typename"] == "ExpertAdded", added
    return pk(added["expert"]["id"])


async def bidder(api: Any, operator: str, lot_id: str) -> tuple[str, str, str]:
    """(organisation global id, phone, token) of a bidder registered for the lot."""
    org, phone, token = await f.approved_org(api, operator)
    await commit_over_api(api, token, lot_id, "registration")
    done = await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=token)
    assert done["data"]["lotRegister"]["__typename"] == "LotRegistered"
    await commit_over_api(api, token, lot_id, "bid")
    return org, phone, token


def new_secret() -> tuple[str, str]:
    secret = secrets.token_hex(32)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def recompute(draw: dict[str, Any], receipts: list[str]) -> list[int]:
    """The committee from the public inputs, as EXPERT_DRAW.md defines it: hashlib and hmac only."""
    secret = draw["secret"]
    assert hashlib.sha256(secret.encode()).hexdigest() == draw["commitment"]
    digest = hashlib.sha256("\n".join(sorted(receipts)).encode()).hexdigest()
    assert digest == draw["receiptsDigest"]
    seed = hmac.new(secret.encode(), digest.encode(), hashlib.sha256).hexdigest()
    assert seed == draw["seed"]
    eligible = [e["poolNumber"] for e in draw["eligible"]]
    assert eligible == sorted(eligible)
    rank = {e: hmac.new(bytes.fromhex(seed), str(e).encode(), hashlib.sha256).hexdigest() for e in eligible}
    return sorted(eligible, key=lambda e: (rank[e], e))[: draw["size"]]


async def reveal(api: Any, operator: str, secret: str, **which: Any) -> dict[str, Any]:
    body = await api.gql(REVEAL, {"input": {"secret": secret, **which}}, token=operator)
    return body["data"]["expertDrawReveal"]  # type: ignore[no-any-return]


async def test_a_draw_is_committed_revealed_replaced_and_recomputed_by_anyone(api, manual_clock):
    # given a sealed tender, four registered bidders (three of them bid) and an expert pool
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    supervisor_at = await supervisor_phone(api, operator)
    project, tenderer, tenderer_at = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    lot_id, code = lot["id"], lot["tradeCode"]
    tenderer_org = (await api.gql(MY_ORG, token=tenderer))["data"]["me"]["organisation"]["id"]
    (a_org, a_at, a), (_, _, b), (_, _, d), (c_org, _, _) = [await bidder(api, operator, lot_id) for _ in range(4)]
    free = [await add_expert(api, operator, f"专家{n}", [SPECIALTY, "造价"]) for n in range(9)]
    conflicted = [
        await add_expert(api, operator, "投标人甲员工", [SPECIALTY], employer=a_org),
        await add_expert(api, operator, "报名人丙员工", [SPECIALTY], employer=c_org),
        await add_expert(api, operator, "招标人员工", [SPECIALTY], employer=tenderer_org),
    ]
    other_field = await add_expert(api, operator, "给排水专家", ["给排水"])
    secret, commitment = new_secret()

    # when the operator commits before the deadline (after refusing an even committee)
    even = (
        await api.gql(
            COMMIT,
            {"input": {"lotId": lot_id, "specialty": SPECIALTY, "size": 4, "commitment": commitment}},
            token=operator,
        )
    )["data"]["expertDrawCommit"]
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment, "idempotencyKey": "d-1"}
    committed = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    replayed = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    again = (await api.gql(COMMIT, {"input": {**form, "idempotencyKey": "d-2"}}, token=operator))["data"][
        "expertDrawCommit"
    ]
    early = await reveal(api, operator, secret, lotId=lot_id, round=1)
    manual_clock.advance(timedelta(minutes=1))
    late_expert = await add_expert(api, operator, "承诺后入库专家", [SPECIALTY])
    # and the bidders seal their bids, one replacing its first
    key = new_key()
    sealed = [
        seal(key, code, 1_250_000_000, {}),
        *(seal(new_key(), code, p, {}) for p in (1_199_000_000, 1_230_000_000)),
    ]
    assert (await submit(api, a, lot_id, seal(key, code, 1_300_000_000, {})))["__typename"] == "BidSubmitted"
    receipts = [(await submit(api, t, lot_id, s))["receipt"]["sha256"] for t, s in zip((a, b, d), sealed, strict=True)]
    await api.dispatch()

    # then the commitment is public, nothing is drawn, and the draw cannot be revealed or committed again
    assert (even["code"], even["field"]) == ("INVALID_INPUT", "size")
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    assert committed["draw"]["status"] == "COMMITTED"
    assert committed["draw"]["secret"] is None
    assert committed["draw"]["selected"] is None
    assert replayed["draw"]["id"] == committed["draw"]["id"]
    assert again["code"] == "EXPERT_DRAW_EXISTS"
    assert early["code"] == "REVEAL_TOO_EARLY"
    public = (await api.gql(DRAWS, {"lotId": lot_id}))["data"]["expertDraws"]
    assert [(d["commitment"], d["status"], d["secret"]) for d in public] == [(commitment, "COMMITTED", None)]

    # when the deadline passes, the opening starts and the operator reveals (a wrong secret first)
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    operator = await f.login(api, operator_at)
    wrong = await reveal(api, operator, secrets.token_hex(32), lotId=lot_id, round=1)
    revealed = await reveal(api, operator, secret, drawId=committed["draw"]["id"], idempotencyKey="r-1")

    # then the committee is a function of the public inputs alone, and nobody in conflict is in it
    assert wrong["code"] == "SECRET_MISMATCH"
    assert revealed["__typename"] == "ExpertDrawRevealed", revealed
    first = revealed["draw"]
    assert first["secret"] == secret
    assert [e["poolNumber"] for e in first["eligible"]] == sorted(free)
    assert not {*conflicted, other_field, late_expert} & {e["poolNumber"] for e in first["eligible"]}
    committee = [e["poolNumber"] for e in first["selected"]]
    assert committee == recompute(first, receipts)
    assert len(committee) == 5
    assert all(e["name"] for e in first["selected"])

    # and bidders, the tenderer and anyone see the inputs and numbers, never who the experts are
    supervisor = await f.login(api, supervisor_at)
    bidder_view = (await api.gql(DRAWS, {"lotId": lot_id}, token=await f.login(api, a_at)))["data"]["expertDraws"]
    anonymous = (await api.gql(DRAWS, {"lotId": lot_id}))["data"]["expertDraws"]
    overseen = (await api.gql(DRAWS, {"lotId": lot_id}, token=supervisor))["data"]["expertDraws"]
    for view in (bidder_view, anonymous):
        (seen,) = view
        assert seen["expertsShown"] is False
        assert (seen["secret"], seen["seed"], seen["receiptsDigest"]) == (
            secret,
            first["seed"],
            first["receiptsDigest"],
        )
        assert [e["number"] for e in seen["eligible"]] == list(range(1, 10))
        assert all(
            e["poolNumber"] is None and e["name"] is None and e["expertId"] is None
            for e in seen["eligible"] + seen["selected"]
        )
        assert [e["number"] for e in seen["selected"]] == [e["number"] for e in first["selected"]]
    assert "专家" not in str(bidder_view) + str(anonymous)
    assert overseen[0]["expertsShown"] is True
    assert overseen[0]["selected"] == first["selected"]

    # when one expert declines and the operator draws a replacement in a new round
    leaving = first["selected"][2]
    secret2, commitment2 = new_secret()
    replace = {
        "lotId": lot_id,
        "expertIds": [leaving["expertId"]],
        "reason": "专家因故不能参加评标",
        "commitment": commitment2,
    }
    replaced = (await api.gql(REPLACE, {"input": replace}, token=operator))["data"]["expertDrawReplace"]
    pending = (await api.gql(REPLACE, {"input": replace}, token=operator))["data"]["expertDrawReplace"]
    assert replaced["__typename"] == "ExpertDrawReplaceCommitted", replaced
    second_revealed = await reveal(api, operator, secret2, lotId=lot_id, round=2)
    assert second_revealed["__typename"] == "ExpertDrawRevealed", second_revealed
    second = second_revealed["draw"]

    # then the new round excludes everyone drawn before (its pool is the one at its own commitment)
    # and is recomputed the same way
    assert replaced["__typename"] == "ExpertDrawReplaceCommitted", replaced
    assert replaced["draw"]["replaces"] == [leaving]
    assert pending["code"] == "EXPERT_DRAW_PENDING"
    assert (second["round"], second["size"]) == (2, 1)
    assert [e["poolNumber"] for e in second["eligible"]] == sorted({*free, late_expert} - set(committee))
    assert second["selected"][0]["poolNumber"] not in committee
    assert [e["poolNumber"] for e in second["selected"]] == recompute(second, receipts)
    again_leaving = (await api.gql(REPLACE, {"input": replace}, token=operator))["data"]["expertDrawReplace"]
    assert again_leaving["code"] == "NOT_ON_COMMITTEE"  # already replaced

    # when the lot is awarded, everyone sees who evaluated it, and can recompute every round
    await publish(
        api, await f.login(api, tenderer_at), project, "RESULT", "道路维修工程中标结果公告", "<p>中标人：甲。</p>"
    )
    awarded = (await api.gql(DRAWS, {"lotId": lot_id}))["data"]["expertDraws"]
    assert [d["expertsShown"] for d in awarded] == [True, True]
    assert [e["poolNumber"] for e in awarded[0]["selected"]] == recompute(awarded[0], receipts)
    assert [e["poolNumber"] for e in awarded[1]["selected"]] == recompute(awarded[1], receipts)
    assert awarded[1]["reason"] == "专家因故不能参加评标"
    assert awarded[1]["replaces"][0]["name"] == leaving["name"]


async def test_a_commitment_after_the_bid_deadline_is_refused(api, manual_clock):
    # given a sealed tender whose deadline has passed, and enough experts
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    for n in range(5):
        await add_expert(api, operator, f"专家{n}", [SPECIALTY])
    manual_clock.advance(timedelta(days=25))
    operator = await f.login(api, operator_at)
    # when
    form = {"lotId": project["lots"][0]["id"], "specialty": SPECIALTY, "size": 5, "commitment": new_secret()[1]}
    late = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    # then
    assert late["code"] == "COMMITMENT_TOO_LATE"
    assert (await api.gql(DRAWS, {"lotId": project["lots"][0]["id"]}))["data"]["expertDraws"] == []


async def test_too_small_a_pool_and_non_operators_are_refused(api, manual_clock):
    # given a sealed tender and four experts of the specialty
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    for n in range(4):
        await add_expert(api, operator, f"专家{n}", [SPECIALTY])
    form = {"lotId": project["lots"][0]["id"], "specialty": SPECIALTY, "size": 5, "commitment": new_secret()[1]}
    # when
    short = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    forbidden = await api.gql(COMMIT, {"input": form}, token=tenderer, expect_errors=True)
    # then
    assert short["code"] == "NOT_ENOUGH_EXPERTS"
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
