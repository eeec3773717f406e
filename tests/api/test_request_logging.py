"""What one request can make the server log is bounded, whatever the client sends (issue 19: a 333-byte document
made 42 KB of log)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import strawberry

from schema.limits import LOGGED_TRACEBACK_CHARS, LOGGED_TRACEBACKS, BoundedLogSchema, MaskUnexpected

FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
REFUSED_CAP = 1024  # bytes of log a refused request may cause


def logged_bytes(caplog: pytest.LogCaptureFixture) -> int:
    """Bytes the server's log lines take, formatted as production formats them (the test's HTTP client excluded)."""
    return sum(len(FORMAT.format(r)) + 1 for r in caplog.records if not _harness(r))


def _harness(record: logging.LogRecord) -> bool:
    """The test's own lines: its HTTP client, and the fixture emptying the tables (one statement naming every table,
    which grows with the schema and lands in the capture when the suite runs whole; aiosqlite's thread logs its
    completion after the fixture has its answer, so that line may come inside the test's window)."""
    return record.name.startswith(("httpx", "httpcore")) or (
        record.name.startswith(("tortoise", "aiosqlite")) and 'DELETE FROM "' in record.getMessage()
    )


DOCUMENTS = {
    "a fragment of unknown fields": "{ ...F } fragment F on Query { " + " a" * 150 + " }",
    "unknown fields": "{" + " a" * 200 + " }",
    "unknown fields on long lines": "{ " + " a" * 110 + "\n" + " b" * 110 + "}",
    "many operations": " ".join(f"query Q{i} {{ a }}" for i in range(600)),
    "unused variables": "query(" + " ".join(f"$v{i}: Int" for i in range(400)) + ") { __typename }",
    "a long bad literal": '{ announcements(filter: {publishedFrom: "'
    + "9" * 60_000
    + '"}) { pageInfo { hasNextPage } } }',
    "a syntax error": "{ a(" + "x: 1 " * 500,
    "too many tokens": "{" + " a" * 50_000 + " }",
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
async def test_an_invalid_anonymous_document_logs_one_short_line(api, caplog, name):
    document = DOCUMENTS[name]
    # when an anonymous client sends an invalid document
    with caplog.at_level(logging.DEBUG):
        response = await api.http.post("/graphql", json={"query": document})
    # then it is refused, and the server logs one short line about it
    assert response.json()["errors"], response.text
    assert logged_bytes(caplog) <= REFUSED_CAP, (len(document), logged_bytes(caplog), caplog.text[:3000])


async def test_bad_variables_log_one_short_line(api, caplog):
    # when an anonymous client sends hundreds of bad variables, each a long string
    names = [f"v{i}" for i in range(300)]
    document = "query(" + " ".join(f"${n}: Int" for n in names) + ") { __typename }"
    with caplog.at_level(logging.DEBUG):
        response = await api.http.post(
            "/graphql", json={"query": document, "variables": {n: "x" * 1000 for n in names}}
        )
    # then the server logs one short line, not a traceback per variable
    assert response.json()["errors"], response.text
    assert logged_bytes(caplog) <= REFUSED_CAP, caplog.text[:3000]


@strawberry.type
class Item:
    @strawberry.field
    def fails(self, echo: str) -> str | None:
        raise ValueError(f"cannot handle {echo}")


@strawberry.type
class Many:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item() for _ in range(500)]


async def test_a_request_hitting_a_bug_many_times_logs_a_few_bounded_tracebacks(caplog):
    # given the served schema's logging and masking, and a field that fails on every item with the caller's input
    schema = BoundedLogSchema(query=Many, extensions=[MaskUnexpected])
    echo = "z" * 100_000
    # when one request makes it fail 500 times
    with caplog.at_level(logging.DEBUG):
        result = await schema.execute(
            "query($e: String!) { items { fails(echo: $e) } }",
            variable_values={"e": echo},
            context_value=SimpleNamespace(request_id="req-5e11", locale="en"),
        )
    # then every failure is masked, a few are logged with a bounded traceback, and the rest are counted
    assert len(result.errors) == 500
    assert {e.extensions["code"] for e in result.errors} == {"INTERNAL"}
    tracebacks = [r for r in caplog.records if "ValueError" in r.getMessage()]
    assert len(tracebacks) == LOGGED_TRACEBACKS
    assert all("req-5e11" in r.getMessage() for r in tracebacks)
    assert any("497 more unexpected errors [request req-5e11]" in r.getMessage() for r in caplog.records)
    assert logged_bytes(caplog) <= LOGGED_TRACEBACKS * (LOGGED_TRACEBACK_CHARS + 500) + 500
