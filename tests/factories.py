"""Factories: make the people and organisations a test needs, the way clients would."""

from __future__ import annotations

import itertools
from typing import Any

from api.seed import create_operator, credit_code
from domain.accounts.models import Organisation

PASSWORD = "palmtrade2026"
_seq = itertools.count(1)

REGISTER = """
mutation Register($input: OrganisationRegisterInput!) {
  organisationRegister(input: $input) {
    __typename
    ... on OrganisationRegistered { organisation { id name status creditCode } user { id name phoneMasked } }
    ... on Error { code message }
    ... on FieldError { field }
  }
}"""

LOGIN = """
mutation Login($input: AuthLoginInput!) {
  authLogin(input: $input) {
    __typename
    ... on SignedIn { session { accessToken refreshToken accessTokenExpiresAt user { name } } }
    ... on Error { code message }
    ... on AccountLocked { lockedUntil }
  }
}"""

APPROVE = """
mutation Approve($input: OrganisationApproveInput!) {
  organisationApprove(input: $input) {
    __typename
    ... on OrganisationReviewed { organisation { id status } }
    ... on Error { code message }
  }
}"""


def new_credit_code() -> str:
    n = next(_seq)
    return credit_code(f"91370200MA{n:07d}")


def new_phone() -> str:
    return f"137{next(_seq) + 10_000_000:08d}"


def registration(**overrides: Any) -> dict[str, Any]:
    form = {
        "creditCode": new_credit_code(),
        "name": "青岛测试建设有限公司",
        "regionCode": "370202",
        "kinds": ["BIDDER"],
        "contactName": "测试员",
        "phone": new_phone(),
        "password": PASSWORD,
    }
    form.update(overrides)
    return form


async def operator_token(api: Any) -> str:
    """Opens the operator organisation (bootstrap, as `manage create-operator` does) and signs in."""
    phone = new_phone()
    await create_operator(phone=phone, name="运营管理员", password=PASSWORD)
    return await login(api, phone)


async def login(api: Any, phone: str, password: str = PASSWORD) -> str:
    body = await api.gql(LOGIN, {"input": {"phone": phone, "password": password}})
    result = body["data"]["authLogin"]
    assert result["__typename"] == "SignedIn", result
    return str(result["session"]["accessToken"])


async def approved_org(api: Any, operator: str, kinds: list[str] | None = None) -> tuple[str, str, str]:
    """(organisation global id, phone, access token) of a freshly approved organisation."""
    form = registration(kinds=kinds or ["BIDDER"])
    body = await api.gql(REGISTER, {"input": form})
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    approved = await api.gql(APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    assert approved["data"]["organisationApprove"]["__typename"] == "OrganisationReviewed"
    return org_id, form["phone"], await login(api, form["phone"])


async def org_count() -> int:
    return await Organisation.all().count()


CREDIT_RECORD = """mutation Credit($input: CreditRecordAddInput!) {
  creditRecordAdd(input: $input) { __typename ... on CreditRecordAdded { record { id } } ... on Error { code message } }
}"""


def credit_record(org_id: str, kind: str = "bad") -> dict[str, Any]:
    """A credit record input for the operator's creditRecordAdd."""
    return {
        "organisationId": org_id,
        "kind": kind,
        "category": "投标违规",
        "description": "提供虚假业绩材料",
        "source": "青岛市住建局 青建罚〔2026〕12号",
    }


EXPERT_CODE_REQUEST = """mutation($input: ExpertCodeRequestInput!) { expertCodeRequest(input: $input) {
  __typename ... on SmsCodeSent { codeExpiresAt nextRequestAt } ... on Error { code message } } }"""
EXPERT_LOGIN = """mutation($input: ExpertLoginInput!) { expertLogin(input: $input) {
  __typename ... on ExpertSignedIn { session { accessToken accessTokenExpiresAt expert { id name } } }
  ... on Error { code message } } }"""


async def expert_token(api: Any, expert_id: int) -> str:
    """Signs an expert of the pool in by SMS code through the API; returns the access token."""
    import re

    from domain.accounts.models import Expert

    phone = (await Expert.get(id=expert_id)).phone
    sent = (await api.gql(EXPERT_CODE_REQUEST, {"input": {"phone": phone}}))["data"]["expertCodeRequest"]
    assert sent["__typename"] == "SmsCodeSent", sent
    text = [t for to, t in api.sms if to == phone][-1]
    code = re.search(r"(\d{6})", text).group(1)  # type: ignore[union-attr]
    signed = (await api.gql(EXPERT_LOGIN, {"input": {"phone": phone, "code": code}}))["data"]["expertLogin"]
    assert signed["__typename"] == "ExpertSignedIn", signed
    return str(signed["session"]["accessToken"])
