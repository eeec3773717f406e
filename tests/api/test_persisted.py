"""Persisted operations by hash (manifest and automatic), the production allow-lists, the published SDL
and the integrators' rate-limit hint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn
from strawberry.extensions import SchemaExtension

from api.app import create_app
from api.persisted import OperationPolicy, PersistedOperations, PersistedStore, sha256_hex
from api.services import Services
from api.settings import Settings
from domain.accounts import adapters
from mobile_contract import gate
from schema.build import build_schema
from schema.context import Context
from tests import factories as f
from tests.conftest import ROOT, free_port
from tests.scenarios.test_kiosk import kiosk_terminal, sign_in
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.schema.test_integrators import away_from_a_minute_boundary, client_token, create_client

DOCUMENTS = {op.name: op for op in gate.load_operations()}
LIST = DOCUMENTS["AnnouncementList"]
KIOSK_LIST = DOCUMENTS["KioskAnnouncements"]
FEED = DOCUMENTS["ChangeFeed"]
AD_HOC = "query AdHoc { serverTime }"


def by_hash(sha256: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    if variables is not None:
        body["variables"] = variables
    return body


async def post(api: Any, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await api.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def test_a_manifest_operation_runs_by_its_hash_as_by_its_text(api):
    # when the app sends the list by text and then by the manifest's hash alone
    text = await post(api, {"query": LIST.text, "variables": {"first": 5}})
    hashed = await post(api, by_hash(LIST.sha256, {"first": 5}))

    # then both answer the same
    assert "errors" not in hashed, hashed
    assert hashed["data"] == text["data"]


async def test_get_with_only_extensions_runs_the_query_not_the_ide(api):
    # given the hash of a public query, sent as Apollo sends a GET (a CDN or a kiosk may cache it)
    params = {
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": LIST.sha256}}),
        "variables": json.dumps({"first": 3}),
    }

    # when a client accepting anything GETs it
    response = await api.http.get("/graphql", params=params, headers={"accept": "*/*"})

    # then it is the query's answer
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "announcements" in response.json()["data"]


async def test_an_unknown_hash_is_persisted_query_not_found(api):
    # when a hash nobody registered is sent alone
    body = await post(api, by_hash("0" * 64))

    # then the answer is Apollo's, so its client re-sends the text
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code(body) == "PERSISTED_QUERY_NOT_FOUND"


async def test_development_registers_an_automatic_persisted_query(api):
    # given an ad-hoc query unknown by its hash
    text = "query Clock { serverTime }"
    sha = sha256_hex(text)
    assert code(await post(api, by_hash(sha))) == "PERSISTED_QUERY_NOT_FOUND"

    # when the client sends text and hash, then the hash alone
    registered = await post(api, {"query": text, **by_hash(sha)})
    again = await post(api, by_hash(sha))

    # then the hash runs it
    assert registered["data"]["serverTime"]
    assert again["data"]["serverTime"]


async def test_a_hash_that_is_not_the_texts_is_refused_and_nothing_registered(api):
    # when a text is sent with another text's hash
    body = await post(api, {"query": "query A { serverTime }", **by_hash(sha256_hex("query B { serverTime }"))})

    # then it is refused, and the hash stays unknown
    assert code(body) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert code(await post(api, by_hash(sha256_hex("query B { serverTime }")))) == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_invalid_document_is_not_registered(api):
    # given a document that does not validate
    text = "query Broken { noSuchField }"

    # when it is sent with its hash
    body = await post(api, {"query": text, **by_hash(sha256_hex(text))})

    # then validation answers and the hash stays unknown
    assert body["errors"]
    assert code(await post(api, by_hash(sha256_hex(text)))) == "PERSISTED_QUERY_NOT_FOUND"


def test_automatic_registration_is_off_unless_enabled():
    # given the contract's store with automatic persisted queries off (production)
    store = PersistedStore.from_contract(automatic=False)

    # then every manifest operation is there, by hash and by text, and nothing else
    assert set(store.manifest) == {op.sha256 for op in DOCUMENTS.values()}
    assert store.by_text[LIST.text].sha256 == LIST.sha256
    assert store.get(sha256_hex(AD_HOC)) is None


class _Seen(SchemaExtension):
    documents: ClassVar[list[Any]] = []

    def on_execute(self) -> Iterator[None]:
        _Seen.documents.append(self.execution_context.graphql_document)
        yield


async def test_a_known_operation_is_neither_parsed_nor_validated_per_request(db, monkeypatch):
    # given the schema with the persisted operations first, counting validations
    import strawberry.schema.schema as strawberry_schema

    store = PersistedStore.from_contract(automatic=False)
    schema = build_schema()
    schema.extensions = (lambda: PersistedOperations(store, OperationPolicy()), *schema.extensions, _Seen)
    validations = []
    real_validate = strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "validate", lambda *a, **k: validations.append(1) or real_validate(*a, **k))
    _Seen.documents = []

    # when the list runs three times by hash and once by its text
    for extensions in [by_hash(LIST.sha256)["extensions"]] * 3 + [None]:
        result = await schema.execute(
            None if extensions else LIST.text,
            variable_values={"first": 2},
            context_value=Context(request=None, response=None),
            operation_extensions=extensions,
        )
        assert result.errors is None, result.errors

    # then every run used the document parsed when the manifest was loaded, validated once
    stored = store.manifest[LIST.sha256].document
    assert len(_Seen.documents) == 4
    assert all(document is stored for document in _Seen.documents)
    assert len(validations) <= 1


# ----------------------------------------------------------------------------- production allow-lists


@pytest.fixture
async def restricted(server: tuple[str, Services], db: Any) -> AsyncIterator[Any]:
    """A second server on the same database with production's allow-lists and no registration."""
    base_url, services = server
    settings = replace(
        services.settings,
        allowlist_kiosk=True,
        allowlist_integrator=True,
        allowlist_anonymous=True,
        persisted_automatic=False,
    )
    app = create_app(settings)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(uv.serve())
    for _ in range(200):
        if uv.started:
            break
        await asyncio.sleep(0.05)
    assert uv.started
    try:
        async with (
            httpx.AsyncClient(base_url=base_url, timeout=30) as main,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http,
        ):
            yield _Pair(main, http, services)
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        # the second server's start() pointed the accounts services at its key ring: give them back
        adapters.configure(services.keyring, adapters.deps.sms, services.settings.secret_key)


