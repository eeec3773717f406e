"""Test certificate authorities made with `cryptography`: a root, an intermediate, leaves and CRLs.

Independent hierarchies stand for CAs of different provinces (CA互认): they differ in key type (ECDSA
P-256, RSA, or SM2 as most Chinese trading CAs issue) and in where the unified social credit code sits in
the subject. `cryptography` cannot sign with SM2, so an SM2 hierarchy's certificates and CRLs are built
with asn1crypto and signed (SM2 with SM3, GM/T 0015) by tongsuopy.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import algos as asn1_algos
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from tongsuopy.crypto import hashes as sm_hashes
from tongsuopy.crypto import serialization as sm_serialization
from tongsuopy.crypto.asymciphers import ec as sm_ec

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | sm_ec.EllipticCurvePrivateKey
SM2_WITH_SM3 = "1.2.156.10197.1.501"


def _now() -> datetime:
    return datetime.now(UTC)


def new_key(kind: str) -> Key:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "sm2":
        return sm_ec.generate_private_key(sm_ec.SM2())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def der_b64(value: x509.Certificate | x509.CertificateRevocationList) -> str:
    return base64.b64encode(value.public_bytes(serialization.Encoding.DER)).decode()


def sign(key: Key, data: bytes) -> str:
    """A base64 signature as a client makes it: ECDSA (DER) or RSA PKCS#1 v1.5, both over SHA-256, or SM2
    with SM3 and the default user ID (DER)."""
    if isinstance(key, sm_ec.EllipticCurvePrivateKey):
        raw = key.sign(data, sm_ec.ECDSA(sm_hashes.SM3()))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
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
        if isinstance(signer, sm_ec.EllipticCurvePrivateKey):
            return build_certificate(
                subject,
                issuer,
                key,
                signer,
                not_before=now - timedelta(days=365),
                not_after=now + timedelta(days=3650),
                ca=True,
                path_length=path_length,
                key_usage={"key_cert_sign", "crl_sign"},
            )
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
        if isinstance(self.inter_key, sm_ec.EllipticCurvePrivateKey):
            usage = {"digital_signature"} if digital_signature else set()
            usage |= {"non_repudiation"} if non_repudiation else set()
            usage |= {"key_encipherment"} if key_encipherment else set()
            cert = build_certificate(
                x509.Name(attrs),
                self.intermediate.subject,
                key,
                self.inter_key,
                not_before=not_before or now - timedelta(days=1),
                not_after=not_after or now + timedelta(days=365),
                key_usage=usage,
            )
            return Leaf(cert=cert, key=key)
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
        if isinstance(key, sm_ec.EllipticCurvePrivateKey):
            return der_b64(build_crl(issuer.subject, key, serials, now))
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


# ---------------------------------------------------------------- certificates and CRLs through asn1crypto


def public_key_info(key: Key) -> asn1_keys.PublicKeyInfo:
    public = key.public_key()
    if isinstance(public, sm_ec.EllipticCurvePublicKey):
        der = public.public_bytes(sm_serialization.Encoding.DER, sm_serialization.PublicFormat.SubjectPublicKeyInfo)
    else:
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return asn1_keys.PublicKeyInfo.load(der)


def algorithm_identifier(signer: Key, algorithm: str | None = None) -> asn1_algos.SignedDigestAlgorithm:
    """The identifier of the signer key's algorithm (SM2 with SM3, ECDSA or RSA PKCS#1 v1.5 with SHA-256), or
    `algorithm` to mislabel its signatures."""
    if algorithm is None and isinstance(signer, sm_ec.EllipticCurvePrivateKey):
        algorithm = SM2_WITH_SM3
    elif algorithm is None:
        algorithm = "sha256_ecdsa" if isinstance(signer, ec.EllipticCurvePrivateKey) else "sha256_rsa"
    return asn1_algos.SignedDigestAlgorithm({"algorithm": algorithm})


def _time(moment: datetime) -> asn1_x509.Time:
    return asn1_x509.Time(name="utc_time" if moment.year < 2050 else "general_time", value=moment)


def _name(name: x509.Name) -> asn1_x509.Name:
    return asn1_x509.Name.load(name.public_bytes())


def build_certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: Key | asn1_keys.PublicKeyInfo,
    signer: Key,
    *,
    not_before: datetime,
    not_after: datetime,
    key_usage: set[str],
    ca: bool = False,
    path_length: int | None = None,
    algorithm: str | None = None,
    issuer_key: Key | None = None,
) -> x509.Certificate:
    """An X.509 v3 certificate signed by `signer` with its own algorithm (SM2 with SM3 for an SM2 key), or
    labelled `algorithm`; `key` may be a prepared SubjectPublicKeyInfo, and the authority key identifier
    names `issuer_key` (by default the signer's) for a certificate forged with another key."""
    spki = key if isinstance(key, asn1_keys.PublicKeyInfo) else public_key_info(key)
    constraints: dict[str, object] = {"ca": ca}
    if ca and path_length is not None:
        constraints["path_len_constraint"] = path_length
    extensions: list[dict[str, object]] = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": constraints},
        {"extn_id": "key_usage", "critical": True, "extn_value": key_usage},
        {"extn_id": "key_identifier", "critical": False, "extn_value": spki.sha1},
    ]
    if not ca or subject != issuer:
        aki = {"key_identifier": public_key_info(issuer_key or signer).sha1}
        extensions.append({"extn_id": "authority_key_identifier", "critical": False, "extn_value": aki})
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": x509.random_serial_number(),
            "signature": algorithm_identifier(signer, algorithm),
            "issuer": _name(issuer),
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": _name(subject),
            "subject_public_key_info": spki,
            "extensions": extensions,
        }
    )
    value = base64.b64decode(sign(signer, tbs.dump()))
    identifier = algorithm_identifier(signer, algorithm)
    cert = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": identifier, "signature_value": value})
    return x509.load_der_x509_certificate(cert.dump())


def build_crl(
    issuer: x509.Name, signer: Key, serials: list[int], this_update: datetime
) -> x509.CertificateRevocationList:
    """A v2 CRL of `issuer` listing `serials`, valid 7 days, signed by `signer` with its own algorithm."""
    identifier = algorithm_identifier(signer)
    revoked = [{"user_certificate": serial, "revocation_date": _time(this_update)} for serial in serials]
    tbs = asn1_crl.TbsCertList(
        {
            "version": "v2",
            "signature": identifier,
            "issuer": _name(issuer),
            "this_update": _time(this_update),
            "next_update": _time(this_update + timedelta(days=7)),
            "revoked_certificates": revoked or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": int(this_update.timestamp())},
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": public_key_info(signer).sha1},
                },
            ],
        }
    )
    value = base64.b64decode(sign(signer, tbs.dump()))
    crl = asn1_crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": identifier, "signature": value})
    return x509.load_der_x509_crl(crl.dump())
