"""The credit exchange with the other platforms of a credit alliance (信用联盟: 一处失信、处处受限).

A package is a compact JWS over canonical JSON (mobile_contract/CREDIT_EXCHANGE.md): the credit records and joint
punishments of the sending platform, each with its own reference and the entity's unified social credit code. This
platform signs its exports with its current signing key (ES256, published at /.well-known/jwks.json), or on request
with its SM2 key (SM2SM3, domain/credit/sm2_jws.py) where the deployment has one; it accepts a package from a partner an
operator accredited, signed with one of the partner's registered public keys (ES256, RS256 or SM2SM3), sent by the
integrator client the partner imports through (scope `credit:write`). An imported item keeps its
source (the partner's code and reference): a punishment becomes a JointPunishment row, so it blocks registration here
as one listed here does, and a record a CreditRecord row; an item about an entity not registered here waits and is
attached by the daily run once the entity is. A package sent again changes nothing; a changed item (a punishment lifted
at the source) updates its row. Anything wrong with a package (unknown key, bad signature, bad content) stores nothing.
Seed plans: Yunnan 十一 (一处受罚、处处受限) and 十二 (信用联盟: 信用信息共享和信用评价结果互认).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from joserfc import jws
from joserfc.errors import JoseError
from tongsuopy.crypto.asymciphers import ec as sm_ec
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.accounts import keys
from domain.accounts.models import IntegratorClient, Organisation
from domain.accounts.tokens import KeyRing
from domain.common import clock, ecdsa, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, canonical_json, use_case
from domain.common.idempotency import run_once
from domain.common.ids import is_valid_uscc
from domain.credit import sm2_jws
from domain.credit.models import (
    CreditImport,
    CreditImportItem,
    CreditPartner,
    CreditPartnerKey,
    CreditRecord,
    JointPunishment,
)
from domain.credit.services import CreditKind, CreditRecorded, PunishmentLifted, PunishmentListed

FORMAT = "palmtrade.credit-exchange"
VERSION = 1
TYP = "credit-exchange+jws"
READ_SCOPE = "credit:read"
WRITE_SCOPE = "credit:write"
MAX_PACKAGE_CHARS = 4_000_000
MAX_ITEMS = 2000
EXPORT_LIMIT = 1000
_CODE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_ALGORITHM = {"EC": "ES256", "RSA": "RS256"}
ES256, SM2SM3 = "ES256", sm2_jws.ALG
_sm2_key: sm_ec.EllipticCurvePrivateKey | None = None


def configure_sm2(key_pem: bytes | None) -> None:
    """The platform's SM2 private key (PKCS#8 PEM) that signs SM2SM3 exports; None: SM2 exports are refused."""
    global _sm2_key
    _sm2_key = sm2_jws.load_private_key(key_pem) if key_pem is not None else None


def sm2_public_jwk() -> dict[str, Any] | None:
    """The public JWK (with its kid) partners register to verify this platform's SM2SM3 exports; None without a key."""
    if _sm2_key is None:
        return None
    public = sm2_jws.jwk_of(_sm2_key)
    return {**public, "kid": sm2_jws.thumbprint(public)}


_REF = 128


class CreditPartnerUnknown(DomainError):
    code = "CREDIT_PARTNER_UNKNOWN"
    message_zh = "信用包的签名密钥不属于本客户端的已认证信用联盟平台"
    message_en = "The package is not signed with a key of an accredited partner this client imports for"


class CreditPackageSignatureInvalid(DomainError):
    code = "CREDIT_PACKAGE_SIGNATURE_INVALID"
    message_zh = "信用包签名无效：内容被篡改或未以所示密钥签名"
    message_en = "Invalid package signature: altered, or not signed with the key it names"


class CreditPackageInvalid(DomainError):
    code = "CREDIT_PACKAGE_INVALID"
    message_zh = "信用包格式不正确：{reason}"
    message_en = "The package does not follow the exchange format: {reason}"
    exposed: ClassVar[dict[str, str]] = {"reason": "str"}


class CreditSm2KeyMissing(DomainError):
    code = "CREDIT_SM2_KEY_MISSING"
    message_zh = "本平台未配置 SM2 签名密钥（CREDIT_SM2_KEY_FILE），无法导出 SM2 签名的信用包"
    message_en = "This platform has no SM2 signing key (CREDIT_SM2_KEY_FILE): SM2-signed packages cannot be exported"