class _Pair:
    def __init__(self, main: httpx.AsyncClient, http: httpx.AsyncClient, services: Services) -> None:
        self.main_http = main
        self.http = http
        self.services = services

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.main_http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        assert "errors" not in body, body
        return body


async def test_anonymous_callers_run_only_manifest_operations(restricted):
    # when an anonymous caller sends an ad-hoc text, a manifest text, and a manifest hash
    ad_hoc = await post(restricted, {"query": AD_HOC})
    text = await post(restricted, {"query": LIST.text, "variables": {"first": 1}})
    hashed = await post(restricted, by_hash(LIST.sha256, {"first": 1}))

    # then the ad-hoc one is refused with a typed, bilingual error; the manifest ones run
    assert code(ad_hoc) == "PERSISTED_QUERY_REQUIRED"
    assert " / " in ad_hoc["errors"][0]["message"]
    assert ad_hoc["data"] is None
    assert "errors" not in text
    assert "errors" not in hashed


async def test_an_integrator_runs_only_integrator_operations(restricted):
    # given an integrator's token
    operator = await f.operator_token(restricted)
    created = await create_client(restricted, operator, scopes=["feed:read", "announcements:read"])
    token = (await client_token(_Main(restricted), created["client"]["clientId"], created["clientSecret"]))[
        "access_token"
    ]

    # when it runs its feed, the app's list and an ad-hoc query
    feed = await post(restricted, by_hash(FEED.sha256, {"first": 1}), token=token)
    app_list = await post(restricted, by_hash(LIST.sha256, {"first": 1}), token=token)
    ad_hoc = await post(restricted, {"query": AD_HOC}, token=token)

    # then only its own operation runs
    assert not any(
        e["extensions"].get("code") in ("OPERATION_NOT_ALLOWED", "PERSISTED_QUERY_REQUIRED")
        for e in feed.get("errors", [])
    )
    assert code(app_list) == "OPERATION_NOT_ALLOWED"
    assert app_list["errors"][0]["extensions"]["operation"] == "AnnouncementList"
    assert code(ad_hoc) == "PERSISTED_QUERY_REQUIRED"


