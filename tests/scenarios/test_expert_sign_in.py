"""An evaluation expert's sign-in on the phone: the operator adds the expert, the draw puts them on a
committee, the expert signs in by SMS code and lists the lots to evaluate; others cannot pass as them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from domain.audit.models import AuditEntry
from domain.common import chronograph
from domain.publication.models import Lot
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone
from tests.scenarios.test_expert_draw import COMMIT, EXPERT_ADD, SPECIALTY, id_number, new_secret, pk, reveal
from tests.scenarios.test_sealed_bids import sealed_lot

EXPERT_ME = """query { expertMe { expert { id name specialties } lots { id name tradeCode status } } }"""


async def add(api: Any, operator: str, name: str, phone: str) -> dict[str, Any]:
    form = {"name": name, "idNumber": id_number(), "phone": phone, "specialties": [SPECIALTY, "造价"]}
    return (await api.gql(EXPERT_ADD, {"input": form}, token=operator))["data"]["expertAdd"]  # type: ignore[no-any-return]


def code_sent_to(api: Any, phone: str) -> str:
    text = [t for to, t in api.sms if to == phone][-1]
    return re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]


async def login(api: Any, phone: str, code: str) -> dict[str, Any]:
    body = await api.gql(f.EXPERT_LOGIN, {"input": {"phone": phone, "code": code}})
    return body["data"]["expertLogin"]  # type: ignore[no-any-return]


async def test_an_expert_signs_in_by_sms_and_lists_the_lots_to_evaluate(api, manual_clock):
    # given a sealed tender and five experts the operator added, drawn as its committee
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    phones = [f.new_phone() for _ in range(5)]
    added = [await add(api, operator, f"专家{n}", phone) for n, phone in enumerate(phones)]
    assert all(a["__typename"] == "ExpertAdded" for a in added), added
    taken = await add(api, operator, "重号专家", phones[0])
    secret, commitment = new_secret()
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    committed = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    operator = await f.login(api, operator_at)
    assert (await reveal(api, operator, secret, lotId=lot_id, round=1))["__typename"] == "ExpertDrawRevealed"
    phone, expert_gid = phones[0], added[0]["expert"]["id"]

    # when the expert asks for a code and first types it wrong
    sent = (await api.gql(f.EXPERT_CODE_REQUEST, {"input": {"phone": phone}}))["data"]["expertCodeRequest"]
    code = code_sent_to(api, phone)
    refused = await login(api, phone, "000000" if code != "000000" else "111111")
    signed = await login(api, phone, code)
    again = await login(api, phone, code)

    # then the wrong code and the used one are refused, the right one opens a 4-hour session
    assert taken["code"] == "EXPERT_PHONE_TAKEN"
    assert sent["__typename"] == "SmsCodeSent"
    assert "评标专家" in [t for to, t in api.sms if to == phone][-1]
    assert refused["code"] == "SMS_CODE_INVALID"
    assert again["code"] == "SMS_CODE_INVALID"
    assert signed["__typename"] == "ExpertSignedIn", signed
    session = signed["session"]
    assert session["expert"] == {"id": expert_gid, "name": "专家0"}
    assert "refreshToken" not in session
    token = session["accessToken"]

    # and expertMe names the expert and the lot of the committee
    me = (await api.gql(EXPERT_ME, token=token))["data"]["expertMe"]
    lot = await Lot.get(id=pk(lot_id))
    assert me["expert"] == {"id": expert_gid, "name": "专家0", "specialties": sorted([SPECIALTY, "造价"])}
    assert me["lots"] == [{"id": lot_id, "name": lot.name, "tradeCode": lot.trade_code, "status": lot.status.upper()}]

    # the token still works just before 4 hours, and not after
    manual_clock.advance(timedelta(hours=3, minutes=59))
    assert (await api.gql(EXPERT_ME, token=token))["data"]["expertMe"]["expert"]["id"] == expert_gid
    manual_clock.advance(timedelta(minutes=2))
    expired = await api.http.post("/graphql", json={"query": EXPERT_ME}, headers={"authorization": f"Bearer {token}"})
    assert expired.status_code == 401

    # and the sign-in is on the audit trail
    await api.dispatch()
    assert await AuditEntry.exists(action="expert.signed_in")


async def test_only_an_expert_token_reads_expert_me_and_an_expert_token_is_no_operator(api, manual_clock):
    # given a bidder, an operator and an expert on no committee, signed in
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    added = await add(api, operator, "专家甲", f.new_phone())
    expert = await f.expert_token(api, pk(added["expert"]["id"]))

    # when each asks for expertMe, and the expert tries an operator's mutation
    as_bidder = await api.gql(EXPERT_ME, token=bidder, expect_errors=True)
    as_operator = await api.gql(EXPERT_ME, token=operator, expect_errors=True)
    anonymous = await api.gql(EXPERT_ME, expect_errors=True)
    as_expert = (await api.gql(EXPERT_ME, token=expert))["data"]["expertMe"]
    overreach = await api.gql(
        EXPERT_ADD,
        {"input": {"name": "冒名", "idNumber": id_number(), "phone": f.new_phone(), "specialties": ["造价"]}},
        token=expert,
        expect_errors=True,
    )

    # then users and nobody are refused at the top level; the expert sees no lot yet and adds nobody
    for refused in (as_bidder, as_operator, anonymous):
        assert (refused["data"] or {}).get("expertMe") is None
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_expert == {
        "expert": {"id": added["expert"]["id"], "name": "专家甲", "specialties": ["市政公用工程", "造价"]},
        "lots": [],
    }
    assert overreach["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_number_of_no_expert_answers_alike_and_gets_no_message(api):
    # when a code is asked for a number of nobody
    phone = f.new_phone()
    sent = (await api.gql(f.EXPERT_CODE_REQUEST, {"input": {"phone": phone}}))["data"]["expertCodeRequest"]
    bad = (await api.gql(f.EXPERT_CODE_REQUEST, {"input": {"phone": "12345"}}))["data"]["expertCodeRequest"]

    # then the answer is the one an expert gets, and nothing is sent
    assert sent["__typename"] == "SmsCodeSent"
    assert bad["__typename"] == "InvalidPhoneNumber"
    assert all(to != phone for to, _ in api.sms)
    assert (await login(api, phone, "123456"))["code"] == "SMS_CODE_INVALID"
