"""How every process logs: one line per record, JSON in production (`LOG_FORMAT=json`), text in development, each
line with the request id and the GraphQL operation it belongs to (JSON lines also the trace and span ids when traces
are on: api/tracing.py), and never a whole phone number, identity number or sign-in code (README: Operations).

The request id is the client's `X-Request-Id` when it is well formed, else a new one; it is answered in the same
header and in every error's `extensions.requestId`, so a user's screenshot of an error leads to its log lines.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
operation_var: ContextVar[str] = ContextVar("operation", default="-")
# the current span's (trace id, span id) in hex, set by api/tracing.py when traces are on; None: off
trace_ids: Callable[[], tuple[str, str] | None] | None = None

# a mainland mobile number (11 digits from 13x to 19x), an identity number (18 characters), a code after the words
# that announce one; digits inside longer digit runs (ids, amounts in fen) are left alone
_PHONE = re.compile(r"(?<![\d])(1[3-9]\d)(\d{4})(\d{4})(?![\d])")
_IDENTITY = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
_CODE = re.compile(r"(验证码[为是:：\s]*|\bcode[=:\s\"']+)(\d{4,8})\b", re.IGNORECASE)


def mask(text: str) -> str:
    """The text as a log may keep it: 138****0001, 110101********123X, 验证码为 ******."""
    if not any(ch.isdigit() for ch in text):
        return text
    text = _CODE.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)
    text = _IDENTITY.sub(r"\1********\2", text)
    return _PHONE.sub(r"\1****\3", text)


class TextFormatter(logging.Formatter):
    """Development: time, level, logger, request id, message, masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = request_id_var.get()
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """Production: one JSON object a line, for a log pipeline (Aliyun SLS, Tencent CLS, Loki, ELK)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": request_id_var.get(),
            "operation": operation_var.get(),
            "process": record.process,
        }
        if trace_ids is not None and (ids := trace_ids()) is not None:
            entry["trace_id"], entry["span_id"] = ids
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Replaces the root logger's handlers with one on standard error in the chosen format; uvicorn's loggers
    (started with log_config=None) propagate to it, but for its access log: `palmtrade.access` (AccessLog) writes
    those lines, sampled."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True  # uvicorn sets its level after us; `disabled` it leaves


access_logger = logging.getLogger("palmtrade.access")


class AccessLog:
    """The access log, a line per request as uvicorn's (`client - "METHOD path HTTP/1.1" status`) with the time it
    took and, through the formatter, the request id: every request answered with an error (status >= 400, or none
    at all) or slower than `slow_seconds`, and `sample` of the others (1: all, 0: none). A line costs about 40 us
    of CPU (the record, masking, formatting, the write), half of what plain Starlette spends on a request."""

    def __init__(self, sample: float, slow_seconds: float) -> None:
        self.sample = sample
        self.slow_seconds = slow_seconds

    def wanted(self, status: int, seconds: float) -> bool:
        return status >= 400 or seconds >= self.slow_seconds or self.sample >= 1 or random.random() < self.sample

    def write(self, scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
        client = scope.get("client")
        query = scope.get("query_string", b"")
        path = scope.get("root_path", "") + scope["path"] + ("?" + query.decode("latin-1") if query else "")
        access_logger.info(
            '%s - "%s %s HTTP/%s" %d %.1f ms',
            f"{client[0]}:{client[1]}" if client else "-",
            scope.get("method", "-"),
            path,
            scope.get("http_version", "1.1"),
            status,
            seconds * 1000,
        )
