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
