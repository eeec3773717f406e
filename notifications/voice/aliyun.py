"""Aliyun voice (Dyvmsapi 2017-05-25, IvrCall) through the official SDK, and its VoiceReport / VoiceCallReport receipts.

IvrCall, not SingleCallByTts: only IvrCall takes a keypad menu (MenuKeyMap) and has Aliyun report the pressed key
(`dtmf`) in its receipts; SingleCallByTts plays an announcement and collects nothing. The SDK signs with
ACS3-HMAC-SHA256 and sends `POST /?CalledNumber=..&CalledShowNumber=..&StartCode=..&StartTtsParams=..
&MenuKeyMap.1.Key=1[&MenuKeyMap.1.Code=..]&MenuKeyMap.2.Key=2[..]&OutId=..&PlayTimes=..&Timeout=..[&ByeCode=..]` with
an empty body; the SDK's own retries are off (the caller retries). The callee's answer comes later, pushed by Aliyun
(HTTP batch push, a JSON array) to the URLs configured in the console: see parse_reports and REPORT_ACK_BODY.

Outcomes of placing a call, from Aliyun's `Code` (business errors come with HTTP 200, gateway errors as 4xx/5xx
that the SDK raises; either way the code decides):
- PLACED: "OK"; provider_id is the CallId.
- INVALID_NUMBER: isv.MOBILE_NUMBER_ILLEGAL, MissingCalledNumber.
- RATE_LIMITED: isv.BUSINESS_LIMIT_CONTROL, the per-number flow control (by default 1 a minute, 5 an hour and
  20 a day for one called number).
- RETRY: isp.SYSTEM_ERROR, isp.GATEWAY_ERROR, Throttling*, ServiceUnavailable, InternalError, any HTTP 5xx or 429,
  timeouts and transport errors; SignatureNonceUsed and InvalidTimeStamp.Expired (the request, not the call, was
  at fault: a fresh nonce, or a corrected clock, sends it).
- FAILED: everything else, e.g. isv.TTS_TEMPLATE_ILLEGAL, isv.DISPLAY_NUMBER_ILLEGAL (the caller number),
  isv.TEMPLATE_MISSING_PARAMETERS, isv.INVALID_PARAMETERS, isv.AMOUNT_NOT_ENOUGH, isv.OUT_OF_SERVICE,
  isv.COMPLAINT_REJECT, InvalidAccessKeyId.NotFound, SignatureDoesNotMatch, isp.RAM_PERMISSION_DENY, and a template
  key with no Aliyun template configured (no request is sent then).

Answers, from a receipt entry (see parse_reports): the first confirm key ("1") or decline key ("2") in `dtmf`
gives CONFIRMED / DECLINED whatever the status code; without one, a call record (VoiceReport) gives NO_ANSWER for
the callee's side (200000/200001 heard it but no key, 200002 busy, 200003 not answered, 200005 rejected or
unreachable, 200007 out of area, 200008 no key within Timeout, 200010 powered off) and FAILED for the rest
(200004 no such number, 200011 suspended, 200117-200121 caller number or carrier limits, 400/500/999999 faults).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from alibabacloud_dyvmsapi20170525.client import Client
from alibabacloud_dyvmsapi20170525.models import IvrCallRequest, IvrCallRequestMenuKeyMap
from darabonba.exceptions import ResponseException, UnretryableException

from notifications import aliyun_openapi as openapi
from notifications.aliyun_openapi import cause_of, mask_phone, scrub, status_of, text_of
from notifications.voice.base import Answer, CallReport, VoiceCall, VoiceOutcome, VoiceResult

PROVIDER = "aliyun"
ENDPOINT = "dyvmsapi.aliyuncs.com"
CONFIRM_KEY = "1"
DECLINE_KEY = "2"
# the answer to a VoiceReport / VoiceCallReport push, with HTTP 200; Aliyun pushes again (up to 3 times) otherwise
REPORT_ACK: Final[Mapping[str, Any]] = {"code": 0, "msg": "接收成功"}
REPORT_ACK_BODY: Final[bytes] = json.dumps(REPORT_ACK, ensure_ascii=False).encode()
OUT_ID_MAX_BYTES = 15  # IvrCall's OutId: a string of 1 to 15 bytes

INVALID_NUMBER_CODES = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "MissingCalledNumber"})
RATE_LIMITED_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL"})
RETRY_CODES = frozenset({"ServiceUnavailable", "InternalError", "SignatureNonceUsed", "InvalidTimeStamp.Expired"})
KEY_STATUS = "300000"  # VoiceCallReport: a DTMF key message
# call status codes that are the callee's doing: worth calling again later
NO_ANSWER_STATUSES = frozenset({"200000", "200001", "200002", "200003", "200005", "200007", "200008", "200010"})
_OUT_ID = re.compile(r"[A-Za-z0-9_-]{1,15}")

log = logging.getLogger("palmtrade.voice.aliyun")


def outcome_for(code: str | None, status: int | None = None) -> VoiceOutcome:
    """The outcome of an answer with Aliyun's `code` and HTTP `status` (see the module's docstring)."""
    if code == "OK":
        return VoiceOutcome.PLACED
    if code in INVALID_NUMBER_CODES:
        return VoiceOutcome.INVALID_NUMBER
    if code in RATE_LIMITED_CODES:
        return VoiceOutcome.RATE_LIMITED
    if code is not None and (code in RETRY_CODES or code.startswith(("isp.SYSTEM", "isp.GATEWAY", "Throttling"))):
        return VoiceOutcome.RETRY
    if status is not None and (status >= 500 or status == 429):
        return VoiceOutcome.RETRY
    return VoiceOutcome.FAILED


def out_id_for(call_id: str) -> str:
    """The OutId sent for `call_id`: itself when it is 1-15 of [A-Za-z0-9_-], else the first 15 hex digits of its
    SHA-256 (the same for the same call_id, so a receipt's out_id can be matched either way)."""
    if _OUT_ID.fullmatch(call_id):
        return call_id
    return hashlib.sha256(call_id.encode()).hexdigest()[:OUT_ID_MAX_BYTES]


class AliyunVoice:
    """One IvrCall per call, with a two-key menu; every provider or transport failure comes back as a VoiceResult
    within timeout_ms."""

    name = PROVIDER

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        show_number: str,
        templates: Mapping[str, str],
        *,
        confirm_key: str = CONFIRM_KEY,
        decline_key: str = DECLINE_KEY,
        confirm_code: str | None = None,
        decline_code: str | None = None,
        bye_code: str | None = None,
        play_times: int = 2,
        key_timeout_ms: int = 10000,
        endpoint: str = ENDPOINT,
        region: str = "cn-hangzhou",
        protocol: str = "https",
        timeout_ms: int = 5000,
    ) -> None:
        """`templates` maps our template key to an Aliyun TTS template code (StartCode); `show_number` is the
        caller number bought in the console; `confirm_code` / `decline_code` are the TTS templates (without
        variables) played after each key, `bye_code` the one played at the end."""
        if confirm_key == decline_key or not all(len(k) == 1 and k.isdigit() for k in (confirm_key, decline_key)):
            raise ValueError("the confirm and decline keys are two different single digits")
        if not 1 <= play_times <= 3:
            raise ValueError("Aliyun plays the announcement 1 to 3 times")
        self._show_number = show_number
        self._templates = dict(templates)
        self.confirm_key, self.decline_key = confirm_key, decline_key
        self._menu = [(confirm_key, confirm_code), (decline_key, decline_code)]
        self._bye_code = bye_code
        self._play_times = play_times
        self._key_timeout_ms = key_timeout_ms
        self._timeout = timeout_ms / 1000
        self._client = Client(openapi.config(access_key_id, access_key_secret, endpoint, region, protocol, timeout_ms))
        self._runtime = openapi.runtime(timeout_ms)

    async def call(self, call: VoiceCall) -> VoiceResult:
        """Places `call` once (OutId = out_id_for(call_id)) and says what Aliyun answered; never retries."""
        start_code = self._templates.get(call.template)
        if start_code is None:
            result = VoiceResult(VoiceOutcome.FAILED, PROVIDER, message=f"no Aliyun template for {call.template!r}")
            return self._logged(call, result)
        request = IvrCallRequest(
            called_number=call.phone,
            called_show_number=self._show_number,
            start_code=start_code,
            start_tts_params=_json(call.params) if call.params else None,
            menu_key_map=[IvrCallRequestMenuKeyMap(key=key, code=code) for key, code in self._menu],
            bye_code=self._bye_code,
            out_id=out_id_for(call.call_id),
            play_times=self._play_times,
            timeout=self._key_timeout_ms,
        )
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.ivr_call_with_options_async(request, self._runtime)
        except ResponseException as err:
            data = err.data if isinstance(err.data, dict) else {}
            code = text_of(data.get("Code") or data.get("code")) or text_of(err.code)
            status = err.status_code if isinstance(err.status_code, int) else None
            text = scrub(text_of(data.get("Message") or data.get("message")))
            return self._logged(call, VoiceResult(outcome_for(code, status), PROVIDER, None, code, text))
        except (UnretryableException, TimeoutError, OSError) as err:
            reason = "timed out" if isinstance(err, TimeoutError) else type(cause_of(err)).__name__
            return self._logged(call, VoiceResult(VoiceOutcome.RETRY, PROVIDER, message=reason))
        body = response.body
        code = text_of(body.code)
        call_id = text_of(body.call_id) if code == "OK" else None
        result = VoiceResult(
            outcome_for(code, status_of(response)), PROVIDER, call_id, code, scrub(text_of(body.message))
        )
        return self._logged(call, result)

    def parse_reports(self, body: bytes) -> list[CallReport]:
        """parse_reports(body) with this provider's confirm and decline keys."""
        return parse_reports(body, confirm_key=self.confirm_key, decline_key=self.decline_key)

    async def close(self) -> None:
        """Nothing to release: the SDK opens and closes an HTTP session for every call."""

    def _logged(self, call: VoiceCall, result: VoiceResult) -> VoiceResult:
        level = logging.DEBUG if result.outcome is VoiceOutcome.PLACED else logging.WARNING
        log.log(
            level,
            "voice call %s to %s via aliyun: %s %s %s",
            call.call_id,
            mask_phone(call.phone),
            result.outcome,
            result.code or "-",
            result.message or "",
        )
        return result


