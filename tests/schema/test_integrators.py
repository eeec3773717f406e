"""integratorClientCreate, the OAuth client credentials grant, and what a client token may do."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet

from domain.accounts.models import IntegratorClient
from tests import factories as f

CREATE = """
mutation($input: IntegratorClientCreateInput!) {
  integratorClientCreate(input: $input) {
    __typename
    ... on IntegratorClientCreated { client { clientId name scopes ratePerMinute } clientSecret }
    ... on Error { code message }
    ... on FieldError { field }
  }
}"""


async def create_client(api: Any, operator: str, **overrides: Any) -> dict[str, Any]:
    form = {"name": "山东省公共资源交易平台", "scopes": ["announcements:read", "results:read"], **overrides}
    body = await api.gql(CREATE, {"input": form}, token=operator)
    return body["data"]["integratorClientCreate"]  # type: ignore[no-any-return]


async def client_token(api: Any, client_id: str, secret: str) -> dict[str, Any]:
    response = await api.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def away_from_a_minute_boundary() -> None:
    """Rate limits count in fixed minutes (monotonic in memory, wall clock in Redis)."""
    for _ in range(3):
        remaining = min(60 - clock() % 60 for clock in (time.monotonic, time.time))
        if remaining >= 2:
            return
        await asyncio.sleep(remaining + 0.1)


async def test_operator_creates_a_client_and_sees_the_secret_once(api):
    # given an operator
    operator = await f.operator_token(api)

    # when the client is created with an idempotency key, and the request is replayed
    created = await create_client(api, operator, ratePerMinute=120, idempotencyKey="int-9b1e")
    replay = await create_client(api, operator, ratePerMinute=120, idempotencyKey="int-9b1e")

    # then one client exists; the secret was shown the first time only
    assert created["__typename"] == "IntegratorClientCreated"
    assert created["client"]["clientId"].startswith("ptc_")
    assert created["client"]["scopes"] == ["announcements:read", "results:read"]
    assert created["client"]["ratePerMinute"] == 120
    assert created["clientSecret"].startswith("pts_")
    assert replay["__typename"] == "IntegratorClientCreated"
    assert replay["client"] == created["client"]
    assert replay["clientSecret"] is None
    assert await IntegratorClient.all().count() == 1
    stored = await IntegratorClient.get(client_id=created["client"]["clientId"])
    assert created["clientSecret"] not in stored.secret_hash


async def test_an_unknown_scope_is_a_typed_error(api):
    # given an operator
    operator = await f.operator_token(api)

    # when a client is asked for with a scope that does not exist
    result = await create_client(api, operator, scopes=["announcements:read", "bids:write"])

    # then the scope is named, and nothing was created
    assert result["__typename"] == "UnknownScope"
    assert result["code"] == "UNKNOWN_SCOPE"
    assert result["field"] == "scopes"
    assert "bids:write" in result["message"]
    assert await IntegratorClient.all().count() == 0


async def test_only_operators_create_clients(api):
    # given an approved bidder
    operator = await f.operator_token(api)
    _, _, bidder = await f.approved_org(api, operator)

    # when the bidder tries to create a client
    body = await api.gql(CREATE, {"input": {"name": "x", "scopes": ["feed:read"]}}, token=bidder, expect_errors=True)

    # then the field is refused at the gate
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await IntegratorClient.all().count() == 0


async def test_client_credentials_grant_with_form_fields(api):
    # given a client
    operator = await f.operator_token(api)
    created = await create_client(api, operator, ratePerMinute=50)
    client_id, secret = created["client"]["clientId"], created["clientSecret"]

    # when it asks for a token with its credentials in the form
    response = await api.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )

    # then it gets a 15-minute bearer token for its scopes, not to be cached
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    grant = response.json()
    assert grant["token_type"] == "Bearer"
    assert grant["scope"] == "announcements:read results:read"
    assert 899 <= grant["expires_in"] <= 900

    # and the token says so to anyone holding the JWKS
    keyset = KeySet.import_key_set((await api.http.get("/.well-known/jwks.json")).json())
    claims = jwt.decode(grant["access_token"], keyset, algorithms=["ES256"]).claims
    assert claims["sub"] == f"client:{client_id}"
    assert claims["roles"] == ["integrator"]
    assert claims["scope"] == grant["scope"]
    assert claims["rpm"] == 50


async def test_client_credentials_grant_with_http_basic(api):
    # given a client
    operator = await f.operator_token(api)
    created = await create_client(api, operator)
    basic = base64.b64encode(f"{created['client']['clientId']}:{created['clientSecret']}".encode()).decode()

    # when it authenticates with HTTP Basic, as RFC 6749 2.3.1 recommends
    response = await api.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
    )

    # then it gets a token
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


async def test_wrong_credentials_and_grants_are_refused(api):
    # given a client
    operator = await f.operator_token(api)
    created = await create_client(api, operator)
    client_id, secret = created["client"]["clientId"], created["clientSecret"]

    # when it sends a wrong secret, an unknown id, no secret, or another grant type
    wrong = await api.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret + "x"}
    )
    unknown = await api.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": "ptc_0000", "client_secret": secret}
    )
    missing = await api.http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id})
    password = await api.http.post(
        "/oauth/token",
        data={"grant_type": "password", "client_id": client_id, "client_secret": secret},
    )

    # then the client is refused with 401, and the grant type with 400
    for response in (wrong, unknown, missing):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert "access_token" not in response.json()
    assert password.status_code == 400
    assert password.json() == {"error": "unsupported_grant_type"}


async def test_a_client_token_works_until_its_rate_limit(api):
    # given a client allowed 3 requests a minute, and its token
    operator = await f.operator_token(api)
    created = await create_client(api, operator, scopes=["feed:read"], ratePerMinute=3)
    grant = await client_token(api, created["client"]["clientId"], created["clientSecret"])
    headers = {"authorization": f"Bearer {grant['access_token']}"}

    # when it makes 4 requests within one minute
    await away_from_a_minute_boundary()
    responses = [await api.http.post("/graphql", json={"query": "{ serverTime }"}, headers=headers) for _ in range(4)]

    # then the first 3 are answered and the 4th is told when to retry
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert all(r.json()["data"]["serverTime"] for r in responses[:3])
    limited = responses[3]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"

    # and another client is not affected
    other = await create_client(api, operator, scopes=["feed:read"], ratePerMinute=3)
    other_grant = await client_token(api, other["client"]["clientId"], other["clientSecret"])
    assert (await api.gql("{ serverTime }", token=other_grant["access_token"]))["data"]["serverTime"]
