"""Recognised CAs and their CRLs (operators), binding certificates, and sign-in by certificate."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.certificates import services
from schema.accounts.mutations import SignedIn
from schema.accounts.types import Session
from schema.certificates.types import BoundCertificate, CertificateAuthority, CertificateChallenge, RevocationList
from schema.describe import describe_values
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsUser
from schema.relay import int_id


@strawberry.input(description="Recognise a CA certificate (a root or an intermediate).")
class CertificateAuthorityRegisterInput:
    name: str = strawberry.field(description="A name for people, e.g. 山东CA 根证书.")
    certificate: str = strawberry.field(description="The CA certificate, PEM or base64 DER.")
    crl_url: str | None = strawberry.field(default=None, description="Where to fetch its CRL (http or https), if any.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The CA is recognised.")
class CertificateAuthorityRegistered:
    authority: CertificateAuthority = strawberry.field(description="The CA as recognised.")


CertificateAuthorityRegisterResult = result_union(
    "CertificateAuthorityRegisterResult", CertificateAuthorityRegistered, [services.register_authority]
)


@strawberry.input(description="A recognised CA.")
class CertificateAuthorityActivationInput:
    authority_id: strawberry.ID = strawberry.field(description="Global id of the CA.")


@strawberry.type(description="The CA as it now stands.")
class CertificateAuthorityUpdated:
    authority: CertificateAuthority = strawberry.field(description="The CA as it now stands.")


CertificateAuthorityActivationResult = result_union(
    "CertificateAuthorityActivationResult", CertificateAuthorityUpdated, [services.set_authority_active]
)


@strawberry.input(description="A CRL of a recognised CA.")
class CertificateCrlUploadInput:
    authority_id: strawberry.ID = strawberry.field(description="Global id of the CA that issued the CRL.")
    crl: str = strawberry.field(description="The CRL, PEM or base64 DER, issued and signed by that CA.")


@strawberry.type(description="The CRL is in force.")
class CertificateCrlUploaded:
    authority: CertificateAuthority = strawberry.field(description="The CA the CRL belongs to.")
    crl: RevocationList = strawberry.field(description="The CRL now in force.")


CertificateCrlUploadResult = result_union("CertificateCrlUploadResult", CertificateCrlUploaded, [services.upload_crl])


@strawberry.enum(description="What a challenge is for.")
class CertificateChallengePurpose(Enum):
    SIGN_IN = "sign_in"
    BIND = "bind"


describe_values(
    CertificateChallengePurpose,
    {
        "SIGN_IN": "Sign in with a certificate already bound to an account.",
        "BIND": "Bind a certificate to the signed-in user's account.",
    },
)


@strawberry.input(description="Ask for a one-time challenge (2 minutes).")
class CertificateChallengeInput:
    purpose: CertificateChallengePurpose = strawberry.field(
        description="Sign in with a certificate, or bind one to your account."
    )


@strawberry.type(description="Sign `challenge.toSign` with the certificate's key and send it back within 2 minutes.")
class CertificateChallengeIssued:
    challenge: CertificateChallenge = strawberry.field(description="The challenge to sign.")


CertificateChallengeResult = result_union(
    "CertificateChallengeResult", CertificateChallengeIssued, [services.issue_challenge]
)


@strawberry.input(description="Bind a certificate to your account, proving you hold its key.")
class CertificateBindInput:
    certificate: str = strawberry.field(description="PEM or base64 DER.")
    challenge: str = strawberry.field(description="A BIND challenge from certificateChallenge.")
    signature: str = strawberry.field(description="Base64 signature of the challenge's toSign.")


@strawberry.type(description="The certificate is bound: it signs you in and signs your acts.")
class CertificateBound:
    certificate: BoundCertificate = strawberry.field(description="The certificate as bound.")


CertificateBindResult = result_union("CertificateBindResult", CertificateBound, [services.bind])


@strawberry.input(description="Remove one of your bound certificates.")
class CertificateUnbindInput:
    certificate_id: strawberry.ID = strawberry.field(description="Global id of one of the caller's bound certificates.")


@strawberry.type(description="Unbound: it signs you in no more.")
class CertificateUnbound:
    ok: bool = strawberry.field(default=True, description="Always true: the certificate is unbound.")


CertificateUnbindResult = result_union("CertificateUnbindResult", CertificateUnbound, [services.unbind])


@strawberry.input(description="Sign in with a bound certificate; add an SMS code for a two-factor session.")
class AuthCertificateLoginInput:
    challenge: str = strawberry.field(description="A SIGN_IN challenge from certificateChallenge.")
    certificate: str = strawberry.field(description="PEM or base64 DER.")
    signature: str = strawberry.field(description="Base64 signature of the challenge's toSign.")
    sms_code: str | None = strawberry.field(
        default=None,
        description="The code authSmsCodeRequest sent to the account's phone: makes the session two-factor.",
    )


AuthCertificateLoginResult = result_union("AuthCertificateLoginResult", SignedIn, [services.sign_in])


@strawberry.type
class CertificateMutations:
    @mutation(
        CertificateAuthorityRegisterResult,
        description="Recognise a CA certificate, root or intermediate (operator).",
        permission_classes=[IsOperator],
    )
    async def certificate_authority_register(
        self,
        info: Info,
        input: Annotated[
            CertificateAuthorityRegisterInput,
            strawberry.argument(description="The CA certificate and its CRL address."),
        ],
    ) -> CertificateAuthorityRegistered:
        ca = await services.register_authority(
            info.context.actor, input.name, input.certificate, input.crl_url, input.idempotency_key
        )
        return CertificateAuthorityRegistered(authority=CertificateAuthority.from_model(ca))

    @mutation(
        CertificateAuthorityActivationResult,
        description="Withdraw the recognition of a CA (operator): its certificates validate no more.",
        permission_classes=[IsOperator],
    )
    async def certificate_authority_withdraw(
        self,
        info: Info,
        input: Annotated[
            CertificateAuthorityActivationInput, strawberry.argument(description="The CA to stop recognising.")
        ],
    ) -> CertificateAuthorityUpdated:
        return await _set_active(info, input, False)

    @mutation(
        CertificateAuthorityActivationResult,
        description="Recognise a withdrawn CA again (operator).",
        permission_classes=[IsOperator],
    )
    async def certificate_authority_reinstate(
        self,
        info: Info,
        input: Annotated[
            CertificateAuthorityActivationInput, strawberry.argument(description="The CA to recognise again.")
        ],
    ) -> CertificateAuthorityUpdated:
        return await _set_active(info, input, True)

    @mutation(CertificateCrlUploadResult, description="Upload a CA's CRL (operator).", permission_classes=[IsOperator])
    async def certificate_crl_upload(
        self,
        info: Info,
        input: Annotated[CertificateCrlUploadInput, strawberry.argument(description="The CA and its new CRL.")],
    ) -> CertificateCrlUploaded:
        ca_id = int_id(input.authority_id, "CertificateAuthority", "authorityId")
        row = await services.upload_crl(info.context.actor, ca_id, input.crl)
        ca = await services.authorities(info.context.actor).get(id=ca_id)
        return CertificateCrlUploaded(authority=CertificateAuthority.from_model(ca), crl=RevocationList.from_model(row))

    @mutation(
        CertificateChallengeResult,
        description="A one-time challenge to sign with a certificate (sign-in or binding).",
    )
    async def certificate_challenge(
        self,
        info: Info,
        input: Annotated[CertificateChallengeInput, strawberry.argument(description="What the challenge is for.")],
    ) -> CertificateChallengeIssued:
        issued = await services.issue_challenge(input.purpose.value)
        return CertificateChallengeIssued(
            challenge=CertificateChallenge(
                challenge=issued.challenge, to_sign=issued.to_sign, expires_at=issued.expires_at
            )
        )

    @mutation(
        CertificateBindResult,
        description="Bind a certificate to your account (an organisation certificate must carry your "
        "organisation's credit code).",
        permission_classes=[IsUser],
    )
    async def certificate_bind(
        self,
        info: Info,
        input: Annotated[
            CertificateBindInput, strawberry.argument(description="The certificate and the signed challenge.")
        ],
    ) -> CertificateBound:
        bound = await services.bind(info.context.actor, input.certificate, input.challenge, input.signature)
        return CertificateBound(certificate=BoundCertificate.from_model(bound))

    @mutation(
        CertificateUnbindResult, description="Remove one of your bound certificates.", permission_classes=[IsUser]
    )
    async def certificate_unbind(
        self,
        info: Info,
        input: Annotated[CertificateUnbindInput, strawberry.argument(description="The certificate to unbind.")],
    ) -> CertificateUnbound:
        await services.unbind(info.context.actor, int_id(input.certificate_id, "BoundCertificate", "certificateId"))
        return CertificateUnbound()

    @mutation(
        AuthCertificateLoginResult,
        description="Sign in with a bound certificate (amr cert); with the SMS code too, a two-factor session "
        "(amr cert + sms).",
    )
    async def auth_certificate_login(
        self,
        info: Info,
        input: Annotated[
            AuthCertificateLoginInput,
            strawberry.argument(description="The certificate and the signed sign-in challenge."),
        ],
    ) -> SignedIn:
        session = await services.sign_in(
            info.context.actor, input.challenge, input.certificate, input.signature, input.sms_code
        )
        return SignedIn(session=Session.from_domain(session))


async def _set_active(
    info: Info, input: CertificateAuthorityActivationInput, active: bool
) -> CertificateAuthorityUpdated:
    ca_id = int_id(input.authority_id, "CertificateAuthority", "authorityId")
    ca = await services.set_authority_active(info.context.actor, ca_id, active)
    return CertificateAuthorityUpdated(authority=CertificateAuthority.from_model(ca))
