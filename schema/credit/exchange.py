"""The credit exchange with partner platforms (信用联盟): signed export and import, and the partners operators accredit.
Format: mobile_contract/CREDIT_EXCHANGE.md."""

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.common.actors import Role
from domain.credit import exchange
from domain.credit.models import CreditImport as CreditImportModel
from domain.credit.models import CreditPartner as CreditPartnerModel
from schema import fields
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsSupervisorOrOperator
from schema.relay import int_id, to_global_id

DEFAULT_ISSUER = "palmtrade"


def _scoped(scope: str, what: str) -> type[BasePermission]:
    class Scoped(BasePermission):
        message = f"FORBIDDEN: only integrators with {scope} and operators may {what} / 无权访问信用交换"
        error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            actor = info.context.actor
            return actor.has(Role.OPERATOR) or (actor.has(Role.INTEGRATOR) and scope in actor.scopes)

    Scoped.__name__ = f"Scoped_{scope.replace(':', '_')}"
    return Scoped


CanExportCredit = _scoped(exchange.READ_SCOPE, "export credit records")
CanImportCredit = _scoped(exchange.WRITE_SCOPE, "import credit records")


def _issuer(info: Info) -> str:
    settings = getattr(info.context.services, "settings", None)
    return getattr(settings, "credit_platform_code", None) or DEFAULT_ISSUER


@strawberry.enum(description="How a credit-exchange package is signed (mobile_contract/CREDIT_EXCHANGE.md).")
class CreditPackageAlgorithm(Enum):
    ES256 = strawberry.enum_value(
        exchange.ES256, description="ECDSA P-256 with SHA-256 under the platform's key of /.well-known/jwks.json."
    )
    SM2SM3 = strawberry.enum_value(
        exchange.SM2SM3,
        description="SM2 with SM3 and the default user ID (GM/T 0003) under the platform's SM2 key: this platform's "
        "JWS convention (alg SM2SM3, r||s signature), see CREDIT_EXCHANGE.md.",
    )


@strawberry.type(description="A signed package of this platform's credit records and punishments.")
class CreditExport:
    package: str = strawberry.field(
        description="Compact JWS (ES256 or SM2SM3, typ credit-exchange+jws) over the canonical JSON content; verify "
        "ES256 with /.well-known/jwks.json, SM2SM3 with the key of creditExchangeSm2Key."
    )
    kid: str = strawberry.field(description="The platform key that signed it (the JWS `kid`).")
    sha256: str = strawberry.field(description="SHA-256 of the package text.")
    records: int = strawberry.field(description="How many credit records it carries.")
    punishments: int = strawberry.field(description="How many joint punishments it carries.")
    issued_at: datetime = strawberry.field(description="When it was signed; pass it as `since` next time.")


@strawberry.type(description="A public key a partner platform signs its packages with.")
class CreditPartnerKey:
    kid: str = strawberry.field(description="RFC 7638 thumbprint: the `kid` header of the partner's packages.")
    public_jwk: JSON = strawberry.field(description="The public key as a JWK.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null while in use.")


@strawberry.type(description="A platform of the credit alliance, accredited by an operator.")
class CreditPartner:
    id: strawberry.ID = strawberry.field(description="Global id of the partner.")
    code: str = strawberry.field(description="Its platform code: the `issuer` of its packages.")
    name: str = strawberry.field(description="Its name.")
    client_id: str = strawberry.field(description="The integrator client that imports for it (credit:write).")
    accredited_at: datetime = strawberry.field(description="When it was accredited.")
    revoked_at: datetime | None = strawberry.field(description="When its accreditation was withdrawn.")
    keys: list[CreditPartnerKey] = strawberry.field(description="Its public keys.")

    @classmethod
    def from_model(cls, m: CreditPartnerModel, with_keys: bool = True) -> "CreditPartner":
        return cls(
            id=strawberry.ID(to_global_id("CreditPartner", m.id)),
            code=m.code,
            name=m.name,
            client_id=m.client_id,
            accredited_at=m.accredited_at,
            revoked_at=m.revoked_at,
            keys=[
                CreditPartnerKey(
                    kid=k.kid, public_jwk=JSON(dict(k.public_jwk)), created_at=k.created_at, revoked_at=k.revoked_at
                )
                for k in (m.keys if with_keys else [])  # type: ignore[attr-defined]
            ],
        )


