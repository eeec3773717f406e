"""An OTLP/HTTP receiver for the tests: it answers `POST /v1/traces` as a collector does, decoding each
ExportTraceServiceRequest (protobuf, gzip or not) with opentelemetry-proto, and keeps the spans it got.

    python -m tests.support.otlp --port 4318   # prints each span it receives (local development)
"""

from __future__ import annotations

import argparse
import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

KINDS = {v: k.removeprefix("SPAN_KIND_").lower() for k, v in SpanProto.SpanKind.items()}


@dataclass(frozen=True)
class Span:
    name: str
    kind: str  # server, client, internal, consumer, producer
    trace_id: str  # hex, as in a traceparent header
    span_id: str
    parent_span_id: str  # "" for a root span
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str
    status: int  # 0 unset, 1 ok, 2 error


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def decode(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for s in scope_spans.spans:
                spans.append(
                    Span(
                        name=s.name,
                        kind=KINDS.get(s.kind, str(s.kind)),
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex(),
                        attributes={kv.key: _value(kv.value) for kv in s.attributes},
                        resource=resource,
                        scope=scope_spans.scope.name,
                        status=s.status.code,
                    )
                )
    return spans


@dataclass
class OtlpReceiver:
    """A running receiver on loopback; `url` is what OTEL_EXPORTER_OTLP_ENDPOINT would name."""

    server: ThreadingHTTPServer
    spans: list[Span] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def clear(self) -> None:
        with self.lock:
            self.spans.clear()

    def received(self) -> list[Span]:
        with self.lock:
            return list(self.spans)

    def wait_for(self, name: str, timeout: float = 5.0) -> list[Span]:
        """The spans received once one named `name` has arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.received()
            if any(s.name == name for s in spans):
                return spans
            time.sleep(0.02)
        raise AssertionError(f"no span {name!r} received; got {[s.name for s in self.received()]}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(host: str = "127.0.0.1", port: int = 0, echo: bool = False) -> OtlpReceiver:
    receiver: OtlpReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if self.headers.get("content-type") != "application/x-protobuf":
                self.send_error(415)
                return
            spans = decode(body)
            with receiver.lock:
                receiver.spans.extend(spans)
                receiver.requests += 1
            if echo:
                for s in spans:
                    print(s.trace_id, s.span_id, s.parent_span_id or "-", s.kind, s.name, s.attributes, flush=True)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    receiver = OtlpReceiver(server)
    threading.Thread(target=server.serve_forever, name="otlp-receiver", daemon=True).start()
    return receiver


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4318)
    args = parser.parse_args()
    running = start(port=args.port, echo=True)
    print(f"OTLP/HTTP receiver on {running.url}/v1/traces", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()