class CreditPartnerCodeTaken(DomainError):
    code = "CREDIT_PARTNER_CODE_TAKEN"
    message_zh = "该平台代码已登记"
    message_en = "A partner with this code is already accredited"


@dataclass(frozen=True, kw_only=True)
class CreditPartnerAccredited(DomainEvent):
    type = "credit_partner.accredited"
    object_type = "CreditPartner"
    code: str
    client_id: str
    kid: str


@dataclass(frozen=True, kw_only=True)
class CreditPartnerRevoked(DomainEvent):
    type = "credit_partner.revoked"
    object_type = "CreditPartner"
    code: str


@dataclass(frozen=True, kw_only=True)
class CreditExported(DomainEvent):
    type = "credit_exchange.exported"
    object_type = "CreditExport"
    sha256: str
    records: int
    punishments: int


@dataclass(frozen=True, kw_only=True)
class CreditImported(DomainEvent):
    type = "credit_exchange.imported"
    object_type = "CreditImport"
    partner: str
    sha256: str
    created: int
    updated: int
    unchanged: int
    pending: int


# ---------------------------------------------------------------- partners (operators)


def _operator(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR) or actor.user_id is None:
        raise PermissionDenied()


def _public_jwk(jwk: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if sm2_jws.is_sm2_jwk(jwk):
        try:
            return sm2_jws.public_jwk(jwk)
        except ValueError:
            raise keys.InvalidPublicKey() from None
    key = keys.public_key(jwk)
    public = key.as_dict(private=False)
    return key.thumbprint(), {k: v for k, v in public.items() if k in ("kty", "crv", "x", "y", "n", "e")}


@raises(CreditPartnerCodeTaken, keys.InvalidPublicKey, keys.KeyAlreadyRegistered)
@use_case("credit_partner.accredit", "CreditPartner")
async def accredit_partner(
    actor: Actor, code: str, name: str, client_id: str, jwk: dict[str, Any], idempotency_key: str | None = None
) -> CreditPartner:
    """Accredits a platform of the alliance (operators): its code, the integrator client that imports for it, and the
    public key its packages are signed with (P-256, RSA or SM2; kid: the key's RFC 7638 thumbprint)."""
    _operator(actor)
    label = required_text(name, "name", 200)
    partner_code = code.strip().lower() if isinstance(code, str) else ""
    if not _CODE.fullmatch(partner_code):
        raise InvalidInput(field="code")
    kid, public = _public_jwk(jwk)
    client = await IntegratorClient.get_or_none(client_id=client_id, is_active=True)
    if client is None:
        raise InvalidInput(field="clientId")
    request = {"code": partner_code, "name": label, "client": client_id, "kid": kid}

    async def create() -> dict[str, Any]:
        if await CreditPartner.exists(code=partner_code):
            raise CreditPartnerCodeTaken()
        if await CreditPartnerKey.exists(kid=kid):
            raise keys.KeyAlreadyRegistered()
        now = clock.now()
        partner = await CreditPartner.create(
            code=partner_code, name=label, client_id=client_id, accredited_by=actor.user_id, accredited_at=now
        )
        await CreditPartnerKey.create(
            partner_id=partner.id, kid=kid, public_jwk=public, created_by=actor.user_id, created_at=now
        )
        await events.record(
            CreditPartnerAccredited(
                object_id=str(partner.id), code=partner_code, client_id=client_id, kid=kid, audience=Audience()
            ),
            actor,
        )
        return {"id": partner.id}

    result, _ = await run_once(actor, idempotency_key, "credit_partner.accredit", request, create)
    return await CreditPartner.get(id=result["id"])


@raises(keys.InvalidPublicKey, keys.KeyAlreadyRegistered)
@use_case("credit_partner.key_add", "CreditPartner", lambda actor, partner_id, *a, **k: str(partner_id))
async def add_partner_key(actor: Actor, partner_id: int, jwk: dict[str, Any]) -> CreditPartner:
    """Registers another public key of an accredited partner (a key rotation at the partner); operators."""
    _operator(actor)
    kid, public = _public_jwk(jwk)
    async with in_transaction():
        partner = await CreditPartner.get_or_none(id=partner_id, revoked_at=None)
        if partner is None:
            raise NotFound()
        if await CreditPartnerKey.exists(kid=kid):
            raise keys.KeyAlreadyRegistered()
        await CreditPartnerKey.create(
            partner_id=partner.id, kid=kid, public_jwk=public, created_by=actor.user_id, created_at=clock.now()
        )
        await events.record(
            CreditPartnerAccredited(
                object_id=str(partner.id), code=partner.code, client_id=partner.client_id, kid=kid, audience=Audience()
            ),
            actor,
        )
    return partner


@raises()
@use_case("credit_partner.revoke", "CreditPartner", lambda actor, partner_id, *a, **k: str(partner_id))
async def revoke_partner(actor: Actor, partner_id: int) -> CreditPartner:
    """Withdraws a partner's accreditation (operators): nothing it sends is accepted afterwards; what it sent stays."""
    _operator(actor)
    async with in_transaction():
        partner = await CreditPartner.get_or_none(id=partner_id)
        if partner is None:
            raise NotFound()
        if partner.revoked_at is None:
            partner.revoked_at = clock.now()
            await partner.save(update_fields=["revoked_at"])
            await events.record(
                CreditPartnerRevoked(object_id=str(partner.id), code=partner.code, audience=Audience()), actor
            )
    return partner


async def partners(actor: Actor) -> list[CreditPartner]:
    """The accredited partners, with revoked ones: operators only."""
    _operator(actor)
    return await CreditPartner.all().order_by("code").prefetch_related("keys")


# ---------------------------------------------------------------- export (credit:read)


def _may(actor: Actor, scope: str) -> bool:
    return (actor.has(Role.OPERATOR) and actor.user_id is not None) or (
        actor.has(Role.INTEGRATOR) and scope in actor.scopes
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Export:
    jws: str
    kid: str
    sha256: str
    records: int
    punishments: int
    issued_at: datetime


async def export(
    actor: Actor, issuer: str, keyring: KeyRing, since: datetime | None = None, algorithm: str = ES256
) -> Export:
    """This platform's own records and punishments recorded (or lifted) since `since`, at most EXPORT_LIMIT of each,
    oldest first, signed with the platform's current key (ES256) or its SM2 key (SM2SM3): operators and integrators
    with credit:read. Imported items are not passed on (each platform sends what it recorded itself)."""
    if not _may(actor, READ_SCOPE):
        raise PermissionDenied()
    if algorithm not in (ES256, SM2SM3):
        raise InvalidInput(field="algorithm")
    sm2_key = _sm2_key
    if algorithm == SM2SM3 and sm2_key is None:
        raise CreditSm2KeyMissing()
    if since is not None:
        if since.tzinfo is None:
            raise InvalidInput(field="since")
        try:  # a time such as 0001-01-01T00:00:00+14:00 has no UTC instant to compare with
            since = since.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(field="since") from None
    records_q = CreditRecord.filter(source_platform=None)
    punishments_q = JointPunishment.filter(source_platform=None)
    if since is not None:
        records_q = records_q.filter(recorded_at__gt=since)
        punishments_q = punishments_q.filter(Q(recorded_at__gt=since) | Q(lifted_at__gt=since))
    records = await records_q.order_by("recorded_at", "id").limit(EXPORT_LIMIT).prefetch_related("organisation")
    punishments = await punishments_q.order_by("recorded_at", "id").limit(EXPORT_LIMIT).prefetch_related("organisation")
    now = clock.now()
    content = {
        "format": FORMAT,
        "v": VERSION,
        "issuer": issuer,
        "issuedAt": _iso(now),
        "records": [
            {
                "ref": f"record:{r.id}",
                "creditCode": r.organisation.credit_code,  # type: ignore[attr-defined]
                "name": r.organisation.name,  # type: ignore[attr-defined]
                "kind": r.kind,
                "category": r.category,
                "description": r.description,
                "source": r.source,
                "recordedAt": _iso(r.recorded_at),
            }
            for r in records
        ],
        "punishments": [
            {
                "ref": f"punishment:{p.id}",
                "creditCode": p.organisation.credit_code,  # type: ignore[attr-defined]
                "name": p.organisation.name,  # type: ignore[attr-defined]
                "reason": p.reason,
                "authority": p.authority,
                "documentNo": p.document_no,
                "startsAt": _iso(p.starts_at),
                "endsAt": _iso(p.ends_at),
                "liftedAt": _iso(p.lifted_at),
                "liftedReason": p.lifted_reason,
            }
            for p in punishments
        ],
    }
    if sm2_key is not None and algorithm == SM2SM3:
        kid = sm2_jws.thumbprint(sm2_jws.jwk_of(sm2_key))
        token = sm2_jws.sign({"alg": SM2SM3, "kid": kid, "typ": TYP}, canonical_json(content), sm2_key)
    else:
        kid = keyring.signing_kid(now)
        token = jws.serialize_compact(
            {"alg": ES256, "kid": kid, "typ": TYP},
            canonical_json(content),
            keyring.private_key(kid),
            registry=ecdsa.ES256,
        )
    sha = hashlib.sha256(token.encode()).hexdigest()
    async with in_transaction():
        await events.record(
            CreditExported(
                object_id=sha[:32],
                sha256=sha,
                records=len(records),
                punishments=len(punishments),
                audience=Audience(),
            ),
            actor,
        )
    return Export(token, kid, sha, len(records), len(punishments), now)


# ---------------------------------------------------------------- import (credit:write)


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # record | punishment
    ref: str
    credit_code: str
    data: dict[str, Any]

    @property
    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.data)).hexdigest()


