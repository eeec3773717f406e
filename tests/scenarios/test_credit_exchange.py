"""The credit exchange with a partner platform (信用联盟) over HTTP, as an integrator makes it: a punishment imported
from another platform blocks a registration here; a package sent again changes nothing; a bad signature or an unknown
key is a typed error and stores nothing; this platform's own records go out signed with its published key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, KeySet

from domain.accounts.models import Organisation
from domain.common import ecdsa
from domain.credit.models import CreditImport, CreditImportItem, JointPunishment
from schema.relay import int_id
from tests import factories as f
from tests.scenarios.test_registration import REGISTER, open_lot
from tests.schema.test_integrators import client_token, create_client
from tests.support.commitments import commit_over_api

ACCREDIT = """mutation($input: CreditPartnerAccreditInput!) { creditPartnerAccredit(input: $input) {
  __typename ... on CreditPartnerChanged { partner { id code clientId keys { kid } } }
  ... on Error { code message } } }"""
IMPORT = """mutation($input: CreditExchangeImportInput!) { creditExchangeImport(input: $input) {
  __typename ... on CreditExchangeImported { replayed imported { partnerCode created updated unchanged pending } }
  ... on CreditPackageInvalid { reason } ... on Error { code message } } }"""
EXPORT = (
    """query($since: DateTime) { creditExchangeExport(since: $since) { package kid sha256 records punishments } }"""
)
MY_RATING = """query { myCreditRating { grade contributions { source sourcePlatform weight } } }"""
PARTNER = "yn-ggzy"


def package(key: ECKey, content: dict[str, Any], kid: str | None = None) -> str:
    """A package as the partner signs it (CREDIT_EXCHANGE.md): compact JWS, ES256, over canonical JSON."""
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    header = {"alg": "ES256", "kid": kid or key.thumbprint(), "typ": "credit-exchange+jws"}
    return jws.serialize_compact(header, body, key, algorithms=["ES256"])


def content(
    punished: str, unknown: str, now: datetime, lifted: datetime | None = None, record_ref: str = "R-1"
) -> dict[str, Any]:
    return {
        "format": "palmtrade.credit-exchange",
        "v": 1,
        "issuer": PARTNER,
        "issuedAt": now.isoformat(),
        "records": [
            {
                "ref": record_ref,
                "creditCode": punished,
                "name": "云南某建设有限公司",
                "kind": "bad",
                "category": "串通投标",
                "description": "与其他投标人串通投标",
                "source": "云南省发展和改革委员会",
                "recordedAt": (now - timedelta(days=2)).isoformat(),
            }
        ],
        "punishments": [
            {
                "ref": f"P-2026-{i:03d}",
                "creditCode": code,
                "name": "云南某建设有限公司",
                "reason": "串通投标，列入失信联合惩戒对象名单",
                "authority": "云南省发展和改革委员会",
                "documentNo": "云发改罚〔2026〕3号",
                "startsAt": (now - timedelta(days=1)).isoformat(),
                "endsAt": (now + timedelta(days=365)).isoformat(),
                "liftedAt": lifted.isoformat() if lifted else None,
                "liftedReason": "信用修复" if lifted else None,
            }
            for i, code in enumerate((punished, unknown), start=1)
        ],
    }


async def partner_client(api: Any, operator: str) -> tuple[str, ECKey]:
    """An integrator client with credit:read and credit:write, accredited as the partner with its own key."""
    made = await create_client(api, operator, name="云南省公共资源交易平台", scopes=["credit:read", "credit:write"])
    token = (await client_token(api, made["client"]["clientId"], made["clientSecret"]))["access_token"]
    key = ECKey.generate_key("P-256")
    accredit = {
        "code": PARTNER,
        "name": "云南省公共资源交易平台",
        "clientId": made["client"]["clientId"],
        "jwk": key.as_dict(private=False),
    }
    body = (await api.gql(ACCREDIT, {"input": accredit}, token=operator))["data"]["creditPartnerAccredit"]
    assert body["__typename"] == "CreditPartnerChanged", body
    assert body["partner"]["keys"] == [{"kid": key.thumbprint()}]
    return token, key


async def test_a_punishment_imported_from_another_platform_blocks_a_registration_here(api, manual_clock):
    # given an open lot, a bidder registered here, and an accredited partner platform
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    org_id, _, bidder = await f.approved_org(api, operator)
    code = (await Organisation.get(id=int_id(org_id, "Organisation"))).credit_code
    client, key = await partner_client(api, operator)
    stranger = f.new_credit_code()  # punished there, not registered here
    signed = package(key, content(code, stranger, manual_clock.now()))
    # when the partner imports its package
    first = (await api.gql(IMPORT, {"input": {"package": signed}}, token=client))["data"]["creditExchangeImport"]
    await api.dispatch()
    # then the record and the punishment are stored with their source, the stranger's waits
    assert first["__typename"] == "CreditExchangeImported", first
    assert first["imported"] == {"partnerCode": PARTNER, "created": 2, "updated": 0, "unchanged": 0, "pending": 1}
    row = await JointPunishment.get(organisation_id=int_id(org_id, "Organisation"))
    assert (row.source_platform, row.source_ref) == (PARTNER, "P-2026-001")
    # and the bidder may not register here (一处失信、处处受限)
    refused = (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=bidder))["data"]["lotRegister"]
    assert refused["__typename"] == "NotEligible", refused
    assert "联合惩戒" in refused["rule"]
    # and its rating shows both, from the partner, grade D
    rating = (await api.gql(MY_RATING, token=bidder))["data"]["myCreditRating"]
    assert rating["grade"] == "D"
    assert {(c["source"], c["sourcePlatform"]) for c in rating["contributions"]} == {
        ("record", PARTNER),
        ("punishment", PARTNER),
    }

    # when the same package comes again, then nothing changes
    again = (await api.gql(IMPORT, {"input": {"package": signed}}, token=client))["data"]["creditExchangeImport"]
    assert again["replayed"] is True
    assert await JointPunishment.filter(organisation_id=int_id(org_id, "Organisation")).count() == 1

    # when the partner lifts the punishment and sends a new package, then the bidder registers here again
    lifted = package(key, content(code, stranger, manual_clock.now(), lifted=manual_clock.now()))
    third = (await api.gql(IMPORT, {"input": {"package": lifted}}, token=client))["data"]["creditExchangeImport"]
    assert third["imported"] == {"partnerCode": PARTNER, "created": 0, "updated": 1, "unchanged": 1, "pending": 1}
    await commit_over_api(api, bidder, lot_id, "registration")
    accepted = (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=bidder))["data"]["lotRegister"]
    assert accepted["__typename"] == "LotRegistered", accepted


async def test_a_bad_signature_an_unknown_key_or_a_bad_package_is_typed_and_stores_nothing(api, manual_clock):
    # given an accredited partner and a package it signed
    operator = await f.operator_token(api)
    org_id, _, _ = await f.approved_org(api, operator)
    code = (await Organisation.get(id=int_id(org_id, "Organisation"))).credit_code
    client, key = await partner_client(api, operator)
    good = package(key, content(code, f.new_credit_code(), manual_clock.now()))
    head, body, signature = good.split(".")
    forged_body = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")
    stranger_key = ECKey.generate_key("P-256")
    wrong_issuer = {**content(code, f.new_credit_code(), manual_clock.now()), "issuer": "other"}
    bad_code = content("91370200MA0000000X", f.new_credit_code(), manual_clock.now())
    cases = {
        "CREDIT_PACKAGE_SIGNATURE_INVALID": f"{head}.{forged_body}.{signature}",
        "CREDIT_PARTNER_UNKNOWN": package(stranger_key, content(code, f.new_credit_code(), manual_clock.now())),
        "CREDIT_PACKAGE_INVALID": package(key, wrong_issuer),
    }
    # when each is imported (and a package with an invalid credit code)
    for expected, sent in cases.items():
        answer = (await api.gql(IMPORT, {"input": {"package": sent}}, token=client))["data"]["creditExchangeImport"]
        # then each is its typed error
        assert answer["code"] == expected, (expected, answer)
    invalid = (await api.gql(IMPORT, {"input": {"package": package(key, bad_code)}}, token=client))["data"]
    assert invalid["creditExchangeImport"]["reason"] == "records[0].creditCode"
    # and nothing was stored
    assert await CreditImport.all().count() == 0
    assert await CreditImportItem.all().count() == 0
    assert await JointPunishment.filter(source_platform=PARTNER).count() == 0
    # and a client without credit:write may not import at all
    other = await create_client(api, operator, scopes=["feed:read"])
    token = (await client_token(api, other["client"]["clientId"], other["clientSecret"]))["access_token"]
    refused = await api.gql(IMPORT, {"input": {"package": good}}, token=token, expect_errors=True)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_platform_exports_its_own_records_signed_with_its_published_key(api, manual_clock):
    # given a record and a punishment listed here, and a partner's punishment imported
    operator = await f.operator_token(api)
    org_id, _, _ = await f.approved_org(api, operator)
    code = (await Organisation.get(id=int_id(org_id, "Organisation"))).credit_code
    await api.gql(f.CREDIT_RECORD, {"input": f.credit_record(org_id)}, token=operator)
    client, key = await partner_client(api, operator)
    await api.gql(IMPORT, {"input": {"package": package(key, content(code, code, manual_clock.now()))}}, token=client)
    # when the partner's client exports
    out = (await api.gql(EXPORT, token=client))["data"]["creditExchangeExport"]
    # then the package verifies against the platform's JWKS and carries this platform's record alone
    keys = KeySet.import_key_set((await api.http.get("/.well-known/jwks.json")).json())
    decoded = jws.deserialize_compact(out["package"], keys, registry=ecdsa.ES256)
    assert decoded.headers()["typ"] == "credit-exchange+jws"
    sent = json.loads(decoded.payload)
    assert (sent["format"], sent["v"]) == ("palmtrade.credit-exchange", 1)
    assert [(r["creditCode"], r["category"]) for r in sent["records"]] == [(code, "投标违规")]
    assert sent["punishments"] == []
    assert (out["records"], out["punishments"]) == (1, 0)
    # and nothing since now
    later = datetime.now(UTC) + timedelta(days=400)
    empty = (await api.gql(EXPORT, {"since": later.isoformat()}, token=client))["data"]["creditExchangeExport"]
    assert (empty["records"], empty["punishments"]) == (0, 0)
