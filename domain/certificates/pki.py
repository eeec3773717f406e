"""X.509 for certificate sign-in and signed acts: reading certificates and CRLs, path validation against
the recognised CAs only (pyhanko-certvalidator), and signature checks (ECDSA P-256, RSA, SM2 with SM3).

`cryptography` reads every certificate and CRL but has no SM2 key: SM2 signatures on certificates, CRLs and
acts are checked by domain/certificates/sm2.py over the DER that asn1crypto gives.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv

from domain.certificates import errors, sm2
from domain.common import cpu
from domain.common.ids import is_valid_uscc

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_USCC_TOKEN = re.compile(r"[1-9ANY][1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
MAX_INPUT = 64_000
SIGNING_USAGES = ("digital_signature", "non_repudiation")


def _der(text: str, label: str, error: type[Exception]) -> bytes:
    """The DER bytes of a PEM block (with the given label) or of base64 DER."""
    value = text.strip()
    if not value or len(value) > MAX_INPUT:
        raise error()
    found = _PEM.search(value)
    if found:
        if found.group(1) != label:
            raise error()
        value = found.group(2)
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise error() from None


def load_certificate(text: str) -> x509.Certificate:
    """A certificate from PEM or base64 DER, or CertificateMalformed."""
    der = _der(text, "CERTIFICATE", errors.CertificateMalformed)
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise errors.CertificateMalformed() from None


def load_crl(text: str) -> x509.CertificateRevocationList:
    der = _der(text, "X509 CRL", errors.CrlMalformed)
    try:
        return x509.load_der_x509_crl(der)
    except ValueError:
        raise errors.CrlMalformed() from None


def der_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lowercase hex."""
    return hashlib.sha256(der_of(cert)).hexdigest()


def subject_text(name: x509.Name) -> str:
    return name.rfc4514_string()


def credit_code_of(cert: x509.Certificate) -> str | None:
    """The unified social credit code in the subject, wherever the CA puts it (organizationIdentifier,
    serialNumber, OU, CN, ...): the first 18-character token with a valid GB 32100-2015 check character."""
    for attribute in cert.subject:
        value = attribute.value if isinstance(attribute.value, str) else ""
        for token in _USCC_TOKEN.findall(value.upper()):
            if is_valid_uscc(token):
                return str(token)
    return None


def is_organisation_certificate(cert: x509.Certificate) -> bool:
    """An organisation certificate names an organisation (O=) or carries a credit code."""
    return bool(cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)) or credit_code_of(cert) is not None


def public_key_info(cert: x509.Certificate) -> asn1_keys.PublicKeyInfo:
    return asn1_x509.Certificate.load(der_of(cert)).public_key


def key_type(cert: x509.Certificate) -> str:
    """ec-p256, rsa-<bits>, sm2; CertificateAlgorithmUnsupported for anything else."""
    try:
        key = cert.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm):  # cryptography has no SM2 curve
        try:
            sm2.public_key(public_key_info(cert))
        except ValueError:
            raise errors.CertificateAlgorithmUnsupported() from None
        return "sm2"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ec-p256"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return f"rsa-{key.key_size}"
    raise errors.CertificateAlgorithmUnsupported()


def algorithm_of(cert: x509.Certificate) -> str:
    """ES256, RS256, or SM3withSM2 (the name Chinese CA SDKs and BouncyCastle give SM2 with SM3)."""
    kind = key_type(cert)
    if kind == "sm2":
        return "SM3withSM2"
    return "ES256" if kind == "ec-p256" else "RS256"


def is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca:
        return False
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(usage.key_cert_sign)


def _signed_by(signed: asn1_x509.Certificate | asn1_crl.CertificateList, issuer: x509.Certificate) -> bool:
    """Whether the issuer's key made the signature of a certificate or CRL (any supported algorithm)."""
    if isinstance(signed, asn1_x509.Certificate):
        value, tbs = signed["signature_value"].native, signed["tbs_certificate"].dump()
    else:
        value, tbs = signed["signature"].native, signed["tbs_cert_list"].dump()
    try:
        sm2.VALIDATOR.validate_signature(value, tbs, public_key_info(issuer), signed["signature_algorithm"])
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm, pv.AlgorithmNotSupported):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    return _signed_by(asn1_x509.Certificate.load(der_of(cert)), cert)


def crl_issued_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """The CRL names the issuer and carries the issuer key's signature."""
    if crl.issuer != issuer.subject:
        return False
    return _signed_by(asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER)), issuer)


