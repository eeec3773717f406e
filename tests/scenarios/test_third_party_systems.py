"""An accredited market-run e-trading system publishes for a tenderer that authorised it, with the app's own
mutations, audit and rate limits; refused once the authorisation or the accreditation is revoked, and for a tenderer
that never authorised it (市场化电子交易系统接入).

The journey runs on a server with production's allow-lists (ALLOWLIST_INTEGRATOR and the others on): the system
sends the integrator operations of the mobile contract by their hash, as a production integrator must."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from domain.accounts import adapters
from mobile_contract import gate
from tests import factories as f
from tests.conftest import Api, serving
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_publication import PROJECT_CREATE
from tests.schema.test_integrators import away_from_a_minute_boundary, create_client

ACCREDIT = """mutation($input: ThirdPartySystemAccreditInput!) { thirdPartySystemAccredit(input: $input) {
  __typename ... on ThirdPartySystemAccredited { system { id clientId status } } ... on Error { code message } } }"""
DECIDE = """mutation($input: ThirdPartySystemDecideInput!) { thirdPartySystemDecide(input: $input) {
  __typename ... on ThirdPartySystemDecided { system { status reason } } ... on Error { code message } } }"""
SYSTEMS = "query { thirdPartySystems { id name status } }"
AUTHORISE = """mutation($input: ThirdPartyAuthoriseInput!) { thirdPartyAuthorise(input: $input) {
  __typename ... on ThirdPartyAuthorised { authorisation { id scopes expiresAt } }
  ... on Error { code message } ... on FieldError { field } } }"""
REVOKE = """mutation($input: ThirdPartyAuthorisationRevokeInput!) { thirdPartyAuthorisationRevoke(input: $input) {
  __typename ... on ThirdPartyAuthorisationRevoked { authorisation { revokedAt } } ... on Error { code message } } }"""
TRAIL = """query { auditTrail(objectType: "Announcement", first: 50) { edges { node { action actor
  actorOrganisationId outcome } } } }"""
LIST = "query { announcements(first: 10) { edges { node { title } } } }"
DOCUMENTS = {op.name: op for op in gate.load_operations()}
WRITES = ["announcements:read", "projects:write", "lots:write", "announcements:write"]


def project_form() -> dict[str, Any]:
    return {
        "name": "青岛市市南区2026年道路维修工程",
        "category": "ENGINEERING_CONSTRUCTION",
        "regionCode": "370202",
        "lots": [{"name": "一标段", "procedure": "OPEN_TENDER", "estimatedPriceFen": 50_000_000}],
    }


async def token_for(api: Any, client: dict[str, Any], tenderer: str) -> Any:
    return await api.http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client["client"]["clientId"],
            "client_secret": client["clientSecret"],
            "on_behalf_of": tenderer,
        },
    )


async def accredited(
    api: Any, manual_clock: Any, operator: str, rate: int = 600, scopes: list[str] = WRITES
) -> tuple[dict[str, Any], str]:
    """An integrator client with write scopes and its accredited system's global id."""
    client = await create_client(api, operator, scopes=scopes, ratePerMinute=rate)
    assert client["__typename"] == "IntegratorClientCreated", client
    form = {
        "clientId": client["client"]["clientId"],
        "name": "易招标电子交易平台",
        "operatorCompany": "青岛易招标科技有限公司",
        "accreditationNo": f"QD-ETS-{client['client']['clientId'][-6:]}",
        "validUntil": (manual_clock.now() + timedelta(days=365)).isoformat(),
    }
    made = (await api.gql(ACCREDIT, {"input": form}, token=operator))["data"]["thirdPartySystemAccredit"]
    assert made["__typename"] == "ThirdPartySystemAccredited", made
    assert made["system"]["status"] == "ACCREDITED"
    return client, made["system"]["id"]


async def authorise(api: Any, manual_clock: Any, tenderer: str, system: str, scopes: list[str]) -> dict[str, Any]:
    until = (manual_clock.now() + timedelta(days=90)).isoformat()
    body = await api.gql(
        AUTHORISE, {"input": {"systemId": system, "scopes": scopes, "expiresAt": until}}, token=tenderer
    )
    return body["data"]["thirdPartyAuthorise"]  # type: ignore[no-any-return]


