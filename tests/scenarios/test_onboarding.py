"""A contractor's first day: one form, review, every way of signing in, and the failures."""

from __future__ import annotations

import hashlib
import re

from domain.accounts.models import Organisation, RefreshToken, User
from domain.audit.models import AuditEntry
from domain.common import chronograph
from tests import factories as f

ME = "query { me { user { name phoneMasked } organisation { name status kinds } roles } }"
SMS_REQUEST = """
mutation($input: AuthSmsCodeRequestInput!) { authSmsCodeRequest(input: $input) {
  __typename ... on SmsCodeSent { codeExpiresAt nextRequestAt } ... on Error { code message } } }"""
SMS_LOGIN = """
mutation($input: AuthSmsLoginInput!) { authSmsLogin(input: $input) {
  __typename ... on SignedIn { session { accessToken refreshToken } } ... on Error { code message } } }"""
REFRESH = """
mutation($input: AuthRefreshInput!) { authRefresh(input: $input) {
  __typename ... on SignedIn { session { accessToken refreshToken } } ... on Error { code message } } }"""


async def test_one_form_to_signed_in_bidder(api, manual_clock):
    # given an operator and a contractor's one form with an idempotency key
    operator = await f.operator_token(api)
    form = f.registration(name="青岛海湾路桥建设有限公司", idempotencyKey="reg-7f3a")

    # when the app sends it, loses the answer and sends it again
    first = (await api.gql(f.REGISTER, {"input": form}))["data"]["organisationRegister"]
    replay = (await api.gql(f.REGISTER, {"input": form}))["data"]["organisationRegister"]

    # then one organisation exists, pending review, and the replay returned the same one
    assert first["__typename"] == "OrganisationRegistered"
    assert first["organisation"]["status"] == "PENDING"
    assert replay == first
    assert await Organisation.filter(credit_code=form["creditCode"]).count() == 1
    assert await User.filter(phone=form["phone"]).count() == 1

    # and the same key with a different form is refused without creating anything
    other = {**form, "name": "另一家公司"}
    reused = (await api.gql(f.REGISTER, {"input": other}))["data"]["organisationRegister"]
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await Organisation.all().count() == 2  # the operator's and the contractor's

    # while pending, the user can sign in but holds no trading role
    pending_token = await f.login(api, form["phone"])
    me = (await api.gql(ME, token=pending_token))["data"]["me"]
    assert me["roles"] == []
    assert me["organisation"]["status"] == "PENDING"

    # when the operator approves it
    approved = await api.gql(f.APPROVE, {"input": {"organisationId": first["organisation"]["id"]}}, token=operator)
    assert approved["data"]["organisationApprove"]["organisation"]["status"] == "APPROVED"

    # then a new sign-in carries the bidder role (一次登录、全网办理)
    token = await f.login(api, form["phone"])
    me = (await api.gql(ME, token=token))["data"]["me"]
    assert me["roles"] == ["bidder"]
    assert me["user"]["phoneMasked"] == form["phone"][:3] + "****" + form["phone"][-4:]

    # and every change is on the audit trail once dispatched
    await api.dispatch()
    actions = set(await AuditEntry.all().values_list("action", flat=True))
    assert {"organisation.registered", "organisation.approved", "user.signed_in"} <= actions


async def test_protected_query_needs_a_valid_token(api):
    # given no token, then a forged one
    anonymous = await api.gql(ME, expect_errors=True)
    forged = await api.http.post("/graphql", json={"query": ME}, headers={"authorization": "Bearer abc.def.ghi"})

    # then the field refuses the anonymous caller and the forged token gets 401
    assert (anonymous["data"] or {}).get("me") is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_typed_errors_in_both_languages_change_nothing(api):
    # given a bad credit code (wrong check character) and a bad phone number
    valid = f.new_credit_code()
    wrong = "1" if valid[17] == "0" else "0"  # any check character but the right one
    bad_code = f.registration(creditCode=valid[:17] + wrong)
    bad_phone = f.registration(phone="12345")

    # when they are sent in Chinese and in English
    zh = (await api.gql(f.REGISTER, {"input": bad_code}))["data"]["organisationRegister"]
    en = await api.gql(f.REGISTER, {"input": bad_phone}, headers={"accept-language": "en-GB,en"})
    en = en["data"]["organisationRegister"]

    # then each is a typed error naming the field, and nothing was created
    assert zh["__typename"] == "InvalidCreditCode"
    assert zh["code"] == "INVALID_CREDIT_CODE"
    assert zh["field"] == "creditCode"
    assert "统一社会信用代码" in zh["message"]
    assert en["__typename"] == "InvalidPhoneNumber"
    assert en["field"] == "phone"
    assert "mainland China mobile number" in en["message"]
    assert await f.org_count() == 0
    assert await User.all().count() == 0


