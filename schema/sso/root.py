"""Single sign-on's GraphQL: operators register, change and disable client systems (the secret shown once); users
list and withdraw the consents they gave. The protocol itself is served by api/oidc.py."""

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry
from strawberry.types import Info

from domain.certificates import sso_sign_in as certificate_sign_in
from domain.sso import services as sso
from domain.sso.models import SsoClient as SsoClientModel
from schema import fields
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsUser

SsoSystemKind: TypeAlias = sso.SystemKind
strawberry.enum(SsoSystemKind, name="SsoSystemKind", description="What kind of business system a client system is.")
describe_values(
    SsoSystemKind,
    {
        "ENGINEERING": "An engineering-construction trading system (工程建设).",
        "PROCUREMENT": "A government-procurement system (政府采购).",
        "PROPERTY_RIGHTS": "A property-rights exchange system (产权交易).",
        "OTHER": "Another business system of the platform.",
    },
)


@strawberry.type(description="A business system that signs users in with their PalmTrade account (OpenID Connect).")
class SsoClient:
    client_id: str = strawberry.field(description="The OAuth client_id.")
    name: str = strawberry.field(description="The name users see on the consent page.")
    kind: SsoSystemKind = strawberry.field(description="What kind of business system it is.")
    public: bool = strawberry.field(description="A public client (PKCE alone, no secret).")
    redirect_uris: list[str] = strawberry.field(description="Redirect URIs, matched exactly.")
    post_logout_redirect_uris: list[str] = strawberry.field(description="Where logout may return, matched exactly.")
    scopes: list[str] = strawberry.field(description="Scopes it may ask for (openid, profile, organisation, ...).")
    active: bool = strawberry.field(description="Disabled systems can neither sign users in nor refresh tokens.")
    created_at: datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def from_model(cls, m: SsoClientModel) -> "SsoClient":
        return cls(
            client_id=m.client_id,
            name=m.name,
            kind=SsoSystemKind(m.kind),
            public=not m.secret_hash,
            redirect_uris=list(m.redirect_uris),
            post_logout_redirect_uris=list(m.post_logout_redirect_uris),
            scopes=list(m.scopes),
            active=m.is_active,
            created_at=m.created_at,
        )


@strawberry.type(description="A consent the caller gave a client system, remembered until withdrawn.")
class SsoConsent:
    client_id: str = strawberry.field(description="The client system's client_id.")
    client_name: str = strawberry.field(description="The client system's name.")
    kind: SsoSystemKind = strawberry.field(description="What kind of business system it is.")
    scopes: list[str] = strawberry.field(description="What the caller allowed it to know.")
    granted_at: datetime = strawberry.field(description="When the consent was last given.")


