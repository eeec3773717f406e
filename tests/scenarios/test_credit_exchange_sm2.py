"""The credit exchange with a partner that signs with SM2 (GM/T 0003, SM3, default user ID), over HTTP: the operator
accredits it with its SM2 public key (a JWK with crv SM2); its package, signed as CREDIT_EXCHANGE.md's SM2 packages
say (alg SM2SM3, r||s over the JWS signing input) by tests/support/sm2.py, an implementation independent of the
platform's Tongsuo, imports a punishment that blocks a registration here; a forged signature, a DER signature, a
package claiming ES256 under the SM2 key are typed errors and store nothing; the platform's own export, signed
SM2SM3 with its SM2 key, verifies with the independent implementation against the key creditExchangeSm2Key gives."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from asn1crypto import algos
from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec

from domain.accounts.models import Organisation
from domain.credit import exchange
from domain.credit.models import CreditImport, CreditImportItem, JointPunishment
from schema.relay import int_id
from tests import factories as f
from tests.scenarios.test_credit_exchange import ACCREDIT, IMPORT, PARTNER, content
from tests.scenarios.test_registration import REGISTER, open_lot
from tests.schema.test_integrators import client_token, create_client
from tests.support import sm2

EXPORT_SM2 = """query($since: DateTime) { creditExchangeExport(since: $since, algorithm: SM2SM3) {
  package kid records punishments } }"""
SM2_KEY = "query { creditExchangeSm2Key }"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sm2Partner:
    """A partner's SM2 key pair, kept as a plain integer and point (tests/support/sm2.py)."""

    def __init__(self) -> None:
        self.d = secrets.randbelow(sm2.N - 2) + 1
        x, y = sm2.public_point(self.d)
        self.jwk = {"kty": "EC", "crv": "SM2", "x": b64url(x.to_bytes(32, "big")), "y": b64url(y.to_bytes(32, "big"))}
        members = json.dumps({k: self.jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
        self.kid = b64url(hashlib.sha256(members.encode()).digest())  # RFC 7638

    def package(self, body: dict[str, Any], *, alg: str = "SM2SM3", der: bool = False) -> str:
        header = b64url(json.dumps({"alg": alg, "kid": self.kid, "typ": "credit-exchange+jws"}).encode())
        payload = b64url(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())
        signature = sm2.sign(self.d, f"{header}.{payload}".encode())  # DER SEQUENCE {r, s}
        if not der:
            parsed = algos.DSASignature.load(signature)
            signature = parsed["r"].native.to_bytes(32, "big") + parsed["s"].native.to_bytes(32, "big")
        return f"{header}.{payload}.{b64url(signature)}"


async def sm2_partner(api: Any, operator: str) -> tuple[str, Sm2Partner]:
    made = await create_client(api, operator, name="云南省公共资源交易平台", scopes=["credit:read", "credit:write"])
    token = (await client_token(api, made["client"]["clientId"], made["clientSecret"]))["access_token"]
    partner = Sm2Partner()
    form = {
        "code": PARTNER,
        "name": "云南省公共资源交易平台",
        "clientId": made["client"]["clientId"],
        "jwk": partner.jwk,
    }
    body = (await api.gql(ACCREDIT, {"input": form}, token=operator))["data"]["creditPartnerAccredit"]
    assert body["__typename"] == "CreditPartnerChanged", body
    assert body["partner"]["keys"] == [{"kid": partner.kid}]
    return token, partner


async def test_a_punishment_imported_from_an_sm2_partner_blocks_a_registration_here(api, manual_clock):
    # given an open lot, a bidder registered here, and a partner accredited with its SM2 key
    operator = await f.operator_token(api)
    project, _, _ = await open_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    org_id, _, bidder = await f.approved_org(api, operator)
    code = (await Organisation.get(id=int_id(org_id, "Organisation"))).credit_code
    client, partner = await sm2_partner(api, operator)

    # when the partner imports its SM2-signed package
    signed = partner.package(content(code, f.new_credit_code(), manual_clock.now()))
    answer = (await api.gql(IMPORT, {"input": {"package": signed}}, token=client))["data"]["creditExchangeImport"]
    await api.dispatch()
    refused = (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=bidder))["data"]["lotRegister"]

    # then the punishment is stored with its source and the bidder may not register here
    assert answer["__typename"] == "CreditExchangeImported", answer
    assert answer["imported"] == {"partnerCode": PARTNER, "created": 2, "updated": 0, "unchanged": 0, "pending": 1}
    row = await JointPunishment.get(organisation_id=int_id(org_id, "Organisation"))
    assert (row.source_platform, row.source_ref) == (PARTNER, "P-2026-001")
    assert refused["__typename"] == "NotEligible", refused


async def test_a_forged_sm2_signature_is_typed_and_stores_nothing(api, manual_clock):
    # given a partner accredited with its SM2 key and a package it signed
    operator = await f.operator_token(api)
    org_id, _, _ = await f.approved_org(api, operator)
    code = (await Organisation.get(id=int_id(org_id, "Organisation"))).credit_code
    client, partner = await sm2_partner(api, operator)
    body = content(code, f.new_credit_code(), manual_clock.now())
    head, payload, signature = partner.package(body).split(".")
    altered = {**body, "punishments": [{**body["punishments"][0], "endsAt": None}]}
    other_payload = partner.package(altered).split(".")[1]
    impostor = Sm2Partner()
    impostor.kid = partner.kid  # names the partner's key, signs with its own
    cases = {
        "altered content": f"{head}.{other_payload}.{signature}",
        "another key": impostor.package(body),
        "DER signature": partner.package(body, der=True),
        "ES256 claimed": partner.package(body, alg="ES256"),
        "flipped signature": f"{head}.{payload}.{b64url(bytes(b ^ 1 for b in unb64url(signature)))}",
    }

    # when each is imported
    answers = {
        name: (await api.gql(IMPORT, {"input": {"package": sent}}, token=client))["data"]["creditExchangeImport"]
        for name, sent in cases.items()
    }

    # then each is refused as a bad signature, and nothing was stored
    assert {name: a.get("code") for name, a in answers.items()} == dict.fromkeys(
        cases, "CREDIT_PACKAGE_SIGNATURE_INVALID"
    ), answers
    assert await CreditImport.all().count() == 0
    assert await CreditImportItem.all().count() == 0
    assert await JointPunishment.filter(source_platform=PARTNER).count() == 0


async def test_an_sm2_key_that_is_not_on_the_curve_is_refused(api):
    # given an operator and a partner's client
    operator = await f.operator_token(api)
    made = await create_client(api, operator, scopes=["credit:write"])
    jwk = {**Sm2Partner().jwk, "y": b64url((12345).to_bytes(32, "big"))}

    # when it is accredited with a point off the SM2 curve
    form = {"code": "off-curve", "name": "某平台", "clientId": made["client"]["clientId"], "jwk": jwk}
    body = (await api.gql(ACCREDIT, {"input": form}, token=operator))["data"]["creditPartnerAccredit"]

    # then
    assert body["code"] == "INVALID_PUBLIC_KEY", body


async def test_the_platform_exports_sm2_signed_packages_with_its_sm2_key(api, manual_clock):
    # given a record listed here, a partner's client, and no SM2 key yet
    operator = await f.operator_token(api)
    org_id, _, _ = await f.approved_org(api, operator)
    code = (await Organisation.get(id=int_id(org_id, "Organisation"))).credit_code
    await api.gql(f.CREDIT_RECORD, {"input": f.credit_record(org_id)}, token=operator)
    client, _ = await sm2_partner(api, operator)
    missing = await api.gql(EXPORT_SM2, token=client, expect_errors=True)
    no_key = (await api.gql(SM2_KEY, token=client))["data"]["creditExchangeSm2Key"]
    # then an SM2 export is refused with its code
    assert missing["errors"][0]["extensions"]["code"] == "CREDIT_SM2_KEY_MISSING"
    assert no_key is None

    # when the platform has an SM2 key (CREDIT_SM2_KEY_FILE) and the partner exports
    key = sm_ec.generate_private_key(sm_ec.SM2())
    pem = key.private_bytes(
        sm_serialization.Encoding.PEM, sm_serialization.PrivateFormat.PKCS8, sm_serialization.NoEncryption()
    )
    exchange.configure_sm2(pem)
    try:
        published = (await api.gql(SM2_KEY, token=client))["data"]["creditExchangeSm2Key"]
        out = (await api.gql(EXPORT_SM2, token=client))["data"]["creditExchangeExport"]
    finally:
        exchange.configure_sm2(None)

    # then the package verifies with the published key by an independent SM2 implementation
    head, payload, signature = out["package"].split(".")
    header = json.loads(unb64url(head))
    point = (int.from_bytes(unb64url(published["x"]), "big"), int.from_bytes(unb64url(published["y"]), "big"))
    assert header == {"alg": "SM2SM3", "kid": published["kid"], "typ": "credit-exchange+jws"}
    assert out["kid"] == published["kid"]
    assert sm2.verify(point, unb64url(signature), f"{head}.{payload}".encode())
    assert not sm2.verify(point, unb64url(signature), f"{head}.{payload}x".encode())
    sent = json.loads(unb64url(payload))
    assert [(r["creditCode"], r["category"]) for r in sent["records"]] == [(code, "投标违规")]
    assert out["records"] == 1
