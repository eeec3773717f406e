"""Partner keys: guarantors and banks register the public keys they sign letters and callbacks with."""

from datetime import datetime
from typing import Annotated, Any, TypeAlias

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.accounts import keys
from domain.accounts.models import PartnerKey as PartnerKeyModel
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsUser
from schema.relay import Node, int_id, node_resolver

KeyPurposeType: TypeAlias = keys.KeyPurpose
strawberry.enum(
    KeyPurposeType, name="KeyPurpose", description="What the key signs: guarantee letters or bank callbacks."
)
describe_values(
    KeyPurposeType,
    {
        "GUARANTEE_LETTER": "Signs guarantee letters (保函) a guarantor issues.",
        "BANK_CALLBACK": "Signs a bank's callbacks about deposits paid into lots' virtual accounts.",
    },
)


@strawberry.type(description="A public key an organisation signs with; the private key never reaches the platform.")
class PartnerKey(Node):
    kid: str = strawberry.field(description="The key id (its RFC 7638 thumbprint): the `kid` header of each JWS.")
    purpose: KeyPurposeType = strawberry.field(description="What the key may sign.")
    public_jwk: JSON = strawberry.field(description="The public key as a JWK.")
    created_at: datetime = strawberry.field(description="When the key was registered.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null while in use.")

    @classmethod
    def from_model(cls, m: PartnerKeyModel) -> "PartnerKey":
        return cls(
            _pk=m.id,
            kid=m.kid,
            purpose=KeyPurposeType(m.purpose),
            public_jwk=JSON(dict(m.public_jwk)),
            created_at=m.created_at,
            revoked_at=m.revoked_at,
        )


@strawberry.input(description="A public JWK (P-256 EC or RSA >= 2048 bits) and what it will sign.")
class PartnerKeyRegisterInput:
    purpose: KeyPurposeType = strawberry.field(description="What the key will sign.")
    jwk: JSON = strawberry.field(
        description="The public key as a JWK: P-256 EC or RSA of at least 2048 bits; never a private key."
    )


@strawberry.type(description="Registered.")
class PartnerKeyRegistered:
    key: PartnerKey = strawberry.field(description="The key as registered.")


PartnerKeyRegisterResult = result_union("PartnerKeyRegisterResult", PartnerKeyRegistered, [keys.register_key])


@strawberry.input(description="Revoke a key: nothing signed with it is accepted afterwards.")
class PartnerKeyRevokeInput:
    key_id: strawberry.ID = strawberry.field(description="Global id of one of the organisation's keys.")


@strawberry.type(description="Revoked.")
class PartnerKeyRevoked:
    key: PartnerKey = strawberry.field(description="The key as revoked.")


PartnerKeyRevokeResult = result_union("PartnerKeyRevokeResult", PartnerKeyRevoked, [keys.revoke_key])


@strawberry.type
class PartnerKeyQueries:
    @fields.field(description="The keys of the caller's organisation.", permission_classes=[IsUser])
    async def my_partner_keys(self, info: Info) -> list[PartnerKey]:
        rows = await PartnerKeyModel.filter(organisation_id=info.context.actor.org_id or -1).order_by("-id")
        return [PartnerKey.from_model(r) for r in rows]


@strawberry.type
class PartnerKeyMutations:
    @mutation(
        PartnerKeyRegisterResult,
        description="Register a public signing key (guarantors and banks).",
        permission_classes=[IsUser],
    )
    async def partner_key_register(
        self,
        info: Info,
        input: Annotated[
            PartnerKeyRegisterInput, strawberry.argument(description="The public key and what it will sign.")
        ],
    ) -> PartnerKeyRegistered:
        jwk: Any = input.jwk
        row = await keys.register_key(info.context.actor, input.purpose.value, jwk)
        return PartnerKeyRegistered(key=PartnerKey.from_model(row))

    @mutation(
        PartnerKeyRevokeResult,
        description="Revoke one of the caller organisation's keys.",
        permission_classes=[IsUser],
    )
    async def partner_key_revoke(
        self, info: Info, input: Annotated[PartnerKeyRevokeInput, strawberry.argument(description="The key to revoke.")]
    ) -> PartnerKeyRevoked:
        row = await keys.revoke_key(info.context.actor, int_id(input.key_id, "PartnerKey", "keyId"))
        return PartnerKeyRevoked(key=PartnerKey.from_model(row))


@node_resolver("PartnerKey")
async def _partner_key_node(info: Info, pk: str) -> PartnerKey | None:
    org_id = info.context.actor.org_id
    if not pk.isdigit() or org_id is None:
        return None
    found = await PartnerKeyModel.get_or_none(id=int(pk), organisation_id=org_id)
    return PartnerKey.from_model(found) if found else None