@strawberry.input(description="Register a client system (operator).")
class SsoClientRegisterInput:
    name: str = strawberry.field(description="The name users see on the consent page.")
    kind: SsoSystemKind = strawberry.field(description="What kind of business system it is.")
    redirect_uris: list[str] = strawberry.field(description="Absolute https redirect URIs (http only on loopback).")
    scopes: list[str] = strawberry.field(
        description="Among openid, profile, organisation, roles, offline_access; openid is required."
    )
    post_logout_redirect_uris: list[str] = strawberry.field(
        default_factory=list, description="Where RP-initiated logout may send the user back."
    )
    public: bool = strawberry.field(default=False, description="A public client: no secret, PKCE alone.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="Registered; the secret is shown this once.")
class SsoClientRegistered:
    client: SsoClient = strawberry.field(description="The client system as registered.")
    client_secret: str | None = strawberry.field(
        description="The client secret, shown once; null for a public client or on a replay."
    )


SsoClientRegisterResult = result_union("SsoClientRegisterResult", SsoClientRegistered, [sso.register_client])


@strawberry.input(description="Change a client system (operator); fields left out stay as they are.")
class SsoClientUpdateInput:
    client_id: str = strawberry.field(description="The client system's client_id.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    redirect_uris: list[str] | None = strawberry.field(default=None, description="The new, complete list.")
    post_logout_redirect_uris: list[str] | None = strawberry.field(default=None, description="The new, complete list.")
    scopes: list[str] | None = strawberry.field(default=None, description="The new, complete list of scopes.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="The client system as it is now.")
class SsoClientChanged:
    client: SsoClient = strawberry.field(description="The client system after the change.")


SsoClientUpdateResult = result_union("SsoClientUpdateResult", SsoClientChanged, [sso.update_client])


@strawberry.input(description="Enable or disable a client system (operator).")
class SsoClientSetActiveInput:
    client_id: str = strawberry.field(description="The client system's client_id.")
    active: bool = strawberry.field(description="False: it can sign nobody in and its refresh tokens are revoked.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


SsoClientSetActiveResult = result_union("SsoClientSetActiveResult", SsoClientChanged, [sso.set_client_active])


@strawberry.input(description="Withdraw the consent given to a client system.")
class SsoConsentRevokeInput:
    client_id: str = strawberry.field(description="The client system's client_id.")
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="Withdrawn: the system asks again next time, and its refresh tokens stop working.")
class SsoConsentRevoked:
    client_id: str = strawberry.field(description="The client system's client_id.")


SsoConsentRevokeResult = result_union("SsoConsentRevokeResult", SsoConsentRevoked, [sso.revoke_consent])


@strawberry.input(description="Approve a business system's sign-in page with a certificate (扫码登录).")
class SsoCertificateApproveInput:
    challenge: str = strawberry.field(description="The challenge of the page's QR code (palmtrade://...).")
    certificate: str = strawberry.field(description="A certificate bound to the caller (PEM or base64 DER).")
    signature: str = strawberry.field(
        description="The signature of the text to sign (RSA, ECDSA or SM2, base64), as in authCertificateLogin."
    )


@strawberry.type(description="Approved: the sign-in page continues to the client system.")
class SsoCertificateApproved:
    client_id: str = strawberry.field(description="The client system's client_id.")
    client_name: str = strawberry.field(description="The client system the caller is signed in to.")


SsoCertificateApproveResult = result_union(
    "SsoCertificateApproveResult", SsoCertificateApproved, [certificate_sign_in.approve]
)


@strawberry.type
class SsoQueries:
    @fields.field(
        description="Every registered single sign-on client system (operator).", permission_classes=[IsOperator]
    )
    async def sso_clients(self, info: Info) -> list[SsoClient]:
        return [SsoClient.from_model(m) for m in await sso.list_clients(info.context.actor)]

    @fields.field(description="The consents the caller gave to client systems.", permission_classes=[IsUser])
    async def my_sso_consents(self, info: Info) -> list[SsoConsent]:
        return [
            SsoConsent(
                client_id=client.client_id,
                client_name=client.name,
                kind=SsoSystemKind(client.kind),
                scopes=list(consent.scopes),
                granted_at=consent.granted_at,
            )
            for consent, client in await sso.my_consents(info.context.actor)
        ]


@strawberry.type
class SsoMutations:
    @mutation(
        SsoClientRegisterResult,
        description="Register a single sign-on client system (operator); its secret is shown once.",
        permission_classes=[IsOperator],
    )
    async def sso_client_register(
        self,
        info: Info,
        input: Annotated[SsoClientRegisterInput, strawberry.argument(description="The system and its URIs.")],
    ) -> SsoClientRegistered:
        client, secret = await sso.register_client(
            info.context.actor,
            input.name,
            input.kind.value,
            input.redirect_uris,
            input.scopes,
            input.post_logout_redirect_uris,
            input.public,
            input.idempotency_key,
        )
        return SsoClientRegistered(client=SsoClient.from_model(client), client_secret=secret)

    @mutation(
        SsoClientUpdateResult,
        description="Change a single sign-on client system (operator).",
        permission_classes=[IsOperator],
    )
    async def sso_client_update(
        self,
        info: Info,
        input: Annotated[SsoClientUpdateInput, strawberry.argument(description="What changes.")],
    ) -> SsoClientChanged:
        client = await sso.update_client(
            info.context.actor,
            input.client_id,
            input.name,
            input.redirect_uris,
            input.post_logout_redirect_uris,
            input.scopes,
            input.idempotency_key,
        )
        return SsoClientChanged(client=SsoClient.from_model(client))

    @mutation(
        SsoClientSetActiveResult,
        description="Enable or disable a single sign-on client system (operator).",
        permission_classes=[IsOperator],
    )
    async def sso_client_set_active(
        self,
        info: Info,
        input: Annotated[SsoClientSetActiveInput, strawberry.argument(description="The system and its state.")],
    ) -> SsoClientChanged:
        client = await sso.set_client_active(info.context.actor, input.client_id, input.active, input.idempotency_key)
        return SsoClientChanged(client=SsoClient.from_model(client))

    @mutation(
        SsoConsentRevokeResult,
        description="Withdraw the caller's consent to a client system.",
        permission_classes=[IsUser],
    )
    async def sso_consent_revoke(
        self,
        info: Info,
        input: Annotated[SsoConsentRevokeInput, strawberry.argument(description="The client system.")],
    ) -> SsoConsentRevoked:
        await sso.revoke_consent(info.context.actor, input.client_id, input.idempotency_key)
        return SsoConsentRevoked(client_id=input.client_id)

    @mutation(
        SsoCertificateApproveResult,
        description="Approve a business system's sign-in page with a certificate bound to the caller (扫码登录): the "
        "challenge is verified as a certificate sign-in, and the page signs the caller in (amr cert).",
        permission_classes=[IsUser],
    )
    async def sso_certificate_approve(
        self,
        info: Info,
        input: Annotated[SsoCertificateApproveInput, strawberry.argument(description="The page's challenge, signed.")],
    ) -> SsoCertificateApproved:
        client = await certificate_sign_in.approve(
            info.context.actor, input.challenge, input.certificate, input.signature
        )
        return SsoCertificateApproved(client_id=client.client_id, client_name=client.name)