def valid_dates(cert: x509.Certificate) -> tuple[datetime, datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def verify_signature(cert: x509.Certificate, content: bytes, signature_b64: str) -> None:
    """CertificateSignatureInvalid unless `signature_b64` is the certificate key's signature over `content`:
    ECDSA P-256 with SHA-256 (DER, or raw r||s of 64 bytes as WebCrypto gives it), RSA with SHA-256
    (PKCS#1 v1.5 or PSS), SM2 with SM3 and the default user ID (DER, or raw r||s of 64 bytes)."""
    try:
        signature = base64.b64decode("".join(signature_b64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise errors.CertificateSignatureInvalid() from None
    if not signature or len(signature) > 2048:
        raise errors.CertificateSignatureInvalid()
    if key_type(cert) == "sm2":
        try:
            sm2.verify(public_key_info(cert), signature, content)
        except InvalidSignature:
            raise errors.CertificateSignatureInvalid() from None
        return
    key: Any = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) == 64 and signature[0] != 0x30:
                signature = encode_dss_signature(
                    int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                )
            key.verify(signature, content, ec.ECDSA(hashes.SHA256()))
            return
        try:
            key.verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            key.verify(
                signature,
                content,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                hashes.SHA256(),
            )
    except (InvalidSignature, ValueError):
        raise errors.CertificateSignatureInvalid() from None


@dataclass(frozen=True, slots=True)
class Trust:
    """What the platform recognises at one moment: roots, intermediates and the CRLs in force (DER)."""

    roots: list[bytes]
    intermediates: list[bytes]
    crls: list[bytes]


@dataclass(frozen=True, slots=True)
class ValidPath:
    """A validated path, leaf last, and the key usage the certificate was accepted for."""

    subjects: list[str]
    usage: str
    checked_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.subjects,
            "usage": self.usage,
            "checkedAt": self.checked_at.astimezone(UTC).isoformat(timespec="seconds"),
            "revocation": "crl",
        }


async def validate(cert: x509.Certificate, trust: Trust, moment: datetime) -> ValidPath:
    """The path from `cert` to a recognised root at `moment`, checked for validity periods, CA
    constraints, revocation (a current CRL of every CA on the path is required) and a signing key usage;
    a typed error naming the first failure otherwise. Computed on the CPU pool (domain/common/cpu.py):
    nothing is fetched, so pyhanko-certvalidator's coroutine only computes."""
    return await cpu.run_coroutine(_validate, der_of(cert), trust, moment)


async def _validate(leaf: bytes, trust: Trust, moment: datetime) -> ValidPath:
    if not trust.roots:
        raise errors.CertificateUnknownCa()
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(d) for d in trust.roots],
        other_certs=[asn1_x509.Certificate.load(d) for d in trust.intermediates],
        crls=[asn1_crl.CertificateList.load(d) for d in trust.crls],
        revocation_mode="require",
        allow_fetching=False,
        moment=moment,
        signature_validator=sm2.VALIDATOR,
    )
    validator = CertificateValidator(asn1_x509.Certificate.load(leaf), validation_context=context)
    for usage in SIGNING_USAGES:
        try:
            # pyhanko-certvalidator leaves async_validate_usage unannotated
            path = await validator.async_validate_usage({usage})  # type: ignore[no-untyped-call]
        except pv.InvalidCertificateError as err:
            if isinstance(err, pv.PathValidationError) or "purpose" not in str(err):
                raise _mapped(err) from None
            continue
        except (pv.PathError, pv.ValidationError) as err:
            raise _mapped(err) from None
        return ValidPath(subjects=[c.subject.human_friendly for c in path], usage=usage, checked_at=moment)
    raise errors.CertificateWrongKeyUsage()


def _mapped(err: Exception) -> Exception:
    if isinstance(err, pv.PathBuildingError):
        return errors.CertificateUnknownCa()
    if isinstance(err, pv.RevokedError):
        return errors.CertificateRevoked()
    if isinstance(err, pv.ExpiredError):
        return errors.CertificateExpired()
    if isinstance(err, pv.NotYetValidError):
        return errors.CertificateNotYetValid()
    if isinstance(err, pv.InsufficientRevinfoError):
        return errors.CertificateRevocationUnknown()
    if isinstance(err, pv.InvalidCertificateError) and "purpose" in str(err):
        return errors.CertificateWrongKeyUsage()
    return errors.CertificateInvalid(reason=str(err)[:200])