def _text(d: dict[str, Any], name: str, limit: int, where: str, optional: bool = False) -> str | None:
    value = d.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CreditPackageInvalid(reason=f"{where}.{name}")
    return value.strip()


def _time(d: dict[str, Any], name: str, where: str, optional: bool = False) -> datetime | None:
    value = d.get(name)
    if value is None and optional:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise CreditPackageInvalid(reason=f"{where}.{name}") from None
    if at.tzinfo is None:
        raise CreditPackageInvalid(reason=f"{where}.{name}")
    return at


def _item(kind: str, d: Any, i: int) -> Item:
    where = f"{kind}s[{i}]"
    if not isinstance(d, dict):
        raise CreditPackageInvalid(reason=where)
    ref = _text(d, "ref", _REF, where)
    code = str(d.get("creditCode") or "").strip().upper()
    if not is_valid_uscc(code):
        raise CreditPackageInvalid(reason=f"{where}.creditCode")
    data: dict[str, Any] = {"name": _text(d, "name", 200, where, optional=True)}
    if kind == "record":
        if d.get("kind") not in (CreditKind.GOOD.value, CreditKind.BAD.value):
            raise CreditPackageInvalid(reason=f"{where}.kind")
        data |= {
            "kind": d["kind"],
            "category": _text(d, "category", 64, where),
            "description": _text(d, "description", 4000, where),
            "source": _text(d, "source", 200, where),
            "recordedAt": _iso(_time(d, "recordedAt", where)),
        }
    else:
        starts = _time(d, "startsAt", where)
        ends = _time(d, "endsAt", where, optional=True)
        if starts is None or (ends is not None and ends <= starts):
            raise CreditPackageInvalid(reason=f"{where}.endsAt")
        lifted = _time(d, "liftedAt", where, optional=True)
        data |= {
            "reason": _text(d, "reason", 4000, where),
            "authority": _text(d, "authority", 200, where),
            "documentNo": _text(d, "documentNo", 100, where),
            "startsAt": _iso(starts),
            "endsAt": _iso(ends),
            "liftedAt": _iso(lifted),
            "liftedReason": _text(d, "liftedReason", 4000, where, optional=True) if lifted is not None else None,
        }
    return Item(kind, str(ref), code, data)


