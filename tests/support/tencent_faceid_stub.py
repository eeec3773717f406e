"""A local Tencent Cloud FaceID server (人脸核身, API 3.0, version 2018-03-01) for tests: the official
tencentcloud-sdk-python-faceid talks HTTP to it.

`POST /` with the headers the SDK sends (X-TC-Action, X-TC-Version, X-TC-Timestamp, X-TC-Region, Authorization:
TC3-HMAC-SHA256 Credential=<SecretId>/<date>/faceid/tc3_request, SignedHeaders=content-type;host, Signature=<hex>),
checked as Tencent does (the signature verified with the stub's secret key, 5 minutes of skew at most). Actions:
- DetectAuth {RuleId, Extra, Name?, IdCard?, RedirectUrl?}: a BizToken and its H5 Url; an unknown RuleId is
  InvalidParameterValue.RuleIdNotExist;
- GetDetectInfoEnhanced {BizToken, RuleId, InfoType}: Text {ErrCode, ErrMsg, IdCard, Name, Extra, Sim, LiveStatus,
  Comparestatus, Comparemsg} once the person finished (`complete`), ErrCode null before (the flow not done);
  an unknown BizToken is InvalidParameterValue.BizTokenIllegal, a token older than 3 days
  FailedOperation.BizTokenExpired.
Errors come back as HTTP 200 `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`, which the SDK raises.

The person's side (the H5 flow on the phone) is `complete(token, id_number, name, passed=True)`: the stub then
answers the verification as passed (ErrCode 0, Sim 92.5) or failed (ErrCode -1206, 活体检测不通过).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import uvicorn

from tests.support.serving import LoopbackServed
from tests.support.tencent_tc3 import tc3_signature

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]

SERVICE = "faceid"
VERSION = "2018-03-01"
ACTIONS = frozenset({"DetectAuth", "GetDetectInfoEnhanced"})
TOKEN_DAYS = 3
AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request,"
    r" ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})"
)
JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass
class Verification:
    token: str
    rule_id: str
    extra: str | None
    created_at: float
    id_number: str | None = None
    name: str | None = None
    passed: bool | None = None


@dataclass
class TencentFaceIdStub(LoopbackServed):
    """An ASGI app speaking Tencent Cloud API 3.0 for FaceID's DetectAuth and GetDetectInfoEnhanced."""

    label: ClassVar[str] = "the Tencent FaceID stub"

    secret_id: str = "AKIDfaceidstub000000000000000000000"
    secret_key: str = "faceid-stub-secret-key-000000000"
    rule_id: str = "1"
    max_skew: int = 300
    host: str = "127.0.0.1"
    port: int = 0
    clock: Callable[[], float] = time.time
    requests: int = 0
    verifications: dict[str, Verification] = field(default_factory=dict)
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    def complete(self, token: str, id_number: str, name: str, *, passed: bool = True) -> None:
        """The person finishes the H5 flow: liveness and comparison with the identity card `id_number`."""
        found = self.verifications[token]
        found.id_number, found.name, found.passed = id_number, name, passed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        status, content, extra = self.answer(scope["method"], scope["path"], query, headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [*extra]})
        await send({"type": "http.response.body", "body": content})

    def answer(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Answer:
        if path != "/":
            return 404, b"404 page not found", [(b"content-type", b"text/plain")]
        self.requests += 1
        if method != "POST" or headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error("InvalidParameter", "The stub speaks POST with application/json only.")
        auth = self._authenticate(query, headers, body)
        if auth is not None:
            return _error(auth, "请求签名验证失败。")
        action = headers.get("x-tc-action", "")
        if action not in ACTIONS:
            return _error("InvalidAction", "接口不存在。")
        if headers.get("x-tc-version") != VERSION:
            return _error("NoSuchVersion", "接口版本不存在。")
        try:
            params = json.loads(body)
            assert isinstance(params, dict)
        except (ValueError, AssertionError):
            return _error("InvalidParameter", "解析请求包体时候失败。")
        if params.get("RuleId") != self.rule_id:
            return _error("InvalidParameterValue.RuleIdNotExist", "RuleId不存在。")
        if action == "DetectAuth":
            return self._detect_auth(params)
        return self._detect_info(params)

    def _detect_auth(self, params: Mapping[str, Any]) -> Answer:
        extra = params.get("Extra")
        if extra is not None and len(str(extra)) > 1024:
            return _error("InvalidParameterValue", "Extra超过1024位。")
        token = str(uuid.uuid4()).upper()
        self.verifications[token] = Verification(token, self.rule_id, extra, self.clock())
        url = f"https://faceid.qq.com/api/auth/h5/index?token={token}"
        return _json({"Response": {"Url": url, "BizToken": token, "RequestId": _request_id()}})

    def _detect_info(self, params: Mapping[str, Any]) -> Answer:
        found = self.verifications.get(str(params.get("BizToken") or ""))
        if found is None:
            return _error("InvalidParameterValue.BizTokenIllegal", "BizToken不合法。")
        if self.clock() - found.created_at > TOKEN_DAYS * 86400:
            return _error("FailedOperation.BizTokenExpired", "BizToken过期。")
        text: dict[str, Any]
        if found.passed is None:
            text = {"ErrCode": None, "ErrMsg": None, "Extra": found.extra}
        elif found.passed:
            text = {
                "ErrCode": 0,
                "ErrMsg": "成功",
                "IdCard": found.id_number,
                "Name": found.name,
                "Extra": found.extra,
                "Sim": "92.50",
                "LiveStatus": 0,
                "LiveMsg": "成功",
                "Comparestatus": 0,
                "Comparemsg": "成功",
            }
        else:
            text = {
                "ErrCode": -1206,
                "ErrMsg": "活体检测不通过",
                "IdCard": found.id_number,
                "Name": found.name,
                "Extra": found.extra,
                "LiveStatus": -1206,
                "LiveMsg": "活体检测不通过",
            }
        return _json({"Response": {"Text": text, "RequestId": _request_id()}})

    def _authenticate(self, query: str, headers: Mapping[str, str], body: bytes) -> str | None:
        match = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if match is None:
            return "AuthFailure.InvalidAuthorization"
        try:
            timestamp = int(headers["x-tc-timestamp"])
        except (KeyError, ValueError):
            return "MissingParameter"
        if abs(self.clock() - timestamp) > self.max_skew:
            return "AuthFailure.SignatureExpire"
        if match["secret_id"] != self.secret_id:
            return "AuthFailure.SecretIdNotFound"
        names = match["signed"].split(";")
        day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if "content-type" not in names or "host" not in names or match["service"] != SERVICE or match["date"] != day:
            return "AuthFailure.SignatureFailure"
        expected = tc3_signature(self.secret_key, SERVICE, headers, names, query, body, timestamp)
        if not hmac.compare_digest(expected, match["signature"]):
            return "AuthFailure.SignatureFailure"
        return None


def _json(payload: Mapping[str, Any]) -> Answer:
    return 200, json.dumps(payload, ensure_ascii=False).encode(), list(JSON_HEADERS)


def _error(code: str, message: str) -> Answer:
    return _json({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _request_id()}})


def _request_id() -> str:
    return str(uuid.uuid4())


@asynccontextmanager
async def running_stub(**settings: Any) -> AsyncIterator[TencentFaceIdStub]:
    """A TencentFaceIdStub(**settings) served by uvicorn in the running event loop for the duration of the block."""
    stub = TencentFaceIdStub(**settings)
    await stub.start()
    try:
        yield stub
    finally:
        await stub.stop()
