"""A test guarantor: an approved guarantor organisation with its own P-256 key, registered through
GraphQL, that reads applications, signs letters as a real guarantor's system would (and forges them
when a test asks), issues, declines and decides claims over HTTP."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.accounts import keys
from domain.common import clock
from tests import factories as f
from tests.support.bank import KEY_REGISTER, new_key

_letters = itertools.count(1)

PARTY = "{ id creditCode name }"
GUARANTEE = f"""id applicationNo status amountFen validUntil appliedAt decidedAt declineReason letterNo
  verificationCode letterSha256 keyId claimAmountFen claimReason claimedAt claimDecidedAt claimRejectReason
  releasedAt expiredAt payerAccount lot {{ id tradeCode }} applicant {PARTY} guarantor {PARTY} beneficiary {PARTY}"""
ERRORS = """... on Error { code message } ... on FieldError { field } ... on InvalidTransition { state }"""


def mutation(name: str, success: str, extra: str = "") -> str:
    cap = name[0].upper() + name[1:]
    return f"""mutation($input: {cap}Input!) {{ {name}(input: $input) {{
  __typename ... on {success} {{ guarantee {{ {GUARANTEE} }} }} {ERRORS} {extra} }} }}"""


APPLY = mutation(
    "guaranteeApply",
    "GuaranteeApplied",
    "... on GuaranteeAmountTooLow { requiredFen } ... on GuaranteeValidityTooShort { requiredUntil }",
)
ISSUE = mutation("guaranteeIssue", "GuaranteeIssued", "... on LetterNoTaken { letterNo }")
DECLINE = mutation("guaranteeDecline", "GuaranteeDeclined")
CLAIM = mutation("guaranteeClaim", "GuaranteeClaimed", "... on ClaimTooEarly { deadline }")
CLAIM_PAY = mutation("guaranteeClaimPay", "GuaranteeClaimPaid")
CLAIM_REJECT = mutation("guaranteeClaimReject", "GuaranteeClaimRejected")
APPLICATIONS = f"""query($status: GuaranteeStatus) {{ guaranteeApplications(status: $status) {{
  edges {{ node {{ {GUARANTEE} }} }} }} }}"""
MINE = f"""query($status: GuaranteeStatus, $lotId: ID) {{ myGuarantees(status: $status, lotId: $lotId) {{
  edges {{ node {{ {GUARANTEE} }} }} }} }}"""
LOT_GUARANTEES = f"""query($lotId: ID!) {{ lotGuarantees(lotId: $lotId) {{ edges {{ node {{ {GUARANTEE} }} }} }} }}"""
VERIFY = """query($letterNo: String!, $code: String!) { guaranteeVerify(letterNo: $letterNo, verificationCode: $code) {
  status letterNo lotTradeCode amountFen currency validFrom validUntil issuedAt acceptedAt letterSha256
  applicant { creditCode name } beneficiary { creditCode name } guarantor { creditCode name } } }"""


EXTENDED = f"""{GUARANTEE} extensionUntil extensionRequestedAt extensionDeclineReason extendedAt requiredUntil
  validityShort"""


def _extension(name: str, success: str, extra: str = "") -> str:
    cap = name[0].upper() + name[1:]
    return f"""mutation($input: {cap}Input!) {{ {name}(input: $input) {{
  __typename ... on {success} {{ guarantee {{ {EXTENDED} }} }} {ERRORS} {extra} }} }}"""


EXTENSION_REQUEST = _extension(
    "guaranteeExtensionRequest",
    "GuaranteeExtensionRequested",
    "... on GuaranteeAlreadyCovers { requiredUntil } ... on GuaranteeValidityTooShort { requiredUntil }",
)
EXTEND = _extension("guaranteeExtend", "GuaranteeExtended")
EXTENSION_DECLINE = _extension("guaranteeExtensionDecline", "GuaranteeExtensionDeclined")
MINE_EXTENDED = f"""query($lotId: ID) {{ myGuarantees(lotId: $lotId) {{ edges {{ node {{ {EXTENDED} }} }} }} }}"""


def new_letter_no() -> str:
    return f"BH{clock.now():%Y}-{next(_letters):06d}"


@dataclass
class Guarantor:
    api: Any
    org_id: str
    phone: str
    token: str
    private_jwk: dict[str, Any]
    kid: str

    @classmethod
    async def open(cls, api: Any, operator: str) -> Guarantor:
        """An approved guarantor organisation that registered a guarantee_letter key."""
        org_id, phone, token = await f.approved_org(api, operator, kinds=["GUARANTOR"])
        private = new_key()
        public = {k: v for k, v in private.items() if k != "d"}
        body = await api.gql(KEY_REGISTER, {"input": {"purpose": "GUARANTEE_LETTER", "jwk": public}}, token=token)
        registered = body["data"]["partnerKeyRegister"]
        assert registered["__typename"] == "PartnerKeyRegistered", registered
        return cls(api=api, org_id=org_id, phone=phone, token=token, private_jwk=private, kid=registered["key"]["kid"])

    async def sign_in(self) -> str:
        """A fresh access token (after the clock moved past the old one)."""
        self.token = await f.login(self.api, self.phone)
        return self.token

    async def applications(self, status: str | None = None) -> list[dict[str, Any]]:
        body = await self.api.gql(APPLICATIONS, {"status": status}, token=self.token)
        return [e["node"] for e in body["data"]["guaranteeApplications"]["edges"]]

    @staticmethod
    def letter(application: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """The letter payload for an application as guaranteeApplications shows it; `changes` override
        members (None removes one)."""
        issued = clock.now()
        payload: dict[str, Any] = {
            "letterNo": new_letter_no(),
            "applicationNo": application["applicationNo"],
            "lotTradeCode": application["lot"]["tradeCode"],
            "applicant": {k: application["applicant"][k] for k in ("creditCode", "name")},
            "beneficiary": {k: application["beneficiary"][k] for k in ("creditCode", "name")},
            "guarantor": {k: application["guarantor"][k] for k in ("creditCode", "name")},
            "amountFen": application["amountFen"],
            "currency": "CNY",
            "validFrom": (issued - timedelta(minutes=1)).isoformat(),
            "validUntil": application["validUntil"],
            "issuedAt": issued.isoformat(),
        }
        payload.update(changes)
        return {k: v for k, v in payload.items() if v is not None}

    def sign(self, payload: dict[str, Any], private_jwk: dict[str, Any] | None = None, kid: str | None = None) -> str:
        """The compact JWS of a letter, with this guarantor's key unless another is given."""
        return keys.sign(payload, private_jwk or self.private_jwk, kid or self.kid)

    def forge_unregistered(self, payload: dict[str, Any]) -> str:
        """Signed with a key nobody registered, under a kid of its own."""
        stranger = new_key()
        return keys.sign(payload, stranger, "unregistered-" + self.kid[:16])

    def forge_under_my_kid(self, payload: dict[str, Any]) -> str:
        """Signed with another key but naming this guarantor's kid."""
        return keys.sign(payload, new_key(), self.kid)

    @staticmethod
    def tamper(token: str, **changes: Any) -> str:
        """The signed letter with its payload altered after signing (the signature kept)."""
        header, body, signature = token.split(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload.update(changes)
        altered = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        return ".".join((header, altered, signature))

    async def issue(self, guarantee_id: str, letter_jws: str, key: str | None = None) -> dict[str, Any]:
        variables = {"input": {"guaranteeId": guarantee_id, "letterJws": letter_jws, "idempotencyKey": key}}
        body = await self.api.gql(ISSUE, variables, token=self.token)
        return body["data"]["guaranteeIssue"]  # type: ignore[no-any-return]

    async def issue_for(self, application: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Signs the letter for the application with this guarantor's key and issues it."""
        return await self.issue(application["id"], self.sign(self.letter(application, **changes)))

    async def decline(self, guarantee_id: str, reason: str, key: str | None = None) -> dict[str, Any]:
        variables = {"input": {"guaranteeId": guarantee_id, "reason": reason, "idempotencyKey": key}}
        body = await self.api.gql(DECLINE, variables, token=self.token)
        return body["data"]["guaranteeDecline"]  # type: ignore[no-any-return]

    async def pay(self, guarantee_id: str, key: str | None = None) -> dict[str, Any]:
        variables = {"input": {"guaranteeId": guarantee_id, "idempotencyKey": key}}
        body = await self.api.gql(CLAIM_PAY, variables, token=self.token)
        return body["data"]["guaranteeClaimPay"]  # type: ignore[no-any-return]

    async def reject(self, guarantee_id: str, reason: str, key: str | None = None) -> dict[str, Any]:
        variables = {"input": {"guaranteeId": guarantee_id, "reason": reason, "idempotencyKey": key}}
        body = await self.api.gql(CLAIM_REJECT, variables, token=self.token)
        return body["data"]["guaranteeClaimReject"]  # type: ignore[no-any-return]

    async def extend(self, guarantee_id: str, letter_jws: str, key: str | None = None) -> dict[str, Any]:
        """guaranteeExtend with an amended letter (保函修改书) as given."""
        variables = {"input": {"guaranteeId": guarantee_id, "letterJws": letter_jws, "idempotencyKey": key}}
        body = await self.api.gql(EXTEND, variables, token=self.token)
        return body["data"]["guaranteeExtend"]  # type: ignore[no-any-return]

    def amended(self, guarantee: dict[str, Any], **changes: Any) -> str:
        """The amended letter a guarantor's system signs for an extension request as the guarantee shows it (its
        extensionUntil): the same letter number, the new validUntil; `changes` override members."""
        payload = self.letter(
            guarantee, **{"letterNo": guarantee["letterNo"], "validUntil": guarantee["extensionUntil"], **changes}
        )
        return self.sign(payload)

    async def extend_for(self, guarantee: dict[str, Any], key: str | None = None, **changes: Any) -> dict[str, Any]:
        """Answers an extension request with the amended letter signed with this guarantor's key."""
        return await self.extend(guarantee["id"], self.amended(guarantee, **changes), key)

    async def decline_extension(self, guarantee_id: str, reason: str, key: str | None = None) -> dict[str, Any]:
        """Refuses an extension request, with its reason."""
        variables = {"input": {"guaranteeId": guarantee_id, "reason": reason, "idempotencyKey": key}}
        body = await self.api.gql(EXTENSION_DECLINE, variables, token=self.token)
        return body["data"]["guaranteeExtensionDecline"]  # type: ignore[no-any-return]

    async def extension_requests(self) -> list[dict[str, Any]]:
        """Its issued guarantees with an extension asked for, as guaranteeApplications lists them."""
        query = APPLICATIONS.replace(GUARANTEE, EXTENDED)
        body = await self.api.gql(query, {"status": "ISSUED"}, token=self.token)
        nodes = [e["node"] for e in body["data"]["guaranteeApplications"]["edges"]]
        return [n for n in nodes if n["extensionUntil"]]


async def request_extension(
    api: Any, token: str, guarantee_id: str, valid_until: datetime, key: str | None = None
) -> dict[str, Any]:
    """The applicant's guaranteeExtensionRequest."""
    variables = {"input": {"guaranteeId": guarantee_id, "validUntil": valid_until.isoformat(), "idempotencyKey": key}}
    body = await api.gql(EXTENSION_REQUEST, variables, token=token)
    return body["data"]["guaranteeExtensionRequest"]  # type: ignore[no-any-return]


async def apply(
    api: Any,
    token: str,
    lot_id: str,
    guarantor_id: str,
    amount_fen: int,
    valid_until: datetime,
    key: str | None = None,
    payer_account: str | None = None,
) -> dict[str, Any]:
    """A bidder's guaranteeApply (with the premium's payer account when given)."""
    fields: dict[str, Any] = {
        "lotId": lot_id,
        "guarantorId": guarantor_id,
        "amountFen": amount_fen,
        "validUntil": valid_until.isoformat(),
        "idempotencyKey": key,
    }
    if payer_account is not None:
        fields["payerAccount"] = payer_account
    variables = {"input": fields}
    body = await api.gql(APPLY, variables, token=token)
    return body["data"]["guaranteeApply"]  # type: ignore[no-any-return]


async def claim(
    api: Any, token: str, guarantee_id: str, amount_fen: int, reason: str, key: str | None = None
) -> dict[str, Any]:
    """The tenderer's guaranteeClaim."""
    fields = {"guaranteeId": guarantee_id, "amountFen": amount_fen, "reason": reason, "idempotencyKey": key}
    variables = {"input": fields}
    body = await api.gql(CLAIM, variables, token=token)
    return body["data"]["guaranteeClaim"]  # type: ignore[no-any-return]


async def verify(api: Any, letter_no: str, code: str, token: str | None = None) -> dict[str, Any] | None:
    """guaranteeVerify, without a token unless one is given (a kiosk)."""
    body = await api.gql(VERIFY, {"letterNo": letter_no, "code": code}, token=token)
    return body["data"]["guaranteeVerify"]  # type: ignore[no-any-return]
