"""Test certificate authorities made with `cryptography`: a root, an intermediate, leaves and CRLs.

Two independent hierarchies stand for two CAs of different provinces (CA互认): they differ in key type
(ECDSA P-256 or RSA) and in where the unified social credit code sits in the subject.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _now() -> datetime:
    return datetime.now(UTC)


def new_key(kind: str) -> Key:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def der_b64(value: x509.Certificate | x509.CertificateRevocationList) -> str:
    return base64.b64encode(value.public_bytes(serialization.Encoding.DER)).decode()


def sign(key: Key, data: bytes) -> str:
    """A base64 signature as a client makes it: ECDSA (DER) or RSA PKCS#1 v1.5, both over SHA-256."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        raw = key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


@dataclass
class Leaf:
    cert: x509.Certificate
    key: Key

    @property
    def pem(self) -> str:
        return pem(self.cert)

    def sign(self, data: bytes | str) -> str:
        return sign(self.key, data.encode() if isinstance(data, str) else data)


@dataclass
class TestCA:
    """A root and an intermediate; leaves are issued by the intermediate."""

    __test__ = False

    name: str
    key_kind: str = "ec"
    code_attribute: x509.ObjectIdentifier = NameOID.ORGANIZATION_IDENTIFIER
    root_key: Key = field(init=False)
    root: x509.Certificate = field(init=False)
    inter_key: Key = field(init=False)
    intermediate: x509.Certificate = field(init=False)
    revoked: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = _now()
        self.root_key = new_key(self.key_kind)
        country = x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")
        root_name = x509.Name([country, x509.NameAttribute(NameOID.COMMON_NAME, f"{self.name} Root")])
        self.root = self._ca(root_name, root_name, self.root_key, self.root_key, now, None)
        self.inter_key = new_key(self.key_kind)
        inter_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{self.name} Issuing CA"),
            ]
        )
        self.intermediate = self._ca(inter_name, root_name, self.inter_key, self.root_key, now, 0)

    @staticmethod
    def _ca(
        subject: x509.Name, issuer: x509.Name, key: Key, signer: Key, now: datetime, path_length: int | None
    ) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=365))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(signer, hashes.SHA256())
        )

    def issue(
        self,
        organisation: str = "青岛测试建设有限公司",
        credit_code: str | None = None,
        *,
        person: str = "张三",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        digital_signature: bool = True,
        non_repudiation: bool = True,
        key_encipherment: bool = False,
        key_kind: str | None = None,
    ) -> Leaf:
        """An organisation certificate (O= and the credit code) issued by the intermediate."""
        now = _now()
        key = new_key(key_kind or self.key_kind)
        attrs = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
        if credit_code is not None:
            attrs.append(x509.NameAttribute(self.code_attribute, credit_code))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, person))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=1))
            .not_valid_after(not_after or now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=digital_signature,
                    content_commitment=non_repudiation,
                    key_encipherment=key_encipherment,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.inter_key.public_key()), critical=False
            )
            .sign(self.inter_key, hashes.SHA256())
        )
        return Leaf(cert=cert, key=key)

    def revoke(self, leaf: Leaf) -> None:
        self.revoked.append(leaf.cert.serial_number)

    def _crl(self, issuer: x509.Certificate, key: Key, serials: list[int], this_update: datetime | None) -> str:
        now = this_update or _now() - timedelta(hours=1)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(now)
            .next_update(now + timedelta(days=7))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        )
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            )
        return der_b64(builder.sign(key, hashes.SHA256()))

    def root_crl(self, this_update: datetime | None = None) -> str:
        """The root's CRL (covers the intermediate), base64 DER."""
        return self._crl(self.root, self.root_key, [], this_update)

    def intermediate_crl(self, this_update: datetime | None = None) -> str:
        """The intermediate's CRL with every revoked leaf, base64 DER."""
        return self._crl(self.intermediate, self.inter_key, list(self.revoked), this_update)
