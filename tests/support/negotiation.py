"""Lots of the procedures that end in a panel's judgement (询价, 竞争性谈判, 竞争性磋商), brought over HTTP through
their sealed first responses and the remote opening to a drawn committee, as the app and the operator do; and the
app's stored negotiation operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract import gate
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_expert_draw import (
    COMMIT,
    DRAWS,
    SPECIALTY,
    add_expert,
    bidder,
    new_secret,
    recompute,
    reveal,
)
from tests.scenarios.test_invited_tender import REGISTER
from tests.scenarios.test_opening import decrypt
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.scenarios.test_registration import open_lot
from tests.scenarios.test_sealed_bids import submit

OPS = {op.name: op.text for op in gate.load_operations() if op.client == "app"}
DEADLINE_DAYS = 25
NEGOTIATED = ("COMPETITIVE_NEGOTIATION", "COMPETITIVE_CONSULTATION")
# how the suppliers of a negotiation are invited, one per supplier in turn (财政部令第74号 第十二条): the purchaser
# recommends one, an expert one, and the rest are drawn from the supplier pool
INVITED_BY = [("RECOMMENDATION", "purchaser"), ("RECOMMENDATION", "expert")]
ME = "{ me { user { id } } }"


@dataclass
class Opened:
    """A lot whose first responses were opened and whose committee is revealed."""

    lot_id: str
    code: str
    operator_at: str
    tenderer_at: str
    suppliers: list[tuple[str, str]]  # (organisation global id, phone), in the order of `prices`
    committee: list[int]  # expert ids, in draw order
    representative: str = ""  # the tenderer's user (global id): the purchaser's representative on a panel
    uninvited: dict[str, Any] | None = None  # a negotiation: what an approved supplier nobody invited was told


async def invited_supplier(api: Any, operator: str, tenderer: str, lot_id: str, n: int) -> tuple[str, str, str]:
    """(organisation global id, phone, token) of an approved supplier the tenderer invited to a negotiated lot (the
    n-th: INVITED_BY, else a pool draw) and that registered."""
    org, phone, token = await f.approved_org(api, operator)
    method, by = INVITED_BY[n] if n < len(INVITED_BY) else ("POOL_DRAW", None)
    form = {"lotId": lot_id, "organisationIds": [org], "method": method.lower(), "recommendedBy": by}
    invited = await op(api, "LotInvite", {"input": form}, tenderer)
    assert invited["__typename"] == "LotInvited", invited
    done = await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=token)
    assert done["data"]["lotRegister"]["__typename"] == "LotRegistered", done
    return org, phone, token


CRITERIA_SET = """mutation($input: LotQualificationCriteriaSetInput!) { lotQualificationCriteriaSet(input: $input) {
  __typename ... on Error { code message } } }"""


async def opened_lot(
    api: Any,
    clock: Any,
    procedure: str,
    prices: list[int],
    size: int = 5,
    criteria: list[dict[str, Any]] | None = None,
    **config: Any,
) -> Opened:
    """A published lot of the procedure, one supplier per price sealing it as its first response (invited first for
    a negotiation or consultation), `size` experts to draw committed before the deadline; then the deadline, every
    supplier's key, the window's end and the reveal. `criteria`: its qualification criteria (资格后审), set while a
    draft."""
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    form = {"bidDeadline": (clock.now() + timedelta(days=DEADLINE_DAYS)).isoformat(), **config}
    if criteria is None:
        project, _, tenderer_at = await open_lot(api, clock, operator, procedure=procedure, config=form)
    else:
        _, tenderer_at, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
        draft = road_project(clock.now() + timedelta(days=DEADLINE_DAYS), procedure=procedure, config=form)
        project = (await api.gql(PROJECT_CREATE, {"input": draft}, token=tenderer))["data"]["projectCreate"]["project"]
        lot_form = {"lotId": project["lots"][0]["id"], "criteria": criteria}
        set_ = (await api.gql(CRITERIA_SET, {"input": lot_form}, token=tenderer))["data"]["lotQualificationCriteriaSet"]
        assert set_["__typename"] == "QualificationCriteriaSet", set_
        await publish(api, tenderer, project, "TENDER", f"{procedure}采购公告", "<p>资格后审。</p>")
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    for n in range(7):
        await add_expert(api, operator, f"评审专家{n}", [SPECIALTY])
    suppliers, keys, receipts = [], [], []
    tenderer = await f.login(api, tenderer_at)
    representative = str((await api.gql(ME, {}, token=tenderer))["data"]["me"]["user"]["id"])
    for n, price in enumerate(prices):
        if procedure in NEGOTIATED:
            org, phone, token = await invited_supplier(api, operator, tenderer, lot_id, n)
        else:
            org, phone, token = await bidder(api, operator, lot_id)
        key = new_key()
        done = await submit(api, token, lot_id, seal(key, code, price, {"响应文件.pdf": f"%PDF {price}".encode()}))
        assert done["__typename"] == "BidSubmitted", done
        suppliers.append((org, phone))
        keys.append(key)
        receipts.append(str(done["receipt"]["sha256"]))
    uninvited = None
    if procedure in NEGOTIATED:
        _, _, stranger = await f.approved_org(api, operator)
        uninvited = (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=stranger))["data"]["lotRegister"]
    secret, commitment = new_secret()
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": size, "commitment": commitment}
    committed = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    await api.dispatch()  # the publication scheduled the opening
    clock.advance(timedelta(days=DEADLINE_DAYS, seconds=1))
    await chronograph.fire_due()
    for (_, phone), key in zip(suppliers, keys, strict=True):
        opened = await decrypt(api, await f.login(api, phone), lot_id, key)
        assert opened["__typename"] == "BidDecrypted", opened
    clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()
    operator = await f.login(api, operator_at)
    revealed = await reveal(api, operator, secret, lotId=lot_id, round=1)
    assert revealed["__typename"] == "ExpertDrawRevealed", revealed
    [drawn] = (await api.gql(DRAWS, {"lotId": lot_id}, token=operator))["data"]["expertDraws"]
    committee = recompute(drawn, receipts)
    return Opened(lot_id, code, operator_at, tenderer_at, suppliers, committee, representative, uninvited)


async def op(api: Any, name: str, variables: dict[str, Any], token: str | None) -> Any:
    """Runs the app's stored operation; the answer of its one root field."""
    body = await api.gql(OPS[name], variables, token=token)
    assert "errors" not in body, body
    [answer] = body["data"].values()
    return answer


def sealed_offer(key: dict[str, Any], code: str, price: int) -> str:
    """A final offer sealed on the phone, in the sealed-bid format."""
    return seal(key, code, price, {"最后报价单.pdf": f"%PDF final {price}".encode()})
