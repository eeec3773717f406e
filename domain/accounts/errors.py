"""Typed failures of registration, sign-in and tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.common.errors import DomainError, InvalidInput


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    message_zh = "手机号或密码错误"
    message_en = "Wrong phone number or password"


class AccountLocked(DomainError):
    code = "ACCOUNT_LOCKED"
    message_zh = "登录失败次数过多，账户已锁定至 {locked_until}（北京时间）"
    message_en = "Too many failed sign-ins; the account is locked until {locked_until} (Beijing time)"
    exposed: ClassVar[dict[str, str]] = {"locked_until": "datetime"}


class AccountDisabled(DomainError):
    code = "ACCOUNT_DISABLED"
    message_zh = "账户已停用"
    message_en = "This account is disabled"


class SmsCodeInvalid(DomainError):
    code = "SMS_CODE_INVALID"
    message_zh = "验证码错误或已过期"
    message_en = "The code is wrong or has expired"


class SmsCodeExhausted(DomainError):
    code = "SMS_CODE_EXHAUSTED"
    message_zh = "验证码尝试次数已用完，请重新获取"
    message_en = "Too many wrong codes; request a new one"


class RefreshTokenInvalid(DomainError):
    code = "REFRESH_TOKEN_INVALID"
    message_zh = "登录已失效，请重新登录"
    message_en = "The session has ended; sign in again"


class RefreshTokenReused(DomainError):
    code = "REFRESH_TOKEN_REUSED"
    message_zh = "检测到刷新令牌被重复使用，该登录会话已全部注销，请重新登录"
    message_en = "A refresh token was used twice; every token of this session is revoked"


class WeakPassword(InvalidInput):
    code = "WEAK_PASSWORD"
    message_zh = "密码至少 8 位，且须同时包含字母和数字"
    message_en = "A password needs at least 8 characters with both letters and digits"

    def __init__(self, **params: Any) -> None:
        super().__init__(field="password")


class InvalidRegionCode(InvalidInput):
    code = "INVALID_REGION_CODE"
    message_zh = "行政区划代码“{value}”无效（GB/T 2260，6 位）"
    message_en = "'{value}' is not a GB/T 2260 region code (6 digits)"

    def __init__(self, value: str) -> None:
        super().__init__(field="regionCode", value=value)


class InvalidIdNumber(InvalidInput):
    code = "INVALID_ID_NUMBER"
    message_zh = "居民身份证号码无效（GB 11643）"
    message_en = "Not a valid resident identity number (GB 11643)"

    def __init__(self) -> None:
        super().__init__(field="idNumber")


class CreditCodeTaken(DomainError):
    code = "CREDIT_CODE_TAKEN"
    message_zh = "该统一社会信用代码已注册"
    message_en = "An organisation with this credit code is already registered"


class PhoneTaken(DomainError):
    code = "PHONE_TAKEN"
    message_zh = "该手机号已注册"
    message_en = "This phone number is already registered"


class KindNotSelfService(DomainError):
    code = "KIND_NOT_SELF_SERVICE"
    message_zh = "监督部门和交易中心主体只能由交易中心开设"
    message_en = "Supervisor and operator organisations are opened by the operator only"


class UnknownScope(InvalidInput):
    code = "UNKNOWN_SCOPE"
    message_zh = "未知的授权范围：{value}"
    message_en = "Unknown scope: {value}"

    def __init__(self, value: str) -> None:
        super().__init__(field="scopes", value=value)


class InvalidClient(DomainError):
    code = "INVALID_CLIENT"
    message_zh = "客户端标识或密钥错误"
    message_en = "Wrong client id or secret"


class ExpertPhoneTaken(DomainError):
    code = "EXPERT_PHONE_TAKEN"
    message_zh = "该手机号已被另一位在库专家使用，专家凭手机号登录，号码不得重复"
    message_en = "Another active expert has this phone number; experts sign in by phone, so it must be unique"


class ExpertPhoneShared(DomainError):
    code = "EXPERT_PHONE_SHARED"
    message_zh = "该手机号对应多位在库专家，无法确定登录身份，请联系交易中心"
    message_en = "Several active experts have this phone number, so it cannot tell who signs in; contact the operator"


class SystemNotAccredited(DomainError):
    """An accredited system is suspended, revoked or past its validity: it may not act for anyone."""

    code = "SYSTEM_NOT_ACCREDITED"
    message_zh = "该第三方交易系统未获认证、已暂停或已撤销认证"
    message_en = "This third-party trading system is not accredited, or its accreditation is suspended or revoked"


class SystemNotAuthorised(DomainError):
    """The tenderer has not authorised the system, or revoked the authorisation, or it expired."""

    code = "SYSTEM_NOT_AUTHORISED"
    message_zh = "招标人未授权该第三方交易系统代为办理，或授权已撤销、已过期"
    message_en = "The tenderer has not authorised this system to act for it, or revoked or let the authorisation expire"


class CurrentPasswordWrong(DomainError):
    code = "CURRENT_PASSWORD_WRONG"
    message_zh = "当前密码错误"
    message_en = "The current password is wrong"


class PasswordUnchanged(InvalidInput):
    code = "PASSWORD_UNCHANGED"
    message_zh = "新密码不能与当前密码相同"
    message_en = "The new password must differ from the current one"

    def __init__(self, **params: Any) -> None:
        super().__init__(field="newPassword")
