"""OpenTelemetry traces (api/tracing.py), exported to a real OTLP/HTTP receiver (tests/support/otlp.py): the phone's
traceparent continued, a span per request and per GraphQL operation, the database's spans inside, the outbox's batch
spans, and the trace id in the JSON log lines; off by default, without the SDK."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.util._once import Once

from api import tracing
from api.app import create_app
from api.logs import JsonFormatter
from api.seed import create_operator
from api.settings import Settings, SettingsError
from tests import conftest
from tests import factories as f
from tests.support import otlp

ROOT = Path(__file__).resolve().parents[2]
SMS_CODE_REQUEST = (ROOT / "mobile_contract" / "operations" / "app" / "SmsCodeRequest.graphql").read_text()


@pytest.fixture(scope="module")
def receiver() -> Iterator[otlp.OtlpReceiver]:
    running = otlp.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
async def traced(
    database: conftest.TestDatabase, receiver: otlp.OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Any]]:
    """The app with traces on, served by uvicorn on loopback; afterwards traces are off again for the other tests."""
    settings = Settings(
        database_url=database.url,
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=b"test-secret-key-of-sufficient-length-0123456789",
        run_workers=False,
        seed_demo=False,
        audit_export_path=tmp_path_factory.mktemp("audit") / "heads.jsonl",
        storage_url=f"fs://{tmp_path_factory.mktemp('files')}",
        traces_endpoint=f"{receiver.url}/v1/traces",
        traces_service_name="palmtrade-test",
    )
    app = create_app(settings)
    try:
        async with conftest.serving(app) as base_url:
            yield base_url, app.state.services
    finally:
        tracing.shutdown()
        # the global provider may be set once per process; tests set it again (as OpenTelemetry's own tests do)
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None


@pytest.fixture
async def client(
    traced: tuple[str, Any], db: conftest.TestDatabase, receiver: otlp.OtlpReceiver
) -> AsyncIterator[httpx.AsyncClient]:
    tracing.flush()
    receiver.clear()
    async with httpx.AsyncClient(base_url=traced[0], timeout=30) as http:
        yield http


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the process logs, as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _exported(receiver: otlp.OtlpReceiver, name: str) -> list[otlp.Span]:
    assert tracing.flush()
    return receiver.wait_for(name)


async def test_a_request_continues_the_phones_trace_down_to_the_database_and_the_log(client, receiver, json_log):
    # given an account, and a phone that started a trace (W3C traceparent: its trace id and its own span id)
    phone = f.new_phone()
    await create_operator(phone=phone, name="运营管理员", password=f.PASSWORD)
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)

    # when it asks for a sign-in code (the development SMS sender logs the text during the request)
    response = await client.post(
        "/graphql",
        json={"query": SMS_CODE_REQUEST, "variables": {"input": {"phone": phone}}},
        headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert response.json()["data"]["authSmsCodeRequest"]["__typename"] == "SmsCodeSent", response.text
    spans = _exported(receiver, "mutation SmsCodeRequest")

    # then the server's span continues the phone's trace, named by its route
    (server,) = [s for s in spans if s.kind == "server"]
    assert (server.name, server.trace_id, server.parent_span_id) == ("POST /graphql", trace_id, parent_id)
    assert server.attributes["http.route"] == "/graphql"
    assert server.attributes["http.response.status_code"] == 200
    assert server.resource["service.name"] == "palmtrade-test"
    # the operation's span is its child, with the operation's name and type, the request id and the outcome
    (operation,) = [s for s in spans if s.name == "mutation SmsCodeRequest"]
    assert (operation.trace_id, operation.parent_span_id) == (trace_id, server.span_id)
    assert operation.attributes["graphql.operation.name"] == "SmsCodeRequest"
    assert operation.attributes["graphql.operation.type"] == "mutation"
    assert operation.attributes["palmtrade.request_id"] == response.headers["x-request-id"]
    assert operation.attributes["palmtrade.outcome"] == "ok"
    # the queries the operation made are its children (Tortoise's instrumentation), their SQL without values
    queries = [s for s in spans if s.kind == "client" and s.parent_span_id == operation.span_id]
    assert queries, [(s.name, s.kind, s.parent_span_id) for s in spans]
    assert {s.trace_id for s in queries} == {trace_id}
    assert any(s.name == "INSERT" for s in queries), [s.name for s in queries]
    assert not any(phone in json.dumps(s.attributes) for s in queries)
    # and the log line the request wrote carries the same trace, and a span of it
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    (sms,) = [line for line in lines if line["message"].startswith("SMS (development")]
    assert sms["trace_id"] == trace_id
    assert sms["span_id"] in {s.span_id for s in spans}


async def test_a_request_without_traceparent_starts_a_trace_and_probes_are_not_traced(client, receiver):
    # when a probe is polled and then a client sends a query without a traceparent
    assert (await client.get("/healthz")).status_code == 200
    response = await client.post("/graphql", json={"query": "query Now { serverTime }"})
    assert response.status_code == 200, response.text
    spans = _exported(receiver, "query Now")

    # then the request is the root of a new trace, the operation inside it, and the probe left no span
    (server,) = [s for s in spans if s.kind == "server"]
    assert server.name == "POST /graphql"
    assert server.parent_span_id == ""
    (operation,) = [s for s in spans if s.name == "query Now"]
    assert (operation.trace_id, operation.parent_span_id) == (server.trace_id, server.span_id)
    assert not any("healthz" in s.name for s in spans)


async def test_a_refused_document_is_an_operation_span_with_its_outcome(client, receiver):
    # when a client sends a query the schema does not have
    response = await client.post("/graphql", json={"query": "query Broken { nothingHere }"})
    assert response.json()["errors"]
    spans = _exported(receiver, "query Broken")

    # then its operation span says it was refused
    (operation,) = [s for s in spans if s.name == "query Broken"]
    assert operation.attributes["palmtrade.outcome"] == "refused"


async def test_each_outbox_batch_is_a_span_with_its_queries_and_idle_polls_leave_none(client, receiver, traced):
    # given events in the outbox (opening an operator organisation records them) and a dispatcher that polled empty
    services = traced[1]
    await services.dispatcher.drain()
    assert await services.dispatcher.run_once() == 0
    await create_operator(phone=f.new_phone(), name="运营管理员", password=f.PASSWORD)

    # when the dispatcher delivers them
    delivered = await services.dispatcher.drain()
    assert delivered > 0
    spans = _exported(receiver, "process outbox")

    # then each batch is a root span of its own, the consumers' queries inside it
    batches = [s for s in spans if s.name == "process outbox"]
    assert sum(s.attributes["messaging.batch.message_count"] for s in batches) == delivered
    assert all(s.kind == "consumer" and s.parent_span_id == "" for s in batches)
    inside = {b.span_id for b in batches}
    assert any(s.kind == "client" and s.parent_span_id in inside for s in spans)
    # and a query outside any span (the claim, the polls that found nothing) made no trace of its own
    assert not [s for s in spans if s.kind == "client" and s.parent_span_id == ""]


def test_traces_are_off_by_default_and_the_sdk_is_not_imported(tmp_path):
    # when a process builds the app with the default settings
    code = (
        "import sys\n"
        "from api.app import create_app\n"
        "from api.settings import Settings\n"
        "create_app(Settings.from_env())\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk.trace', "
        "'opentelemetry.exporter', 'opentelemetry.instrumentation')))\n"
        "print(loaded)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite://{tmp_path / 'db.sqlite3'}")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )

    # then no tracing module of OpenTelemetry was imported
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, "http://collector:4318/v1/traces"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://apm.example.cn/otlp/traces",
            },
            "https://apm.example.cn/otlp/traces",
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, None),
    ],
)
def test_traces_are_on_where_opentelemetrys_variables_name_an_endpoint(monkeypatch, env, endpoint):
    # given OpenTelemetry's variables as a deployment sets them
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "palmtrade-worker")

    # when the settings are read, then traces go where they say (or nowhere)
    settings = Settings.from_env()
    assert settings.traces_endpoint == endpoint
    assert settings.traces_service_name == "palmtrade-worker"


@pytest.mark.parametrize("env", [{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, {"OTEL_TRACES_EXPORTER": "zipkin"}])
def test_an_exporter_that_is_not_built_in_is_refused_at_start(monkeypatch, env):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="http/protobuf"):
        Settings.from_env()


def test_a_request_span_is_named_by_its_route_template_not_its_path():
    from api.files import ROUTES

    # when a download's span is named, then ids and file names stay out of the name (one name per route)
    scope = {"type": "http", "method": "GET", "path": "/files/8f3a/招标文件.pdf", "root_path": ""}
    assert tracing._span_details(ROUTES, scope) == (
        "GET /files/{doc_id}/{name}",
        {"http.route": "/files/{doc_id}/{name}"},
    )