@pytest.fixture
async def production(server: Any, db: Any) -> AsyncIterator[Api]:
    """A second server on the same database with production's allow-lists and no automatic registration."""
    _, services = server
    settings = replace(
        services.settings,
        allowlist_kiosk=True,
        allowlist_integrator=True,
        allowlist_anonymous=True,
        persisted_automatic=False,
    )
    try:
        async with serving(create_app(settings)) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield Api(base_url=base_url, services=services, http=http)
    finally:
        # the second server's start() pointed the accounts services at its key ring: give them back
        adapters.configure(services.keyring, adapters.deps.sms, services.settings.secret_key)


async def persisted(api: Any, name: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """Sends a contract operation by its hash alone, as a client bound by the allow-list does."""
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": DOCUMENTS[name].sha256}}}
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await api.http.post("/graphql", json={**body, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def publish_via(api: Any, via: str, project: dict[str, Any], title: str) -> dict[str, Any]:
    draft = {"projectId": project["id"], "lotId": project["lots"][0]["id"], "type": "TENDER", "title": title}
    drafted = await persisted(
        api, "ThirdPartyAnnouncementDraft", {"input": {**draft, "bodyHtml": "<p>招标。</p>"}}, via
    )
    made = drafted["data"]["announcementDraft"]
    assert made["__typename"] == "AnnouncementDrafted", drafted
    done = await persisted(
        api, "ThirdPartyAnnouncementPublish", {"input": {"announcementId": made["announcement"]["id"]}}, via
    )
    published = done["data"]["announcementPublish"]
    assert published["__typename"] == "AnnouncementPublished", done
    return published["announcement"]  # type: ignore[no-any-return]


async def test_a_system_publishes_for_a_tenderer_that_authorised_it_until_revoked(api, production, manual_clock):
    # given an accredited system, a tenderer and another tenderer that gave it nothing
    operator = await f.operator_token(api)
    client, system = await accredited(api, manual_clock, operator)
    org, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    other_org, _, _ = await f.approved_org(api, operator, kinds=["TENDERER"])
    refused = await token_for(production, client, org)
    assert refused.status_code == 400
    assert refused.json()["code"] == "SYSTEM_NOT_AUTHORISED"

    # when the tenderer finds the system and authorises it for projects and announcements (not a scope it lacks)
    listed = (await api.gql(SYSTEMS, token=tenderer))["data"]["thirdPartySystems"]
    assert [s["id"] for s in listed] == [system]
    too_much = await authorise(api, manual_clock, tenderer, system, ["results:write"])
    assert too_much["__typename"] == "UnknownScope", too_much
    granted = await authorise(api, manual_clock, tenderer, system, ["projects:write", "announcements:write"])
    assert granted["__typename"] == "ThirdPartyAuthorised", granted

    # then the system's delegated token carries those scopes, and it creates and publishes through the app's mutations
    grant = await token_for(production, client, org)
    assert grant.status_code == 200, grant.text
    assert grant.json()["scope"] == "announcements:write projects:write"
    via = grant.json()["access_token"]
    answer = await persisted(production, "ThirdPartyProjectCreate", {"input": project_form()}, via)
    created = answer["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", answer
    published = await publish_via(production, via, created["project"], "市南区道路维修工程招标公告")
    assert published["status"] == "PUBLISHED"
    listed = await persisted(production, "AnnouncementList", {"first": 10})
    assert "市南区道路维修工程招标公告" in [e["node"]["title"] for e in listed["data"]["announcements"]["edges"]]
    # and only the contract's operations run for it: the same mutation as ad-hoc text is refused
    ad_hoc = await production.gql(PROJECT_CREATE, {"input": project_form()}, token=via, expect_errors=True)
    assert ad_hoc["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"

    # and the audit trail names the system and the tenderer it acted for
    await api.dispatch()
    trail = [e["node"] for e in (await api.gql(TRAIL, token=operator))["data"]["auditTrail"]["edges"]]
    published = [e for e in trail if e["action"] == "announcement.published"]
    assert published == [
        {
            "action": "announcement.published",
            "actor": f"client:{client['client']['clientId']}",
            "actorOrganisationId": org,
            "outcome": "success",
        }
    ]

    # and outside its authorisation (a scope not granted, a lot of another tenderer) it is refused
    lot_id = created["project"]["lots"][0]["id"]
    award = await persisted(production, "ThirdPartyResultAward", {"input": {"lotId": lot_id}}, via)
    assert award["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert award["data"] is None
    stranger = await token_for(production, client, other_org)
    assert stranger.status_code == 400
    assert stranger.json()["code"] == "SYSTEM_NOT_AUTHORISED"

    # when the tenderer revokes the authorisation
    revoked = await api.gql(
        REVOKE, {"input": {"authorisationId": granted["authorisation"]["id"], "reason": "合同到期"}}, token=tenderer
    )
    assert revoked["data"]["thirdPartyAuthorisationRevoke"]["__typename"] == "ThirdPartyAuthorisationRevoked"

    # then the token already issued is refused at once, and no new one is issued
    again = await persisted(production, "ThirdPartyProjectCreate", {"input": project_form()}, via)
    assert again["data"] is None
    assert again["errors"][0]["extensions"]["code"] == "SYSTEM_NOT_AUTHORISED"
    assert (await token_for(production, client, org)).json()["code"] == "SYSTEM_NOT_AUTHORISED"

    # when the tenderer authorises it again and the operator then revokes the accreditation
    assert (await authorise(api, manual_clock, tenderer, system, ["projects:write"]))["__typename"] == (
        "ThirdPartyAuthorised"
    )
    via = (await token_for(production, client, org)).json()["access_token"]
    made = await persisted(production, "ThirdPartyProjectCreate", {"input": project_form()}, via)
    assert made["data"]["projectCreate"]["__typename"] == "ProjectCreated", made
    decided = await api.gql(
        DECIDE, {"input": {"systemId": system, "action": "REVOKE", "reason": "违规"}}, token=operator
    )
    assert decided["data"]["thirdPartySystemDecide"]["system"] == {"status": "REVOKED", "reason": "违规"}

    # then its token is refused at once, a revoked system stays revoked, and the tenderer no longer sees it
    after = await persisted(production, "ThirdPartyProjectCreate", {"input": project_form()}, via)
    assert after["errors"][0]["extensions"]["code"] == "SYSTEM_NOT_ACCREDITED"
    assert (await token_for(production, client, org)).json()["code"] == "SYSTEM_NOT_ACCREDITED"
    back = await api.gql(DECIDE, {"input": {"systemId": system, "action": "REINSTATE", "reason": "x"}}, token=operator)
    assert back["data"]["thirdPartySystemDecide"]["code"] == "INVALID_TRANSITION"
    assert (await api.gql(SYSTEMS, token=tenderer))["data"]["thirdPartySystems"] == []


async def test_a_delegated_system_is_held_to_its_clients_rate_limit(api, manual_clock):
    # given an accredited system allowed 3 requests a minute, authorised by a tenderer
    operator = await f.operator_token(api)
    client, system = await accredited(api, manual_clock, operator, rate=3)
    org, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    assert (await authorise(api, manual_clock, tenderer, system, ["projects:write"]))["__typename"] == (
        "ThirdPartyAuthorised"
    )
    via = (await token_for(api, client, org)).json()["access_token"]

    # when it makes four requests in one minute
    await away_from_a_minute_boundary()
    statuses = []
    for _ in range(4):
        response = await api.http.post("/graphql", json={"query": LIST}, headers={"authorization": f"Bearer {via}"})
        statuses.append(response.status_code)

    # then the fourth is refused as the app's integrators are
    assert statuses == [200, 200, 200, 429]


async def test_a_delegated_system_cannot_subscribe_over_websocket(api, production, manual_clock):
    # given a system authorised by a tenderer, with its delegated token
    operator = await f.operator_token(api)
    client, system = await accredited(api, manual_clock, operator)
    org, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    assert (await authorise(api, manual_clock, tenderer, system, ["announcements:write"]))["__typename"] == (
        "ThirdPartyAuthorised"
    )
    via = (await token_for(api, client, org)).json()["access_token"]
    notifications = DOCUMENTS["Notifications"]

    # when it subscribes to the tenderer's live inbox: on a server without allow-lists (the delegation's own
    # guard answers) and on production's (the allow-list answers first: the app's document is not the integrator's)
    answers = []
    for server in (api, production):
        ws = await ws_connect(server.ws_url, {"authorization": f"Bearer {via}"})
        try:
            assert (await next_message(ws))["type"] == "connection_ack"
            payload = {"query": notifications.text, "operationName": "Notifications"}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            answers.append(await next_message(ws))
            if answers[-1]["type"] == "next":
                answers.append(await next_message(ws))
        finally:
            await ws.close()

    # then the guard answers FORBIDDEN with no data and ends the stream; the allow-list refuses the subscription
    guarded, ended, listed = answers
    assert guarded["type"] == "next", guarded
    assert guarded["payload"]["data"] is None
    assert guarded["payload"]["errors"][0]["extensions"] == {"code": "FORBIDDEN", "fields": ["notifications"]}
    assert ended == {"id": "1", "type": "complete"}
    assert listed["type"] == "error", listed
    assert listed["payload"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