async def test_a_terminal_runs_only_kiosk_operations_and_a_signed_in_user_anything(restricted):
    # given a signed-in terminal and a signed-in operator
    operator = await f.operator_token(restricted)
    terminal, secret = await kiosk_terminal(restricted, operator)
    signed = await sign_in(restricted, terminal["deviceId"], secret)
    assert signed["__typename"] == "TerminalSignedIn", signed
    token = signed["session"]["accessToken"]

    # when the terminal runs the kiosk list and the app's list, and the operator an ad-hoc query
    kiosk = await post(restricted, by_hash(KIOSK_LIST.sha256, {"first": 1}), token=token)
    app_list = await post(restricted, by_hash(LIST.sha256, {"first": 1}), token=token)
    operator_ad_hoc = await post(restricted, {"query": AD_HOC}, token=operator)

    # then the terminal is held to the kiosk's operations; users are not restricted
    assert "errors" not in kiosk, kiosk
    assert code(app_list) == "OPERATION_NOT_ALLOWED"
    assert operator_ad_hoc["data"]["serverTime"]


async def test_a_qr_kiosk_session_is_held_to_the_kiosk_operations(restricted):
    # given a terminal showing a QR code, approved on the app by a signed-in bidder (all by hash, as
    # the kiosk and the app send them in production)
    operator = await f.operator_token(restricted)
    _, _, bidder = await f.approved_org(restricted, operator)
    terminal, secret = await kiosk_terminal(restricted, operator)
    signed = await sign_in(restricted, terminal["deviceId"], secret)
    kiosk = signed["session"]["accessToken"]
    issued = await post(restricted, by_hash(DOCUMENTS["TerminalQrChallenge"].sha256), token=kiosk)
    challenge = issued["data"]["terminalQrChallenge"]["qr"]["challenge"]
    approved = await post(
        restricted, by_hash(DOCUMENTS["QrApprove"].sha256, {"input": {"challenge": challenge}}), token=bidder
    )
    assert approved["data"]["qrApprove"]["__typename"] == "QrApproved", approved
    redeemed = await post(
        restricted, by_hash(DOCUMENTS["TerminalQrRedeem"].sha256, {"input": {"challenge": challenge}}), token=kiosk
    )
    session = redeemed["data"]["terminalQrRedeem"]["session"]["accessToken"]

    # when the session reads its registrations by the kiosk's operation, then by the app's, then as text
    own = await post(restricted, by_hash(DOCUMENTS["KioskMyRegistrations"].sha256), token=session)
    app_own = await post(restricted, by_hash(DOCUMENTS["MyRegistrations"].sha256), token=session)
    text = await post(restricted, {"query": "query { myRegistrations { edges { cursor } } }"}, token=session)

    # then only the kiosk's operation runs for the bidder's session on the terminal
    assert "errors" not in own, own
    assert code(app_own) == "OPERATION_NOT_ALLOWED"
    assert code(text) == "PERSISTED_QUERY_REQUIRED"


