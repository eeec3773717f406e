"""Typed failures of single sign-on's client systems and consents."""

from __future__ import annotations

from typing import Any

from domain.common.errors import DomainError, InvalidInput


class InvalidRedirectUri(InvalidInput):
    code = "INVALID_REDIRECT_URI"
    message_zh = "回调地址须为完整的 https 地址（本机调试可用 http://127.0.0.1 或 localhost），且不含片段"
    message_en = "A redirect URI must be an absolute https URL (http only on loopback) without a fragment"

    def __init__(self, field: str = "redirectUris", **params: Any) -> None:
        super().__init__(field=field)


class UnknownSsoScope(InvalidInput):
    code = "UNKNOWN_SSO_SCOPE"
    message_zh = "授权范围须为 openid、profile、organisation、roles、offline_access，且含 openid"
    message_en = "Scopes must be among openid, profile, organisation, roles, offline_access, including openid"

    def __init__(self, **params: Any) -> None:
        super().__init__(field="scopes")


class UnknownSystemKind(InvalidInput):
    code = "UNKNOWN_SYSTEM_KIND"
    message_zh = "业务系统类型须为工程建设、政府采购、产权交易或其他"
    message_en = "The system kind must be engineering, procurement, property rights or other"

    def __init__(self, **params: Any) -> None:
        super().__init__(field="kind")


class SsoClientNotFound(DomainError):
    code = "SSO_CLIENT_NOT_FOUND"
    message_zh = "未找到该业务系统"
    message_en = "No such client system"


class SsoConsentNotFound(DomainError):
    code = "SSO_CONSENT_NOT_FOUND"
    message_zh = "未找到对该业务系统的授权"
    message_en = "No consent given to this client system"


class SsoSignInNotFound(DomainError):
    code = "SSO_SIGN_IN_NOT_FOUND"
    message_zh = "未找到该登录请求，请在业务系统重新发起登录"
    message_en = "No such sign-in request; start again from the client system"


class SsoSignInExpired(DomainError):
    code = "SSO_SIGN_IN_EXPIRED"
    message_zh = "登录请求已过期，请刷新登录页面获取新的二维码"
    message_en = "The sign-in request expired; reload the sign-in page for a new code"


class SsoSignInUsed(DomainError):
    code = "SSO_SIGN_IN_USED"
    message_zh = "该登录请求已被使用"
    message_en = "This sign-in request was already used"


class SsoCertificateOtherUser(DomainError):
    code = "SSO_CERTIFICATE_OTHER_USER"
    message_zh = "该证书绑定的不是当前登录的账号"
    message_en = "The certificate is bound to another account than the one signed in"
