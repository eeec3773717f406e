"""Recognised CAs, the caller's certificates, and checking a stored act signature again."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.certificates import services, signatures
from domain.common.errors import DomainError
from schema import fields
from schema.certificates.types import BoundCertificate, CertificateAuthority, SignatureVerification
from schema.permissions import IsSupervisorOrOperator, IsUser
from schema.relay import Before, Connection, Last, int_id, paginate


@strawberry.type
class CertificateQueries:
    @fields.field(
        description="The recognised CAs, newest first (operators and supervisors).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def certificate_authorities(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many authorities to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last authority already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[CertificateAuthority]:
        return await paginate(
            info, services.authorities(info.context.actor), first, after, CertificateAuthority.from_model, last, before
        )

    @fields.field(description="The certificates bound to your account.", permission_classes=[IsUser])
    async def my_certificates(self, info: Info) -> list[BoundCertificate]:
        return [BoundCertificate.from_model(b) for b in await services.my_certificates(info.context.actor)]

    @fields.field(
        description="Check a stored act signature again: the signature over its content with its certificate, and "
        "its audit entry's digest. Null for a signature the caller may not see.",
    )
    async def signature_verify(
        self,
        info: Info,
        signature_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the act signature.")],
    ) -> SignatureVerification | None:
        try:
            row = await signatures.visible_signature(
                info.context.actor, int_id(signature_id, "ActSignature", "signatureId")
            )
        except DomainError:
            return None
        return SignatureVerification.from_domain(await signatures.recheck(row))