async def test_a_terminal_may_subscribe_over_the_websocket_only_to_its_own_operations(restricted):
    # given a signed-in terminal connected to the restricted server's socket
    operator = await f.operator_token(restricted)
    terminal, secret = await kiosk_terminal(restricted, operator)
    kiosk = (await sign_in(restricted, terminal["deviceId"], secret))["session"]["accessToken"]
    url = str(restricted.http.base_url).replace("http://", "ws://") + "/graphql"
    ws = await ws_connect(url, {"authorization": f"Bearer {kiosk}"})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"
        lot = {"lotId": "TG90OjE="}

        # when it subscribes with the app's auction subscription, then with an ad-hoc text
        app_sub = DOCUMENTS["AuctionUpdates"]
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": by_hash(app_sub.sha256, lot)}))
        refused = await next_message(ws)
        text = 'subscription { auctionUpdates(lotId: "TG90OjE=") { kind } }'
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": text}}))
        refused_text = await next_message(ws)
    finally:
        await ws.close()

    # then both are refused with their typed codes, before anything runs
    assert refused["type"] == "error", refused
    assert refused["payload"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
    assert refused_text["type"] == "error", refused_text
    assert refused_text["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"


async def test_production_refuses_registration_but_runs_a_signed_in_users_text(restricted):
    # given a signed-in user's ad-hoc text sent with its hash to a server without registration
    operator = await f.operator_token(restricted)
    sha = sha256_hex("query Tick { serverTime }")

    # when it is sent with its hash, then by the hash alone
    first = await post(restricted, {"query": "query Tick { serverTime }", **by_hash(sha)}, token=operator)
    again = await post(restricted, by_hash(sha), token=operator)

    # then the text runs but is not kept
    assert first["data"]["serverTime"]
    assert code(again) == "PERSISTED_QUERY_NOT_FOUND"


class _Main:
    """The restricted pair seen as the main server (the OAuth endpoint is not GraphQL)."""

    def __init__(self, pair: _Pair) -> None:
        self.http = pair.main_http


# ----------------------------------------------------------------------------- settings


def test_production_turns_the_allow_lists_on_and_registration_off(monkeypatch):
    # given production mode with one allow-list overridden
    monkeypatch.setenv("PALMTRADE_PRODUCTION", "1")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
    monkeypatch.setenv("SMS_PROVIDERS", "aliyun,tencent")
    monkeypatch.setenv("KEY_ENCRYPTION_KEYS", "kek-1:" + "A" * 43)
    monkeypatch.setenv("ALLOWLIST_ANONYMOUS", "0")

    # when the settings are read
    production = Settings.from_env()
    monkeypatch.setenv("PALMTRADE_PRODUCTION", "0")
    development = Settings.from_env()

    # then production restricts kiosks and integrators, registers nothing; development the opposite
    assert (production.allowlist_kiosk, production.allowlist_integrator, production.allowlist_anonymous) == (
        True,
        True,
        False,
    )
    assert production.persisted_automatic is False
    assert (development.allowlist_kiosk, development.allowlist_integrator, development.persisted_automatic) == (
        False,
        False,
        True,
    )


# ----------------------------------------------------------------------------- WebSocket


async def test_a_websocket_subscribe_may_carry_only_the_hash(api):
    # given a connected socket
    ws = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(ws))["type"] == "connection_ack"

        # when it subscribes with a known hash, then an unknown one
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": by_hash(LIST.sha256, {"first": 1})}))
        known = await next_message(ws)
        assert (await next_message(ws)) == {"id": "1", "type": "complete"}
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": by_hash("f" * 64)}))
        unknown = await next_message(ws)
    finally:
        await ws.close()

    # then the first is answered, the second is PersistedQueryNotFound
    assert known["type"] == "next", known
    assert "announcements" in known["payload"]["data"]
    assert unknown["type"] == "error", unknown
    assert unknown["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


# ----------------------------------------------------------------------------- integrators


async def test_the_sdl_is_published_next_to_the_jwks(api):
    # when an integrator fetches the schema
    response = await api.http.get("/schema.graphql")

    # then it is the committed contract's schema, cacheable
    assert response.status_code == 200
    assert response.text == (ROOT / "mobile_contract" / "schema.graphql").read_text(encoding="utf-8")
    assert "max-age" in response.headers["cache-control"]
    unchanged = await api.http.get("/schema.graphql", headers={"if-none-match": response.headers["etag"]})
    assert unchanged.status_code == 304


async def test_a_rate_limited_integrator_is_told_when_to_retry(api):
    # given a client allowed 2 requests a minute
    operator = await f.operator_token(api)
    created = await create_client(api, operator, scopes=["feed:read"], ratePerMinute=2)
    token = (await client_token(api, created["client"]["clientId"], created["clientSecret"]))["access_token"]

    # when it makes a third request within the minute
    await away_from_a_minute_boundary()
    for _ in range(2):
        await post(api, {"query": "{ serverTime }"}, token=token)
    limited = await api.http.post(
        "/graphql", json={"query": "{ serverTime }"}, headers={"authorization": f"Bearer {token}"}
    )

    # then a typed error with the hint, in the header and in the error
    assert limited.status_code == 429
    error = limited.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == int(limited.headers["retry-after"])
    assert 1 <= error["extensions"]["retryAfter"] <= 60