def parse_reports(body: bytes, confirm_key: str = CONFIRM_KEY, decline_key: str = DECLINE_KEY) -> list[CallReport]:
    """The call results in one VoiceReport or VoiceCallReport push (a JSON array), in its order; ValueError when the
    body is not one. Every call record (VoiceReport) gives a report; a key message (VoiceCallReport) only when it
    carries a confirm or decline key, other progress messages (calling, ringing, answered, ended) give none. One call
    may so give two reports that agree (its key message, then its record): match them by provider_id."""
    items = json.loads(body)
    if not isinstance(items, list):
        raise ValueError("a VoiceReport or VoiceCallReport push is a JSON array")
    reports: list[CallReport] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("status_code"), str):
            raise ValueError("a voice receipt entry is an object with a status_code")
        status = item["status_code"]
        dtmf = text_of(item.get("dtmf")) or ""
        key = next((k for k in dtmf if k in (confirm_key, decline_key)), None)
        is_record = any(name in item for name in ("end_time", "duration", "callee", "start_time"))
        if key is not None:
            answer = Answer.CONFIRMED if key == confirm_key else Answer.DECLINED
        elif not is_record:
            continue  # a progress message, or a key that decides nothing: the call record will tell
        else:
            answer = Answer.NO_ANSWER if status in NO_ANSWER_STATUSES else Answer.FAILED
        reports.append(
            CallReport(
                provider=PROVIDER,
                provider_id=text_of(item.get("call_id")),
                out_id=text_of(item.get("out_id")),
                phone=text_of(item.get("callee")) or "",
                answer=answer,
                key=key or (dtmf or None),
                ended_at=text_of(item.get("end_time") if is_record else item.get("status_time")),
                code=status,
            )
        )
    return reports


def _json(params: Mapping[str, str]) -> str:
    return json.dumps(dict(params), ensure_ascii=False, separators=(",", ":"))
