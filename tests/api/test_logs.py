"""Log lines: JSON in production with the request id and the operation, and never a whole phone number, identity
number or sign-in code, in either format."""

from __future__ import annotations

import json
import logging
import sys

from api.logs import JsonFormatter, TextFormatter, mask, operation_var, request_id_var


def test_numbers_identity_numbers_and_codes_are_masked_but_other_digits_are_kept():
    # when texts that carry private numbers are masked
    masked = mask("SMS to 13800000001: 您的登录验证码为 751248; id 110101199003071234; code=123456")
    kept = mask("lot 42 price 1200000000 fen, order 2026120612345678901, port 8000")

    # then each private number is starred and the rest is left as it was
    assert masked == "SMS to 138****0001: 您的登录验证码为 ******; id 110101********1234; code=******"
    assert kept == "lot 42 price 1200000000 fen, order 2026120612345678901, port 8000"


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("phone 13912345678 refused")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("palmtrade.test", logging.ERROR, __file__, 1, message, args, info)


def test_a_json_line_carries_the_request_id_and_operation_and_masks_the_message_and_traceback():
    # given a request being served
    rid, op = request_id_var.set("a1b2c3"), operation_var.set("BidPlace")
    try:
        # when a record with a number in its arguments and in its exception is formatted
        line = JsonFormatter().format(_record("texting %s", "13700000002", exc=True))
    finally:
        request_id_var.reset(rid)
        operation_var.reset(op)

    # then it is one JSON object with the request's id and operation, the number masked everywhere
    entry = json.loads(line)
    assert "\n" not in line
    assert (entry["request_id"], entry["operation"], entry["level"]) == ("a1b2c3", "BidPlace", "ERROR")
    assert entry["message"] == "texting 137****0002"
    assert "139****5678" in entry["exception"]
    assert "13912345678" not in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_the_text_format_shows_the_request_id_and_masks_too():
    # when a development line is formatted outside any request
    line = TextFormatter().format(_record("code=%s", "654321"))

    # then the request id is a dash and the code is starred
    assert "[-] code=******" in line


async def test_a_requests_log_lines_carry_its_request_id(api):
    # given the production format on the server's loggers
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("palmtrade")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        # when a client sends a document the server refuses, with its own request id
        await api.gql("query { nothingHere }", headers={"x-request-id": "phone-req-0001"}, expect_errors=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

    # then the refusal's log line carries that id
    entries = [json.loads(line) for line in lines]
    assert entries
    assert all(e["request_id"] == "phone-req-0001" for e in entries), entries
