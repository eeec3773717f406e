"""Partner keys: the public keys guarantors and banks sign with, and verifying what they signed.

A guarantor (bank, insurer, guarantee company) registers a public JWK per purpose; the private
key never reaches the platform. Guarantee letters and bank callbacks arrive as compact JWS whose
`kid` names a registered, unrevoked key of that purpose; only ES256 (P-256) and RS256 (RSA of at
least 2048 bits) are accepted, and the algorithm must match the key.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from domain.accounts.models import Organisation, PartnerKey
from domain.accounts.states import OrgKind, OrgStatus
from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case

MAX_JWS_LENGTH = 64_000


class KeyPurpose(StrEnum):
    GUARANTEE_LETTER = "guarantee_letter"
    BANK_CALLBACK = "bank_callback"


class InvalidPublicKey(InvalidInput):
    code = "INVALID_PUBLIC_KEY"
    message_zh = "公钥须为 P-256 椭圆曲线或不少于 2048 位的 RSA 公钥（JWK 格式，不含私钥）"
    message_en = "The key must be a public P-256 EC or >= 2048-bit RSA JWK, without private parts"

    def __init__(self) -> None:
        super().__init__(field="jwk")


class KeyAlreadyRegistered(DomainError):
    code = "KEY_ALREADY_REGISTERED"
    message_zh = "该公钥已登记"
    message_en = "This key is already registered"


class SignatureInvalid(DomainError):
    code = "SIGNATURE_INVALID"
    message_zh = "签名无效：未使用已登记的有效密钥签名，或内容被篡改"
    message_en = "Invalid signature: not signed with a registered, valid key, or altered"


@dataclass(frozen=True, kw_only=True)
class PartnerKeyRegistered(DomainEvent):
    type = "partner_key.registered"
    object_type = "PartnerKey"
    organisation_id: int
    purpose: str
    kid: str


@dataclass(frozen=True, kw_only=True)
class PartnerKeyRevoked(DomainEvent):
    type = "partner_key.revoked"
    object_type = "PartnerKey"
    organisation_id: int
    kid: str


_ALGORITHM = {"EC": "ES256", "RSA": "RS256"}


def public_key(jwk: dict[str, Any]) -> ECKey | RSAKey:
    """The JWK as a public key object; InvalidPublicKey for anything else."""
    if not isinstance(jwk, dict) or "d" in jwk or "p" in jwk:
        raise InvalidPublicKey()
    try:
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ECKey.import_key(jwk)
        if jwk.get("kty") == "RSA":
            with warnings.catch_warnings():  # joserfc warns about short keys: refused just below
                warnings.simplefilter("ignore")
                key = RSAKey.import_key(jwk)
            if key.raw_value.key_size < 2048:
                raise InvalidPublicKey()
            return key
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidPublicKey() from None
    raise InvalidPublicKey()


@raises(InvalidPublicKey, KeyAlreadyRegistered)
@use_case("partner_key.register", "PartnerKey")
async def register_key(actor: Actor, purpose: str, jwk: dict[str, Any]) -> PartnerKey:
    """Registers a public signing key for the caller's approved guarantor organisation; kid = its thumbprint."""
    if actor.user_id is None or actor.org_id is None:
        raise PermissionDenied()
    try:
        purpose_ = KeyPurpose(purpose)
    except ValueError:
        raise InvalidInput(field="purpose") from None
    org = await Organisation.get_or_none(id=actor.org_id)
    if org is None or org.status != OrgStatus.APPROVED.value or OrgKind.GUARANTOR.value not in org.kinds:
        raise PermissionDenied()
    key = public_key(jwk)
    kid = key.thumbprint()
    if await PartnerKey.exists(kid=kid):
        raise KeyAlreadyRegistered()
    public = key.as_dict(private=False)
    row = await PartnerKey.create(
        organisation_id=org.id,
        purpose=purpose_.value,
        kid=kid,
        public_jwk={k: v for k, v in public.items() if k in ("kty", "crv", "x", "y", "n", "e")},
        created_by=actor.user_id,
        created_at=clock.now(),
    )
    await events.record(
        PartnerKeyRegistered(
            object_id=str(row.id),
            organisation_id=org.id,
            purpose=purpose_.value,
            kid=kid,
            audience=Audience(orgs=(org.id,)),
        ),
        actor,
    )
    return row


@raises()
@use_case("partner_key.revoke", "PartnerKey")
async def revoke_key(actor: Actor, key_id: int) -> PartnerKey:
    """Revokes one of the caller organisation's keys: nothing signed with it is accepted afterwards."""
    row = await PartnerKey.get_or_none(id=key_id, organisation_id=actor.org_id or -1)
    if row is None:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        await row.save()
        await events.record(
            PartnerKeyRevoked(
                object_id=str(row.id),
                organisation_id=row.organisation_id,
                kid=row.kid,
                audience=Audience(orgs=(row.organisation_id,)),
            ),
            actor,
        )
    return row


@dataclass(frozen=True, slots=True)
class Verified:
    payload: dict[str, Any]
    key: PartnerKey
    header: dict[str, Any]


async def verify(token: str, purpose: KeyPurpose) -> Verified:
    """The JSON payload of a compact JWS signed by a registered, unrevoked key of this purpose.

    SignatureInvalid for an unknown or revoked kid, another algorithm than the key's, a bad
    signature, or a payload that is not a JSON object.
    """
    if not isinstance(token, str) or not 0 < len(token) <= MAX_JWS_LENGTH:
        raise SignatureInvalid()
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, TypeError):
        raise SignatureInvalid() from None
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise SignatureInvalid()
    row = await PartnerKey.get_or_none(kid=kid, purpose=purpose.value, revoked_at=None)
    if row is None:
        raise SignatureInvalid()
    key = public_key(dict(row.public_jwk))
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[_ALGORITHM[str(row.public_jwk["kty"])]])
        payload = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError):
        raise SignatureInvalid() from None
    if not isinstance(payload, dict):
        raise SignatureInvalid()
    return Verified(payload=payload, key=row, header=dict(header))


def sign(payload: dict[str, Any], private_jwk: dict[str, Any], kid: str) -> str:
    """A compact JWS as a guarantor or bank makes it (for their SDKs, tests and the demo)."""
    key: ECKey | RSAKey = (
        ECKey.import_key(private_jwk) if private_jwk["kty"] == "EC" else RSAKey.import_key(private_jwk)
    )
    alg = _ALGORITHM[private_jwk["kty"]]
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return jws.serialize_compact({"alg": alg, "kid": kid, "typ": "JOSE"}, body, key, algorithms=[alg])
