"""One-form registration, review, sign-in, sessions, integrator clients and experts."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.accounts import credentials, experts, integrators, organisations, sessions
from schema.accounts.types import (
    CatalogueCategory,
    Expert,
    ExpertSession,
    IntegratorClient,
    Organisation,
    OrganisationKind,
    Session,
    User,
)
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsUser
from schema.relay import int_id


@strawberry.input(description="The one form (一表申请): the organisation and its first user.")
class OrganisationRegisterInput:
    credit_code: str = strawberry.field(description="Unified social credit code (GB 32100-2015).")
    name: str = strawberry.field(description="Registered name.")
    region_code: str = strawberry.field(description="GB/T 2260 region code, 6 digits.")
    kinds: list[OrganisationKind] = strawberry.field(description="bidder, tenderer, agency, guarantor.")
    contact_name: str = strawberry.field(description="Name of the first user.")
    phone: str = strawberry.field(description="Mainland mobile number of the first user (their login).")
    password: str = strawberry.field(description="At least 8 characters with letters and digits.")
    supervised_categories: list[CatalogueCategory] = strawberry.field(
        default_factory=list, description="Supervisors only (opened by the operator)."
    )
    idempotency_key: str | None = strawberry.field(default=None, description="Retry safely (≤ 255 chars).")


@strawberry.type(description="The organisation awaits review; its user can sign in meanwhile.")
class OrganisationRegistered:
    organisation: Organisation = strawberry.field(description="The organisation as registered, pending review.")
    user: User = strawberry.field(description="Its first user, who signs in with the phone number given.")


OrganisationRegisterResult = result_union(
    "OrganisationRegisterResult", OrganisationRegistered, [organisations.register_organisation]
)


@strawberry.input(description="Approve a pending organisation.")
class OrganisationApproveInput:
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the pending organisation.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.input(description="Reject a pending organisation with a reason.")
class OrganisationRejectInput:
    organisation_id: strawberry.ID = strawberry.field(description="Global id of the pending organisation.")
    reason: str = strawberry.field(description="Why it is rejected; the applicant reads it.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The review was recorded.")
class OrganisationReviewed:
    organisation: Organisation = strawberry.field(description="The organisation after the review.")


OrganisationReviewResult = result_union(
    "OrganisationReviewResult",
    OrganisationReviewed,
    [organisations.approve_organisation, organisations.reject_organisation],
)


@strawberry.input(description="Sign in with phone and password.")
class AuthLoginInput:
    phone: str = strawberry.field(description="The mainland mobile number the user signs in with.")
    password: str = strawberry.field(description="The user's password.")


@strawberry.type(description="The user is signed in: the new session and its tokens.")
class SignedIn:
    session: Session = strawberry.field(description="The new session's access and refresh tokens.")


AuthLoginResult = result_union("AuthLoginResult", SignedIn, [sessions.login_with_password])


@strawberry.input(description="Ask for a 6-digit sign-in code by SMS.")
class AuthSmsCodeRequestInput:
    phone: str = strawberry.field(description="The mainland mobile number of the account.")


@strawberry.type(description="If the number has an account, a code is on its way.")
class SmsCodeSent:
    code_expires_at: datetime = strawberry.field(description="When the code expires.")
    next_request_at: datetime = strawberry.field(description="When another code may be requested.")


AuthSmsCodeRequestResult = result_union("AuthSmsCodeRequestResult", SmsCodeSent, [sessions.request_sms_code])


@strawberry.input(description="Sign in with an SMS code.")
class AuthSmsLoginInput:
    phone: str = strawberry.field(description="The mobile number the code was sent to.")
    code: str = strawberry.field(description="The 6-digit code from the text.")


AuthSmsLoginResult = result_union("AuthSmsLoginResult", SignedIn, [sessions.login_with_sms_code])


@strawberry.input(description="Exchange a refresh token for new tokens (the old one stops working).")
class AuthRefreshInput:
    refresh_token: str = strawberry.field(description="The refresh token of the session.")


AuthRefreshResult = result_union("AuthRefreshResult", SignedIn, [sessions.refresh_session])


@strawberry.input(description="End a session.")
class AuthLogoutInput:
    refresh_token: str | None = strawberry.field(default=None, description="Defaults to the caller's session.")


@strawberry.type(description="Every refresh token of the session is revoked.")
class LoggedOut:
    ok: bool = strawberry.field(default=True, description="Always true: the session is over.")


AuthLogoutResult = result_union("AuthLogoutResult", LoggedOut, [sessions.logout])


@strawberry.input(description="Change the caller's password.")
class PasswordChangeInput:
    current_password: str = strawberry.field(description="The password the caller signs in with now.")
    new_password: str = strawberry.field(
        description="At least 8 characters with letters and digits, other than the current one."
    )


@strawberry.type(
    description="Changed: the caller's other sessions are signed out and client systems' sign-ins (single sign-on) "
    "revoked; this session continues."
)
class PasswordChanged:
    revoked: int = strawberry.field(description="How many refresh tokens (the app's and client systems') stopped.")


PasswordChangeResult = result_union("PasswordChangeResult", PasswordChanged, [credentials.change_password])


@strawberry.input(description="Reset a forgotten password with an SMS code (忘记密码).")
class PasswordResetInput:
    phone: str = strawberry.field(description="The account's mobile number.")
    code: str = strawberry.field(description="The latest code texted to it (authSmsCodeRequest).")
    new_password: str = strawberry.field(description="At least 8 characters with letters and digits.")


PasswordResetResult = result_union("PasswordResetResult", PasswordChanged, [credentials.reset_password])


@strawberry.input(description="Create client credentials for an integrator.")
class IntegratorClientCreateInput:
    name: str = strawberry.field(description="A name for the integrator's client, for people.")
    scopes: list[str] = strawberry.field(description="What the client may do, e.g. feed:read.")
    rate_per_minute: int = strawberry.field(default=600, description="Requests per minute the client may make.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Created; the secret is shown this once.")
class IntegratorClientCreated:
    client: IntegratorClient = strawberry.field(description="The new client and its client id.")
    client_secret: str | None = strawberry.field(description="Shown once; null on an idempotent replay.")


IntegratorClientCreateResult = result_union(
    "IntegratorClientCreateResult", IntegratorClientCreated, [integrators.create_integrator_client]
)


@strawberry.input(description="Add an expert to the pool.")
class ExpertAddInput:
    name: str = strawberry.field(description="The expert's name.")
    id_number: str = strawberry.field(description="Resident identity number; stored only as a keyed hash.")
    phone: str = strawberry.field(
        description="The expert's mainland mobile number: sign-in codes and notices go there."
    )
    specialties: list[str] = strawberry.field(description="The specialties the expert is drawn for.")
    employer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of the expert's employer, if registered: the expert is not drawn for lots it takes part "
        "in (回避).",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The expert is in the pool.")
class ExpertAdded:
    expert: Expert = strawberry.field(description="The expert as added to the pool.")


ExpertAddResult = result_union("ExpertAddResult", ExpertAdded, [experts.add_expert])


@strawberry.input(description="Ask for an expert's 6-digit sign-in code by SMS.")
class ExpertCodeRequestInput:
    phone: str = strawberry.field(description="The mobile number the expert is registered with in the pool.")


ExpertCodeRequestResult = result_union("ExpertCodeRequestResult", SmsCodeSent, [experts.request_expert_code])


@strawberry.input(description="Sign in as an evaluation expert with an SMS code.")
class ExpertLoginInput:
    phone: str = strawberry.field(description="The mobile number the expert is registered with.")
    code: str = strawberry.field(description="The 6-digit code from expertCodeRequest.")


@strawberry.type(description="The expert is signed in for an evaluation sitting.")
class ExpertSignedIn:
    session: ExpertSession = strawberry.field(description="The expert's session tokens.")


ExpertLoginResult = result_union("ExpertLoginResult", ExpertSignedIn, [experts.login_expert])


@strawberry.type
class AccountMutations:
    @mutation(OrganisationRegisterResult, description="One-form registration of an organisation and its first user.")
    async def organisation_register(
        self,
        info: Info,
        input: Annotated[
            OrganisationRegisterInput,
            strawberry.argument(description="The organisation and its first user (一表申请)."),
        ],
    ) -> OrganisationRegistered:
        form = organisations.RegistrationForm(
            credit_code=input.credit_code,
            name=input.name,
            region_code=input.region_code,
            kinds=[k.value for k in input.kinds],
            contact_name=input.contact_name,
            phone=input.phone,
            password=input.password,
            supervised_categories=[c.value for c in input.supervised_categories],
        )
        org, user, _ = await organisations.register_organisation(info.context.actor, form, input.idempotency_key)
        return OrganisationRegistered(organisation=Organisation.from_model(org), user=User.from_model(user))

    @mutation(
        OrganisationReviewResult,
        description="Approve a pending organisation (operator).",
        permission_classes=[IsOperator],
    )
    async def organisation_approve(
        self,
        info: Info,
        input: Annotated[
            OrganisationApproveInput, strawberry.argument(description="The pending organisation to approve.")
        ],
    ) -> OrganisationReviewed:
        org_id = int_id(input.organisation_id, "Organisation", "organisationId")
        org = await organisations.approve_organisation(info.context.actor, org_id, input.idempotency_key)
        return OrganisationReviewed(organisation=Organisation.from_model(org))

    @mutation(
        OrganisationReviewResult,
        description="Reject a pending organisation (operator).",
        permission_classes=[IsOperator],
    )
    async def organisation_reject(
        self,
        info: Info,
        input: Annotated[
            OrganisationRejectInput, strawberry.argument(description="The pending organisation to reject, and why.")
        ],
    ) -> OrganisationReviewed:
        org_id = int_id(input.organisation_id, "Organisation", "organisationId")
        org = await organisations.reject_organisation(info.context.actor, org_id, input.reason, input.idempotency_key)
        return OrganisationReviewed(organisation=Organisation.from_model(org))

    @mutation(AuthLoginResult, description="Sign in with phone number and password.")
    async def auth_login(
        self,
        info: Info,
        input: Annotated[AuthLoginInput, strawberry.argument(description="Phone number and password.")],
    ) -> SignedIn:
        session = await sessions.login_with_password(info.context.actor, input.phone, input.password)
        return SignedIn(session=Session.from_domain(session))

    @mutation(AuthSmsCodeRequestResult, description="Send a one-time sign-in code by SMS (5 minutes, 5 tries).")
    async def auth_sms_code_request(
        self,
        info: Info,
        input: Annotated[
            AuthSmsCodeRequestInput, strawberry.argument(description="The phone number to text a code to.")
        ],
    ) -> SmsCodeSent:
        sent = await sessions.request_sms_code(info.context.actor, input.phone)
        return SmsCodeSent(code_expires_at=sent.expires_at, next_request_at=sent.retry_after)

    @mutation(AuthSmsLoginResult, description="Sign in with an SMS code.")
    async def auth_sms_login(
        self,
        info: Info,
        input: Annotated[AuthSmsLoginInput, strawberry.argument(description="Phone number and the code received.")],
    ) -> SignedIn:
        session = await sessions.login_with_sms_code(info.context.actor, input.phone, input.code)
        return SignedIn(session=Session.from_domain(session))

    @mutation(AuthRefreshResult, description="Rotate the refresh token; a reused one revokes the session.")
    async def auth_refresh(
        self,
        info: Info,
        input: Annotated[AuthRefreshInput, strawberry.argument(description="The refresh token to exchange.")],
    ) -> SignedIn:
        session = await sessions.refresh_session(info.context.actor, input.refresh_token)
        return SignedIn(session=Session.from_domain(session))

    @mutation(AuthLogoutResult, description="Sign out: the session's refresh tokens stop working.")
    async def auth_logout(
        self,
        info: Info,
        input: Annotated[
            AuthLogoutInput, strawberry.argument(description="The session to end; the caller's by default.")
        ],
    ) -> LoggedOut:
        await sessions.logout(info.context.actor, input.refresh_token)
        return LoggedOut()

    @mutation(
        PasswordChangeResult,
        description="Change the caller's password (limited as sign-ins are): every other session of the caller and "
        "every client system's sign-in end; this session continues. The caller is told.",
        permission_classes=[IsUser],
    )
    async def password_change(
        self,
        info: Info,
        input: Annotated[PasswordChangeInput, strawberry.argument(description="The current and the new password.")],
    ) -> PasswordChanged:
        revoked = await credentials.change_password(info.context.actor, input.current_password, input.new_password)
        return PasswordChanged(revoked=revoked)

    @mutation(
        PasswordResetResult,
        description="Reset a forgotten password with the latest SMS code of the number: every session of the user and "
        "every client system's sign-in end, a lock after failed sign-ins is lifted; the user is told.",
    )
    async def password_reset(
        self,
        info: Info,
        input: Annotated[
            PasswordResetInput, strawberry.argument(description="The number, its code, the new password.")
        ],
    ) -> PasswordChanged:
        revoked = await credentials.reset_password(info.context.actor, input.phone, input.code, input.new_password)
        return PasswordChanged(revoked=revoked)

    @mutation(
        IntegratorClientCreateResult,
        description="Create integrator client credentials (operator).",
        permission_classes=[IsOperator],
    )
    async def integrator_client_create(
        self,
        info: Info,
        input: Annotated[
            IntegratorClientCreateInput,
            strawberry.argument(description="The integrator's name, scopes and rate limit."),
        ],
    ) -> IntegratorClientCreated:
        client, secret = await integrators.create_integrator_client(
            info.context.actor, input.name, input.scopes, input.rate_per_minute, input.idempotency_key
        )
        return IntegratorClientCreated(
            client=IntegratorClient(
                client_id=client.client_id,
                name=client.name,
                scopes=list(client.scopes),
                rate_per_minute=client.rate_limit_per_minute,
            ),
            client_secret=secret,
        )

    @mutation(ExpertAddResult, description="Add an expert to the pool (operator).", permission_classes=[IsOperator])
    async def expert_add(
        self,
        info: Info,
        input: Annotated[ExpertAddInput, strawberry.argument(description="The expert to add to the pool.")],
    ) -> ExpertAdded:
        employer = int_id(input.employer_id, "Organisation", "employerId") if input.employer_id else None
        expert = await experts.add_expert(
            info.context.actor,
            input.name,
            input.id_number,
            input.phone,
            input.specialties,
            employer,
            input.idempotency_key,
        )
        return ExpertAdded(expert=Expert.from_model(expert))

    @mutation(
        ExpertCodeRequestResult,
        description="Send an evaluation expert a one-time sign-in code by SMS (5 minutes, 5 tries); "
        "the answer is the same whether or not the number is an expert's.",
    )
    async def expert_code_request(
        self,
        info: Info,
        input: Annotated[
            ExpertCodeRequestInput, strawberry.argument(description="The expert's registered mobile number.")
        ],
    ) -> SmsCodeSent:
        sent = await experts.request_expert_code(info.context.actor, input.phone)
        return SmsCodeSent(code_expires_at=sent.expires_at, next_request_at=sent.retry_after)

    @mutation(ExpertLoginResult, description="Sign in as an evaluation expert with an SMS code (a 4-hour session).")
    async def expert_login(
        self,
        info: Info,
        input: Annotated[
            ExpertLoginInput, strawberry.argument(description="The expert's mobile number and the code received.")
        ],
    ) -> ExpertSignedIn:
        session = await experts.login_expert(info.context.actor, input.phone, input.code)
        return ExpertSignedIn(session=ExpertSession.from_domain(session))