async def test_wrong_password_then_lock_then_unlock_by_the_chronograph(api, manual_clock):
    # given an approved bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)

    # when the password is wrong four times, then a fifth time
    for _ in range(4):
        wrong = (await api.gql(f.LOGIN, {"input": {"phone": phone, "password": "wrong-pass-1"}}))["data"]["authLogin"]
        assert wrong["code"] == "INVALID_CREDENTIALS"
    fifth = (await api.gql(f.LOGIN, {"input": {"phone": phone, "password": "wrong-pass-1"}}))["data"]["authLogin"]

    # then the account is locked and says until when, even for the right password
    assert fifth["__typename"] == "AccountLocked"
    assert fifth["lockedUntil"]
    right = (
        await api.gql(f.LOGIN, {"input": {"phone": phone, "password": f.PASSWORD}}, headers={"accept-language": "en"})
    )["data"]["authLogin"]
    assert right["code"] == "ACCOUNT_LOCKED"
    assert "locked until" in right["message"]
    assert "Beijing time" in right["message"]

    # when 15 minutes pass, the chronograph lifts the lock without any request
    manual_clock.advance(minutes=15, seconds=1)
    assert await chronograph.fire_due() == 1
    user = await User.get(phone=phone)
    assert user.locked_until is None
    assert user.next_check_at is None
    assert await f.login(api, phone)


