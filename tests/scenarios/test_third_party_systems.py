"""An accredited market-run e-trading system publishes for a tenderer that authorised it, with the app's own
mutations, audit and rate limits; refused once the authorisation or the accreditation is revoked, and for a tenderer
that never authorised it (市场化电子交易系统接入)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE, publish
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
AWARD = """mutation($input: ResultAwardInput!) { resultAward(input: $input) { __typename } }"""
LIST = "query { announcements(first: 10) { edges { node { title } } } }"
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


async def accredited(api: Any, manual_clock: Any, operator: str, rate: int = 600) -> tuple[dict[str, Any], str]:
    """An integrator client with write scopes and its accredited system's global id."""
    client = await create_client(api, operator, scopes=WRITES, ratePerMinute=rate)
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


async def test_a_system_publishes_for_a_tenderer_that_authorised_it_until_revoked(api, manual_clock):
    # given an accredited system, a tenderer and another tenderer that gave it nothing
    operator = await f.operator_token(api)
    client, system = await accredited(api, manual_clock, operator)
    org, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    other_org, _, _ = await f.approved_org(api, operator, kinds=["TENDERER"])
    refused = await token_for(api, client, org)
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
    grant = await token_for(api, client, org)
    assert grant.status_code == 200, grant.text
    assert grant.json()["scope"] == "announcements:write projects:write"
    via = grant.json()["access_token"]
    created = (await api.gql(PROJECT_CREATE, {"input": project_form()}, token=via))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    await publish(api, via, created["project"], "TENDER", "市南区道路维修工程招标公告", "<p>招标。</p>")
    assert "市南区道路维修工程招标公告" in [
        e["node"]["title"] for e in (await api.gql(LIST))["data"]["announcements"]["edges"]
    ]

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
    award = await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=via, expect_errors=True)
    assert award["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stranger = await token_for(api, client, other_org)
    assert stranger.status_code == 400
    assert stranger.json()["code"] == "SYSTEM_NOT_AUTHORISED"

    # when the tenderer revokes the authorisation
    revoked = await api.gql(
        REVOKE, {"input": {"authorisationId": granted["authorisation"]["id"], "reason": "合同到期"}}, token=tenderer
    )
    assert revoked["data"]["thirdPartyAuthorisationRevoke"]["__typename"] == "ThirdPartyAuthorisationRevoked"

    # then the token already issued is refused at once, and no new one is issued
    again = await api.gql(PROJECT_CREATE, {"input": project_form()}, token=via, expect_errors=True)
    assert again["data"] is None
    assert again["errors"][0]["extensions"]["code"] == "SYSTEM_NOT_AUTHORISED"
    assert (await token_for(api, client, org)).json()["code"] == "SYSTEM_NOT_AUTHORISED"

    # when the tenderer authorises it again and the operator then revokes the accreditation
    assert (await authorise(api, manual_clock, tenderer, system, ["projects:write"]))["__typename"] == (
        "ThirdPartyAuthorised"
    )
    via = (await token_for(api, client, org)).json()["access_token"]
    made = await api.gql(PROJECT_CREATE, {"input": project_form()}, token=via)
    assert made["data"]["projectCreate"]["__typename"] == "ProjectCreated"
    decided = await api.gql(
        DECIDE, {"input": {"systemId": system, "action": "REVOKE", "reason": "违规"}}, token=operator
    )
    assert decided["data"]["thirdPartySystemDecide"]["system"] == {"status": "REVOKED", "reason": "违规"}

    # then its token is refused at once, a revoked system stays revoked, and the tenderer no longer sees it
    after = await api.gql(PROJECT_CREATE, {"input": project_form()}, token=via, expect_errors=True)
    assert after["errors"][0]["extensions"]["code"] == "SYSTEM_NOT_ACCREDITED"
    assert (await token_for(api, client, org)).json()["code"] == "SYSTEM_NOT_ACCREDITED"
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
