"""GraphQL over HTTP (the GraphQL Foundation's spec): media types and status codes, GET for queries only,
batching refused with a typed error, CORS from settings, persisted operations sent by hash with an empty
or null query over HTTP and graphql-transport-ws."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings, cors_origins_from_env
from mobile_contract import gate
from tests.scenarios.test_live_events import next_message, ws_connect

GRAPHQL_RESPONSE = "application/graphql-response+json"
APOLLO_ACCEPT = f"{GRAPHQL_RESPONSE},application/json;q=0.9"
LIST = next(op for op in gate.load_operations() if op.name == "AnnouncementList")


def persisted(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


async def test_a_client_accepting_graphql_response_json_gets_it(api):
    # when a client that accepts the new media type sends a valid query
    response = await api.http.post("/graphql", json={"query": "{ serverTime }"}, headers={"accept": APOLLO_ACCEPT})

    # then the answer is that media type, 200
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"]["serverTime"]


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", f"application/json, {GRAPHQL_RESPONSE};q=0.5"])
async def test_a_legacy_client_gets_application_json_and_200_for_graphql_errors(api, accept):
    # when a client without the new media type (or preferring JSON) sends a document that does not validate
    headers = {"accept": accept} if accept else {}
    response = await api.http.post("/graphql", json={"query": "{ noSuchField }"}, headers=headers)

    # then the errors come as application/json with a 200, as before the spec
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


@pytest.mark.parametrize("query", ["{ noSuchField }", "{ serverTime", "query A($first: Int!) { serverTime }"])
async def test_a_request_error_is_a_400_without_data_in_graphql_response_json(api, query):
    # when the document does not validate, cannot be parsed, or lacks a variable it declares
    response = await api.http.post("/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE})

    # then the spec's 400, with errors and no data entry
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert body["errors"]
    assert "data" not in body


async def test_a_field_error_keeps_200_and_data_in_graphql_response_json(api):
    # given a field an anonymous caller may not read (a top-level error with a path, data null)
    response = await api.http.post("/graphql", json={"query": "{ me { roles } }"}, headers={"accept": GRAPHQL_RESPONSE})

    # then execution happened: 200 and the data entry is there
    body = response.json()
    assert response.status_code == 200, body
    assert "data" in body


async def test_a_bad_token_is_a_401_a_client_can_read_as_graphql(api):
    # when a client sends an invalid token, accepting the new media type
    response = await api.http.post(
        "/graphql",
        json={"query": "{ serverTime }"},
        headers={"accept": APOLLO_ACCEPT, "authorization": "Bearer not-a-token"},
    )

    # then a 401 whose body is a GraphQL response with a typed error
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_body_that_is_not_json_is_a_typed_400_in_the_accepted_media_type(api):
    response = await api.http.post(
        "/graphql", content=b"{nope", headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE}
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_mutation_over_get_is_405_with_allow(api):
    # when a mutation is sent by GET
    response = await api.http.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"accept": "application/json"},
    )

    # then 405, Allow names POST, and the body is a typed error
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_query_over_get_runs(api):
    response = await api.http.get("/graphql", params={"query": "{ serverTime }"}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert response.json()["data"]["serverTime"]


async def test_a_batch_is_refused_with_a_precise_typed_error(api):
    # when a client sends two operations in one POST
    response = await api.http.post("/graphql", json=[{"query": "{ serverTime }"}, {"query": "{ serverTime }"}])

    # then nothing runs, and the error says batching is off
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"
    assert " / " in error["message"]


# ----------------------------------------------------------------------------- persisted operations by hash


@pytest.mark.parametrize("query", ["absent", None, ""])
async def test_a_persisted_query_runs_by_hash_with_the_query_absent_null_or_empty_over_post(api, query):
    body: dict[str, Any] = {"variables": {"first": 2}, "extensions": persisted(LIST.sha256)}
    if query != "absent":
        body["query"] = query

    response = await api.http.post("/graphql", json=body, headers={"accept": APOLLO_ACCEPT})

    assert response.status_code == 200, response.text
    assert "announcements" in response.json()["data"]


async def test_an_unknown_hash_with_an_empty_query_is_persisted_query_not_found(api):
    response = await api.http.post("/graphql", json={"query": "", "extensions": persisted("0" * 64)})

    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize("query", ["absent", None, ""])
async def test_a_persisted_query_runs_by_hash_over_graphql_transport_ws(api, query):
    # given a socket, and a subscribe payload with the hash and the query absent, null or empty
    payload: dict[str, Any] = {"variables": {"first": 2}, "extensions": persisted(LIST.sha256)}
    if query != "absent":
        payload["query"] = query
    ws = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"

        # when it subscribes
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        first = await next_message(ws)

        # then the operation runs
        assert first["type"] == "next", first
        assert "announcements" in first["payload"]["data"]
        assert (await next_message(ws))["type"] == "complete"
    finally:
        await ws.close()


async def test_an_unknown_hash_over_the_socket_with_an_empty_query_is_persisted_query_not_found(api):
    ws = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        payload = {"query": "", "extensions": persisted("0" * 64)}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        answer = await next_message(ws)
        assert answer["type"] == "error"
        assert answer["payload"][0]["message"] == "PersistedQueryNotFound"
    finally:
        await ws.close()


# ----------------------------------------------------------------------------- CORS


def _app(api: Any, **cors: Any) -> httpx.AsyncClient:
    settings = replace(api.services.settings, **cors)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://test")


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type, x-device-id",
}


async def test_cors_is_off_unless_origins_are_listed(api):
    # given the settings' default (no origin listed)
    async with _app(api) as http:
        # when a page of another origin asks
        preflight = await http.options("/graphql", headers={"origin": "https://app.example.cn", **PREFLIGHT})
        simple = await http.post("/graphql", json={"query": "{ serverTime }"}, headers={"origin": "https://x.cn"})

    # then no CORS header allows it
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_a_preflight_from_a_listed_origin_is_answered_with_the_settings(api):
    # given CORS for one origin, with credentials and a preflight cached 10 minutes
    async with _app(
        api, cors_origins=("https://app.example.cn",), cors_allow_credentials=True, cors_max_age=600
    ) as http:
        # when a page on it sends a preflight, then the request; and a page elsewhere sends a preflight
        preflight = await http.options("/graphql", headers={"origin": "https://app.example.cn", **PREFLIGHT})
        actual = await http.post(
            "/graphql",
            json={"query": "{ serverTime }"},
            headers={"origin": "https://app.example.cn", "authorization": "Bearer bad"},
        )
        other = await http.options("/graphql", headers={"origin": "https://evil.example", **PREFLIGHT})

    # then the listed origin is allowed with the headers a client sends, and can read a 401's body and id
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.cn"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-max-age"] == "600"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-device-id"} <= {h.strip() for h in allowed.split(",")}
    assert actual.status_code == 401
    assert actual.headers["access-control-allow-origin"] == "https://app.example.cn"
    assert "x-request-id" in actual.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


def test_cors_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://a.example.cn, https://b.example.cn")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "1")
    monkeypatch.setenv("CORS_MAX_AGE", "120")

    settings = Settings.from_env()

    assert settings.cors_origins == ("https://a.example.cn", "https://b.example.cn")
    assert settings.cors_allow_credentials is True
    assert settings.cors_max_age == 120


def test_production_lists_no_cors_origin_by_default(monkeypatch):
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)

    assert cors_origins_from_env(production=True) == ()
    assert cors_origins_from_env(production=False) == ("*",)