@strawberry.type(description="A package received from a partner, and what it did here.")
class CreditImport:
    id: strawberry.ID = strawberry.field(description="Global id of the import.")
    partner_code: str = strawberry.field(description="The partner that sent it.")
    sha256: str = strawberry.field(description="SHA-256 of the package text.")
    kid: str = strawberry.field(description="The partner key that signed it.")
    issued_at: datetime = strawberry.field(description="When the partner signed it.")
    imported_at: datetime = strawberry.field(description="When it was received.")
    created: int = strawberry.field(description="Items that became a record or a punishment here.")
    updated: int = strawberry.field(description="Items received before that changed at the source.")
    unchanged: int = strawberry.field(description="Items received before, unchanged.")
    pending: int = strawberry.field(
        description="Items about an entity not registered here: attached once it registers."
    )

    @classmethod
    def from_model(cls, m: CreditImportModel, partner_code: str) -> "CreditImport":
        c = m.counts
        return cls(
            id=strawberry.ID(to_global_id("CreditImport", m.id)),
            partner_code=partner_code,
            sha256=m.package_sha256,
            kid=m.kid,
            issued_at=m.issued_at,
            imported_at=m.imported_at,
            created=int(c.get("created", 0)),
            updated=int(c.get("updated", 0)),
            unchanged=int(c.get("unchanged", 0)),
            pending=int(c.get("pending", 0)),
        )


