"""The access log (api/logs.py AccessLog, written by the auth middleware): a line per request as uvicorn's, with the
time it took and the request id; every error and slow request, and ACCESS_LOG_SAMPLE of the others."""

from __future__ import annotations

import logging
import random

import pytest

from api.logs import AccessLog, access_logger, request_id_var
from api.settings import Settings, SettingsError


def test_errors_and_slow_requests_are_always_wanted_and_the_others_as_sampled():
    # given a log that samples none of the ordinary requests
    none = AccessLog(sample=0.0, slow_seconds=1.0)

    # then only errors (or no answer, counted as 500) and slow requests are written
    assert not none.wanted(200, 0.01)
    assert not none.wanted(304, 0.99)
    assert none.wanted(400, 0.01)
    assert none.wanted(401, 0.01)
    assert none.wanted(500, 0.01)
    assert none.wanted(200, 1.0)

    # and sampling everything writes every request
    assert AccessLog(sample=1.0, slow_seconds=1.0).wanted(200, 0.0)


def test_a_sample_writes_about_its_share_of_ordinary_requests():
    # given a seeded draw
    random.seed(2026)
    tenth = AccessLog(sample=0.1, slow_seconds=1.0)

    # when 10,000 quick successes pass
    written = sum(tenth.wanted(200, 0.001) for _ in range(10_000))

    # then about a tenth is written
    assert 900 <= written <= 1100


class _Lines(logging.Handler):
    """The access log's lines with the request id the formatters would write beside each."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.getMessage(), request_id_var.get()))


async def test_a_request_leaves_one_line_with_its_status_time_and_request_id(api):
    # given the access log's lines collected
    lines = _Lines()
    access_logger.addHandler(lines)
    level = access_logger.level
    access_logger.setLevel(logging.INFO)

    # when a request is answered, and another refused for its token
    try:
        ok = await api.http.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "req-ok-0001"})
        refused = await api.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"authorization": "Bearer nope"}
        )
    finally:
        access_logger.removeHandler(lines)
        access_logger.setLevel(level)

    # then each left one line like uvicorn's, with the time taken, under the request's id
    assert (ok.status_code, refused.status_code) == (200, 401)
    assert len(lines.lines) == 2
    (first, first_id), (second, second_id) = lines.lines
    assert ' - "POST /graphql HTTP/1.1" 200 ' in first
    assert first.endswith(" ms")
    assert first_id == "req-ok-0001"
    assert ' - "POST /graphql HTTP/1.1" 401 ' in second
    assert second_id == refused.headers["x-request-id"]


def test_the_access_log_settings_are_read_and_checked(monkeypatch):
    # given nothing set, then every request is logged, and a second is slow
    defaults = Settings.from_env()
    assert (defaults.access_log_sample, defaults.access_log_slow_ms) == (1.0, 1000)

    # given both set, then they are read
    monkeypatch.setenv("ACCESS_LOG_SAMPLE", "0.05")
    monkeypatch.setenv("ACCESS_LOG_SLOW_MS", "250")
    settings = Settings.from_env()
    assert (settings.access_log_sample, settings.access_log_slow_ms) == (0.05, 250)

    # given a share outside 0..1, then the process does not start
    monkeypatch.setenv("ACCESS_LOG_SAMPLE", "1.5")
    with pytest.raises(SettingsError, match="ACCESS_LOG_SAMPLE"):
        Settings.from_env()