def parse(content: Any, partner: CreditPartner) -> tuple[datetime, list[Item]]:
    """The items of a verified package, each checked; CreditPackageInvalid naming the first fault."""
    if not isinstance(content, dict) or content.get("format") != FORMAT or content.get("v") != VERSION:
        raise CreditPackageInvalid(reason="format")
    if content.get("issuer") != partner.code:
        raise CreditPackageInvalid(reason="issuer")
    issued = _time(content, "issuedAt", "package")
    records, punishments = content.get("records", []), content.get("punishments", [])
    if not isinstance(records, list) or not isinstance(punishments, list):
        raise CreditPackageInvalid(reason="records")
    if len(records) + len(punishments) > MAX_ITEMS:
        raise CreditPackageInvalid(reason="too many items")
    items = [_item("record", d, i) for i, d in enumerate(records)]
    items += [_item("punishment", d, i) for i, d in enumerate(punishments)]
    if len({(it.kind, it.ref) for it in items}) != len(items):
        raise CreditPackageInvalid(reason="duplicate ref")
    assert issued is not None
    return issued, items


async def verify(actor: Actor, token: str) -> tuple[CreditPartner, str, dict[str, Any]]:
    """The partner, the kid and the content of a package signed by a key of an accredited partner the caller imports
    for; CreditPartnerUnknown, CreditPackageSignatureInvalid or CreditPackageInvalid otherwise."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_PACKAGE_CHARS:
        raise CreditPackageInvalid(reason="size")
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, TypeError):
        raise CreditPackageInvalid(reason="not a compact JWS") from None
    kid = header.get("kid")
    row = (
        await CreditPartnerKey.get_or_none(kid=kid, revoked_at=None).prefetch_related("partner")
        if isinstance(kid, str)
        else None
    )
    partner: CreditPartner | None = row.partner if row is not None else None
    if row is None or partner is None or partner.revoked_at is not None:
        raise CreditPartnerUnknown()
    if actor.has(Role.INTEGRATOR) and actor.client_id != partner.client_id:
        raise CreditPartnerUnknown()
    public = dict(row.public_jwk)
    algorithm = SM2SM3 if sm2_jws.is_sm2_jwk(public) else _ALGORITHM[str(public["kty"])]
    if header.get("alg") != algorithm:
        raise CreditPackageSignatureInvalid()
    if algorithm == SM2SM3:
        try:
            return partner, str(kid), json.loads(sm2_jws.verify(token, public))
        except (InvalidSignature, ValueError, TypeError):
            raise CreditPackageSignatureInvalid() from None
    try:
        verified = jws.deserialize_compact(token, keys.public_key(dict(row.public_jwk)), algorithms=[algorithm])
        content = json.loads(verified.payload)
    except (JoseError, ValueError, TypeError):
        raise CreditPackageSignatureInvalid() from None
    return partner, str(kid), content


def _audience(org_id: int) -> Audience:
    return Audience(orgs=(org_id,), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value))


async def _materialise(item: CreditImportItem, partner_code: str, org_id: int, actor: Actor) -> None:
    """Creates the local row of an imported item for its organisation, with its source, and the usual event."""
    d = item.item
    if item.kind == "record":
        record = await CreditRecord.create(
            organisation_id=org_id,
            kind=d["kind"],
            category=d["category"],
            description=d["description"],
            source=f"{d['source']}（{partner_code}）"[:200],
            recorded_by=0,
            recorded_at=datetime.fromisoformat(d["recordedAt"]),
            source_platform=partner_code,
            source_ref=item.source_ref,
        )
        item.record_id = record.id
        await events.record(
            CreditRecorded(
                object_id=str(record.id), organisation_id=org_id, kind=d["kind"], audience=_audience(org_id)
            ),
            actor,
        )
    else:
        punishment = await JointPunishment.create(
            organisation_id=org_id,
            reason=d["reason"],
            authority=d["authority"],
            document_no=d["documentNo"],
            starts_at=datetime.fromisoformat(d["startsAt"]),
            ends_at=datetime.fromisoformat(d["endsAt"]) if d["endsAt"] else None,
            lifted_at=datetime.fromisoformat(d["liftedAt"]) if d["liftedAt"] else None,
            lifted_reason=d["liftedReason"],
            recorded_by=0,
            recorded_at=clock.now(),
            source_platform=partner_code,
            source_ref=item.source_ref,
        )
        item.punishment_id = punishment.id
        await events.record(
            PunishmentListed(object_id=str(punishment.id), organisation_id=org_id, audience=_audience(org_id)), actor
        )
    await item.save(update_fields=["record_id", "punishment_id"])


async def _update(item: CreditImportItem, fresh: Item, actor: Actor) -> None:
    """A changed item: its local row follows the source (a punishment lifted or shortened there, a record corrected)."""
    d = fresh.data
    if item.record_id is not None:
        record = await CreditRecord.get(id=item.record_id)
        record.update_from_dict({"kind": d["kind"], "category": d["category"], "description": d["description"]})
        await record.save()
        await events.record(
            CreditRecorded(
                object_id=str(record.id),
                organisation_id=record.organisation_id,
                kind=record.kind,
                audience=_audience(record.organisation_id),
            ),
            actor,
        )
    elif item.punishment_id is not None:
        p = await JointPunishment.get(id=item.punishment_id)
        was_lifted = p.lifted_at is not None
        p.ends_at = datetime.fromisoformat(d["endsAt"]) if d["endsAt"] else None
        if d["liftedAt"] and not was_lifted:
            p.lifted_at, p.lifted_reason = datetime.fromisoformat(d["liftedAt"]), d["liftedReason"]
        await p.save()
        event = PunishmentLifted if p.lifted_at is not None and not was_lifted else PunishmentListed
        await events.record(
            event(object_id=str(p.id), organisation_id=p.organisation_id, audience=_audience(p.organisation_id)), actor
        )
    item.item, item.digest, item.updated_at = fresh.data, fresh.digest, clock.now()
    await item.save(update_fields=["item", "digest", "updated_at"])


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    imported: CreditImport
    replayed: bool


@raises(CreditPartnerUnknown, CreditPackageSignatureInvalid, CreditPackageInvalid)
@use_case("credit_exchange.import", "CreditImport")
async def import_package(actor: Actor, token: str, idempotency_key: str | None = None) -> ImportOutcome:
    """Imports a partner's signed package (integrators with credit:write for their partner, or operators): every item
    checked before anything is stored; the same package again (or the same item again) changes nothing."""
    if not _may(actor, WRITE_SCOPE):
        raise PermissionDenied()
    partner, kid, content = await verify(actor, token)
    issued_at, items = parse(content, partner)
    sha = hashlib.sha256(token.encode()).hexdigest()

    async def run() -> dict[str, Any]:
        done = await CreditImport.get_or_none(partner_id=partner.id, package_sha256=sha)
        if done is not None:
            return {"id": done.id, "again": True}
        counts = {"created": 0, "updated": 0, "unchanged": 0, "pending": 0}
        codes = {it.credit_code for it in items}
        orgs = {o.credit_code: o.id for o in await Organisation.filter(credit_code__in=list(codes))}
        now = clock.now()
        for it in items:
            row = await CreditImportItem.get_or_none(partner_id=partner.id, kind=it.kind, source_ref=it.ref)
            if row is not None and row.digest == it.digest:
                counts["unchanged"] += 1
                continue
            if row is not None and (row.record_id or row.punishment_id):
                await _update(row, it, actor)
                counts["updated"] += 1
                continue
            if row is None:
                row = await CreditImportItem.create(
                    partner_id=partner.id,
                    kind=it.kind,
                    source_ref=it.ref,
                    credit_code=it.credit_code,
                    item=it.data,
                    digest=it.digest,
                    received_at=now,
                    updated_at=now,
                )
            else:
                row.item, row.digest, row.updated_at = it.data, it.digest, now
                await row.save(update_fields=["item", "digest", "updated_at"])
            org_id = orgs.get(it.credit_code)
            if org_id is None:
                counts["pending"] += 1
                continue
            await _materialise(row, partner.code, org_id, actor)
            counts["created"] += 1
        try:
            imported = await CreditImport.create(
                partner_id=partner.id,
                package_sha256=sha,
                kid=kid,
                issued_at=issued_at,
                counts=counts,
                imported_by=actor.label[:64],
                imported_at=now,
            )
        except IntegrityError:
            raise CreditPackageInvalid(reason="imported concurrently, send it again") from None
        await events.record(
            CreditImported(object_id=str(imported.id), partner=partner.code, sha256=sha, audience=Audience(), **counts),
            actor,
        )
        return {"id": imported.id, "again": False}

    result, replayed = await run_once(actor, idempotency_key, "credit_exchange.import", {"sha256": sha}, run)
    imported = await CreditImport.get(id=result["id"])
    return ImportOutcome(imported, replayed or bool(result["again"]))


async def attach_pending(now: datetime) -> int:
    """Imported items waiting for an entity that has registered here since: each becomes its local row (the daily run).
    Returns how many were attached."""
    waiting = await CreditImportItem.filter(record_id=None, punishment_id=None).order_by("id").limit(MAX_ITEMS)
    if not waiting:
        return 0
    orgs = {
        o.credit_code: o.id for o in await Organisation.filter(credit_code__in=list({w.credit_code for w in waiting}))
    }
    attached = 0
    for item in waiting:
        org_id = orgs.get(item.credit_code)
        if org_id is None:
            continue
        async with in_transaction():
            partner = await CreditPartner.get(id=item.partner_id)
            await _materialise(item, partner.code, org_id, SYSTEM)
        attached += 1
    return attached


async def imports(actor: Actor, limit: int = 50) -> list[CreditImport]:
    """The packages received, newest first: operators and supervisors."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    return await CreditImport.all().order_by("-imported_at", "-id").limit(limit).prefetch_related("partner")
