"""expertLogin and expertCodeRequest over HTTP: typed failures as data, in both languages."""

from __future__ import annotations

import re

from domain.accounts.models import Expert
from domain.common import clock
from tests import factories as f
from tests.scenarios.test_expert_draw import EXPERT_ADD, id_number

SHARED_LOGIN = """mutation($input: ExpertLoginInput!) { expertLogin(input: $input) {
  __typename ... on Error { code message } } }"""


async def test_a_shared_number_is_refused_by_name_and_a_rate_limit_is_data(api, manual_clock):
    # given two active experts with one number (the second written before numbers were unique)
    operator = await f.operator_token(api)
    phone = f.new_phone()
    form = {"name": "王工", "idNumber": id_number(), "phone": phone, "specialties": ["造价"]}
    assert (await api.gql(EXPERT_ADD, {"input": form}, token=operator))["data"]["expertAdd"]["__typename"] == (
        "ExpertAdded"
    )
    await Expert.create(name="李工", id_number_hash="y" * 64, phone=phone, specialties=["造价"], created_at=clock.now())

    # when a code is asked for twice at once, and the right code is given in English
    first = (await api.gql(f.EXPERT_CODE_REQUEST, {"input": {"phone": phone}}))["data"]["expertCodeRequest"]
    second = (await api.gql(f.EXPERT_CODE_REQUEST, {"input": {"phone": phone}}))["data"]["expertCodeRequest"]
    code = re.search(r"(\d{6})", [t for to, t in api.sms if to == phone][-1]).group(1)  # type: ignore[union-attr]
    shared = await api.gql(SHARED_LOGIN, {"input": {"phone": phone, "code": code}}, headers={"accept-language": "en"})

    # then the second request is rate limited, and the sign-in names the ambiguity without a token
    assert first["__typename"] == "SmsCodeSent"
    assert (second["__typename"], second["code"]) == ("RateLimited", "RATE_LIMITED")
    refused = shared["data"]["expertLogin"]
    assert (refused["__typename"], refused["code"]) == ("ExpertPhoneShared", "EXPERT_PHONE_SHARED")
    assert "Several active experts" in refused["message"]


async def test_an_expert_phone_taken_is_typed_in_chinese(api):
    # given an expert
    operator = await f.operator_token(api)
    phone = f.new_phone()
    form = {"name": "王工", "idNumber": id_number(), "phone": phone, "specialties": ["造价"]}
    await api.gql(EXPERT_ADD, {"input": form}, token=operator)

    # when another is added with the same number
    again = {**form, "name": "李工", "idNumber": id_number()}
    taken = (await api.gql(EXPERT_ADD, {"input": again}, token=operator))["data"]["expertAdd"]

    # then
    assert taken["code"] == "EXPERT_PHONE_TAKEN"
    assert "手机号" in taken["message"]
