"""GraphQL over HTTP (the GraphQL Foundation's spec): which media type answers, and with which status.

A client whose Accept prefers `application/graphql-response+json` (Apollo Client, graphql-request, urql and
the spec's own test suite send it) gets that type, and a request error (the body or the document cannot be
read, validation fails, no operation to run, a persisted hash unknown) is a 4xx whose body has `errors` and
no `data`; a response with `data`, even null after a field error, is 200. Any other client gets
`application/json` and a 200 for every GraphQL response, as before the spec (its "legacy watershed"). The
answers of the auth middleware (401, 429) and of refused requests (400, 404, 405) come in the negotiated
type too, so a client library reads their `errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cross_web import HTTPException
from graphql import GraphQLError

GRAPHQL_RESPONSE: Final = "application/graphql-response+json"
JSON: Final = "application/json"


def response_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` when the Accept header ranks it at least as high as any JSON type
    it lists (and above zero); `application/json` otherwise, and without an Accept header."""
    if not accept:
        return JSON
    best_graphql = 0.0
    best_json = 0.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media == GRAPHQL_RESPONSE:
            best_graphql = max(best_graphql, quality)
        elif media in (JSON, "application/*", "*/*"):
            best_json = max(best_json, quality)
    return GRAPHQL_RESPONSE if best_graphql > 0 and best_graphql >= best_json else JSON


def header(headers: Any, name: bytes) -> str | None:
    """One header of an ASGI scope's raw list."""
    for key, value in headers:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def is_request_error(data: Any, errors: list[GraphQLError] | None) -> bool:
    """Whether a result is a request error (nothing executed): no data, and no error located in a field."""
    return data is None and bool(errors) and all(not e.path for e in errors or [])


def outcome_of(data: Any, errors: list[GraphQLError]) -> str:
    """How a result with errors counts in the metrics (api/metrics.py): `refused` when nothing ran (validation,
    authentication, a limit), `internal` when a resolver failed unexpectedly, else `error`."""
    if is_request_error(data, errors):
        return "refused"
    if any((e.extensions or {}).get("code") == "INTERNAL" for e in errors):
        return "internal"
    return "error"


class Refusal(HTTPException):
    """A request refused before GraphQL runs, with a stable code, a Chinese message and extra headers."""

    def __init__(
        self, status_code: int, reason: str, code: str, chinese: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code, reason)
        self.code = code
        self.chinese = chinese
        self.headers = dict(headers or {})


def batching_refused() -> Refusal:
    # Batching is off (README: GraphQL over HTTP): HTTP/2 multiplexes separate requests just as well; each
    # operation keeps its own cost limit, allow-list check, rate-limit hit, cache entry and status code.
    return Refusal(
        400,
        "Batching is not supported: send each operation in its own request (HTTP/2 multiplexes them)",
        "BATCHING_NOT_SUPPORTED",
        "不支持批量请求：请每个操作单独发送一个请求",
    )


def mutation_over_get() -> Refusal:
    return Refusal(
        405,
        "Mutations and subscriptions are not allowed over GET; use POST",
        "METHOD_NOT_ALLOWED",
        "GET 只能执行查询，变更请使用 POST",
        {"allow": "POST"},
    )