async def test_sms_code_login_and_its_limits(api, manual_clock):
    # given an approved bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)

    # when a code is requested, and requested again at once
    sent = (await api.gql(SMS_REQUEST, {"input": {"phone": phone}}))["data"]["authSmsCodeRequest"]
    again = (await api.gql(SMS_REQUEST, {"input": {"phone": phone}}))["data"]["authSmsCodeRequest"]

    # then one message went out, and the second request is rate limited
    assert sent["__typename"] == "SmsCodeSent"
    assert again["code"] == "RATE_LIMITED"
    messages = [text for to, text in api.sms if to == phone]
    assert len(messages) == 1
    code = re.search(r"(\d{6})", messages[0]).group(1)  # type: ignore[union-attr]

    # a wrong code is refused, the right one signs in, and it cannot be used twice
    wrong = "000000" if code != "000000" else "111111"
    refused = (await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": wrong}}))["data"]["authSmsLogin"]
    assert refused["code"] == "SMS_CODE_INVALID"
    ok = (await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": code}}))["data"]["authSmsLogin"]
    assert ok["__typename"] == "SignedIn"
    used = (await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": code}}))["data"]["authSmsLogin"]
    assert used["code"] == "SMS_CODE_INVALID"

    # a code expires after 5 minutes
    manual_clock.advance(minutes=2)
    await api.gql(SMS_REQUEST, {"input": {"phone": phone}})
    late_code = re.search(r"(\d{6})", api.sms[-1][1]).group(1)  # type: ignore[union-attr]
    manual_clock.advance(minutes=5, seconds=1)
    late = (await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": late_code}}))["data"]["authSmsLogin"]
    assert late["code"] == "SMS_CODE_INVALID"

    # five wrong tries exhaust a code
    manual_clock.advance(minutes=2)
    await api.gql(SMS_REQUEST, {"input": {"phone": phone}})
    last_code = re.search(r"(\d{6})", api.sms[-1][1]).group(1)  # type: ignore[union-attr]
    wrong = "000000" if last_code != "000000" else "111111"
    for _ in range(5):
        await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": wrong}})
    exhausted = (await api.gql(SMS_LOGIN, {"input": {"phone": phone, "code": last_code}}))["data"]["authSmsLogin"]
    assert exhausted["code"] == "SMS_CODE_EXHAUSTED"


async def test_sms_code_for_an_unknown_number_reveals_nothing(api):
    # when a code is requested for a number without an account
    phone = f.new_phone()
    sent = (await api.gql(SMS_REQUEST, {"input": {"phone": phone}}))["data"]["authSmsCodeRequest"]

    # then the answer looks the same, but no message is sent
    assert sent["__typename"] == "SmsCodeSent"
    assert all(to != phone for to, _ in api.sms)


async def test_refresh_rotates_and_reuse_revokes_the_family(api, manual_clock):
    # given a signed-in bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    session = (await api.gql(f.LOGIN, {"input": {"phone": phone, "password": f.PASSWORD}}))["data"]["authLogin"][
        "session"
    ]
    first_refresh = session["refreshToken"]

    # when the app refreshes, it receives a new pair that works
    manual_clock.advance(minutes=16)  # the first access token has expired
    expired = await api.http.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {session['accessToken']}"}
    )
    assert expired.status_code == 401
    rotated = (await api.gql(REFRESH, {"input": {"refreshToken": first_refresh}}))["data"]["authRefresh"]
    assert rotated["__typename"] == "SignedIn"
    assert rotated["session"]["refreshToken"] != first_refresh
    assert (await api.gql(ME, token=rotated["session"]["accessToken"]))["data"]["me"]["roles"] == ["bidder"]

    # when a thief replays the old refresh token
    stolen = (await api.gql(REFRESH, {"input": {"refreshToken": first_refresh}}))["data"]["authRefresh"]

    # then it is refused and the whole family is revoked, the legitimate new token included
    assert stolen["code"] == "REFRESH_TOKEN_REUSED"
    after = await api.gql(REFRESH, {"input": {"refreshToken": rotated["session"]["refreshToken"]}})
    assert after["data"]["authRefresh"]["code"] == "REFRESH_TOKEN_INVALID"
    family = (await RefreshToken.get(token_hash=hashlib.sha256(first_refresh.encode()).hexdigest())).family
    assert await RefreshToken.filter(family=family).count() == 2
    assert await RefreshToken.filter(family=family, revoked_at=None).count() == 0
    assert await RefreshToken.filter(user__phone=phone, revoked_at=None).count() == 1  # the other device


async def test_logout_revokes_the_session(api):
    # given a signed-in bidder
    operator = await f.operator_token(api)
    _, phone, _ = await f.approved_org(api, operator)
    session = (await api.gql(f.LOGIN, {"input": {"phone": phone, "password": f.PASSWORD}}))["data"]["authLogin"][
        "session"
    ]

    # when they sign out
    out = await api.gql("mutation { authLogout(input: {}) { __typename } }", token=session["accessToken"])

    # then the refresh token no longer works
    assert out["data"]["authLogout"]["__typename"] == "LoggedOut"
    refused = await api.gql(REFRESH, {"input": {"refreshToken": session["refreshToken"]}})
    assert refused["data"]["authRefresh"]["code"] == "REFRESH_TOKEN_INVALID"


async def test_operator_rejects_with_a_reason_and_others_may_not_review(api):
    # given a pending organisation and a bidder who is not an operator
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)
    body = await api.gql(f.REGISTER, {"input": f.registration()})
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]

    # when the bidder tries to approve it
    denied = await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=bidder, expect_errors=True)

    # then the field is refused at the gate
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # when the operator rejects it with a reason, then approving afterwards is an invalid transition
    reject = """mutation($input: OrganisationRejectInput!) { organisationReject(input: $input) {
        __typename ... on OrganisationReviewed { organisation { status reviewReason } } ... on Error { code } } }"""
    rejected = await api.gql(
        reject, {"input": {"organisationId": org_id, "reason": "营业执照照片不清晰"}}, token=operator
    )
    assert rejected["data"]["organisationReject"]["organisation"] == {
        "status": "REJECTED",
        "reviewReason": "营业执照照片不清晰",
    }
    again = await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    assert again["data"]["organisationApprove"]["code"] == "INVALID_TRANSITION"


async def test_supervisor_kind_is_not_self_service(api):
    # when someone registers a supervisor through the public form
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=["ENGINEERING_CONSTRUCTION"])
    result = (await api.gql(f.REGISTER, {"input": form}))["data"]["organisationRegister"]

    # then it is refused
    assert result["code"] == "KIND_NOT_SELF_SERVICE"
    assert await f.org_count() == 0