@strawberry.type
class CreditExchangeQueries:
    @fields.field(
        description="This platform's credit records and joint punishments (since a time), signed: integrators with "
        "credit:read and operators.",
        permission_classes=[CanExportCredit],
    )
    async def credit_exchange_export(
        self,
        info: Info,
        since: Annotated[
            datetime | None,
            strawberry.argument(description="Only what was recorded (or lifted) after this; null: everything."),
        ] = None,
        algorithm: Annotated[
            CreditPackageAlgorithm,
            strawberry.argument(
                description="ES256 (default), or SM2SM3 where the platform has an SM2 key (else "
                "CREDIT_SM2_KEY_MISSING)."
            ),
        ] = CreditPackageAlgorithm.ES256,
    ) -> CreditExport:
        out = await exchange.export(
            info.context.actor,
            _issuer(info),
            info.context.services.keyring,
            since,
            exchange.SM2SM3 if algorithm is CreditPackageAlgorithm.SM2SM3 else exchange.ES256,
        )
        return CreditExport(
            package=out.jws,
            kid=out.kid,
            sha256=out.sha256,
            records=out.records,
            punishments=out.punishments,
            issued_at=out.issued_at,
        )

    @fields.field(
        description="The public JWK (kty EC, crv SM2, x, y, kid) of the key this platform signs SM2SM3 packages with, "
        "for partners to register; null when the platform has no SM2 key: integrators with credit:read and operators.",
        permission_classes=[CanExportCredit],
    )
    async def credit_exchange_sm2_key(self, info: Info) -> JSON | None:
        key = exchange.sm2_public_jwk()
        return None if key is None else JSON(key)

    @fields.field(description="The accredited partner platforms: operators.", permission_classes=[IsOperator])
    async def credit_partners(self, info: Info) -> list[CreditPartner]:
        return [CreditPartner.from_model(p) for p in await exchange.partners(info.context.actor)]

    @fields.field(
        description="The packages received from partners, newest first: operators and supervisors.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def credit_imports(self, info: Info) -> list[CreditImport]:
        return [CreditImport.from_model(i, i.partner.code) for i in await exchange.imports(info.context.actor)]


@strawberry.input(description="Accredit a partner platform of the credit alliance.")
class CreditPartnerAccreditInput:
    code: str = strawberry.field(description="Its platform code, the `issuer` of its packages (2-64 of a-z 0-9 . _ -).")
    name: str = strawberry.field(description="Its name.")
    client_id: str = strawberry.field(description="The integrator client (with credit:write) that imports for it.")
    jwk: JSON = strawberry.field(
        description="Its public signing key as a JWK: P-256 EC, RSA of at least 2048 bits, or SM2 "
        '({"kty": "EC", "crv": "SM2", "x", "y"}).'
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="Register another public key of a partner (a key rotation at the partner).")
class CreditPartnerKeyAddInput:
    partner_id: strawberry.ID = strawberry.field(description="Global id of the partner.")
    jwk: JSON = strawberry.field(description="The public key as a JWK.")


@strawberry.input(description="Withdraw a partner's accreditation: nothing it sends is accepted afterwards.")
class CreditPartnerRevokeInput:
    partner_id: strawberry.ID = strawberry.field(description="Global id of the partner.")


@strawberry.type(description="The partner as it now stands.")
class CreditPartnerChanged:
    partner: CreditPartner = strawberry.field(description="The partner, with its keys.")


CreditPartnerResult = result_union(
    "CreditPartnerResult",
    CreditPartnerChanged,
    [exchange.accredit_partner, exchange.add_partner_key, exchange.revoke_partner],
)


@strawberry.input(description="Import a partner's signed package.")
class CreditExchangeImportInput:
    package: str = strawberry.field(description="The compact JWS the partner signed (CREDIT_EXCHANGE.md).")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Imported (or recognised as imported before: nothing changed).")
class CreditExchangeImported:
    imported: CreditImport = strawberry.field(description="The import and what it did.")
    replayed: bool = strawberry.field(description="True when this package had been imported already.")


CreditExchangeImportResult = result_union(
    "CreditExchangeImportResult", CreditExchangeImported, [exchange.import_package]
)


def _jwk(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}  # anything else is refused as INVALID_PUBLIC_KEY


async def _partner(partner_id: int) -> CreditPartnerModel:
    return await CreditPartnerModel.get(id=partner_id).prefetch_related("keys")


@strawberry.type
class CreditExchangeMutations:
    @mutation(CreditPartnerResult, description="Accredit a partner platform.", permission_classes=[IsOperator])
    async def credit_partner_accredit(
        self,
        info: Info,
        input: Annotated[CreditPartnerAccreditInput, strawberry.argument(description="The partner and its key.")],
    ) -> CreditPartnerChanged:
        partner = await exchange.accredit_partner(
            info.context.actor, input.code, input.name, input.client_id, _jwk(input.jwk), input.idempotency_key
        )
        return CreditPartnerChanged(partner=CreditPartner.from_model(await _partner(partner.id)))

    @mutation(CreditPartnerResult, description="Add a partner's public key.", permission_classes=[IsOperator])
    async def credit_partner_key_add(
        self,
        info: Info,
        input: Annotated[CreditPartnerKeyAddInput, strawberry.argument(description="The partner and the key.")],
    ) -> CreditPartnerChanged:
        pid = int_id(input.partner_id, "CreditPartner", "partnerId")
        partner = await exchange.add_partner_key(info.context.actor, pid, _jwk(input.jwk))
        return CreditPartnerChanged(partner=CreditPartner.from_model(await _partner(partner.id)))

    @mutation(CreditPartnerResult, description="Withdraw a partner's accreditation.", permission_classes=[IsOperator])
    async def credit_partner_revoke(
        self,
        info: Info,
        input: Annotated[CreditPartnerRevokeInput, strawberry.argument(description="The partner.")],
    ) -> CreditPartnerChanged:
        pid = int_id(input.partner_id, "CreditPartner", "partnerId")
        partner = await exchange.revoke_partner(info.context.actor, pid)
        return CreditPartnerChanged(partner=CreditPartner.from_model(await _partner(partner.id)))

    @mutation(
        CreditExchangeImportResult,
        description="Import a partner platform's signed credit package (一处失信、处处受限).",
        permission_classes=[CanImportCredit],
    )
    async def credit_exchange_import(
        self,
        info: Info,
        input: Annotated[CreditExchangeImportInput, strawberry.argument(description="The signed package.")],
    ) -> CreditExchangeImported:
        outcome = await exchange.import_package(info.context.actor, input.package, input.idempotency_key)
        partner = await CreditPartnerModel.get(id=outcome.imported.partner_id)
        return CreditExchangeImported(
            imported=CreditImport.from_model(outcome.imported, partner.code), replayed=outcome.replayed
        )
