"""Tencent Cloud FaceID (人脸核身, API 3.0, 2018-03-01) through the official tencentcloud-sdk-python-faceid: the
face-verification provider experts without a certificate sign with (domain/evaluation/face.py).

DetectAuth starts a verification (RuleId from the console, Extra = the SHA-256 of the content to sign) and answers a
BizToken and the H5 link the expert opens; GetDetectInfoEnhanced (InfoType 0: text only, no photo or video) answers
the result: Text.ErrCode 0 when liveness and comparison passed, the identity number and name verified, and Extra.
The SDK is synchronous: each call runs in a worker thread with its own client, retries off (one HTTP request).

Settings (environment): FACEID_SECRET_ID, FACEID_SECRET_KEY, FACEID_RULE_ID (all three, or no face signing),
FACEID_ENDPOINT (default faceid.tencentcloudapi.com; a stub in tests), FACEID_SCHEME (https), FACEID_REGION
(ap-guangzhou), FACEID_REDIRECT_URL (where the H5 flow returns to, optional).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.retry import NoopRetryer
from tencentcloud.faceid.v20180301 import faceid_client, models

from domain.evaluation.face import FaceProviderError, FaceResult, FaceSession

logging.getLogger("tencentcloud_sdk_common").setLevel(logging.INFO)  # never log identity numbers


class TencentFaceId:
    """A FaceVerifier on Tencent Cloud FaceID."""

    name = "tencent"

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        rule_id: str,
        *,
        endpoint: str = "faceid.tencentcloudapi.com",
        region: str = "ap-guangzhou",
        scheme: str = "https",
        redirect_url: str | None = None,
        timeout: int = 10,
    ) -> None:
        if scheme not in ("https", "http"):
            raise ValueError(f"scheme must be https or http, not {scheme!r}")
        self._credential = credential.Credential(secret_id, secret_key)
        self.rule_id = rule_id
        self.endpoint, self.region, self._scheme, self._timeout = endpoint, region, scheme, timeout
        self.redirect_url = redirect_url

    def _client(self) -> Any:
        http = HttpProfile(protocol=self._scheme, endpoint=self.endpoint, reqMethod="POST", reqTimeout=self._timeout)
        profile = ClientProfile(
            signMethod="TC3-HMAC-SHA256", httpProfile=http, disable_region_breaker=True, retryer=NoopRetryer()
        )
        return faceid_client.FaceidClient(self._credential, self.region, profile)

    async def start(self, *, extra: str, name: str | None) -> FaceSession:
        request = models.DetectAuthRequest()
        request.RuleId = self.rule_id
        request.Extra = extra
        if self.redirect_url:
            request.RedirectUrl = self.redirect_url
        try:
            response = await asyncio.to_thread(lambda: self._client().DetectAuth(request))
        except TencentCloudSDKException as error:
            raise FaceProviderError(str(error.get_code())) from None
        return FaceSession(token=str(response.BizToken), url=str(response.Url or ""))

    async def result(self, token: str) -> FaceResult:
        request = models.GetDetectInfoEnhancedRequest()
        request.BizToken = token
        request.RuleId = self.rule_id
        request.InfoType = "0"
        try:
            response = await asyncio.to_thread(lambda: self._client().GetDetectInfoEnhanced(request))
        except TencentCloudSDKException as error:
            raise FaceProviderError(str(error.get_code())) from None
        text = response.Text
        if text is None:
            return FaceResult("NoResult", "no result yet", None, None, None, None, response.RequestId)
        return FaceResult(
            code=str(text.ErrCode) if text.ErrCode is not None else "NoResult",
            message=str(text.ErrMsg or ""),
            id_number=text.IdCard,
            name=text.Name,
            extra=text.Extra,
            similarity=None if text.Sim is None else str(text.Sim),
            request_id=response.RequestId,
        )


def from_env(env: dict[str, str] | None = None) -> TencentFaceId | None:
    """The provider the environment configures (FACEID_*), or None."""
    values = dict(os.environ if env is None else env)
    names = ("FACEID_SECRET_ID", "FACEID_SECRET_KEY", "FACEID_RULE_ID")
    secret_id, secret_key, rule_id = (values.get(k) for k in names)
    if not (secret_id and secret_key and rule_id):
        return None
    return TencentFaceId(
        secret_id,
        secret_key,
        rule_id,
        endpoint=values.get("FACEID_ENDPOINT", "faceid.tencentcloudapi.com"),
        region=values.get("FACEID_REGION", "ap-guangzhou"),
        scheme=values.get("FACEID_SCHEME", "https"),
        redirect_url=values.get("FACEID_REDIRECT_URL") or None,
    )
