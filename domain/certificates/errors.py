"""Typed failures of recognised CAs, certificate binding, certificate sign-in and signed acts."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.common.errors import DomainError, InvalidInput


class CertificateMalformed(InvalidInput):
    code = "CERTIFICATE_MALFORMED"
    message_zh = "无法解析该证书（须为 PEM 或 Base64 编码的 DER X.509 证书）"
    message_en = "The certificate cannot be read (a PEM or base64 DER X.509 certificate is expected)"

    def __init__(self, field: str = "certificate", **params: Any) -> None:
        super().__init__(field=field, **params)


class CrlMalformed(InvalidInput):
    code = "CRL_MALFORMED"
    message_zh = "无法解析该证书吊销列表（须为 PEM 或 Base64 编码的 DER CRL）"
    message_en = "The revocation list cannot be read (a PEM or base64 DER CRL is expected)"

    def __init__(self, field: str = "crl", **params: Any) -> None:
        super().__init__(field=field, **params)


class NotACertificateAuthority(InvalidInput):
    code = "NOT_A_CERTIFICATE_AUTHORITY"
    message_zh = "该证书不是 CA 证书（基本约束须为 CA，且可签发证书）"
    message_en = "This is not a CA certificate (basic constraints CA and the keyCertSign usage are required)"

    def __init__(self, **params: Any) -> None:
        super().__init__(field="certificate", **params)


class CaAlreadyRecognised(DomainError):
    code = "CA_ALREADY_RECOGNISED"
    message_zh = "该 CA 证书已登记"
    message_en = "This CA certificate is already registered"


class CrlWrongIssuer(DomainError):
    code = "CRL_WRONG_ISSUER"
    message_zh = "该吊销列表不是此 CA 签发的（签发者或签名不符）"
    message_en = "This revocation list was not issued by this CA (issuer or signature do not match)"


class CrlOutdated(DomainError):
    code = "CRL_OUTDATED"
    message_zh = "该吊销列表早于已登记的吊销列表"
    message_en = "This revocation list is older than the one already registered"


class CertificateUnknownCa(DomainError):
    code = "CERTIFICATE_UNKNOWN_CA"
    message_zh = "证书不是由平台认可的 CA 签发的"
    message_en = "The certificate was not issued by a certificate authority the platform recognises"


class CertificateExpired(DomainError):
    code = "CERTIFICATE_EXPIRED"
    message_zh = "证书（或其签发 CA 的证书）已过期"
    message_en = "The certificate (or a CA certificate above it) has expired"


class CertificateNotYetValid(DomainError):
    code = "CERTIFICATE_NOT_YET_VALID"
    message_zh = "证书尚未生效"
    message_en = "The certificate is not valid yet"


class CertificateRevoked(DomainError):
    code = "CERTIFICATE_REVOKED"
    message_zh = "证书已被吊销"
    message_en = "The certificate has been revoked"


class CertificateRevocationUnknown(DomainError):
    """No current CRL of the issuing CA: a certificate is never taken on trust (level-3 graded protection)."""

    code = "CERTIFICATE_REVOCATION_UNKNOWN"
    message_zh = "无法确认证书是否已吊销：签发 CA 的吊销列表缺失或已过期"
    message_en = "Whether the certificate is revoked cannot be told: the CA's revocation list is missing or out of date"


class CertificateWrongKeyUsage(DomainError):
    code = "CERTIFICATE_WRONG_KEY_USAGE"
    message_zh = "证书的密钥用途不允许签名（须含 digitalSignature 或 nonRepudiation）"
    message_en = "The certificate's key usage does not allow signing (digitalSignature or nonRepudiation is required)"


class CertificateInvalid(DomainError):
    code = "CERTIFICATE_INVALID"
    message_zh = "证书路径校验失败：{reason}"
    message_en = "The certificate path does not validate: {reason}"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


class CertificateAlgorithmUnsupported(DomainError):
    code = "CERTIFICATE_ALGORITHM_UNSUPPORTED"
    message_zh = "不支持该证书的密钥算法（支持 SM2、ECDSA P-256 与 RSA 2048 位以上）"
    message_en = "The certificate's key algorithm is not supported (SM2, ECDSA P-256 and RSA of 2048 bits or more are)"


class CertificateNotBound(DomainError):
    code = "CERTIFICATE_NOT_BOUND"
    message_zh = "该证书未绑定到账户"
    message_en = "This certificate is not bound to the account"


class CertificateWrongOrganisation(DomainError):
    code = "CERTIFICATE_WRONG_ORGANISATION"
    message_zh = "该证书属于其他单位（证书中的统一社会信用代码与本单位不符，或已绑定到其他单位的账户）"
    message_en = (
        "This certificate belongs to another organisation (its credit code is not this organisation's, "
        "or it is bound to another organisation's account)"
    )


class CertificateCreditCodeMissing(DomainError):
    code = "CERTIFICATE_CREDIT_CODE_MISSING"
    message_zh = "单位证书的主题中须载明统一社会信用代码"
    message_en = "An organisation certificate must carry the unified social credit code in its subject"


class CertificateAlreadyBound(DomainError):
    code = "CERTIFICATE_ALREADY_BOUND"
    message_zh = "该证书已绑定到本单位的另一账户"
    message_en = "This certificate is already bound to another account of this organisation"


class ChallengeUnknown(DomainError):
    code = "CERTIFICATE_CHALLENGE_UNKNOWN"
    message_zh = "挑战码无效，请重新获取"
    message_en = "Unknown challenge; ask for a new one"


class ChallengeExpired(DomainError):
    code = "CERTIFICATE_CHALLENGE_EXPIRED"
    message_zh = "挑战码已过期（2 分钟内有效），请重新获取"
    message_en = "The challenge has expired (it lasts 2 minutes); ask for a new one"


class ChallengeReplayed(DomainError):
    code = "CERTIFICATE_CHALLENGE_REPLAYED"
    message_zh = "挑战码已使用过，不能重复使用"
    message_en = "This challenge was already used; each works once"


class CertificateSignatureInvalid(DomainError):
    code = "CERTIFICATE_SIGNATURE_INVALID"
    message_zh = "签名验证失败：签名与证书公钥或签名内容不符"
    message_en = "The signature does not verify against the certificate's key and the signed content"


class SignatureRequired(DomainError):
    code = "SIGNATURE_REQUIRED"
    message_zh = "本操作须使用数字证书签名"
    message_en = "This act must be signed with a digital certificate"


class TwoFactorRequired(DomainError):
    code = "TWO_FACTOR_REQUIRED"
    message_zh = "本操作须使用数字证书加短信验证码双因素登录后进行"
    message_en = "This needs a two-factor sign-in (digital certificate plus SMS code)"


# what a certificate may be refused for, wherever one is presented
PATH_ERRORS: tuple[type[DomainError], ...] = (
    CertificateMalformed,
    CertificateAlgorithmUnsupported,
    CertificateUnknownCa,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    CertificateRevocationUnknown,
    CertificateWrongKeyUsage,
    CertificateInvalid,
    CertificateSignatureInvalid,
)
# ... and when it signs an act (signatures.check)
SIGNATURE_ERRORS: tuple[type[DomainError], ...] = (
    *PATH_ERRORS,
    CertificateNotBound,
    CertificateWrongOrganisation,
    SignatureRequired,
)
# what a one-time challenge may be refused for
CHALLENGE_ERRORS: tuple[type[DomainError], ...] = (ChallengeUnknown, ChallengeExpired, ChallengeReplayed)
